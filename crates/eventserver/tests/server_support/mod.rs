//! Shared helpers of the server tests: an in-process server on a real loopback socket
//! with real store files, an HTTP client, event builders, reading the store back, and a
//! `gated` destination whose acknowledgements a test releases by hand, and a follower
//! of `/v1/stream`.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use auditrail_core::{
    async_trait, BuildContext, BuildError, Event, Target, TargetConfig, TargetError,
};
use auditrail_eventserver::config::ServerConfig;
use auditrail_eventserver::server::{self, RunningServer};
use auditrail_testkit::unwritable::Unwritable;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

pub(crate) mod h2_window_zero;
pub(crate) mod keyed;
pub(crate) mod pki;
pub(crate) mod sse;

/// A test server and its data folder.
pub(crate) struct TestServer {
    pub running: RunningServer,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
}

impl TestServer {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.running.url(), path)
    }
    pub(crate) fn store(&self) -> PathBuf {
        self.dir.path().join("data").join("store")
    }

    /// The `file` destination's folder (`<data_dir>/audit`).
    pub(crate) fn audit(&self) -> PathBuf {
        self.dir.path().join("data").join("audit")
    }

    /// `GET /v1/query?report=NAME`, which must answer `200`: its `report` member.
    pub(crate) async fn report(&self, name: &str) -> Value {
        self.query_answered(&[("report", name)]).await["report"].clone()
    }

    /// `GET /v1/query?sql=SQL`, which must answer `200`: the answer.
    pub(crate) async fn sql(&self, sql: &str) -> Value {
        self.query_answered(&[("sql", sql)]).await
    }

    /// `GET /v1/query` with `params`, which must answer `200`: the answer.
    async fn query_answered(&self, params: &[(&str, &str)]) -> Value {
        let resp = self
            .client
            .get(self.url("/v1/query"))
            .query(params)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(status, 200, "{answer}");
        answer
    }
}

/// Registry with the store and the `gated` test destination.
pub(crate) fn registry() -> auditrail_core::Registry {
    auditrail_eventserver::registry(&[&REGISTRATION]).unwrap()
}

/// Registry with the store, the `gated` test destination and the `file` target type,
/// as the `auditrail` binary links it.
pub(crate) fn registry_with_file() -> auditrail_core::Registry {
    auditrail_eventserver::registry(&[&REGISTRATION, &auditrail_target_file::REGISTRATION]).unwrap()
}

/// Config text with `data_dir` and `listen` filled in for a temp dir.
pub(crate) fn config_from(dir: &Path, extra: &str) -> ServerConfig {
    parsed_config(dir, extra, &registry())
}

/// [`config_from`] with the `file` target type linked ([`registry_with_file`]).
pub(crate) fn config_with_file(dir: &Path, extra: &str) -> ServerConfig {
    parsed_config(dir, extra, &registry_with_file())
}

fn parsed_config(dir: &Path, extra: &str, registry: &auditrail_core::Registry) -> ServerConfig {
    let text = format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n{extra}",
        dir.join("data").display().to_string()
    );
    ServerConfig::parse(&text, "test.toml", false, registry).unwrap()
}

/// Default store destination.
pub(crate) const STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// Starts a server with `extra` config (must include destinations).
pub(crate) async fn start(extra: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let config = config_from(dir.path(), extra);
    start_with(dir, config).await
}

/// [`start`] with the `file` target type linked ([`registry_with_file`]).
pub(crate) async fn start_with_file(extra: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with_file(dir.path(), extra);
    start_with(dir, config).await
}

pub(crate) async fn start_with(dir: tempfile::TempDir, config: ServerConfig) -> TestServer {
    let running = server::start(config).await.unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    TestServer {
        running,
        dir,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
    }
}

/// Starts a server with `extra` config (its store at `path = "store"`) with a file at
/// `path` under the store folder (e.g. `generic/svc-x`) where a partition folder must
/// go: the events filed there are refused for good (`422 unstorable`), and the rest of
/// their batch is stored.
pub(crate) async fn start_with_a_file_in_the_way(path: &str, extra: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data/store").join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"not a folder").unwrap();
    let config = config_from(dir.path(), extra);
    start_with(dir, config).await
}

/// Stores `event("n1", 1)` at 2026-11-30T10:00Z, then makes its day folder
/// (`generic/_none/2026/11/30`) unwritable: an event of topic `generic` without a
/// routing key at a later hour of that day is refused for now (`503 refused_for_now`)
/// until the guard is dropped (the operator's fix). Returns the stored event and the
/// guard; `None` (printed as skipped) when this machine cannot make a folder unwritable.
pub(crate) async fn lock_a_day_folder(s: &TestServer) -> Option<(Value, Unwritable)> {
    let earlier = at(event("n1", 1), "2026-11-30T10:00:00Z");
    let (status, _, body) = post(s, ndjson(std::slice::from_ref(&earlier)), None).await;
    assert_eq!(status, 200, "{body}");
    match Unwritable::make(&s.store().join("generic/_none/2026/11/30")) {
        Ok(locked) => Some((earlier, locked)),
        Err(why) => {
            auditrail_testkit::prereq::skip(&format!(
                "cannot make a folder unwritable here: {why}"
            ));
            None
        }
    }
}

/// Two events of a later hour than [`lock_a_day_folder`]'s: one its locked day folder
/// refuses (topic `generic`), one stored elsewhere (topic `authfail`).
pub(crate) fn blocked_and_other() -> [Value; 2] {
    [
        at(event("n1", 2), "2026-11-30T11:00:00Z"),
        at(
            event_with("n1", 3, "authfail", None),
            "2026-11-30T11:00:00Z",
        ),
    ]
}

