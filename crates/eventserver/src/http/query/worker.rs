//! The worker's side of a query run out of the server's process: read one [`Request`]
//! (JSON) on stdin, limit this process's address space and CPU time and lower its CPU
//! priority, answer, write the answer on stdout as `<status>\n<body>` (the body is the
//! HTTP answer's JSON, the same bytes the server would have written itself).
//! `auditrail __query-worker` is this.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::answer::{answer, Ask};

/// The largest request a worker reads: the SQL text came in a URL (the server's
/// request head is far smaller), and store paths are few.
const MAX_REQUEST_BYTES: u64 = 16 * 1024 * 1024;

/// What the server sends a worker on its stdin.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    /// The store folders to query (as the server resolved them: the worker runs in the
    /// server's working folder).
    pub(crate) stores: Vec<PathBuf>,
    /// The query.
    pub(crate) ask: Ask,
    /// The worker's address space (`RLIMIT_AS`), bytes: every allocation beyond fails,
    /// and with it the query, in this process only.
    pub(crate) memory_limit_bytes: u64,
    /// The worker's CPU time (`RLIMIT_CPU`), seconds: the server kills a worker at the
    /// time limit; this bounds the CPU a worker can take in any case.
    pub(crate) cpu_limit_s: u64,
    /// The query's time limit, milliseconds: a worker still running this long after
    /// it started ends itself, should its server be unable to kill it (gone).
    pub(crate) time_limit_ms: u64,
    /// The server's process id: a worker whose parent is no longer this process (the
    /// server died before the worker could ask to die with it) ends at once.
    pub(crate) server_pid: u32,
    /// The folder of this query's spill files, made by the server, which removes it
    /// once the worker has ended (a worker killed at its limits cannot).
    pub(crate) spill_dir: PathBuf,
    /// The most bytes the query's spill files may hold at once (`max_query_spill_bytes`).
    pub(crate) max_spill_bytes: u64,
    /// The worker's niceness (`query_niceness`, 0 to 19).
    pub(crate) niceness: u8,
}

