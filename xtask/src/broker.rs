//! A Kafka broker for the tests: `tansu` (an Apache Kafka compatible broker from
//! crates.io that works with rdkafka's bundled librdkafka), installed when missing and
//! started on a free loopback port, with in-memory storage. Set
//! `AUDITRAIL_KAFKA_BROKERS` to use an existing cluster instead.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run::Output;

pub(crate) const TANSU_VERSION: &str = "0.6.0";
/// Environment variable the Kafka tests read their bootstrap servers from.
pub(crate) const BROKERS_ENV: &str = "AUDITRAIL_KAFKA_BROKERS";
/// Environment variable pointing at the tansu binary (tests use it to create topics).
pub(crate) const TANSU_ENV: &str = "AUDITRAIL_TANSU";

/// Stops the broker when dropped.
pub(crate) struct Broker {
    child: Option<Child>,
}

impl Broker {
    /// Whether xtask started this broker (rather than using [`BROKERS_ENV`]'s cluster).
    pub(crate) fn started_here(&self) -> bool {
        self.child.is_some()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Makes a broker available to the tests through [`BROKERS_ENV`].
pub(crate) fn ensure() -> Result<Broker, String> {
    if let Ok(existing) = std::env::var(BROKERS_ENV) {
        eprintln!("xtask: using the Kafka cluster at {existing} ({BROKERS_ENV})");
        return Ok(Broker { child: None });
    }
    let tansu = tansu_binary()?;
    let port = free_port()?;
    let url = format!("tcp://127.0.0.1:{port}");
    eprintln!("xtask: starting a Kafka broker (tansu {TANSU_VERSION}) on 127.0.0.1:{port}");
    let log =
        std::fs::File::create(std::env::temp_dir().join(format!("auditrail-tansu-{port}.log")))
            .map_err(|e| format!("cannot create the broker log: {e}"))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    let child = Command::new(&tansu)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", "memory://tansu/"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", tansu.display()))?;
    let broker = Broker { child: Some(child) };
    wait_until_listening(SocketAddr::from(([127, 0, 0, 1], port)))?;
    // Safe: set before any test process is spawned, and xtask is single-threaded here.
    std::env::set_var(BROKERS_ENV, format!("127.0.0.1:{port}"));
    std::env::set_var(TANSU_ENV, &tansu);
    Ok(broker)
}

fn tansu_binary() -> Result<PathBuf, String> {
    if crate::run::which("tansu").is_none() {
        eprintln!(
            "xtask: tansu is not installed; installing it from crates.io (several minutes, once)"
        );
        install(Output::Terminal)?;
    }
    crate::run::which("tansu")
        .ok_or_else(|| "tansu was installed but is not on PATH (add ~/.cargo/bin)".to_owned())
}

/// Whether [`ensure`] would install tansu (no cluster given, no tansu found).
pub(crate) fn missing() -> bool {
    std::env::var_os(BROKERS_ENV).is_none() && crate::run::which("tansu").is_none()
}

/// `cargo install tansu`, pinned, with the in-memory storage the tests use; without
/// `--locked` if the locked build fails (a yanked dependency).
pub(crate) fn install(out: Output<'_>) -> Result<(), String> {
    let args = [
        "tansu",
        "--version",
        TANSU_VERSION,
        "--features",
        "dynostore",
    ];
    crate::run::cargo_install(&[&args[..], &["--locked"]].concat(), out)
        .or_else(|_| crate::run::cargo_install(&args, out))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn wait_until_listening(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "the Kafka broker did not listen on {addr} within 60 s (see its log in the temp dir)"
    ))
}
