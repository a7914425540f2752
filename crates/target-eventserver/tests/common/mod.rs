//! A small scripted stand-in for the event server on a real loopback socket, for
//! tests of how this crate reacts to each HTTP answer. (The real server is used by the
//! conformance test and the end-to-end tests in the workspace `tests` crate.)

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auditrail_core::{Event, NodeId};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

pub(crate) mod mtls;

/// One scripted answer.
#[derive(Clone)]
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    pub body: String,
}

impl Answer {
    pub(crate) fn status(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: body.to_owned(),
        }
    }
}

/// A long answer, streamed: `start`, then `filler` repeated in chunks of 64 KiB until
/// the body has `bytes` bytes (a misconfigured proxy or file server, a hostile host).
#[derive(Clone)]
pub(crate) struct LongAnswer {
    pub status: u16,
    pub start: String,
    pub filler: u8,
    pub bytes: usize,
}

impl LongAnswer {
    fn body(&self) -> axum::body::Body {
        const CHUNK: usize = 64 * 1024;
        let start = Bytes::from(self.start.clone().into_bytes());
        let filler = Bytes::from(vec![self.filler; CHUNK]);
        let mut left = self.bytes.saturating_sub(start.len());
        let first = std::iter::once(start);
        let rest = std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let n = left.min(CHUNK);
            left -= n;
            Some(filler.slice(..n))
        });
        let chunks = first.chain(rest).map(Ok::<_, std::convert::Infallible>);
        axum::body::Body::from_stream(futures_util::stream::iter(chunks))
    }
}

#[derive(Default)]
pub(crate) struct Script {
    /// Answers used first, one per request.
    pub answers: VecDeque<Answer>,
    /// Events whose routing key is this get the whole request refused with 403.
    pub forbidden_key: Option<String>,
    /// While set, every request gets this answer and nothing is stored: a stand-in
    /// for something at the target's url that is not the event server.
    pub every: Option<Answer>,
    /// Like `every`, with a long streamed body; nothing is stored.
    pub every_long: Option<LongAnswer>,
    /// Requests after this many are counted and never answered: the client's
    /// state after the answers before is fixed while the test looks at it.
    pub hang_after: Option<usize>,
    /// Every event of every request answered 200, in arrival order.
    pub stored: Vec<Event>,
    /// Content-Encoding of each request.
    pub encodings: Vec<Option<String>>,
    /// Authorization header of each request.
    pub auth: Vec<Option<String>>,
}

