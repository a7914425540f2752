//! Why a query failed.

use std::path::PathBuf;

use auditrail_target_file::NotAuditFile;
use thiserror::Error;

/// Files named in one message at most; the rest are counted.
const NAMED_FILES: usize = 10;

/// Why a query could not be answered.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A file or folder could not be read.
    #[error("{}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A source path is not a folder: nothing is there, a file is, or it cannot be
    /// looked at.
    #[error("{}: {found} (expected {what})", path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
        /// What it should have been, with its article (`a store`).
        what: &'static str,
        /// What is there instead.
        #[source]
        found: NotAFolderFound,
    },
    /// A folder holds no store and no audit files.
    #[error(
        "{}: no store (store-id, checkpoints.jsonl or segment files) and no audit files (JSON lines of a `file` target) found",
        path.display()
    )]
    NothingFound {
        /// The folder.
        path: PathBuf,
    },
    /// A folder named as a store holds no store.
    #[error(
        "{}: no store (store-id, checkpoints.jsonl or segment files) found",
        path.display()
    )]
    NotAStore {
        /// The folder.
        path: PathBuf,
    },
    /// An audit folder holds no audit file: nothing in it could answer a query.
    #[error(
        "{}: no audit files (JSON lines of a `file` target, whatever its file_name){}",
        path.display(),
        others(not_audit)
    )]
    NoAuditFiles {
        /// The folder.
        path: PathBuf,
        /// Its other files, not read, and why.
        not_audit: Vec<NotAuditFile>,
    },
    /// A store could not be walked or read.
    #[error(transparent)]
    Store(auditrail_store::StoreError),
    /// A node's audit files could not be read.
    #[error(transparent)]
    AuditFiles(auditrail_target_file::ReadError),
    /// A time bound is not a date, an RFC 3339 date-time or a duration.
    #[error("{flag} {value:?}: {reason}")]
    TimeBound {
        /// The option or parameter (`--since`).
        flag: String,
        /// What was given.
        value: String,
        /// What is expected.
        reason: String,
    },
    /// A time window whose start is not before its end: it holds no time (its ends
    /// swapped?).
    #[error("{since} is not before {until}: the window holds no time (are they swapped?)")]
    EmptyWindow {
        /// The start as given and as read (`--since "1d" (2026-11-29T09:00:00.000Z)`).
        since: String,
        /// The end, likewise.
        until: String,
    },
    /// The query engine refused or failed the query (SQL errors, resource limits), said
    /// in auditrail's words: what is wrong and where, with its cause, without
    /// DataFusion's wrappers ("External error: ", "Error during planning: ", the
    /// optimizer rule that met it). DataFusion's error is kept whole here, but is not
    /// the `source()`: printers of error chains would write the cause again in
    /// DataFusion's wording, prefixes and all.
    #[error("{}", crate::words::engine(.0))]
    Engine(datafusion::error::DataFusionError),
    /// The statement defines or changes something (`CREATE`, `INSERT`, `COPY`, `SET`…):
    /// the engine runs read-only statements only.
    #[error("{statement} is refused: the query engine runs read-only statements only (SELECT, WITH ... SELECT, EXPLAIN, SHOW, DESCRIBE)")]
    NotReadOnly {
        /// The refused statement's first word, as written, and where it is when it is
        /// inside another (`COPY (under EXPLAIN)`, `INSERT (after WITH)`).
        statement: String,
    },
    /// The query engine broke down while running the query (a limit of DataFusion or
    /// Arrow it does not check, such as one value or column past 2 GiB): this query
    /// fails alone, with the engine's words.
    #[error("the query failed inside the query engine ({message}); narrow it (fewer rows, smaller values)")]
    EngineBroke {
        /// What the engine said.
        message: String,
    },
    /// The statement nests expressions deeper than the engine plans (see
    /// [`MAX_EXPRESSION_DEPTH`](crate::MAX_EXPRESSION_DEPTH)).
    #[error("the statement nests expressions deeper than {limit} levels (each operator of a chain such as `a + b + c` is a level, as is each call or CASE inside another); write a long list of values as `IN (...)`, or split the statement")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// The statement has more tables, joins, subqueries, CTEs and `SELECT`s than the
    /// engine plans (see [`MAX_QUERY_PARTS`](crate::MAX_QUERY_PARTS)).
    #[error("the statement has more than {limit} tables, joins, subqueries, common table expressions and SELECTs (UNION terms) together; split it")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The statement compares a time column with a literal finer than the millisecond,
    /// which the engine would cut to its millisecond (a wrong answer; see the
    /// `instants` module).
    #[error("the time '{literal}'{} compared with `{column}`{} has digits below the millisecond: event times are whole milliseconds, and the engine would cut it to its millisecond and answer wrongly; give at most 3 fractional digits ('.000' to '.999')", written_as(from), at.map(|(l, c)| format!(" (line {l}, column {c})")).unwrap_or_default())]
    FinerThanMillisecond {
        /// The literal as written, or the value of the expression it was folded from.
        literal: String,
        /// The column it is compared with (or the expression of the columns' type).
        column: String,
        /// Where the literal starts: line and column, from 1.
        at: Option<(u64, u64)>,
        /// The expression the time is the value of, when it is not a literal
        /// (`to_timestamp('…')`: the `instants::expressions` module).
        from: Option<String>,
    },
    /// The statement compares a time column with a literal whose second is `60` (a leap
    /// second), which the engine reads as the next minute while every event sent with
    /// that text was stored at second 59 of its minute (see the `instants` module).
    #[error("the time '{literal}'{} compared with `{column}`{} has a leap second (second 60): an event sent with it is stored at second 59 of its minute (docs/protocol.md), and the engine would read it as the next minute and answer wrongly; write second 59 ('…:59' for the same time as the stored events)", written_as(from), at.map(|(l, c)| format!(" (line {l}, column {c})")).unwrap_or_default())]
    LeapSecond {
        /// The literal as written (also inside an expression).
        literal: String,
        /// The column it is compared with (or the expression of the columns' type).
        column: String,
        /// Where the literal starts: line and column, from 1.
        at: Option<(u64, u64)>,
        /// The expression the literal is in, when it is not the literal alone
        /// (`to_timestamp('…')`: the `instants::expressions` module).
        from: Option<String>,
    },
    /// The answer would have more than one column of one name, or a struct in it more
    /// than one field of one name (`SELECT * FROM events e1, events e2`): refused before
    /// it runs, whatever the output format, since a JSON row keyed by column name would
    /// hold the name twice and its readers keep one value (the rule and why: the
    /// `columns` module, docs/query.md "One name per column").
    #[error("{}", crate::columns::describe(names))]
    DuplicateColumn {
        /// Each name given more than once, in the order of its first use.
        names: Vec<crate::columns::SameName>,
    },
    /// A column of the answer has the name of a column the statement sorts by but does
    /// not select (`SELECT CAST(timestamp AS VARCHAR) FROM events ORDER BY timestamp`:
    /// DataFusion names the CAST `timestamp`, and adds the ORDER BY column to the
    /// answer, hidden, to sort by it): the two names clash though the answer shows one
    /// column. Said so, not as two selected columns (before: "(column 1) and ...
    /// (column 2)" of a one-column SELECT).
    #[error("the column `{column}` (column {at}) has the name of `{sort}`, which ORDER BY sorts by and the engine adds to the answer, hidden, to sort it; give the column a name of its own with AS (`SELECT CAST(timestamp AS VARCHAR) AS ts ... ORDER BY timestamp`)")]
    SortColumnSameName {
        /// The selected expression, as the engine writes it.
        column: String,
        /// Its position in the answer, from 1.
        at: usize,
        /// The ORDER BY expression, as the engine writes it.
        sort: String,
    },
    /// The query's spill files (the overflow of sorts, groups and joins past the
    /// memory limit, written to disk) would have passed the most one query may write
    /// ([`EngineBuilder::max_spill_bytes`](crate::EngineBuilder::max_spill_bytes)):
    /// nothing in the statement is wrong, it asks more disk than the engine gives one
    /// query. Its files are removed as it ends.
    #[error("the query's spill files (the overflow of its sorts, groups and joins past the memory limit, written to disk) would pass {limit} bytes, the most one query may write; narrow it (a time condition on `timestamp`, fewer groups)")]
    SpillLimit {
        /// The cap, bytes.
        limit: u64,
    },
    /// A column of the answer holds values of `->` / `json_get` (datafusion-functions-json's
    /// JSON union) inside a list or struct (`array_agg(message->'a')`), which no output
    /// format writes; a column of such values alone is written as their JSON
    /// (`crate::json_values`).
    #[error("the column `{column}` holds values of `->` or `json_get` inside a list or struct, which cannot be written out: take them as JSON text with `json_get_json` (or as text with `->>`) before putting them in a list or struct")]
    JsonUnionInside {
        /// The column's name.
        column: String,
    },
    /// An answer could not be written out.
    #[error("cannot write the answer: {0}")]
    Output(#[source] datafusion::arrow::error::ArrowError),
    /// A report's rows could not be written as JSON.
    #[error("cannot write the report as JSON: {0}")]
    Json(#[source] serde_json::Error),
}

/// What a path given as a folder is instead (a missing path is not "not a folder":
/// a newcomer without a data dir, or with a mistyped one, is told it does not exist).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NotAFolderFound {
    /// Nothing is at the path (or a symbolic link there leads nowhere).
    #[error("does not exist")]
    Missing,
    /// A regular file is there.
    #[error("is a file, not a folder")]
    File,
    /// Something else is there (a FIFO, a socket, a device).
    #[error("is not a folder")]
    Other,
    /// The path could not be looked at (permissions of a folder above it).
    #[error("cannot be looked at: {0}")]
    Unreadable(#[source] std::io::Error),
}

impl NotAFolderFound {
    /// What is at `path`, which is not a folder (`auditrail verify` says it of a data
    /// dir in the same words).
    pub fn at(path: &std::path::Path) -> Self {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => Self::File,
            Ok(_) => Self::Other,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::Missing,
            Err(e) => Self::Unreadable(e),
        }
    }
}

