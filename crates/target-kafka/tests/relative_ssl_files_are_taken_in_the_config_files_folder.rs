//! librdkafka's files named in `properties` (`ssl.ca.location`...) are taken relative
//! to the config file's folder, like every other path of the file, not to the working
//! directory of the process; one that does not exist there is refused when the config
//! is loaded, naming the key, the path as written and as resolved. No broker needed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auditrail_core::{NodeConfig, Registry};
use auditrail_target_kafka::KafkaConfig;

fn write_config(folder: &std::path::Path, ca: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(folder).unwrap();
    let file = folder.join("node.toml");
    std::fs::write(
        &file,
        format!(
            "node = \"n\"\n[[targets]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:9092\"\n\
             topic = \"audit\"\n[targets.properties]\n\"security.protocol\" = \"ssl\"\n\
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
    let registry = Registry::with_linked(&[&auditrail_target_kafka::REGISTRATION]).unwrap();
    // The test's working directory is the crate's folder, not `conf`.
    let config = NodeConfig::load(&file, &registry).unwrap();
    let kafka = config.targets[0]
        .config
        .downcast_ref::<KafkaConfig>()
        .unwrap();
    let given = |key: &str| kafka.properties[key].to_property_string();
    let expected = std::fs::canonicalize(&folder).unwrap().join("certs/ca.pem");
    assert_eq!(given("ssl.ca.location"), expected.display().to_string());
    assert_eq!(given("ssl.key.location"), "/etc/kafka/client.key");
    assert_eq!(given("security.protocol"), "ssl");
}

#[test]
fn a_relative_ssl_ca_location_missing_beside_the_config_is_refused_naming_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("conf");
    let file = write_config(&folder, "certs/ca.pem");
    let registry = Registry::with_linked(&[&auditrail_target_kafka::REGISTRATION]).unwrap();
    let e = NodeConfig::load(&file, &registry).unwrap_err().to_string();
    let resolved = std::fs::canonicalize(&folder).unwrap().join("certs/ca.pem");
    assert!(e.contains("targets[0]"), "{e}");
    assert!(e.contains("properties.\"ssl.ca.location\""), "{e}");
    assert!(e.contains("\"certs/ca.pem\""), "{e}");
    assert!(e.contains(&resolved.display().to_string()), "{e}");
}