/// Why a worker wrote no answer.
#[derive(Debug, Error)]
enum WorkerError {
    #[error("cannot read the request on stdin")]
    Read(#[source] std::io::Error),
    #[error("the request on stdin is not a query request")]
    Request(#[source] serde_json::Error),
    #[error("cannot set the worker's {what} limit")]
    Limit {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the query runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot start the query's thread")]
    Thread(#[source] std::io::Error),
    #[error("the query's thread panicked")]
    Panicked,
    #[error("cannot write the answer on stdout")]
    Write(#[source] std::io::Error),
}

/// Runs one query as a worker process: the request on stdin, the answer on stdout
/// (see the module docs). Exit status 0 once an answer (also an error answer, such as
/// `400 query_failed`) is written; 1, with the reason on stderr, when none could be.
/// A query that goes beyond the address-space limit ends the process (the allocator
/// aborts: "memory allocation of N bytes failed" on stderr), which the server reports
/// as the query's memory limit.
pub fn run() -> ExitCode {
    match serve(std::io::stdin().lock(), std::io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                text.push_str(&format!(": {c}"));
                cause = c.source();
            }
            // Not a log line: the server reads this to say why the worker failed.
            let _ = writeln!(std::io::stderr(), "auditrail query worker: {text}");
            ExitCode::FAILURE
        }
    }
}

fn serve(stdin: impl Read, mut stdout: impl Write) -> Result<(), WorkerError> {
    let mut input = Vec::new();
    stdin
        .take(MAX_REQUEST_BYTES)
        .read_to_end(&mut input)
        .map_err(WorkerError::Read)?;
    let request: Request = serde_json::from_slice(&input).map_err(WorkerError::Request)?;
    // Before anything of the query is allocated.
    limit(&request)?;
    end_with_the_server(&request);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(WorkerError::Runtime)?;
    // On a thread with the stack the engine needs for the deepest statement it
    // accepts (the main thread's is what the system gives): a stack overflow would end
    // the worker without an answer.
    let answered = std::thread::Builder::new()
        .name("auditrail-query".into())
        .stack_size(auditrail_query::QUERY_STACK_BYTES)
        .spawn(move || {
            runtime.block_on(answer(
                request.stores,
                request.ask,
                &request.spill_dir,
                request.max_spill_bytes,
            ))
        })
        .map_err(WorkerError::Thread)?
        .join()
        // The panic itself is on stderr, for the server to log.
        .map_err(|_| WorkerError::Panicked)?;
    let (status, body) = match answered {
        Ok(body) => (200, body),
        Err(e) => (
            e.status().as_u16(),
            serde_json::to_string(&e).unwrap_or_else(|_| "{}".into()),
        ),
    };
    write!(stdout, "{status}\n{body}")
        .and_then(|()| stdout.flush())
        .map_err(WorkerError::Write)
}

/// A worker must not outlive its server: the server kills it at the time limit, but a
/// server killed itself (`kill -9`, the OOM killer, a crash) cannot, and the worker
/// would go on computing, re-parented, with its memory, past the time limit the docs
/// promise. So a thread of the worker ends the process when its parent is no longer
/// the server (looked at every 200 ms: `getppid` changes when the parent process
/// dies), or a little after the time limit from its start, whichever comes first.
///
/// Not `PR_SET_PDEATHSIG`: it fires when the *thread* that started the worker ends, and
/// the server's runtime threads are not all for ever (a thread that ran
/// `block_in_place` may later leave the runtime), which would kill a query whose
/// server is alive.
fn end_with_the_server(request: &Request) {
    let server = request.server_pid;
    let spill_dir = request.spill_dir.clone();
    let parent = || rustix::process::getppid().map(|p| p.as_raw_nonzero().get().unsigned_abs());
    if parent() != Some(server) {
        // Gone already, between the spawn and now.
        std::process::exit(1);
    }
    // The server's kill at the time limit comes first; this grace keeps it so.
    let bound =
        std::time::Duration::from_millis(request.time_limit_ms) + std::time::Duration::from_secs(2);
    let started = std::time::Instant::now();
    let _ = std::thread::Builder::new()
        .name("auditrail-query-watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let why = if parent() != Some(server) {
                "its server is gone"
            } else if started.elapsed() > bound {
                "still running past its time limit"
            } else {
                continue;
            };
            let _ = writeln!(std::io::stderr(), "auditrail query worker: {why}: ended");
            // The server removes the spill folder once it has seen this process end;
            // a server that is gone cannot, and `exit` runs no destructor.
            let _ = std::fs::remove_dir_all(&spill_dir);
            std::process::exit(1);
        });
}

/// `setrlimit` on this process (POSIX; the server sets nothing on the child itself, so
/// no `unsafe` code between fork and exec is needed). Soft and hard limits alike: the
/// query cannot raise them again. Also lowers the process's CPU priority to
/// `query_niceness` (see `QueryConfig::niceness`), here on the main thread before any
/// other thread starts: on Linux a thread's niceness is its own, and the threads
/// started after inherit it.
fn limit(request: &Request) -> Result<(), WorkerError> {
    use rustix::process::{setpriority_process, setrlimit, Resource, Rlimit};
    // Lowering one's own priority needs no privilege.
    setpriority_process(None, i32::from(request.niceness)).map_err(|e| WorkerError::Limit {
        what: "CPU priority",
        source: e.into(),
    })?;
    for (what, resource, value) in [
        ("address space", Resource::As, request.memory_limit_bytes),
        ("CPU time", Resource::Cpu, request.cpu_limit_s),
    ] {
        setrlimit(
            resource,
            Rlimit {
                current: Some(value),
                maximum: Some(value),
            },
        )
        .map_err(|e| WorkerError::Limit {
            what,
            source: e.into(),
        })?;
    }
    Ok(())
}