/// ` (from `EXPRESSION`)` after a time that is the value of an expression, or in one.
fn written_as(from: &Option<String>) -> String {
    from.as_ref()
        .map(|e| format!(" (from `{e}`)"))
        .unwrap_or_default()
}

impl QueryError {
    /// The error for `path`, given as `what` (with its article: `a store`), when it is
    /// not a folder: says whether it is missing, a file or something else.
    pub(crate) fn not_a_folder(path: &std::path::Path, what: &'static str) -> Self {
        QueryError::NotAFolder {
            path: path.to_path_buf(),
            what,
            found: NotAFolderFound::at(path),
        }
    }

    /// Whether the query failed reading its sources (a store or audit folder that
    /// cannot be listed or read: an I/O error, a link or damage inside a store), not for
    /// anything in the statement: the same statement may work once the sources are
    /// mended. The event server answers such a failure as its own (`500`), not as the
    /// client's (`400`). A read failure met while the query ran reaches the caller
    /// inside the engine's error, and is found there too.
    pub fn is_unreadable_source(&self) -> bool {
        match self {
            QueryError::Io { .. }
            | QueryError::NotAFolder { .. }
            | QueryError::NothingFound { .. }
            | QueryError::NotAStore { .. }
            | QueryError::NoAuditFiles { .. }
            | QueryError::Store(_)
            | QueryError::AuditFiles(_) => true,
            // DataFusion's own reading of table files (an object store): the sources.
            QueryError::Engine(e) => {
                inside(e).is_some_and(QueryError::is_unreadable_source)
                    || any_engine_error(e, &|e| matches!(e, Df::ObjectStore(_)))
            }
            _ => false,
        }
    }

