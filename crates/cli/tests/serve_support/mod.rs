//! Helpers of the `auditrail serve` process tests: start the real binary in a temp
//! folder, read the address it prints, talk HTTP/1.1 to it over a plain socket, stop
//! it with a signal, read its store files back.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) use auditrail_testkit::ext4;
pub(crate) use auditrail_testkit::port::Port;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `auditrail serve` process.
pub(crate) struct ServerProc {
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// Every stdout line printed so far is sent here by a reader thread.
    pub stdout: mpsc::Receiver<String>,
    pub stderr_path: PathBuf,
}

/// Starts `auditrail serve --listen 127.0.0.1:0 ARGS` in `dir`; waits (bounded) for the
/// "listening on" line.
pub(crate) fn start(dir: &Path, args: &[&str]) -> ServerProc {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    start_with_env(dir, &all, &[])
}

/// Starts `auditrail serve ARGS` in `dir` with the environment variables `env` added
/// (no `--listen`: pass one, or set the address through `env`); waits (bounded) for the
/// "listening on" line.
pub(crate) fn start_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> ServerProc {
    launch(
        Command::new(env!("CARGO_BIN_EXE_auditrail")),
        dir,
        args,
        env,
    )
}

/// [`start`] under an open-file limit of `limit` (soft and hard, through `prlimit`:
/// the server raises its soft limit to the hard one, so both are set).
pub(crate) fn start_with_open_file_limit(dir: &Path, limit: u64, args: &[&str]) -> ServerProc {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--nofile={limit}:{limit}"))
        .arg(env!("CARGO_BIN_EXE_auditrail"));
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    launch(cmd, dir, &all, &[])
}

/// Starts `auditrail serve ARGS` in `dir` on `port`, a port the test named to others
/// before the server starts (a config pointing at it): no `--listen`, the server takes
/// the port's socket (LISTEN_FDS), so nothing else can take the port in between.
pub(crate) fn start_on(dir: &Path, port: &Port, args: &[&str]) -> ServerProc {
    let server = launch(
        port.hand_to(env!("CARGO_BIN_EXE_auditrail")),
        dir,
        args,
        &[],
    );
    assert_eq!(server.addr, port.addr().to_string());
    server
}

/// An `auditrail serve` process started, its address not read yet (killed when
/// dropped, as a [`ServerProc`] is).
pub(crate) struct Starting(ServerProc);

/// Starts `auditrail serve --listen 127.0.0.1:0 ARGS` in `dir` and returns at once: the
/// test acts during the start, then waits with [`Starting::listening`].
pub(crate) fn spawn(dir: &Path, args: &[&str]) -> Starting {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    spawn_command(
        Command::new(env!("CARGO_BIN_EXE_auditrail")),
        dir,
        &all,
        &[],
    )
}

/// [`spawn`] with the environment variables `env` added.
pub(crate) fn spawn_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Starting {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    spawn_command(
        Command::new(env!("CARGO_BIN_EXE_auditrail")),
        dir,
        &all,
        env,
    )
}

impl Starting {
    pub(crate) fn pid(&self) -> u32 {
        self.0.child.id()
    }

    /// Waits (bounded) for the "listening on" line.
    pub(crate) fn listening(self) -> ServerProc {
        let mut server = self.0;
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match server.stdout.recv_timeout(left) {
                Ok(line) => {
                    let url = line
                        .strip_prefix("listening on http://")
                        .or_else(|| line.strip_prefix("listening on https://"));
                    if let Some(url) = url {
                        server.addr = url.trim().to_owned();
                        return server;
                    }
                }
                Err(_) => {
                    let _ = server.child.kill();
                    let status = server.child.wait();
                    panic!(
                        "server did not print its address ({status:?}); stderr: {}",
                        server.stderr()
                    );
                }
            }
        }
    }
}

