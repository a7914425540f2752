//! A `[[sources]]` Kafka source's librdkafka files (`ssl.ca.location`...) are taken
//! relative to the server config file's folder, like every other path of the file, not
//! to the working directory of the process; one that does not exist there is refused
//! when the config is loaded, naming the key, the path as written and as resolved. No
//! broker needed: nothing here connects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auditrail_eventserver::config::ServerConfig;
use auditrail_eventserver::config::SourceConfig;

fn write_config(folder: &std::path::Path, ca: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(folder).unwrap();
    let file = folder.join("server.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = \"data\"\n[[sources]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:9092\"\n\
             topics = [\"audit\"]\ngroup_id = \"g\"\nstore_root = \"partitions\"\naccept_unsigned = true\n\
             [sources.librdkafka]\n\"security.protocol\" = \"ssl\"\n\
             \"ssl.ca.location\" = \"{ca}\"\n\"ssl.key.location\" = \"/etc/kafka/client.key\"\n"
        ),
    )
    .unwrap();
    file
}

#[test]
fn a_relative_ssl_ca_location_is_the_file_beside_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("conf");
    let file = write_config(&folder, "certs/ca.pem");
    std::fs::create_dir_all(folder.join("certs")).unwrap();
    std::fs::write(
        folder.join("certs/ca.pem"),
        b"-----BEGIN CERTIFICATE-----\n",
    )
    .unwrap();
    // The test's working directory is the crate's folder, not `conf`.
    let config = ServerConfig::load(&file, &auditrail_eventserver::registry(&[]).unwrap()).unwrap();
    let SourceConfig::Kafka(kafka) = &config.sources[0] else {
        panic!("not a kafka source");
    };
    let expected = std::fs::canonicalize(&folder).unwrap().join("certs/ca.pem");
    assert_eq!(
        kafka.librdkafka["ssl.ca.location"],
        expected.display().to_string()
    );
    assert_eq!(
        kafka.librdkafka["ssl.key.location"],
        "/etc/kafka/client.key"
    );
    assert_eq!(kafka.librdkafka["security.protocol"], "ssl");
}

#[test]
fn a_relative_ssl_ca_location_missing_beside_the_config_is_refused_naming_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("conf");
    let file = write_config(&folder, "certs/ca.pem");
    let e = ServerConfig::load(&file, &auditrail_eventserver::registry(&[]).unwrap())
        .unwrap_err()
        .to_string();
    let resolved = std::fs::canonicalize(&folder).unwrap().join("certs/ca.pem");
    assert!(
        e.contains("sources[0].librdkafka.\"ssl.ca.location\""),
        "{e}"
    );
    assert!(e.contains("\"certs/ca.pem\""), "{e}");
    assert!(e.contains(&resolved.display().to_string()), "{e}");
}