    /// Whether the query engine failed reading or writing files of its own (the spill
    /// files of sorts and groups in the temporary folder): the machine's failure, not
    /// the statement's.
    pub fn is_engine_io(&self) -> bool {
        use datafusion::arrow::error::ArrowError;
        match self {
            QueryError::Engine(e) => any_engine_error(e, &|e| match e {
                Df::IoError(_) => true,
                Df::ArrowError(a, _) => matches!(a.as_ref(), ArrowError::IoError(..)),
                _ => false,
            }),
            _ => false,
        }
    }

    /// Whether the statement was refused because two columns of its answer would have
    /// the same name: [`QueryError::DuplicateColumn`], or DataFusion's own refusal of two
    /// identical expressions (`SELECT authUser, authUser`), met while planning. One rule
    /// (the `columns` module), one answer: the event server's `400 duplicate_column`.
    pub fn is_duplicate_column(&self) -> bool {
        match self {
            QueryError::DuplicateColumn { .. } | QueryError::SortColumnSameName { .. } => true,
            QueryError::Engine(e) => any_engine_error(
                e,
                &|e| matches!(e, Df::Plan(s) if crate::words::same_expression_names(s).is_some()),
            ),
            _ => false,
        }
    }

    /// Whether the query's spill files would have passed the engine's cap
    /// ([`QueryError::SpillLimit`]). Checked before [`QueryError::is_engine_io`]: the
    /// engine's error beneath is an I/O error.
    pub fn is_spill_limit(&self) -> bool {
        matches!(self, QueryError::SpillLimit { .. })
    }