fn launch(cmd: Command, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> ServerProc {
    spawn_command(cmd, dir, args, env).listening()
}

fn spawn_command(mut cmd: Command, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Starting {
    let stderr_path = dir.join(format!("stderr-{}.log", fastrand_suffix()));
    let mut child = cmd
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    // `cmd` holds our copy of a passed socket: the port must refuse connections once
    // the server is gone.
    drop(cmd);
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Starting(ServerProc {
        child,
        addr: String::new(),
        stdout: rx,
        stderr_path,
    })
}

fn fastrand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

impl ServerProc {
    /// Sends SIGTERM and waits (bounded) for the exit code.
    pub(crate) fn terminate(mut self) -> i32 {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("server did not exit after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL (`kill -9`), then reaps the process.
    pub(crate) fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for ServerProc {
    /// A test that fails (panics) while its server runs must not leave the server
    /// running: it would hold its port and store until the machine restarts.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A minimal HTTP/1.1 exchange (one request per connection). Returns status and body.
/// `Host` is `addr` unless `headers` give one.
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    head.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n",
        body.len()
    ));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut response = Vec::new();
    s.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {text:?}")))?;
    let Some(at) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok((status, String::new()));
    };
    let (head, body) = (&response[..at], &response[at + 4..]);
    let chunked = String::from_utf8_lossy(head)
        .to_ascii_lowercase()
        .contains("\r\ntransfer-encoding: chunked");
    let body = if chunked {
        unchunked(body)?
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The bytes of a body sent with `Transfer-Encoding: chunked` (the answers held until
/// read: `/v1/recent`, `/v1/stats`, `/metrics`, `/v1/query`), whose chunks of 64 KiB
/// would otherwise cut lines and JSON in two.
fn unchunked(mut body: &[u8]) -> std::io::Result<Vec<u8>> {
    let bad = |why: &str| std::io::Error::other(format!("a chunked body {why}"));
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| bad("ends inside a chunk's size"))?;
        let size = std::str::from_utf8(&body[..line_end]).map_err(|_| bad("has a bad size"))?;
        let size = size.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| bad("has a bad size"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = body.get(..size).ok_or_else(|| bad("ends inside a chunk"))?;
        out.extend_from_slice(chunk);
        body = body
            .get(size + 2..)
            .ok_or_else(|| bad("ends after a chunk"))?;
    }
}

/// POSTs JSON lines; returns status and parsed body.
pub(crate) fn post_events(
    addr: &str,
    body: &str,
    key: Option<&str>,
) -> std::io::Result<(u16, serde_json::Value)> {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("Content-Type", "application/x-ndjson")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let (status, text) = request(addr, "POST", "/v1/events", &headers, body.as_bytes())?;
    let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    Ok((status, v))
}

/// A fresh event id (UUIDv7-shaped is not required: any UUID is accepted).
pub(crate) fn new_id(n: u64, salt: u64) -> String {
    format!(
        "{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        salt as u32,
        (n >> 32) as u16,
        (n >> 16) & 0xfff,
        (n >> 4) & 0xfff,
        n
    )
}

/// One event as a JSON line.
pub(crate) fn event_line(id: &str, node: &str, seq: u64) -> String {
    serde_json::json!({
        "id": id, "timestamp": "2026-11-25T16:55:49.123Z", "topic": "generic",
        "node": node, "seq": seq, "message": {"msgType": "login", "authUser": "alice"}
    })
    .to_string()
}

/// Events `seqs` of `node` as JSON lines, stamped now (the console shows recent events),
/// with ids made from `salt` (a test's own, so that tests never share an id).
pub(crate) fn lines_now(node: &str, seqs: std::ops::RangeInclusive<u64>, salt: u64) -> String {
    seqs.map(|seq| {
        serde_json::json!({
            "id": new_id(seq, salt), "timestamp": auditrail::Timestamp::now().to_string(),
            "topic": "generic", "node": node, "seq": seq,
            "message": {"msgType": "login", "authUser": "alice"}
        })
        .to_string()
    })
    .collect::<Vec<_>>()
    .join("\n")
}

/// Stored ids under a store folder (every line must parse: no corrupt file).
pub(crate) fn stored_ids(store: &Path) -> HashMap<String, usize> {
    auditrail_testkit::store::stored_ids(store)
}

impl ServerProc {
    /// Sends SIGHUP (reload).
    pub(crate) fn hangup(&self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success());
    }

    /// Whether the process is still running.
    pub(crate) fn child_alive(&self) -> bool {
        let pid = self.child.id().to_string();
        // An exited child not reaped yet is a zombie (`Z` in /proc/PID/stat).
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.split(' ').nth(2).is_none_or(|state| state != "Z"))
    }
}

/// Sends SIGHUP to the server.
pub(crate) fn hangup(server: &ServerProc) {
    server.hangup();
}

/// Replaces `path` with `contents` as an editor saves a file: written beside it, then
/// renamed over it, so that a reload never reads it half written.
pub(crate) fn replace_file(path: &Path, contents: &str) {
    let beside = path.with_extension("saving");
    std::fs::write(&beside, contents).unwrap();
    std::fs::rename(&beside, path).unwrap();
}

/// Waits (bounded) until the server's log holds `text`.
pub(crate) fn wait_for_log(server: &ServerProc, text: &str) {
    wait_for_log_count(server, text, 1);
}

/// Waits (bounded) until the server's log holds `text` at least `count` times.
pub(crate) fn wait_for_log_count(server: &ServerProc, text: &str, count: usize) {
    let until = Instant::now() + Duration::from_secs(30);
    while server.stderr().matches(text).count() < count {
        assert!(
            Instant::now() < until,
            "the server log never held {text:?} {count} times: {}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Posts batches of `batch` events of node `node` until `stop`; the ids of every
/// batch answered `200`. Each batch goes to another topic and routing key, so that the cut can come while the
/// server creates folders and files, not only while it appends.
pub(crate) fn post_until(
    addr: String,
    node: u64,
    batch: u64,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    acked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let mut seq = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let ids: Vec<String> = (seq + 1..=seq + batch)
            .map(|s| new_id(s, 0x9000 + node))
            .collect();
        let body = ids
            .iter()
            .zip(seq + 1..)
            .map(|(id, s)| {
                let mut line: serde_json::Value =
                    serde_json::from_str(&event_line(id, &format!("node-{node}"), s)).unwrap();
                let nth = s / batch;
                line["topic"] = ["generic", "authfail", "apicalls"][nth as usize % 3].into();
                line["routingKey"] = format!("rk-{}", nth % 7).into();
                line.to_string()
            })
            .collect::<Vec<_>>()
            .join("\n");
        seq += batch;
        // After the cut: refused (503) or no answer; neither is an acknowledgement.
        if let Ok((200, _)) = post_events(&addr, &body, None) {
            acked.lock().unwrap().extend(ids);
        }
    }
}

/// The boot after a power cut of a server that acknowledged `acked` (ids): the server
/// starts on `data` in the namespace `ns` without an operator (with `config`), takes a
/// new event, stops cleanly, and its store holds every acknowledged event once and the
/// new one. The stored ids, for more checks.
pub(crate) fn serve_after_the_boot(
    ns: &ext4::Ext4,
    data: &Path,
    config: &Path,
    acked: &[String],
) -> HashMap<String, usize> {
    let wrapper = ns.enter();
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut server =
        auditrail_testkit::server::ServerProcess::start_through(data, Some(config), &wrapper);
    let after = new_id(1, 0x9fff);
    let (status, answer) =
        post_events(&server.addr, &event_line(&after, "node-boot", 1), None).unwrap();
    assert_eq!(status, 200, "{answer}\n{}", server.log());
    assert_eq!(server.stop(), Some(0), "{}", server.log());

    let stored = stored_ids(&ns.outside(&data.join("store")));
    let missing: Vec<&String> = acked
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events are gone after the power cut, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(3)]
    );
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    assert_eq!(
        stored.get(&after),
        Some(&1),
        "the event taken after the boot"
    );
    stored
}

/// A server on `data` in the namespace `ns` (the default config) takes `body`
/// (`200`) and stops cleanly: the data a power-cut test then works on.
pub(crate) fn serve_once(ns: &ext4::Ext4, data: &Path, body: &str) {
    let wrapper = ns.enter();
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut server = auditrail_testkit::server::ServerProcess::start_through(data, None, &wrapper);
    let (status, answer) = post_events(&server.addr, body, None).unwrap();
    assert_eq!(status, 200, "{answer}\n{}", server.log());
    assert_eq!(server.stop(), Some(0), "{}", server.log());
}

/// Runs `cmd` (an `auditrail serve` that must refuse to start) in `dir`, stdout and
/// stderr to files there: its exit code and both texts, or a panic saying `running`
/// when it still runs after 30 s (a guard against a server that started, never a
/// measure).
pub(crate) fn exit_of_refused_start(
    cmd: &mut Command,
    dir: &Path,
    running: &str,
) -> (i32, String, String) {
    let out = dir.join("stdout");
    let err = dir.join("stderr");
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{running}; stdout: {}\nstderr: {}",
                std::fs::read_to_string(&out).unwrap(),
                std::fs::read_to_string(&err).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        code,
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&err).unwrap(),
    )
}

