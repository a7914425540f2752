//! A `ca_file`, `client_cert` or `client_key` that is a FIFO (a secrets agent's pipe) or
//! a device was opened as a file: a FIFO with no writer blocked the target's setup (and
//! with it the node's or the server's start, the witnesses too) for ever, `/dev/zero`
//! was read until the memory ran out. Each is refused at once, naming the setting and
//! the path.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use auditrail_core::NodeId;
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};

fn setup_error(dir: &Path, c: EventServerConfig) -> String {
    let ctx = auditrail_core::BuildContext::new(
        NodeId::new("node-a").unwrap(),
        "central",
        dir.join("run"),
        dir.join("run").join("deadletter"),
        tokio::runtime::Handle::current(),
    );
    match EventServerTarget::new(c, &ctx) {
        Ok(_) => panic!("the target was set up"),
        Err(e) => e.to_string(),
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_fifo_or_a_device_at_a_pem_file_is_refused_at_once_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.pem");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["node-a".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_file = dir.path().join("node.crt");
    let key_file = dir.path().join("node.key");
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let config = |ca: Option<&PathBuf>, cert: &PathBuf, key: &PathBuf| {
        let mut c = EventServerConfig::new("https://127.0.0.1:9");
        c.spool = false;
        c.ca_file = ca.map(|p| p.clone().into());
        c.client_cert = Some(cert.clone().into());
        c.client_key = Some(key.clone().into());
        c
    };
    let zero = PathBuf::from("/dev/zero");
    // The FIFO first: without the fix it blocks here (the test never ends).
    for (c, setting, path, kind) in [
        (
            config(Some(&fifo), &cert_file, &key_file),
            "ca_file",
            &fifo,
            "is a FIFO (named pipe)",
        ),
        (
            config(None, &cert_file, &fifo),
            "client_key",
            &fifo,
            "is a FIFO (named pipe)",
        ),
        (
            config(None, &zero, &key_file),
            "client_cert",
            &zero,
            "is a character device",
        ),
    ] {
        let e = setup_error(dir.path(), c);
        assert!(e.contains(setting), "{e}");
        assert!(e.contains(&format!("{}", path.display())), "{e}");
        assert!(e.contains(kind), "{e}");
    }
}
