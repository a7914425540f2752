//! A `[tls] key` file cut short (a well-formed PEM block whose content is not a whole
//! key: a half-written file from a certificate renewal) is refused naming `tls.key` and
//! the file, at start and at a reload, and not reported as a certificate and key that
//! do not fit (the certificate is fine). Real files, certificates generated here (rcgen).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::path::Path;

use server_support::*;

/// Writes `server.crt` and a `server.key` cut short after the first line of its PEM
/// body (the END line kept), and returns the config naming them.
fn config_with_a_key_cut_short(dir: &Path) -> auditrail_eventserver::config::ServerConfig {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = cert.key_pair.serialize_pem();
    let cut: String = key
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + "-----END PRIVATE KEY-----\n";
    std::fs::write(dir.join("server.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), cut).unwrap();
    config_from(dir, &tls_section(dir))
}

fn tls_section(dir: &Path) -> String {
    format!(
        "{STORE}[tls]\ncert = {:?}\nkey = {:?}\n",
        dir.join("server.crt").display().to_string(),
        dir.join("server.key").display().to_string()
    )
}

fn assert_names_the_key_file(err: &str, dir: &Path) {
    let key = dir.join("server.key").display().to_string();
    assert!(err.contains("tls.key") && err.contains(&key), "{err}");
    assert!(err.contains("cannot be used"), "{err}");
    assert!(!err.contains("do not fit"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_is_refused_naming_tls_key_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_a_key_cut_short(dir.path());
    let err = match auditrail_eventserver::server::start(config).await {
        Ok(_) => panic!("the server started with a key cut short"),
        Err(e) => e.to_string(),
    };
    assert_names_the_key_file(&err, dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_is_refused_naming_tls_key_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("server.crt"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("server.key"), cert.key_pair.serialize_pem()).unwrap();
    let config = config_from(dir.path(), &tls_section(dir.path()));
    let s = start_with(dir, config).await;
    let dir = s.dir.path();
    let config = config_with_a_key_cut_short(dir);
    let err = s.running.reload(&config).unwrap_err().to_string();
    assert_names_the_key_file(&err, dir);
}