/// Fills `<dir>/data` (the default store at `<dir>/data/store`) with `count` events of
/// node `n1`, one per hourly partition (one segment file each) from 2026-01-01 on,
/// through a server stopped cleanly afterwards: a store whose opening walks and reads
/// `count` folders and files, long enough in a debug build for a start to be watched.
/// Returns the number of segment files written.
pub(crate) fn store_of_hourly_partitions(dir: &Path, count: u64, salt: u64) -> usize {
    let server = start(dir, &["--data-dir", "data"]);
    // 2026-01-01T00:00:00Z
    let t0: i64 = 1_767_225_600_000;
    let body = (0..count)
        .map(|i| {
            let at = auditrail::Timestamp::from_unix_millis(t0 + i as i64 * 3_600_000).unwrap();
            serde_json::json!({
                "id": new_id(i, salt), "timestamp": at.to_string(), "topic": "generic",
                "node": "n1", "seq": i + 1,
                "message": {"msgType": "login", "authUser": "alice"}
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);
    segment_files(&dir.join("data/store"))
}

/// The segment files (`*.jsonl`) under a store folder.
pub(crate) fn segment_files(store: &Path) -> usize {
    let mut count = 0;
    let mut stack = vec![store.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.parent() != Some(store) && path.extension().is_some_and(|e| e == "jsonl")
            {
                count += 1;
            }
        }
    }
    count
}

/// Sends `GET path` from a socket that takes little and reads only the answer's head
/// (status line and headers): the body stays unread, the client a reader that stalled.
/// Over loopback the kernel would take megabytes of an answer off the server's hands
/// (its send buffer grows with the segment size, 64 KiB there), so the socket asks for
/// small segments and keeps a small receive buffer, as a client across a network does.
pub(crate) fn ask_without_reading(addr: &str, path: &str) -> (TcpStream, String) {
    use socket2::{Domain, Socket, Type};
    let to: std::net::SocketAddr = addr.parse().unwrap();
    let socket = Socket::new(Domain::for_address(to), Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.set_tcp_mss(536).unwrap();
    socket.connect(&to.into()).unwrap();
    let mut s: TcpStream = socket.into();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "the connection closed");
        head.push(byte[0]);
    }
    (s, String::from_utf8_lossy(&head).into_owned())
}

/// A server in `dir` with one store destination whose answers held for readers may
/// take `budget` bytes in all (`max_answer_memory_bytes`).
pub(crate) fn start_with_answer_budget(dir: &Path, budget: usize) -> ServerProc {
    std::fs::write(
        dir.join("server.toml"),
        format!(
            "data_dir = \"data\"\nmax_answer_memory_bytes = {budget}\n\
             [[destinations]]\ntype = \"store\"\npath = \"store\"\n"
        ),
    )
    .unwrap();
    start(dir, &["--config", "server.toml"])
}

/// Posts `count` `login` events of node `n1` (seqs 1 to `count`, ids salted with
/// `salt`), each with a `pad` of `pad_bytes`, 100 to a request.
pub(crate) fn post_padded_logins(addr: &str, count: u64, pad_bytes: usize, salt: u64) {
    let pad = "x".repeat(pad_bytes);
    for first in (1..=count).step_by(100) {
        let batch: Vec<String> = (first..(first + 100).min(count + 1))
            .map(|seq| {
                serde_json::json!({
                    "id": new_id(seq, salt), "timestamp": "2026-11-25T16:55:49.123Z",
                    "topic": "generic", "node": "n1", "seq": seq,
                    "message": {"msgType": "login", "authUser": "alice", "pad": pad}
                })
                .to_string()
            })
            .collect();
        assert_eq!(post_events(addr, &batch.join("\n"), None).unwrap().0, 200);
    }
}

/// The JSON body of an answer whose head [`ask_without_reading`] read, when it has a
/// `Content-Length` (an error answer).
pub(crate) fn body_after(s: &mut TcpStream, head: &str) -> serde_json::Value {
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no Content-Length in {head}"));
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap()
}

/// The first `count` stdout lines of `auditrail tail --server http://ADDR -n BACKLOG`
/// (text), each as printed without its `\n` (a `\r` in a line is kept: tests of shown
/// control characters look for it); tail is stopped after them. Bounded wait: 30 s per
/// line, the failure naming the lines printed so far.
pub(crate) fn tail_lines(addr: &str, backlog: usize, count: usize) -> Vec<String> {
    let url = format!("http://{addr}");
    let mut tail = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["tail", "--server", &url, "-n", &backlog.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = tail.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).split(b'\n').map_while(Result::ok) {
            let _ = tx.send(String::from_utf8(line).unwrap());
        }
    });
    let mut lines = Vec::new();
    while lines.len() < count {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => lines.push(line),
            Err(e) => panic!("tail printed {lines:?} and then nothing ({e})"),
        }
    }
    tail.kill().unwrap();
    tail.wait().unwrap();
    lines
}

