//! The server of the `required_key` retry tests: keys `a` and `b`, a store `all` that
//! takes every event (folder `data/store`) and a store `svc` that takes only key `a`'s
//! (folder `data/svc`).

use serde_json::Value;

use super::{config_from, start_with, stored_ids, TestServer};

/// Key `a`'s secret: the key `svc` requires.
pub(crate) const KEY_A: &str = "aaaaaaaaaaaa";
/// Key `b`'s secret: a key `svc` does not take.
pub(crate) const KEY_B: &str = "bbbbbbbbbbbb";

/// The config, with `svc_extra` (lines such as `chain = false\n`) in `svc`'s table.
pub(crate) fn keyed(svc_extra: &str) -> String {
    format!(
        r#"
[[keys]]
id = "a"
secret = "{KEY_A}"
[[keys]]
id = "b"
secret = "{KEY_B}"
[[destinations]]
name = "all"
type = "store"
path = "store"
[[destinations]]
name = "svc"
type = "store"
path = "svc"
required_key = "a"
{svc_extra}"#
    )
}

/// How many records of `e` each store holds: (`all`, `svc`).
pub(crate) fn held(s: &TestServer, e: &Value) -> (usize, usize) {
    let id = e["id"].as_str().unwrap();
    let count = |store: std::path::PathBuf| stored_ids(&store).get(id).copied().unwrap_or(0);
    (count(s.store()), count(s.dir.path().join("data/svc")))
}

/// The answer's `accepted` and `duplicates`.
pub(crate) fn counts(answer: &Value) -> (Option<u64>, Option<u64>) {
    (answer["accepted"].as_u64(), answer["duplicates"].as_u64())
}

/// Stops `s` and starts a server again on its data folder with `config` (as given to
/// `start`).
pub(crate) async fn restart(s: TestServer, config: &str) -> TestServer {
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), config);
    start_with(dir, config).await
}