pub(crate) struct FakeServer {
    pub addr: SocketAddr,
    pub script: Arc<Mutex<Script>>,
    _task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    pub(crate) async fn start() -> FakeServer {
        let script = Arc::new(Mutex::new(Script::default()));
        let s = script.clone();
        let app = Router::new().route(
            "/v1/events",
            post(move |headers: HeaderMap, body: Bytes| {
                let s = s.clone();
                async move {
                    let hang = {
                        let mut script = s.lock().unwrap();
                        let hang = script
                            .hang_after
                            .is_some_and(|n| script.encodings.len() >= n);
                        if hang {
                            script.encodings.push(None);
                        }
                        hang
                    };
                    if hang {
                        std::future::pending::<()>().await;
                    }
                    handle(&s, &headers, &body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeServer {
            addr,
            script,
            _task: task,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn push(&self, a: Answer) {
        self.script.lock().unwrap().answers.push_back(a);
    }

    pub(crate) fn stored(&self) -> Vec<Event> {
        self.script.lock().unwrap().stored.clone()
    }

    /// Requests received so far.
    pub(crate) fn requests(&self) -> usize {
        self.script.lock().unwrap().encodings.len()
    }

    pub(crate) async fn wait_stored(&self, n: usize) -> Vec<Event> {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.stored();
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn handle(script: &Mutex<Script>, headers: &HeaderMap, body: &[u8]) -> Response {
    let enc = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let plain = match enc.as_deref() {
        None => body.to_vec(),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
            out
        }
        Some("zstd") => zstd::decode_all(body).unwrap(),
        Some(other) => {
            return (StatusCode::UNSUPPORTED_MEDIA_TYPE, other.to_owned()).into_response()
        }
    };
    let events: Vec<Event> = plain
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| Event::from_json_slice(l).unwrap())
        .collect();
    let mut s = script.lock().unwrap();
    s.encodings.push(enc);
    s.auth.push(
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    );
    if let Some(a) = &s.every_long {
        return (StatusCode::from_u16(a.status).unwrap(), a.body()).into_response();
    }
    if let Some(a) = &s.every {
        return (StatusCode::from_u16(a.status).unwrap(), a.body.clone()).into_response();
    }
    if let Some(a) = s.answers.pop_front() {
        let mut resp = (StatusCode::from_u16(a.status).unwrap(), a.body).into_response();
        if let Some(r) = a.retry_after {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static(r));
        }
        if a.status == 200 {
            s.stored.extend(events);
        }
        return resp;
    }
    if let Some(k) = &s.forbidden_key {
        if let Some((i, _)) = events
            .iter()
            .enumerate()
            .find(|(_, e)| e.routing_key.as_ref().map(|r| r.as_str()) == Some(k.as_str()))
        {
            return (
                StatusCode::FORBIDDEN,
                format!(
                    "{{\"error\":\"key may not write routing key {k}\",\"line\":{}}}",
                    i + 1
                ),
            )
                .into_response();
        }
    }
    let n = events.len();
    s.stored.extend(events);
    (
        StatusCode::OK,
        format!("{{\"accepted\":{n},\"duplicates\":0}}"),
    )
        .into_response()
}

/// A build context with its run folder under `dir`.
pub(crate) fn ctx(dir: &std::path::Path, name: &str) -> auditrail_core::BuildContext {
    auditrail_core::BuildContext::new(
        NodeId::new("test-node").unwrap(),
        name,
        dir.join("run"),
        dir.join("run").join("deadletter"),
        tokio::runtime::Handle::current(),
    )
}

/// `n` events, every third with routing key `forbidden` when `mixed`.
pub(crate) fn events(n: usize, mixed: bool) -> Vec<Arc<Event>> {
    let node = NodeId::new("test-node").unwrap();
    (0..n)
        .map(|i| {
            let mut d = auditrail_core::EventDraft::new(auditrail_core::topics::GENERIC, "t")
                .field("i", i as u64);
            d = d.routing_key(if mixed && i % 3 == 0 {
                "forbidden"
            } else {
                "allowed"
            });
            Arc::new(d.complete(&node, || i as u64 + 1).unwrap())
        })
        .collect()
}

/// A spooled target's config for `url` that retries quickly (5 ms, at most 50 ms) and
/// drains for at most 300 ms at shutdown.
pub(crate) fn quick_spool_config(url: String) -> auditrail_target_eventserver::EventServerConfig {
    let mut c = auditrail_target_eventserver::EventServerConfig::new(url);
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 50;
    c.request_timeout_ms = 2000;
    c.shutdown_drain_ms = 300;
    c
}

/// `quick_spool_config` for `url` with `server_keys = [key]`.
pub(crate) fn pinned_spool_config(
    url: String,
    key: auditrail_target_eventserver::ServerKey,
) -> auditrail_target_eventserver::EventServerConfig {
    let mut c = quick_spool_config(url);
    c.server_keys = vec![key];
    c
}

/// A server config `server.toml` holding `text`, in `dir` (made if needed).
pub(crate) fn server_config(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("server.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Events the target's spool holds that the server has not acknowledged.
pub(crate) fn pending(t: &auditrail_target_eventserver::EventServerTarget) -> u64 {
    auditrail_core::Target::forwarding(t)
        .unwrap()
        .stats()
        .pending_events
}

/// Waits (up to 20 s) until the target took `n` success answers as not the server's
/// (its `retries`, which counts those), so that what it did with them can be looked at.
pub(crate) async fn wait_refused_answers(
    t: &auditrail_target_eventserver::EventServerTarget,
    n: u64,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while t.metrics().retries < n && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A real server (data dir `DIR/server`) with one store and one key, `node`, of secret
/// `secret` (and `key_lines`, e.g. `routing_keys = [...]\n`), and its exported public
/// key, for tests of a node pinned to it that sends that secret.
pub(crate) fn server_with_a_node_key(
    dir: &std::path::Path,
    secret: &str,
    key_lines: &str,
) -> (
    server::ServerProcess,
    auditrail_target_eventserver::ServerKey,
) {
    let data_dir = dir.join("server");
    let config = server_config(
        &data_dir,
        &format!(
            "[[destinations]]\ntype = \"store\"\npath = \"store\"\n\n[[keys]]\nid = \"node\"\n\
             secret = \"{secret}\"\n{key_lines}"
        ),
    );
    let server = server::ServerProcess::start(&data_dir, Some(&config));
    let key = exported_key(&server.data_dir);
    (server, key)
}

/// The public key of the server whose data dir is `data_dir`, as an operator gets it:
/// `auditrail keys export --data-dir` (docs/targets/eventserver.md, `server_keys`).
pub(crate) fn exported_key(data_dir: &std::path::Path) -> auditrail_target_eventserver::ServerKey {
    let out = std::process::Command::new(server::auditrail_bin())
        .args(["keys", "export", "--data-dir"])
        .arg(data_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "keys export: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.trim().parse().unwrap()
}

/// The ids of `events`, sorted.
pub(crate) fn sorted_ids<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<String> {
    let mut ids: Vec<String> = events.into_iter().map(|e| e.id.to_string()).collect();
    ids.sort();
    ids
}

#[allow(unused_imports)] // not every test binary starts a server
pub(crate) use auditrail_testkit::server;

/// A pinned target without a spool, sending `n` events straight to `url`: the answer
/// must be refused as not this request's (`answerSig` does not verify), never taken as
/// the acknowledgement; `what` names the answer in the failure.
pub(crate) async fn direct_send_is_refused_as_another_requests_answer(
    url: String,
    key: auditrail_target_eventserver::ServerKey,
    dir: &std::path::Path,
    n: usize,
    what: &str,
) {
    use auditrail_core::{Target, TargetError};
    let mut c = pinned_spool_config(url, key);
    c.spool = false;
    let mut direct =
        auditrail_target_eventserver::EventServerTarget::new(c, &ctx(dir, "direct")).unwrap();
    match direct.send(&events(n, false)).await {
        Err(TargetError::Retryable { message, .. }) => assert!(
            message.contains(
                "its `answerSig` does not verify under the key it names for this request"
            ),
            "{message}"
        ),
        other => panic!("{what} acknowledged the batch: {other:?}"),
    }
    direct.shutdown().await.unwrap();
}

/// The pinned node's spool in `dir`, sent to the event server itself: its answers to
/// the node's own requests deliver, and each event of `batch` is stored once.
pub(crate) async fn the_server_itself_stores_each_once(
    server: &server::ServerProcess,
    key: auditrail_target_eventserver::ServerKey,
    dir: &std::path::Path,
    batch: &[Arc<Event>],
) {
    use auditrail_core::Target;
    let mut t = auditrail_target_eventserver::EventServerTarget::new(
        pinned_spool_config(server.url.clone(), key),
        &ctx(dir, "es"),
    )
    .unwrap();
    t.flush().await.unwrap();
    assert_eq!(pending(&t), 0);
    t.shutdown().await.unwrap();
    let stored = server.stored();
    for e in batch {
        assert_eq!(
            stored.iter().filter(|(_, s)| s.id == e.id).count(),
            1,
            "{} stored once",
            e.id
        );
    }
}

/// A stand-in at a node's url that posts each request on to `upstream`'s
/// `/v1/events`, with the headers and body `rewrite` makes of the node's, and hands the
/// server's answer back unchanged (status and body): a relay between a node and the
/// real server.
pub(crate) async fn relay<F>(upstream: String, rewrite: F) -> String
where
    F: Fn(&HeaderMap, Bytes) -> (HeaderMap, Vec<u8>) + Clone + Send + Sync + 'static,
{
    let app = relay_through(upstream, reqwest::Client::new(), rewrite);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The routes of [`relay`], posting on with `client` (which may present a client
/// certificate of its own, for a relay that terminates mutual TLS).
pub(crate) fn relay_through<F>(upstream: String, client: reqwest::Client, rewrite: F) -> Router
where
    F: Fn(&HeaderMap, Bytes) -> (HeaderMap, Vec<u8>) + Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/v1/events",
        post(move |headers: HeaderMap, body: Bytes| {
            let upstream = upstream.clone();
            let rewrite = rewrite.clone();
            let client = client.clone();
            async move {
                let (headers, body) = rewrite(&headers, body);
                let resp = client
                    .post(format!("{upstream}/v1/events"))
                    .headers(headers)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
                (status, resp.text().await.unwrap())
            }
        }),
    )
}

/// The headers of a node's request that a relay passes on: `Content-Type`, the nonce,
/// the answer and refusal versions it asks for and, when `authorization`, the node's
/// `Authorization`.
pub(crate) fn passed_on(headers: &HeaderMap, authorization: bool) -> HeaderMap {
    let mut out = HeaderMap::new();
    let mut names = vec![
        axum::http::header::CONTENT_TYPE.as_str(),
        auditrail_core::answer::NONCE_HEADER,
        auditrail_core::answer::VERSION_HEADER,
        auditrail_core::answer::REFUSAL_VERSION_HEADER,
    ];
    if authorization {
        names.push(axum::http::header::AUTHORIZATION.as_str());
    }
    for name in names {
        if let Some(v) = headers.get(name) {
            out.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                v.clone(),
            );
        }
    }
    out
}

/// A pinned spooled target sending `batch` to `url` (with `auth_key`), whose answers
/// are final refusals it must not take: after two of them the events are all still
/// spooled, none dead-lettered; a direct `send` to `url` fails retryably saying
/// `why`.
pub(crate) async fn a_pinned_node_gives_up_nothing(
    url: &str,
    key: auditrail_target_eventserver::ServerKey,
    auth_key: &str,
    dir: &std::path::Path,
    batch: &[Arc<Event>],
    why: &str,
) {
    let mut c = pinned_spool_config(url.to_owned(), key);
    c.auth_key = auth_key.to_owned();
    a_node_configured_so_gives_up_nothing(c, dir, batch, why).await;
}

/// [`a_pinned_node_gives_up_nothing`] for a pinned node configured as `c` (its `url`,
/// `server_keys`, credential and TLS settings).
pub(crate) async fn a_node_configured_so_gives_up_nothing(
    mut c: auditrail_target_eventserver::EventServerConfig,
    dir: &std::path::Path,
    batch: &[Arc<Event>],
    why: &str,
) {
    use auditrail_core::{Target, TargetError};
    let url = c.url.clone();
    let url = url.as_str();
    let mut t =
        auditrail_target_eventserver::EventServerTarget::new(c.clone(), &ctx(dir, "es")).unwrap();
    t.send(batch).await.unwrap();
    wait_refused_answers(&t, 2).await;
    let m = t.metrics();
    assert!(m.retries >= 2, "the refusals never came: {m:?}");
    assert_eq!(
        pending(&t),
        batch.len() as u64,
        "the refusal was taken as final: events left the spool ({m:?})"
    );
    assert_eq!((m.dead_lettered, m.sent_events), (0, 0), "{m:?}");
    t.shutdown().await.unwrap();
    assert!(
        !dir.join("run/deadletter/es.jsonl").exists(),
        "events were dead-lettered"
    );

    c.spool = false;
    let mut direct =
        auditrail_target_eventserver::EventServerTarget::new(c, &ctx(dir, "direct")).unwrap();
    match direct.send(&events(2, false)).await {
        Err(TargetError::Retryable { message, .. }) => {
            assert!(
                message.contains("is not the configured event server's refusal of this request"),
                "{message}"
            );
            assert!(message.contains(why), "{message}");
            assert!(message.contains(url), "{message}");
        }
        other => panic!("the refusal was taken as final: {other:?}"),
    }
    direct.shutdown().await.unwrap();
}

/// A spooled node configured as `c` (pinned: its `url`, `server_keys`, credential and
/// TLS settings) sending `batch`, whose `200` answers it must not take as the
/// acknowledgement of its events: after two of them every event is still spooled, none
/// counted as sent; a direct `send` to `url` fails retryably, naming `url` and saying
/// each of `why`.
pub(crate) async fn a_node_configured_so_takes_no_acknowledgement(
    mut c: auditrail_target_eventserver::EventServerConfig,
    dir: &std::path::Path,
    batch: &[Arc<Event>],
    why: &[&str],
) {
    use auditrail_core::{Target, TargetError};
    let url = c.url.clone();
    let mut t =
        auditrail_target_eventserver::EventServerTarget::new(c.clone(), &ctx(dir, "es")).unwrap();
    t.send(batch).await.unwrap();
    wait_refused_answers(&t, 2).await;
    let m = t.metrics();
    assert_eq!(
        (pending(&t), m.sent_events),
        (batch.len() as u64, 0),
        "an answer was taken as the acknowledgement: events left the spool ({m:?})"
    );
    assert_eq!(m.dead_lettered, 0, "{m:?}");
    assert!(m.retries >= 2, "the answers never came: {m:?}");
    t.shutdown().await.unwrap();

    c.spool = false;
    let mut direct =
        auditrail_target_eventserver::EventServerTarget::new(c, &ctx(dir, "direct")).unwrap();
    match direct.send(&events(2, false)).await {
        Err(TargetError::Retryable { message, .. }) => {
            assert!(
                message.contains("is not the auditrail event server's answer to this request"),
                "{message}"
            );
            for why in why {
                assert!(message.contains(why), "{why}: {message}");
            }
            assert!(message.contains(&url), "{message}");
        }
        other => panic!("the answer was taken as the acknowledgement: {other:?}"),
    }
    direct.shutdown().await.unwrap();
}

/// Asserts that each of `events` is stored once in the `store` destination of the
/// server whose data dir is `data_dir`, under the key `key_id` (its record's `keyId`).
pub(crate) fn assert_stored_once_under<'a>(
    data_dir: &std::path::Path,
    events: impl IntoIterator<Item = &'a Arc<Event>>,
    key_id: &str,
) {
    let recorded: Vec<(String, Option<String>)> =
        auditrail_testkit::store::records(&data_dir.join("store"))
            .iter()
            .filter_map(|r| {
                let id = r["clientEvent"]["id"].as_str()?.to_owned();
                Some((id, r["keyId"].as_str().map(str::to_owned)))
            })
            .collect();
    for e in events {
        let ids: Vec<_> = recorded
            .iter()
            .filter(|(id, _)| *id == e.id.to_string())
            .map(|(_, k)| k.as_deref())
            .collect();
        assert_eq!(ids, [Some(key_id)], "{}", e.id);
    }
}