/// Writes `config` to `dir/server.toml` and starts `auditrail serve --config
/// server.toml` there (see [`start`]).
pub(crate) fn start_with_config(dir: &Path, config: &str) -> ServerProc {
    std::fs::write(dir.join("server.toml"), config).unwrap();
    start(dir, &["--config", "server.toml"])
}

/// A server in `dir` (data in `dir/data`) sealing a checkpoint at every record of its
/// one store destination `a` (at `dir/stores/a`, outside the data folder), with
/// `witness` (a `[[witnesses]]` table, or nothing) after it.
pub(crate) fn start_sealing_every_record(dir: &Path, witness: &str) -> ServerProc {
    let store = dir.join("stores/a");
    start_with_config(
        dir,
        &format!(
            "data_dir = \"data\"\n[checkpoints]\nevery_records = 1\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n{witness}"
        ),
    )
}

/// Posts event `n` of node `n1` (its id salted with `salt`), which must be answered `200`.
pub(crate) fn post_accepted(server: &ServerProc, n: u64, salt: u64) {
    let (status, answer) = post_events(&server.addr, &event_line(&new_id(n, salt), "n1", n), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
}

/// Posts event `n` of node `n1` (its id salted with `salt`) again while it is answered
/// `503`, as a node does, until it is answered `200` (bounded: a hang guard, never a
/// measure).
pub(crate) fn post_until_accepted(server: &ServerProc, n: u64, salt: u64) {
    let body = event_line(&new_id(n, salt), "n1", n);
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, answer) = post_events(&server.addr, &body, None)
            .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
        if status == 200 {
            return;
        }
        assert!(
            status == 503 && Instant::now() < until,
            "{status} {answer}\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits (bounded: a hang guard, never a measure) until `done` holds; a failure names
/// `what` and shows the logs of `servers`.
pub(crate) fn wait_until(what: &str, servers: &[&ServerProc], mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(90);
    while !done() {
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}: {}",
            servers
                .iter()
                .map(|s| s.stderr())
                .collect::<Vec<_>>()
                .join("\n----\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The folders and files under `dir`, at any depth (none when it is gone).
pub(crate) fn paths_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
            }
            out.push(e.path());
        }
    }
    out
}

