//! A `keys rotate` interrupted after the new key replaced the old one but before
//! `signing.pub` was written is named at the next start ("an interrupted `auditrail keys
//! rotate` is not finished", with the command that finishes it): the start reads the
//! hand-over in every store the key signs. A server whose only stores are a Kafka
//! source's partition stores (outside its data dir) was checked on its `store`
//! destinations alone, none, and refused for a key that does not match `signing.pub`,
//! which tells the operator to put a key back rather than run the rotation again.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kafka_support::{one_source, produce_events, run_in, serve_until_stored};

#[test]
fn a_source_only_server_names_the_unfinished_rotation_of_its_partition_stores() {
    let source = one_source("rotint", "");
    let d = source.dir.path();
    produce_events(&source.brokers, &source.topic, 1, 3, 71);
    serve_until_stored(d, "s.toml", &source.root, 3);
    let (code, old_public) = run_in(d, &["keys", "export", "--key", "group-signing.key"]);
    assert_eq!(code, 0, "{old_public}");
    let (code, out) = run_in(d, &["keys", "rotate", "--config", "s.toml"]);
    assert_eq!(code, 0, "{out}");
    // As the interruption left it: the key file holds the new key, every store hands
    // over to it, `signing.pub` still names the old one.
    std::fs::write(d.join("s-data/signing.pub"), old_public.trim()).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config", "s.toml"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started in the state of an unfinished rotation");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("interrupted `auditrail keys rotate` is not finished"),
        "{err}"
    );
}
