//! A start refused for its `[tls]` files changes nothing in the data dir: the files are
//! read before the data dir is created or a store opened. Before, the stores were
//! opened first and left running (their checkpoint tasks writing the marks file) after
//! the refusal: a second start on the same data dir met them (CI 70: "high-water.jsonl:
//! No such file or directory", the two writers' temporary files crossing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_refused_for_its_key_file_leaves_the_data_dir_empty() {
    let dir = tempfile::tempdir().unwrap();
    let pair = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert = dir.path().join("s.crt");
    std::fs::write(&cert, pair.cert.pem()).unwrap();
    // The certificate named as the key: a common swap.
    let tls = format!(
        "{STORE}[tls]\ncert = {:?}\nkey = {:?}\n",
        cert.display().to_string(),
        cert.display().to_string()
    );
    let err = match auditrail_eventserver::server::start(config_from(dir.path(), &tls)).await {
        Ok(_) => panic!("the server started with a certificate as its key"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("no PEM private key"), "{err}");
    let data = dir.path().join("data");
    let left: Vec<_> = match std::fs::read_dir(&data) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{}: {e}", data.display()),
    };
    assert!(
        left.is_empty(),
        "the refused start left in the data dir: {left:?}"
    );
}