/// Asserts that the data folder `data`, moved away, was not made again at its path by
/// `server`.
pub(crate) fn assert_not_made_again(server: &ServerProc, data: &Path) {
    assert!(
        !data.exists(),
        "made again at its path: {:?}\n{}",
        paths_under(data),
        server.stderr()
    );
}

/// A store destination that fsyncs only every MiB or every minute (`flush`): its batches
/// are written, not fsynced, when answered, so the server answers them `durable: false`.
pub(crate) const UNSYNCED_STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\n\
     flush = { every_bytes = 1048576, every_seconds = 60 }\n";

/// What `auditrail send` said (its exit status, its JSON summary and its stderr), with
/// the node it ran as, for more checks.
pub(crate) struct Sent {
    pub node: crate::common::Node,
    pub status: Option<i32>,
    pub summary: serde_json::Value,
    pub stderr: String,
}

impl Sent {
    /// The stderr line of the `eventserver` target `central`.
    pub(crate) fn target_line(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.contains("target central (eventserver)"))
            .unwrap_or_else(|| panic!("no target line: {}", self.stderr))
    }

    /// Asserts that nothing was said not durable: exit status 0, `notDurable` 0, no
    /// `NOT DURABLE` on stderr.
    pub(crate) fn assert_durable(&self) {
        let (summary, stderr) = (&self.summary, &self.stderr);
        assert_eq!(self.status, Some(0), "{summary}\n{stderr}");
        assert_eq!(summary["notDurable"], 0, "{summary}");
        assert!(!stderr.contains("NOT DURABLE"), "{stderr}");
    }
}

