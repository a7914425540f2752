//! Helpers of the ingest tests: the real server process (`auditrail serve`, through
//! `auditrail_testkit::server`), raw HTTP bodies over a real socket, the CLI's readers
//! (`auditrail verify`, `auditrail query`) as real processes, and the store read back
//! through its own walker and reader.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use auditrail_testkit::server::{auditrail_bin, ServerProcess};
use serde_json::{json, Value};

/// A server process with its data folder (and config, when given).
pub(crate) struct Server {
    pub process: ServerProcess,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// `auditrail serve` with `config` (TOML; `None`: the built-in defaults).
    pub(crate) fn start(config: Option<&str>) -> Server {
        Self::start_with(config, None)
    }

    /// The same, with the process's open-file limit set to `nofile`.
    pub(crate) fn start_with(config: Option<&str>, nofile: Option<u64>) -> Server {
        Self::start_full(tempfile::tempdir().unwrap(), config, nofile)
    }

    /// `auditrail serve` on `dir/data`, where the test may have put files first.
    pub(crate) fn start_in(dir: tempfile::TempDir, config: Option<&str>) -> Server {
        Self::start_full(dir, config, None)
    }

    fn start_full(dir: tempfile::TempDir, config: Option<&str>, nofile: Option<u64>) -> Server {
        let config_path = config.map(|c| {
            let p = dir.path().join("server.toml");
            std::fs::write(&p, c).unwrap();
            p
        });
        let data = dir.path().join("data");
        let process = match nofile {
            None => ServerProcess::start(&data, config_path.as_deref()),
            Some(n) => ServerProcess::start_with_nofile(&data, config_path.as_deref(), n),
        };
        Server { process, dir }
    }

    pub(crate) fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn store(&self) -> PathBuf {
        self.data().join("store")
    }

    /// POSTs `body` as JSON lines; the status and the JSON answer.
    pub(crate) fn post(&self, body: impl Into<String>) -> (u16, Value) {
        post(&self.process.url, body.into(), "application/x-ndjson")
    }

    /// POSTs `body` as one JSON array.
    pub(crate) fn post_array(&self, body: impl Into<String>) -> (u16, Value) {
        post(&self.process.url, body.into(), "application/json")
    }

    /// GETs `path`; the JSON answer.
    pub(crate) fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.process.url);
        let (_, v) = runtime().block_on(async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        });
        v
    }

    /// GETs `path`; the answer's text.
    pub(crate) fn get_text(&self, path: &str) -> String {
        let url = format!("{}{path}", self.process.url);
        runtime().block_on(async move { reqwest::get(url).await.unwrap().text().await.unwrap() })
    }

    /// Graceful stop (SIGTERM); the exit code.
    pub(crate) fn stop(&mut self) -> Option<i32> {
        self.process.stop()
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        // reqwest is built without a default TLS crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

fn post(url: &str, body: String, content_type: &str) -> (u16, Value) {
    let url = format!("{url}/v1/events");
    let content_type = content_type.to_owned();
    runtime().block_on(async move {
        let resp = reqwest::Client::new()
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .timeout(std::time::Duration::from_secs(60))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
        (status, v)
    })
}

/// A fresh event id (UUIDv7).
pub(crate) fn id() -> String {
    auditrail_core::EventId::new().to_string()
}

/// One event's JSON text with `message` given as raw text (so tests can send exactly
/// the bytes they mean: duplicate keys, big numbers, deep nesting).
pub(crate) fn event_text(node: &str, seq: u64, routing_key: Option<&str>, message: &str) -> String {
    let key = routing_key
        .map(|k| format!(",\"routingKey\":{}", serde_json::to_string(k).unwrap()))
        .unwrap_or_default();
    format!(
        "{{\"id\":\"{}\",\"timestamp\":\"2026-11-25T16:55:49.123Z\",\"topic\":\"generic\"{key},\"node\":\"{node}\",\"seq\":{seq},\"message\":{message}}}",
        id()
    )
}

/// `auditrail <args>`: exit code, stdout, stderr.
pub(crate) fn cli(args: &[&str], dir: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(auditrail_bin())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `auditrail verify <data>`: exit code and output.
pub(crate) fn verify(data: &Path) -> (Option<i32>, String) {
    let (code, out, err) = cli(&["verify", &data.display().to_string()], data);
    (code, format!("{out}{err}"))
}

/// Every stored record line (raw text) of a store, through the store's own reader.
pub(crate) fn stored_lines(store: &Path) -> Vec<String> {
    auditrail_testkit::store::lines(store)
        .into_iter()
        .map(|(_, l)| String::from_utf8(l).unwrap())
        .collect()
}

/// Every stored event of a store, read back through the store's own reader.
pub(crate) fn stored_events(store: &Path) -> Vec<auditrail_core::Event> {
    auditrail_testkit::store::stored_events(store)
}
