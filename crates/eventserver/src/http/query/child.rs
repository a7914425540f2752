//! The server's side of a query run in a worker process (config `queries.worker`): start
//! the worker, hand it the query, read its answer, kill it at the time limit. What the
//! query allocates is the worker's, bounded by its address-space limit: a query beyond
//! it fails alone, and the server's memory and ingest are untouched.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::answer::internal;
use super::worker::Request;
use super::{time_limit_error, Answer};
use crate::config::{QueryConfig, QueryWorker};
use crate::http::error::ApiError;

/// The largest answer the server takes from a worker (it holds the answer while it
/// sends it): 100 000 rows of 1 KiB fit. The worker refuses a larger one itself, as it
/// writes it (`answer::sql_answer`), before writing it takes more memory than the
/// worker has.
pub(super) const MAX_ANSWER_BYTES: usize = 128 * 1024 * 1024;
/// How much of a worker's stderr is kept to say why it failed: its start, where the
/// reason is (an allocation failure or a panic is followed by its backtrace, with
/// `RUST_BACKTRACE` set, which may be long).
const STDERR_HEAD_BYTES: usize = 16 * 1024;
/// What a worker's stderr says when an allocation beyond its address space failed:
/// Rust's allocation-failure handler ("memory allocation of N bytes failed"), or an
/// `ENOMEM` from the system (a thread's stack, a mapped file).
const OUT_OF_MEMORY: [&str; 3] = [
    "memory allocation of",
    "Cannot allocate memory",
    "out of memory",
];

/// Runs `request` in a new process of `worker`, within `limits`.
pub(super) async fn run(
    worker: &QueryWorker,
    limits: &QueryConfig,
    request: &Request,
) -> Result<Answer, ApiError> {
    let input = serde_json::to_vec(request)
        .map_err(|e| internal(format!("cannot write the query for its worker: {e}")))?;
    let mut child = Command::new(&worker.program)
        .args(&worker.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Should this future be dropped (its connection cut, the server stopping at
        // its deadline), the worker is killed with it.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            internal(format!(
                "cannot start the query worker {}: {e}",
                worker.program.display()
            ))
        })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(internal("the query worker has no pipes".into()));
    };
    let work = async {
        let write = async {
            let written = stdin.write_all(&input).await;
            // End of the request: the worker reads to the end.
            drop(stdin);
            written
        };
        let (written, out, err) = tokio::join!(
            write,
            read_at_most(stdout, MAX_ANSWER_BYTES),
            read_head(stderr, STDERR_HEAD_BYTES)
        );
        (written, out, err, child.wait().await)
    };
    let outcome = tokio::time::timeout(limits.time_limit, work).await;
    let Ok((written, out, err, status)) = outcome else {
        // Killed, and waited for: no worker outlives its query.
        let _ = child.kill().await;
        return Err(time_limit_error(limits.time_limit));
    };
    let status = status.map_err(|e| internal(format!("cannot wait for the query worker: {e}")))?;
    let stderr = String::from_utf8_lossy(&err).into_owned();
    match out {
        Ok(out) if status.success() => {
            if let Some(answer) = parse(&out) {
                return Ok(answer);
            }
        }
        Err(TooLarge) => return Err(answer_too_large()),
        Ok(_) => {}
    }
    if OUT_OF_MEMORY.iter().any(|m| stderr.contains(m)) || stack_could_not_grow(status) {
        return Err(super::answer::memory_limit_error(format!(
            "the query exceeded its memory limit of {} MiB and was stopped; narrow it (fewer rows, smaller values)",
            limits.memory_limit_bytes >> 20
        )));
    }
    if killed_by_cpu_limit(status) {
        return Err(time_limit_error(limits.time_limit));
    }
    let reason: Vec<&str> = stderr.lines().take(4).collect();
    tracing::warn!(
        worker = %worker.program.display(),
        %status,
        written = ?written.err(),
        stderr = %reason.join(" / "),
        "a query worker ended without an answer"
    );
    Err(internal(format!(
        "the query worker ended without an answer ({status}); the server's log says why"
    )))
}

/// `<status>\n<body>` (see `worker.rs`).
fn parse(out: &[u8]) -> Option<Answer> {
    let newline = out.iter().position(|&b| b == b'\n')?;
    let status: u16 = std::str::from_utf8(&out[..newline]).ok()?.parse().ok()?;
    let status = StatusCode::from_u16(status).ok()?;
    let body = String::from_utf8(out[newline + 1..].to_vec()).ok()?;
    Some(Answer { status, body })
}

/// `400 query_failed`: the answer is larger than [`MAX_ANSWER_BYTES`].
pub(super) fn answer_too_large() -> ApiError {
    ApiError::bad_request(
        "query_failed",
        format!(
            "the answer is larger than {} MiB; ask fewer rows (limit) or fewer columns",
            MAX_ANSWER_BYTES >> 20
        ),
    )
}

/// The answer went beyond [`MAX_ANSWER_BYTES`].
struct TooLarge;

/// Reads to the end, or up to `max` bytes: then stops reading and closes the pipe (the
/// worker's next write fails and it ends).
async fn read_at_most(mut from: impl AsyncRead + Unpin, max: usize) -> Result<Vec<u8>, TooLarge> {
    let mut out = Vec::new();
    let mut limited = (&mut from).take(max as u64 + 1);
    match limited.read_to_end(&mut out).await {
        Ok(_) if out.len() > max => Err(TooLarge),
        Ok(_) => Ok(out),
        // A broken pipe says no more than the exit status will.
        Err(_) => Ok(out),
    }
}

/// Reads to the end (a worker blocked on a full stderr pipe would never end), keeping
/// the first `keep` bytes.
async fn read_head(mut from: impl AsyncRead + Unpin, keep: usize) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = keep.saturating_sub(head.len()).min(n);
        head.extend_from_slice(&buf[..room]);
    }
    head
}

fn killed_by_cpu_limit(status: ExitStatus) -> bool {
    // SIGXCPU at the soft RLIMIT_CPU. Not SIGKILL: that is also the system's
    // out-of-memory killer's, which a time-limit message would misname.
    status.signal() == Some(rustix::process::Signal::XCPU.as_raw())
}

/// SIGSEGV: in this safe Rust program, a stack that could not grow because the address
/// space was used up (stack growth counts against `RLIMIT_AS`).
fn stack_could_not_grow(status: ExitStatus) -> bool {
    status.signal() == Some(rustix::process::Signal::SEGV.as_raw())
}