    /// Whether the query needed more memory than the engine's limit for its operators
    /// (sorts, groups, joins): DataFusion's "Resources exhausted". Nothing in the
    /// statement is wrong; it asks more than this engine holds for one query.
    pub fn is_memory_limit(&self) -> bool {
        match self {
            QueryError::Engine(e) => {
                any_engine_error(e, &|e| matches!(e, Df::ResourcesExhausted(_)))
            }
            _ => false,
        }
    }
}

impl QueryError {
    /// This failure of a query during which the engine's memory pool refused memory
    /// (`refusal`: the pool's words), as the memory limit it is when the engine broke
    /// down going on past that refusal (a panic, or an internal error: see
    /// `crate::memory` for the nested-loop join's spilling fallback that does so).
    /// Any other failure is kept as it is.
    pub(crate) fn after_memory_refusal(self, refusal: String) -> QueryError {
        let broke = match &self {
            QueryError::EngineBroke { message } => message.clone(),
            QueryError::Engine(e) if !self.is_memory_limit() => match internal(e) {
                Some(s) => s.to_owned(),
                None => return self,
            },
            _ => return self,
        };
        QueryError::Engine(Df::ResourcesExhausted(format!(
            "{refusal} (the engine then tried to go on by spilling to disk, and that failed: {broke})"
        )))
    }
}

/// The text of the first internal error (`Df::Internal`) in `e` or an engine error it
/// wraps.
fn internal(e: &Df) -> Option<&str> {
    match e {
        Df::Internal(s) => Some(s),
        Df::Context(_, inner) | Df::Diagnostic(_, inner) => internal(inner),
        Df::Shared(inner) => internal(inner),
        Df::Collection(all) => all.iter().find_map(internal),
        Df::External(b) => b.downcast_ref::<Df>().and_then(internal),
        _ => None,
    }
}

use datafusion::error::DataFusionError as Df;

/// Whether `e` or an engine error it wraps (contexts, shared and collected errors, an
/// engine error passed through `External`) is one that `is` picks.
fn any_engine_error(e: &Df, is: &dyn Fn(&Df) -> bool) -> bool {
    if is(e) {
        return true;
    }
    match e {
        Df::Context(_, inner) | Df::Diagnostic(_, inner) => any_engine_error(inner, is),
        Df::Shared(inner) => any_engine_error(inner, is),
        Df::Collection(all) => all.iter().any(|e| any_engine_error(e, is)),
        Df::External(b) => b
            .downcast_ref::<Df>()
            .is_some_and(|inner| any_engine_error(inner, is)),
        _ => false,
    }
}

