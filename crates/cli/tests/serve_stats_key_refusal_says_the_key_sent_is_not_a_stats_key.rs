//! A read refused for its key says whether a key was sent: "the key sent is not one of
//! the [[stats_keys]]" for an event key, a mistyped secret or a rotated one (also at
//! the end of a `/v1/stream` whose key a reload removed), and only the need for a key
//! when none was sent. It said "this endpoint needs `Authorization: Bearer <stats
//! key>`" either way, so the owner of a rotated key checked that the header was there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

#[test]
fn a_key_that_is_no_stats_key_is_told_apart_from_no_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.toml"),
        "data_dir = \"data\"\nrequire_auth_for_stats = true\n\
         [[keys]]\nid = \"k1\"\nsecret = \"secret-four-0000\"\n\
         [[stats_keys]]\nid = \"st\"\nsecret = \"stats-secret-1234\"\n\
         [[destinations]]\ntype = \"store\"\npath = \"store\"\n",
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    let stats = |key: Option<&str>| {
        let auth = key.map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("Authorization", a)])
            .unwrap_or_default();
        let (status, body) = request(&server.addr, "GET", "/v1/stats", &headers, b"").unwrap();
        assert_eq!(status, 401, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        answer["message"].as_str().unwrap().to_owned()
    };
    for key in ["secret-four-0000", "stats-secret-12345"] {
        let message = stats(Some(key));
        assert!(
            message.contains("the key sent is not one of the [[stats_keys]]"),
            "{key}: {message}"
        );
    }
    let message = stats(None);
    assert!(
        message.contains("needs `Authorization: Bearer <stats key>`")
            && !message.contains("the key sent"),
        "{message}"
    );
}