/// `auditrail send` of one login by node `node` through an `eventserver` target
/// `central` (`settings`: more keys of the target) to a server started with
/// `destination` (`[[destinations]]` tables; none: the default store, fsynced), which
/// must store it.
pub(crate) fn send_one_login(node: &str, settings: &str, destination: Option<&str>) -> Sent {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = destination.map(|d| {
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            format!("data_dir = {:?}\n{d}", data.display().to_string()),
        )
        .unwrap();
        file
    });
    let server = auditrail_testkit::server::ServerProcess::start(&data, config.as_deref());
    let node = crate::common::Node::with_eventserver_target(node, &server.url, settings);
    let out = node.send_login("20");
    let (stdout, stderr) = crate::common::text(&out);
    let summary: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(server.stored().len(), 1, "{stdout}\n{stderr}");
    Sent {
        node,
        status: out.status.code(),
        summary,
        stderr,
    }
}

/// A server in `dir` ([`start_sealing_every_record`]) whose witness, an event server at
/// `witness` where nobody listens (its lines wait in its spool), gives a line up after a
/// second of failed retries (`retry_max_elapsed_s = 1`); it took event 1 (its id
/// salted with `salt`), then its data folder `dir/data` was moved to `dir/data.moved`.
pub(crate) fn witness_giving_up_with_the_data_folder_moved(
    dir: &Path,
    witness: &Port,
    salt: u64,
) -> ServerProc {
    let server = start_sealing_every_record(
        dir,
        &format!(
            "[[witnesses]]\ntype = \"eventserver\"\nurl = \"{}\"\nretry_max_elapsed_s = 1\n",
            witness.url()
        ),
    );
    post_accepted(&server, 1, salt);
    std::fs::rename(dir.join("data"), dir.join("data.moved")).unwrap();
    server
}

/// A `[[witnesses]]` table: a `file` witness `w` writing into `dir`.
pub(crate) fn file_witness(dir: &Path) -> String {
    format!("[[witnesses]]\nname = \"w\"\ntype = \"file\"\ndir = {dir:?}\n")
}