/// `e` with its `timestamp` set.
pub(crate) fn at(mut e: Value, timestamp: &str) -> Value {
    e["timestamp"] = timestamp.into();
    e
}

/// A valid event of `node` with `seq` (fresh id), as JSON.
pub(crate) fn event(node: &str, seq: u64) -> Value {
    event_with(node, seq, "generic", None)
}

pub(crate) fn event_with(node: &str, seq: u64, topic: &str, routing_key: Option<&str>) -> Value {
    let mut v = json!({
        "id": auditrail_core::EventId::new().to_string(),
        "timestamp": "2026-11-25T16:55:49.123Z",
        "topic": topic,
        "node": node,
        "seq": seq,
        "message": {"msgType": "login", "authUser": "alice"},
    });
    if let Some(r) = routing_key {
        v["routingKey"] = json!(r);
    }
    v
}

/// [`event`] whose `message.authUser` is `user`.
pub(crate) fn with_user(node: &str, seq: u64, user: &str) -> Value {
    let mut e = event(node, seq);
    e["message"]["authUser"] = json!(user);
    e
}

/// Events as a JSON-lines body.
pub(crate) fn ndjson(events: &[Value]) -> String {
    let mut s = String::new();
    for e in events {
        s.push_str(&e.to_string());
        s.push('\n');
    }
    s
}

/// POSTs a JSON-lines body, returns status, headers and JSON body.
pub(crate) async fn post(
    s: &TestServer,
    body: impl Into<reqwest::Body>,
    key: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", "application/x-ndjson")
        .body(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text }));
    (status, headers, body)
}

/// `GET path` of the test server, its answer parsed as JSON.
pub(crate) async fn get_json(s: &TestServer, path: &str) -> Value {
    s.client
        .get(s.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every record line under a store folder, parsed (real files, read through the
/// store's own walker and reader).
pub(crate) fn stored_records(store: &Path) -> Vec<Value> {
    auditrail_testkit::store::records(store)
}

/// Ids of the stored events, with how many times each is stored.
pub(crate) fn stored_ids(store: &Path) -> HashMap<String, usize> {
    auditrail_testkit::store::stored_ids(store)
}

/// How many lines of the files in `dir` hold `id` (none when `dir` is gone: a `file`
/// destination's folder removed by a cleanup job).
pub(crate) fn lines_holding(dir: &Path, id: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            std::fs::read_to_string(&p)
                .unwrap()
                .lines()
                .filter(|l| l.contains(id))
                .count()
        })
        .sum()
}

/// The text of `GET /metrics`.
pub(crate) async fn metrics_text(s: &TestServer) -> String {
    s.client
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of an unlabelled metric on `/metrics` (`NAME VALUE`).
pub(crate) async fn metric(s: &TestServer, name: &str) -> u64 {
    metrics_text(s)
        .await
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no metric {name} on /metrics"))
        .parse()
        .unwrap()
}

/// The sum of a labelled family's series on `/metrics` (`NAME{...} VALUE`; 0 when it
/// has none).
pub(crate) async fn metric_sum(s: &TestServer, family: &str) -> u64 {
    metrics_text(s)
        .await
        .lines()
        .filter(|l| l.strip_prefix(family).is_some_and(|r| r.starts_with('{')))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Opens a raw connection and sends the head of a JSON-lines POST that announces
/// `content_length` bytes, then `first` (the start of the body): an upload a test can
/// go on, stall or drop.
pub(crate) async fn start_upload(
    addr: std::net::SocketAddr,
    content_length: usize,
    first: &[u8],
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n\
         Content-Length: {content_length}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(first).await.unwrap();
    s
}

/// Reads one HTTP/1.1 answer (head and a Content-Length body) from `stream`.
pub(crate) async fn read_answer(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .expect("a Content-Length");
            if buf.len() >= end + 4 + length {
                return text;
            }
        }
        let n = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::io::AsyncReadExt::read(stream, &mut chunk),
        )
        .await
        .expect("an answer within 60 s")
        .unwrap();
        assert!(n > 0, "connection closed before the answer: {text}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Polls `f` until it is true or `within` passed.
pub(crate) async fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}

// ---------------------------------------------------------------------------------
// The `gated` destination: holds every batch until the test adds permits to its gate,
// and remembers what it took. Lets tests hold a batch "in flight" deterministically.

pub(crate) struct Gate {
    pub permits: Arc<Semaphore>,
    pub waiting: std::sync::atomic::AtomicUsize,
    pub taken: Mutex<Vec<Arc<Event>>>,
}

pub(crate) fn gate(name: &str) -> Arc<Gate> {
    static GATES: OnceLock<Mutex<HashMap<String, Arc<Gate>>>> = OnceLock::new();
    GATES
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(name.to_owned())
        .or_insert_with(|| {
            Arc::new(Gate {
                permits: Arc::new(Semaphore::new(0)),
                waiting: Default::default(),
                taken: Default::default(),
            })
        })
        .clone()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GatedConfig {
    pub gate: String,
}

impl TargetConfig for GatedConfig {
    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError> {
        Ok(Box::new(Gated {
            gate: gate(&self.gate),
        }))
    }
}

struct Gated {
    gate: Arc<Gate>,
}

#[async_trait]
impl Target for Gated {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        self.gate
            .waiting
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let permit = self.gate.permits.acquire().await;
        self.gate
            .waiting
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        if let Ok(p) = permit {
            p.forget();
        }
        self.gate
            .taken
            .lock()
            .unwrap()
            .extend(batch.iter().cloned());
        Ok(())
    }
}

auditrail_core::register_target! {
    name: "gated",
    description: "test destination that waits for permits",
    example: "[[targets]]\ntype = \"gated\"\ngate = \"g\"\n",
    config: GatedConfig,
}
