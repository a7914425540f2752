//! The node config's `[metrics]` table: `listen` is an `IP:port` (an error shows the
//! expected shape and names the key), `log_interval_s` a number of seconds (0: off),
//! unknown keys are refused, and the table is optional.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use auditrail_core::NodeConfig;

fn load(text: &str) -> NodeConfig {
    let registry = auditrail_core::Registry::from_registrations([
        &auditrail_core::testing::MEMORY_REGISTRATION,
    ])
    .unwrap();
    NodeConfig::parse(text, "node.toml", false, &registry).unwrap()
}

#[test]
fn listen_and_log_interval_are_read() {
    let c = load("node = \"n1\"\n[metrics]\nlisten = \"127.0.0.1:9981\"\nlog_interval_s = 60\n");
    assert_eq!(c.metrics.listen, Some("127.0.0.1:9981".parse().unwrap()));
    assert_eq!(c.metrics.log_interval(), Some(Duration::from_secs(60)));

    let v6 = load("node = \"n1\"\n[metrics]\nlisten = \"[::1]:0\"\n");
    assert_eq!(v6.metrics.listen, Some("[::1]:0".parse().unwrap()));
    assert_eq!(v6.metrics.log_interval(), None, "default: no periodic log");
}

#[test]
fn the_table_is_optional() {
    let c = load("node = \"n1\"\n");
    assert_eq!(c.metrics.listen, None);
    assert_eq!(c.metrics.log_interval(), None);
    let off = load("node = \"n1\"\n[metrics]\nlog_interval_s = 0\n");
    assert_eq!(off.metrics.log_interval(), None);
}

#[test]
fn a_listen_value_that_is_not_ip_and_port_names_the_key_and_the_shape() {
    for bad in ["localhost:9981", "127.0.0.1", "9981", "127.0.0.1:99999"] {
        let (err, path) = common::config_error(
            "node.toml",
            &format!("node = \"n1\"\n[metrics]\nlisten = \"{bad}\"\n"),
        );
        assert!(err.starts_with(&path), "{err}");
        assert!(err.contains("metrics.listen"), "{err}");
        assert!(err.contains("expected IP:port"), "{err}");
        assert!(err.contains(bad), "{err}");
    }
}

#[test]
fn unknown_keys_and_wrong_types_are_named() {
    let (err, _) = common::config_error(
        "node.toml",
        "node = \"n1\"\n[metrics]\nlisten_addr = \"127.0.0.1:1\"\n",
    );
    assert!(err.contains("listen_addr"), "{err}");
    let (err, _) = common::config_error(
        "node.toml",
        "node = \"n1\"\n[metrics]\nlog_interval_s = \"60\"\n",
    );
    assert!(err.contains("metrics.log_interval_s"), "{err}");
}
