//! A tansu broker owned by one test (for stopping and restarting it), reached through
//! a loopback TCP proxy that the test can close and reopen.
//!
//! The proxy makes the restart deterministic: tansu's memory storage starts empty, so
//! the restarted broker needs its topic again before the producer may look at it (a
//! producer that sees a known topic missing fails its records as "unknown topic").
//! While the proxy is closed, the test recreates the topic directly on the broker.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The tansu binary: `AUDITRAIL_TANSU` (set by `cargo xtask test`), else `tansu` on
/// PATH or in ~/.cargo/bin.
pub(crate) fn tansu_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("AUDITRAIL_TANSU") {
        return PathBuf::from(p);
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("tansu"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "this test starts and stops its own Kafka broker and needs the `tansu` binary: \
                 run `cargo xtask test` (it installs tansu), or `cargo install tansu --version \
                 0.6.0 --features dynostore`, or set AUDITRAIL_TANSU to its path"
            )
        })
}

/// One tansu process with memory storage, listening on a port of its choice and
/// advertising `advertised` (the proxy) to clients.
pub(crate) struct Tansu {
    child: Child,
    pub port: u16,
}

impl Tansu {
    /// Port 0: tansu does not print the port it got (it echoes `:0`), so it is read
    /// from the kernel's table of the process's listening sockets. (A port picked by
    /// the test and released before tansu binds it could be taken meanwhile.)
    pub(crate) fn start(advertised: u16) -> Tansu {
        let mut child = Command::new(tansu_binary())
            .args(["broker", "--listener-url", "tcp://127.0.0.1:0"])
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{advertised}"))
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Some(port) = auditrail_testkit::port::listening_port_of(child.id()) {
                break port;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tansu ended before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "tansu did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Tansu { child, port }
    }

    /// Creates a 3-partition topic by talking to this broker directly (the tansu CLI
    /// sends CreateTopics to the given address, not to the advertised one).
    pub(crate) fn create_topic(&self, name: &str) {
        let out = Command::new(tansu_binary())
            .args(["topic", "create", name, "--partitions", "3", "--broker"])
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .output()
            .expect("run tansu topic create");
        assert!(
            out.status.success(),
            "tansu topic create {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub(crate) fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP forwarder from its own port (bound once, on port 0, and kept) to the broker
/// port set by [`Proxy::forward_to`]; `close` drops every connection and refuses new
/// ones until `open`.
pub(crate) struct Proxy {
    pub port: u16,
    to: Arc<AtomicU16>,
    open: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// A proxy forwarding nowhere yet (connections are dropped until
    /// [`Proxy::forward_to`]).
    pub(crate) async fn start() -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("proxy bind");
        let port = listener.local_addr().expect("proxy address").port();
        let to = Arc::new(AtomicU16::new(0));
        let open = Arc::new(AtomicBool::new(true));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (o, c, t) = (open.clone(), conns.clone(), to.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !o.load(Ordering::SeqCst) {
                    drop(client); // closed: the producer sees the broker as down
                    continue;
                }
                let to = t.load(Ordering::SeqCst);
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", to)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                c.lock().unwrap().push(task);
            }
        });
        Proxy {
            port,
            to,
            open,
            conns,
            accept,
        }
    }

    pub(crate) fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        for t in self.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Where new connections go from now on.
    pub(crate) fn forward_to(&self, port: u16) {
        self.to.store(port, Ordering::SeqCst);
    }

    pub(crate) fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.close();
        self.accept.abort();
    }
}
