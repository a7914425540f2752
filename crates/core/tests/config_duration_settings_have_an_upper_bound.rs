//! Every duration setting of a node config has an upper bound, checked when the file
//! is read: a longer value is refused naming the key, the bound and why, instead of
//! being accepted and overflowing the clock later (`shutdown_timeout_s =
//! 9223372036854775807` panicked at the stop). Values at the bound are accepted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::NodeConfig;

const HUGE: &str = "9223372036854775807";

fn load(text: &str) -> NodeConfig {
    let registry = auditrail_core::Registry::from_registrations([
        &auditrail_core::testing::MEMORY_REGISTRATION,
    ])
    .unwrap();
    NodeConfig::parse(text, "node.toml", false, &registry).unwrap()
}

#[test]
fn top_level_and_metrics_durations_are_bounded() {
    for (text, key, bound) in [
        (
            format!("node = \"n1\"\nshutdown_timeout_s = {HUGE}\n"),
            "shutdown_timeout_s",
            "at most 86400 (1 day)",
        ),
        (
            "node = \"n1\"\nshutdown_timeout_s = 86401\n".to_owned(),
            "shutdown_timeout_s",
            "at most 86400 (1 day)",
        ),
        (
            format!("node = \"n1\"\n[metrics]\nlog_interval_s = {HUGE}\n"),
            "metrics.log_interval_s",
            "at most 86400 (1 day)",
        ),
    ] {
        let (err, path) = common::config_error("node.toml", &text);
        assert!(err.starts_with(&format!("{path}: {key}: ")), "{err}");
        assert!(err.contains(bound) && err.contains("because"), "{err}");
    }
    let c = load("node = \"n1\"\nshutdown_timeout_s = 86400\n[metrics]\nlog_interval_s = 86400\n");
    assert_eq!(
        (c.shutdown_timeout_s, c.metrics.log_interval_s),
        (86_400, 86_400)
    );
}

#[test]
fn a_targets_dispatch_durations_are_bounded() {
    let entry = |extra: &str| {
        format!("node = \"n1\"\n[[targets]]\ntype = \"memory\"\nstore = \"a\"\n{extra}\n")
    };
    for (extra, key, bound) in [
        (
            format!("batch_max_wait_ms = {HUGE}"),
            "batch_max_wait_ms",
            "at most 3600000 (1 hour)",
        ),
        (
            format!("retry_initial_backoff_ms = 100\nretry_max_backoff_ms = {HUGE}"),
            "retry_max_backoff_ms",
            "at most 86400000 (1 day)",
        ),
        (
            format!("retry_initial_backoff_ms = {HUGE}\nretry_max_backoff_ms = {HUGE}"),
            "retry_initial_backoff_ms",
            "at most 86400000 (1 day)",
        ),
        (
            format!("retry_max_elapsed_s = {HUGE}"),
            "retry_max_elapsed_s",
            "at most 2592000 (30 days)",
        ),
        (
            format!("send_timeout_ms = {HUGE}"),
            "send_timeout_ms",
            "at most 86400000 (1 day)",
        ),
    ] {
        let (err, _) = common::config_error("node.toml", &entry(&extra));
        assert!(err.contains("targets[0]"), "{err}");
        assert!(err.contains(&format!("`{key}` ")), "{err}");
        assert!(err.contains(bound), "{err}");
    }
    let c = load(&entry(
        "batch_max_wait_ms = 3600000\nretry_max_backoff_ms = 86400000\n\
         retry_max_elapsed_s = 2592000\nsend_timeout_ms = 86400000",
    ));
    assert_eq!(c.targets[0].delivery.batch_max_wait_ms, 3_600_000);
}
