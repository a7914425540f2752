//! How `GET /v1/query` runs its queries: in a worker process of their own (bounded in
//! memory and killed at the time limit) or in the server's process, how many at once,
//! how many wait. Not keys of the config file, but for `max_query_spill_bytes`
//! ([`QueryConfig::max_spill_bytes`]): the program that embeds the server sets them
//! (`auditrail serve` names itself as the worker).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::ConfigCheckError;

/// Queries running at once by default: each takes up to a core, and the server's
/// machine must keep the rest for ingest.
pub const DEFAULT_QUERIES_RUNNING: usize = 2;
/// Queries waiting for a turn by default; beyond, `429 overloaded`. The web console
/// asks five reports at once: they wait, they are not refused.
pub const DEFAULT_QUERIES_WAITING: usize = 32;
/// How long a query may run (and how long it may wait for a turn) by default.
pub const DEFAULT_QUERY_TIME_LIMIT: Duration = Duration::from_secs(30);
/// The address space of a query's worker process by default: the program and its
/// libraries, DataFusion's operators (at most 256 MiB of it) and everything a query's
/// functions allocate (`repeat`, `lpad`, `array_repeat`...).
pub const DEFAULT_QUERY_MEMORY_LIMIT_BYTES: u64 = 1024 * 1024 * 1024;
/// The most bytes one query's spill files may hold by default (`max_query_spill_bytes`):
/// 4 GiB. DataFusion's own default is 100 GiB, and the spill folder is usually on the
/// disk the stores write to: one heavy sort, group or join could fill it and stop
/// ingest. 4 GiB is 16 times what the engine's operators hold in memory for one query
/// (256 MiB), room for the large reports and statements a reader asks, and with the
/// default 2 queries running at once, at most 8 GiB of the disk is spill files.
pub const DEFAULT_MAX_QUERY_SPILL_BYTES: u64 = 4 * 1024 * 1024 * 1024;
/// The longest time limit: a query is an interactive question, and a waiting one holds
/// a connection.
const MAX_QUERY_TIME_LIMIT: Duration = Duration::from_secs(3600);
/// The least address space a worker is given: the debug build of `auditrail` answers a
/// report in 256 MiB, and fails in 128 MiB (its program and runtime alone).
const MIN_QUERY_MEMORY_LIMIT_BYTES: u64 = 256 * 1024 * 1024;

/// The program that runs one query per process: `program args...`, reading the query
/// on its stdin and writing the answer on its stdout (for `auditrail`:
/// `auditrail __query-worker`, which calls [`crate::query_worker::run`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryWorker {
    /// The program (an absolute path: the server's working folder is no guide).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
}

/// How `/v1/query` runs queries (docs/protocol.md, "GET /v1/query").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryConfig {
    /// `Some`: each query runs in a process of its own, limited to
    /// `memory_limit_bytes` of address space and killed at `time_limit`; the server's
    /// memory is not what a query allocates. `None` (embedders and tests without a
    /// worker program): queries run on a thread of the server, where only DataFusion's
    /// operators are bounded (256 MiB), not what scalar functions allocate, and a
    /// query is stopped at `time_limit` only between two batches of rows.
    pub worker: Option<QueryWorker>,
    /// How long a query may run, and how long one may wait for a turn.
    pub time_limit: Duration,
    /// Address space (`RLIMIT_AS`) of each worker process, in bytes.
    pub memory_limit_bytes: u64,
    /// Queries running at once.
    pub running: usize,
    /// Queries waiting for a turn; beyond, `429 overloaded`.
    pub waiting: usize,
    /// Where each query gets a folder of its own for its spill files (sorts, groups
    /// and joins past the engine's memory limit), removed once the query has ended,
    /// however it ended (a worker killed at the time limit, or ended at its memory
    /// limit, removes nothing itself). Default: the system's temporary folder
    /// (`TMPDIR`), as the query engine's own default.
    pub spill_dir: PathBuf,
    /// The most bytes one query's spill files may hold at once (config key
    /// `max_query_spill_bytes`); a query whose spill would pass it fails alone (`507
    /// query_spill_limit`). 0: queries do not spill (one past the engine's memory
    /// fails).
    pub max_spill_bytes: u64,
    /// The niceness of each worker process (config key `query_niceness`, 0 to 19; the
    /// server's own is left as it is). A query is a thread computing flat out for up to
    /// its time limit, and `running` of them run at once: at the server's priority, on
    /// a machine with few cores, they took the cores from ingest (acknowledgements fell
    /// from some 4500 to 500 to 2000 events/s while two long queries ran on 2 cores).
    /// At 19 (the default) a query gets the CPU that ingest and the rest of the machine
    /// leave, and ingest the CPU it needs: the scheduler weighs a thread at 19 some 70
    /// times less than one at 0. Collection comes first in an audit server; on a
    /// machine kept busy by other work, queries then reach their time limit sooner
    /// (0 runs them at the server's priority). Only with a `worker`.
    pub niceness: u8,
}

/// [`QueryConfig::niceness`] by default.
pub const DEFAULT_QUERY_NICENESS: u8 = 19;

impl Default for QueryConfig {
    /// In the server's process (no worker), with the default limits.
    fn default() -> Self {
        QueryConfig {
            worker: None,
            time_limit: DEFAULT_QUERY_TIME_LIMIT,
            memory_limit_bytes: DEFAULT_QUERY_MEMORY_LIMIT_BYTES,
            running: DEFAULT_QUERIES_RUNNING,
            waiting: DEFAULT_QUERIES_WAITING,
            spill_dir: std::env::temp_dir(),
            max_spill_bytes: DEFAULT_MAX_QUERY_SPILL_BYTES,
            niceness: DEFAULT_QUERY_NICENESS,
        }
    }
}

impl QueryConfig {
    /// Checks the values; the message names the field.
    pub(crate) fn check(&self) -> Result<(), ConfigCheckError> {
        if self.running == 0 {
            return Err(ConfigCheckError::Zero {
                key: "queries.running",
            });
        }
        if self.time_limit.is_zero() || self.time_limit > MAX_QUERY_TIME_LIMIT {
            return Err(ConfigCheckError::QueryTimeLimit {
                limit: self.time_limit,
                max_s: MAX_QUERY_TIME_LIMIT.as_secs(),
            });
        }
        if self.niceness > 19 {
            return Err(ConfigCheckError::QueryNiceness {
                niceness: self.niceness,
            });
        }
        if self.memory_limit_bytes < MIN_QUERY_MEMORY_LIMIT_BYTES {
            return Err(ConfigCheckError::QueryMemory {
                bytes: self.memory_limit_bytes,
                min_mib: MIN_QUERY_MEMORY_LIMIT_BYTES >> 20,
            });
        }
        Ok(())
    }
}
