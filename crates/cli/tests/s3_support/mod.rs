//! A real S3-compatible server for the archive tests: `s3s-fs` (from crates.io; a
//! folder per bucket under its root), started on a loopback port it picks (port 0) and stopped
//! when dropped. `cargo xtask test` installs it when missing and passes its path in
//! `AUDITRAIL_S3S_FS`; otherwise it is looked up on `PATH`. Missing, the tests fail
//! saying how to install it (as the Kafka tests do without a broker).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable naming the `s3s-fs` binary.
pub(crate) const S3S_ENV: &str = "AUDITRAIL_S3S_FS";
pub(crate) const ACCESS_KEY: &str = "auditrail-test";
pub(crate) const SECRET_KEY: &str = "auditrail-test-secret";
pub(crate) const BUCKET: &str = "audit";

/// A running `s3s-fs`.
pub(crate) struct S3Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) endpoint: String,
    /// Its root folder (one folder per bucket).
    pub(crate) root: PathBuf,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    /// Stops the server (the object store is then unreachable).
    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Where the server keeps the object `key` of [`BUCKET`].
    pub(crate) fn object_file(&self, key: &str) -> PathBuf {
        self.root.join(BUCKET).join(key)
    }
}

fn binary() -> PathBuf {
    if let Ok(p) = std::env::var(S3S_ENV) {
        return PathBuf::from(p);
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("s3s-fs");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "s3s-fs (an S3-compatible test server) is not installed and {S3S_ENV} is not set: run the tests with `cargo xtask test` (it installs it), or `cargo install s3s-fs --version 0.14.1 --locked --features binary`"
    );
}

