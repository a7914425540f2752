//! `failed-logins` listed a login's client addresses by joining them with `,` and
//! splitting the text again: one `clientIP` holding a comma (an X-Forwarded-For style
//! "203.0.113.7, 10.0.0.1", a valid JSON string) came back as two addresses, the second
//! with a leading space, and an empty `clientIP` was dropped. Each distinct value is now
//! one address, exactly as sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common::{block_on, event, Store};
use auditrail_query::reports;
use auditrail_query::{Engine, Window};
use serde_json::json;

#[test]
fn a_client_ip_holding_a_comma_is_one_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new(&dir.path().join("store"));
    for (seq, ip) in [(1, "203.0.113.7, 10.0.0.1"), (2, ""), (3, "198.51.100.9")] {
        store.put(&event(
            "node-a",
            seq,
            "2026-11-29T10:00:00.000Z",
            "authfail",
            None,
            json!({"msgType": "login-failed", "authUser": "bob", "clientIP": ip}),
        ));
    }
    store.write();
    let engine = Engine::builder()
        .store(dir.path().join("store"))
        .build()
        .unwrap();
    let r = block_on(reports::last_activity(&engine, Window::default())).unwrap();
    let bob = r
        .failed_logins
        .iter()
        .find(|f| f.user.as_deref() == Some("bob"))
        .expect("bob's failed logins");
    assert_eq!(bob.attempts, 3);
    assert_eq!(
        bob.client_ips,
        ["", "198.51.100.9", "203.0.113.7, 10.0.0.1"],
        "each clientIP as sent, once"
    );
}
