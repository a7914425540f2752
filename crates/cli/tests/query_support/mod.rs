//! Helpers of the `/v1/query` limit tests: ask a server a query over plain HTTP/1.1,
//! and find the query worker processes a server started (its children).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use auditrail_eventserver::config::{QueryConfig, QueryWorker, ServerConfig};
use auditrail_eventserver::server::RunningServer;

/// A query that spills within seconds (its groups, long values, pass the engine's
/// 256 MiB quickly) and runs for minutes.
pub(crate) const SPILLING: &str =
    "SELECT count(*) AS n FROM (SELECT DISTINCT repeat('x', 2000) || \
                                   CAST(value AS VARCHAR) AS k FROM range(100000000))";

/// Asserts that `spill` (a server's spill folder) holds nothing: `what` left it (a
/// query's folder is removed once its worker ends).
pub(crate) fn assert_spill_folder_empty(spill: &Path, what: &str) {
    let left: Vec<_> = std::fs::read_dir(spill)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        left.is_empty(),
        "{what} left {left:?} in the spill folder ({} files)",
        files_under(spill).len()
    );
}

/// The files under `dir`, at any depth.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.map_while(Result::ok) {
        let path = e.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A server in this test's process (see [`serve_with_worker`]), and this test's turn
/// at starting query workers in this process. Dropped in this order: the runtime (its
/// tasks, and with them any worker, end), the server, then the turn.
pub(crate) struct InProcess {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) running: RunningServer,
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// Held by each test while its server in this process may have query workers: the
/// tests of this binary run on several threads of one process, and a worker of any of
/// them is a child of it, so without turns `workers_of(std::process::id())` saw
/// another test's worker (query_past_the_time_limit_is_stopped failed beside
/// query_past_its_spill_limit_fails_alone_naming_the_setting). With them, a worker of
/// this process is the worker of this test's server.
static WORKERS_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A server in this test's process on a port of its own, its data in `data`, with the
/// `auditrail` binary as its query worker and the query settings `queries` leaves;
/// its runtime (to stop it: `s.runtime.block_on(s.running.shutdown())`). Waits for the
/// other tests' servers of this kind to be dropped first ([`WORKERS_TURN`]).
pub(crate) fn serve_with_worker(data: &Path, queries: impl FnOnce(&mut QueryConfig)) -> InProcess {
    // A test that failed while holding its turn ends it all the same.
    let turn = WORKERS_TURN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut config = ServerConfig::defaults();
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.data_dir = data.to_owned();
    config.queries.worker = Some(QueryWorker {
        program: env!("CARGO_BIN_EXE_auditrail").into(),
        args: vec!["__query-worker".into()],
    });
    queries(&mut config.queries);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let running = runtime
        .block_on(auditrail_eventserver::server::start(config))
        .unwrap();
    InProcess {
        runtime,
        running,
        _turn: turn,
    }
}

/// `GET /v1/query?sql=...` on `addr`; the status and the JSON body.
pub(crate) fn query(addr: &str, sql: &str) -> (u16, serde_json::Value) {
    get(addr, &format!("/v1/query?sql={}", percent_encode(sql)))
}

/// `GET path` (with its query string, already encoded) on `addr`; the status and the
/// JSON body.
pub(crate) fn get(addr: &str, path: &str) -> (u16, serde_json::Value) {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// `POST /v1/query` on `addr` with `sql=...` as a form body; the status and the JSON
/// body.
pub(crate) fn query_form(addr: &str, sql: &str) -> (u16, serde_json::Value) {
    let body = format!("sql={}", percent_encode(sql));
    exchange(
        addr,
        format!(
            "POST /v1/query HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// Sends `request` on a new connection and reads the answer to its end.
fn exchange(addr: &str, request: String) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    s.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // The server sends answers in pieces (`Transfer-Encoding: chunked`).
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    (status, json)
}

/// The data of a chunked body (RFC 9112 §7.1): hexadecimal size, CRLF, data, CRLF, ...,
/// a size of 0.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16)
            .unwrap_or_else(|e| panic!("bad chunk size {size:?}: {e}"));
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The live (not zombie) children of `parent` whose command line holds
/// `__query-worker`. For this test process, only while holding a server of
/// [`serve_with_worker`]: then they are that server's workers.
/// Asks the server at `addr`, on a thread of its own, a query that computes for far
/// longer than a test looks at it (a cross join of 8 × 10¹¹ rows). The test stops or
/// kills the server under it: the connection then ends without an answer, which the
/// thread takes as it comes.
pub(crate) fn ask_a_long_query(addr: String) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let sql = "SELECT count(*) AS c FROM range(20000) a, range(20000) b, range(2000) c \
                   WHERE a.value + b.value + c.value = 7";
        let _ = std::panic::catch_unwind(|| query(&addr, sql));
    })
}

pub(crate) fn workers_of(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().map_while(Result::ok) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may end while we look: skip what cannot be read.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`: comm may hold spaces, so split after its `)`.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
        if ppid != Some(parent) || state == Some("Z") {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("__query-worker") {
            found.push(pid);
        }
    }
    found
}
