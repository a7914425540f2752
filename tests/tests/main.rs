//! The integration tests of `auditrail-e2e`, one behaviour per file, built as one test
//! binary (each file is a module here). A binary per file linked the whole dependency
//! graph once per file: the workspace's ~450 test binaries took about 60 GB of disk and
//! a CI run failed with "No space left on device". A test that needs a process of its
//! own (process-wide state: working directory, tracing subscriber, target inventory,
//! open-file count) stays a `[[test]]` of its own in Cargo.toml, saying why; xtask's
//! tidy test checks that every file under `tests/` is one or the other.
// Test code: a failed unwrap is a failed test (the support modules count on this).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod es_support;

mod eventserver_key_ownership_dead_letters;
mod eventserver_mtls;
mod eventserver_node_acknowledged_events_survive_a_power_cut_while_delivering;
mod eventserver_node_kill9_restart;
mod eventserver_send_cli_nodes;
mod eventserver_server_down_spool_grows;
mod eventserver_server_kill9_restart;
mod eventserver_three_nodes_exactly_once;
mod eventserver_tls;
mod eventserver_url_scheme_not_the_servers_is_named;