/// Starts `s3s-fs` over a new root folder under `dir`, with bucket [`BUCKET`], on port
/// 0; the address is the one its log reports (a port picked beforehand and released
/// could be taken by another socket before `s3s-fs` binds it).
pub(crate) fn start(dir: &Path) -> S3Server {
    let root = dir.join("s3-root");
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let log_path = dir.join("s3s-fs.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(binary())
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(&root)
        // Its address is logged at info level only.
        .env("RUST_LOG", "s3s_fs=info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start s3s-fs: {e}"));
    let mut server = S3Server {
        child,
        endpoint: String::new(),
        root,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    server.endpoint = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(url) = log
            .lines()
            .find_map(|l| l.split_once("server is running at ").map(|(_, u)| u.trim()))
        {
            break url.to_owned();
        }
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("s3s-fs ended ({status}) before listening: {log}");
        }
        assert!(
            Instant::now() < deadline,
            "s3s-fs did not report its address within 30 s (see {})",
            log_path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    server
}

/// The `archive` table of a store's config for this server, under `prefix`, with
/// `secret` as its secret key.
pub(crate) fn archive_table(server: &S3Server, prefix: &str, secret: &str) -> String {
    format!(
        "archive = {{ url = \"s3://{BUCKET}/{prefix}\", endpoint = \"{}\", region = \"us-east-1\", allow_http = true, access_key_id = \"{ACCESS_KEY}\", secret_access_key = \"{secret}\" }}\n",
        server.endpoint
    )
}

/// An "S3 server" that takes connections and never answers (a frozen gateway, a hung
/// VM), on a loopback port; it holds every connection until dropped.
pub(crate) struct FrozenS3 {
    /// `http://127.0.0.1:PORT`.
    pub(crate) endpoint: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FrozenS3 {
    /// How many connections it took so far.
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits (bounded) until it took a connection.
    pub(crate) fn wait_for_a_connection(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.accepted() == 0 {
            assert!(
                Instant::now() < deadline,
                "nothing connected to the frozen S3 server within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FrozenS3 {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Starts a [`FrozenS3`].
pub(crate) fn frozen() -> FrozenS3 {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (count, stopped) = (accepted.clone(), stop.clone());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while !stopped.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((conn, _)) => {
                    held.push(conn);
                    count.fetch_add(1, Ordering::SeqCst);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    FrozenS3 {
        endpoint,
        accepted,
        stop,
    }
}

/// `auditrail ARGS` in `dir` with the test server's S3 credentials in the environment:
/// its status and its stdout then stderr.
pub(crate) fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A real S3 server, and a stopped server's store of two days
/// (`retention_support::store_of_two_days`) that archives to it under `eu-1/store`.
pub(crate) fn store_of_two_days_archiving(dir: &Path) -> (S3Server, std::path::PathBuf) {
    let s3 = start(dir);
    let store = crate::retention_support::store_of_two_days(
        dir,
        &archive_table(&s3, "eu-1/store", SECRET_KEY),
    );
    (s3, store)
}

/// A proxy in front of an [`S3Server`] that holds a `PUT` of an object whose name ends
/// with `suffix` (a slow upload, as a large object on a slow link takes) until
/// [`release`](Self::release)d, or for at most `cap`; everything else passes through.
pub(crate) struct HoldingProxy {
    /// `http://127.0.0.1:PORT`: the endpoint to give the server.
    pub(crate) endpoint: String,
    state: std::sync::Arc<(std::sync::Mutex<HoldState>, std::sync::Condvar)>,
}

#[derive(Default)]
struct HoldState {
    held: bool,
    released: bool,
}

impl HoldingProxy {
    /// Waits (bounded) until a matching `PUT` is being held.
    pub(crate) fn wait_until_held(&self) {
        let (lock, cv) = &*self.state;
        let guard = lock.lock().unwrap();
        let (guard, timeout) = cv
            .wait_timeout_while(guard, Duration::from_secs(60), |s| !s.held)
            .unwrap();
        assert!(
            !timeout.timed_out() && guard.held,
            "no PUT of the held object reached the proxy within 60 s"
        );
    }

    /// Whether the held `PUT` was let through (released, or its cap passed).
    pub(crate) fn was_let_through(&self) -> bool {
        self.state.0.lock().unwrap().released
    }

    /// Holds the next matching `PUT` again (after a [`release`](Self::release)).
    pub(crate) fn rearm(&self) {
        let (lock, cv) = &*self.state;
        *lock.lock().unwrap() = HoldState::default();
        cv.notify_all();
    }

    /// Lets the held `PUT` (and any later one) through.
    pub(crate) fn release(&self) {
        let (lock, cv) = &*self.state;
        lock.lock().unwrap().released = true;
        cv.notify_all();
    }
}

impl Drop for HoldingProxy {
    fn drop(&mut self) {
        self.release();
    }
}

/// Starts a [`HoldingProxy`] to `s3` holding `PUT`s of `suffix` for at most `cap`.
pub(crate) fn holding_proxy(s3: &S3Server, suffix: &str, cap: Duration) -> HoldingProxy {
    let suffix = suffix.as_bytes().to_vec();
    holding_proxy_of(s3, cap, move |path| path.ends_with(&suffix))
}

/// A [`HoldingProxy`] holding `PUT`s of objects whose path holds `part` (a folder:
/// `/2025/01/01/`).
pub(crate) fn holding_proxy_containing(s3: &S3Server, part: &str, cap: Duration) -> HoldingProxy {
    let part = part.as_bytes().to_vec();
    holding_proxy_of(s3, cap, move |path| {
        path.windows(part.len()).any(|w| w == part.as_slice())
    })
}

fn holding_proxy_of(
    s3: &S3Server,
    cap: Duration,
    held: impl Fn(&[u8]) -> bool + Send + Sync + 'static,
) -> HoldingProxy {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::{Arc, Condvar, Mutex};
    let upstream = s3.endpoint.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new((Mutex::new(HoldState::default()), Condvar::new()));
    let shared = state.clone();
    let held = Arc::new(held);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (state, matches) = (shared.clone(), held.clone());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = c_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let first = buf[..n].split(|&b| b == b'\r').next().unwrap_or_default();
                    let path = first.split(|&b| b == b' ').nth(1).unwrap_or_default();
                    if first.starts_with(b"PUT ") && matches(path) {
                        let (lock, cv) = &*state;
                        let mut s = lock.lock().unwrap();
                        if !s.released {
                            s.held = true;
                        }
                        cv.notify_all();
                        let (mut s, _) = cv.wait_timeout_while(s, cap, |s| !s.released).unwrap();
                        s.released = true;
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_out.shutdown(Shutdown::Write);
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_in, &mut c_out);
                let _ = c_out.shutdown(Shutdown::Write);
            });
        }
    });
    HoldingProxy { endpoint, state }
}
