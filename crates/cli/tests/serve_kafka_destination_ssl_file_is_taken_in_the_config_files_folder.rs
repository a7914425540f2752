//! `auditrail serve` takes a relative librdkafka file of a `kafka` destination
//! (`properties."ssl.ca.location"`) in the config file's folder, not in its working
//! directory: one missing there is refused before anything starts, naming the key, the
//! path as written and as resolved, even when the working directory has a file of that
//! name.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn a_relative_ssl_ca_location_is_looked_for_beside_the_config_not_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("server.toml"),
        "data_dir = \"data\"\n[[destinations]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:1\"\n\
         topic = \"audit\"\n[destinations.properties]\n\"security.protocol\" = \"ssl\"\n\
         \"ssl.ca.location\" = \"certs/ca.pem\"\n",
    )
    .unwrap();
    // The working directory has `certs/ca.pem`; the config's folder does not.
    std::fs::create_dir_all(dir.path().join("certs")).unwrap();
    std::fs::write(dir.path().join("certs/ca.pem"), b"not the one\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "serve",
            "--config",
            "conf/server.toml",
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    let resolved = std::fs::canonicalize(&conf).unwrap().join("certs/ca.pem");
    assert!(
        stderr.contains("properties.\"ssl.ca.location\""),
        "{stderr}"
    );
    assert!(stderr.contains("\"certs/ca.pem\""), "{stderr}");
    assert!(stderr.contains(&resolved.display().to_string()), "{stderr}");
    assert!(!conf.join("data").exists(), "nothing started");
}