/// The error of this crate that the engine's error `e` carries, if any (the table's
/// listing and scan hand theirs to DataFusion as `External`).
fn inside(e: &datafusion::error::DataFusionError) -> Option<&QueryError> {
    use datafusion::arrow::error::ArrowError;
    use datafusion::error::DataFusionError as Df;
    fn boxed<'a>(b: &'a (dyn std::error::Error + Send + Sync + 'static)) -> Option<&'a QueryError> {
        if let Some(q) = b.downcast_ref::<QueryError>() {
            return Some(q);
        }
        inside(b.downcast_ref::<Df>()?)
    }
    match e {
        Df::External(b) => boxed(b.as_ref()),
        Df::ArrowError(a, _) => match a.as_ref() {
            ArrowError::ExternalError(b) => boxed(b.as_ref()),
            _ => None,
        },
        Df::Context(_, inner) | Df::Diagnostic(_, inner) => inside(inner),
        Df::Shared(inner) => inside(inner),
        Df::Collection(all) => all.iter().find_map(inside),
        _ => None,
    }
}

impl From<datafusion::error::DataFusionError> for QueryError {
    fn from(e: datafusion::error::DataFusionError) -> QueryError {
        QueryError::Engine(e)
    }
}

/// `; N other file(s), not read: a (why), b (why)`, or nothing.
fn others(files: &[NotAuditFile]) -> String {
    if files.is_empty() {
        return String::new();
    }
    format!(
        "; {} other file(s), not read: {}",
        files.len(),
        name_files(files)
    )
}

/// `a (why), b (why), … and N more`.
pub(crate) fn name_files(files: &[NotAuditFile]) -> String {
    let mut s = files
        .iter()
        .take(NAMED_FILES)
        .map(|f| format!("{} ({})", f.path.display(), f.why))
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > NAMED_FILES {
        s += &format!(" and {} more", files.len() - NAMED_FILES);
    }
    s
}

/// The text of a panic's payload (a `&str` or a `String`; anything else unnamed).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn io() -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device")
    }

    #[test]
    fn an_engine_io_error_is_the_machines_failure_wherever_it_is_wrapped() {
        for e in [
            Df::IoError(io()),
            Df::Context("spilling".into(), Box::new(Df::IoError(io()))),
            Df::Shared(Arc::new(Df::IoError(io()))),
            Df::External(Box::new(Df::IoError(io()))),
        ] {
            let q = QueryError::Engine(e);
            assert!(q.is_engine_io(), "{q:?}");
            assert!(!q.is_memory_limit(), "{q:?}");
        }
        assert!(!QueryError::Engine(Df::Plan("no column x".into())).is_engine_io());
    }

    #[test]
    fn an_object_store_error_is_an_unreadable_source() {
        let e = Df::ObjectStore(Box::new(object_store::Error::NotFound {
            path: "store/seg".into(),
            source: Box::new(io()),
        }));
        assert!(QueryError::Engine(e).is_unreadable_source());
    }

    #[test]
    fn a_breakdown_after_a_memory_refusal_is_the_memory_limit_other_failures_are_kept() {
        let refusal =
            || "Failed to allocate additional 8.0 MB for NestedLoopJoinLoad[0]".to_owned();
        for broke in [
            QueryError::EngineBroke {
                message: "partition not used yet".into(),
            },
            QueryError::Engine(Df::Internal("Left side produced no data to spill".into())),
            QueryError::Engine(Df::Context(
                "NestedLoopJoinExec".into(),
                Box::new(Df::Internal("Left side produced no data to spill".into())),
            )),
        ] {
            let q = broke.after_memory_refusal(refusal());
            assert!(q.is_memory_limit(), "{q:?}");
            let said = q.to_string();
            assert!(
                said.starts_with("Resources exhausted: Failed to allocate"),
                "{said}"
            );
        }
        let plan = QueryError::Engine(Df::Plan("no column x".into()));
        assert!(!plan.after_memory_refusal(refusal()).is_memory_limit());
    }

    #[test]
    fn resources_exhausted_is_the_memory_limit_wherever_it_is_wrapped() {
        let exhausted = || Df::ResourcesExhausted("Failed to allocate additional 1 MB".into());
        for e in [
            exhausted(),
            Df::Context("GroupedHashAggregateStream".into(), Box::new(exhausted())),
            Df::Collection(vec![Df::Plan("x".into()), exhausted()]),
            Df::External(Box::new(exhausted())),
        ] {
            let q = QueryError::Engine(e);
            assert!(q.is_memory_limit(), "{q:?}");
            assert!(!q.is_unreadable_source() && !q.is_engine_io(), "{q:?}");
            // The words users and the docs know it by are kept.
            assert!(q.to_string().contains("Resources exhausted"), "{q}");
        }
    }
}
