//! The query engine: a DataFusion session with the `events` table and the JSON
//! functions registered.

use std::num::NonZeroUsize;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::disk_manager::DiskManagerMode;
use datafusion::execution::memory_pool::{GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::LogicalPlan;
use futures_util::FutureExt;

use auditrail_target_file::NotAuditFile;

use crate::error::{panic_message, QueryError};
use crate::memory::WatchedPool;
use crate::provider::EventTable;
use crate::scan::{Counters, ScanStats};
use crate::schema::TABLE;
use crate::source::Source;
use crate::spill::SpillWatch;

/// The memory an engine's operators may hold for one query by default where a bound
/// is wanted (the event server's queries, `auditrail query`/`sql`): see
/// [`EngineBuilder::memory_limit`].
pub const DEFAULT_MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// Builds an [`Engine`].
#[derive(Debug, Default)]
pub struct EngineBuilder {
    sources: Vec<Source>,
    target_partitions: Option<usize>,
    memory_limit: Option<usize>,
    spill_dir: Option<PathBuf>,
    max_spill_bytes: Option<u64>,
}

impl EngineBuilder {
    /// Adds an event server store (its root folder).
    pub fn store(mut self, root: impl Into<PathBuf>) -> Self {
        self.sources.push(Source::Store(root.into()));
        self
    }

    /// Adds a node's audit folder.
    pub fn audit_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.sources.push(Source::AuditDir(dir.into()));
        self
    }

    /// Adds sources (for example those [`discover`](crate::discover) found).
    pub fn sources(mut self, sources: impl IntoIterator<Item = Source>) -> Self {
        self.sources.extend(sources);
        self
    }

    /// How many files are read at once (default: the number of CPUs).
    pub fn target_partitions(mut self, n: usize) -> Self {
        self.target_partitions = Some(n.max(1));
        self
    }

    /// At most this many bytes held by the operators of one query (sorts, groups,
    /// joins); beyond, the query fails with DataFusion's "Resources exhausted" error.
    /// Unlimited by default. File reads stream and are not counted.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// The folder the operators write their spill files in (sorts, groups and joins
    /// past the memory limit), instead of a folder of their own in the system's
    /// temporary folder. The engine removes its files when the query ends normally;
    /// a process killed or aborted mid-query removes nothing, so whoever runs queries
    /// that may be killed (the event server's query workers) gives each one a folder
    /// of its own and removes it after the process has ended.
    pub fn spill_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = Some(dir.into());
        self
    }

    /// At most this many bytes in the spill files of the engine's queries at once
    /// (DataFusion's largest temporary folder, 100 GiB by default); a query whose spill
    /// would pass it fails ([`QueryError::SpillLimit`], see
    /// [`QueryError::is_spill_limit`]), and its files are removed as it ends. 0: no
    /// spilling at all.
    pub fn max_spill_bytes(mut self, bytes: u64) -> Self {
        self.max_spill_bytes = Some(bytes);
        self
    }

    /// The engine. Every source must be an existing folder.
    pub fn build(self) -> Result<Engine, QueryError> {
        for s in &self.sources {
            if !s.path().is_dir() {
                let what = match s {
                    Source::Store(_) => "a store",
                    Source::AuditDir(_) => "an audit folder",
                };
                return Err(QueryError::not_a_folder(s.path(), what));
            }
            // A folder without a single audit file fails here, naming what it holds,
            // rather than answering "no events" from nothing read.
            if let Source::AuditDir(dir) = s {
                crate::source::list_audit_dir(dir, &mut Default::default())?;
            }
        }
        let partitions = self.target_partitions.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let mut config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_information_schema(true);
        // Column names are the events' own camelCase names (`msgType`, `authUser`):
        // with identifier normalization on, SQL would have to quote every one of them.
        // Function names are matched case-insensitively either way.
        config.options_mut().sql_parser.enable_ident_normalization = false;
        // Positions of names in the statement, so that an error says where the
        // unknown column, table or function is (`(line 1, column 8)`).
        config.options_mut().sql_parser.collect_spans = true;
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(bytes) = self.memory_limit {
            // DataFusion's own pool for a limit (`with_memory_limit`: greedy, naming
            // the 5 largest consumers when it refuses), watched (`crate::memory`).
            runtime = runtime.with_memory_pool(Arc::new(WatchedPool::new(Arc::new(
                TrackConsumersPool::new(
                    GreedyMemoryPool::new(bytes),
                    NonZeroUsize::MIN.saturating_add(4),
                ),
            ))));
        }
        match (self.spill_dir, self.max_spill_bytes) {
            (dir, Some(limit)) => {
                let mode = dir.map_or(DiskManagerMode::OsTmpDirectory, |d| {
                    DiskManagerMode::Directories(vec![d])
                });
                let (disk, watch) = crate::spill::capped(mode, limit)?;
                runtime = runtime.with_disk_manager_builder(disk);
                config = config.with_extension(watch);
            }
            (Some(dir), None) => runtime = runtime.with_temp_file_path(dir),
            (None, None) => {}
        }
        let mut ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
        datafusion_functions_json::register_all(&mut ctx)?;
        let counters = Arc::new(Counters::default());
        ctx.register_table(
            TABLE,
            Arc::new(EventTable::new(self.sources.clone(), counters.clone())),
        )?;
        Ok(Engine {
            ctx,
            counters,
            sources: self.sources,
        })
    }
}

/// Stores and audit folders as one SQL table of events, `events` (schema in
/// docs/query.md).
///
/// Each query lists the sources' files afresh, so new events are seen by the next
/// query (the [`reports`](crate::reports) list them once per report). SQL is
/// read-only: statements that define or change anything are refused.
#[derive(Clone)]
pub struct Engine {
    pub(crate) ctx: SessionContext,
    counters: Arc<Counters>,
    sources: Vec<Source>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// A builder.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The sources this engine reads.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// Plans a read-only SQL query (one `SELECT`, `WITH ... SELECT`, `EXPLAIN` or
    /// `SHOW`/`DESCRIBE`). A statement deeper or larger than
    /// [`MAX_EXPRESSION_DEPTH`](crate::MAX_EXPRESSION_DEPTH) or
    /// [`MAX_QUERY_PARTS`](crate::MAX_QUERY_PARTS) is refused before it is planned.
    ///
    /// A statement whose answer would have two columns of one name (or a struct in it
    /// two fields of one name) is refused before it runs: [`QueryError::DuplicateColumn`]
    /// (see [`QueryError::is_duplicate_column`]).
    ///
    /// The thread that runs this, and those that run the query, need
    /// [`QUERY_STACK_BYTES`](crate::QUERY_STACK_BYTES) of stack.
    pub async fn sql(&self, sql: &str) -> Result<DataFrame, QueryError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        // What `SessionContext::sql_with_options` does, with the statement measured
        // between parsing and planning.
        let state = self.ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        let statement = state.sql_to_statement(sql, &dialect)?;
        crate::depth::check(&statement)?;
        crate::instants::check(&statement)?;
        let refused = QueryError::NotReadOnly {
            statement: refused_statement(&statement),
        };
        let reads = reads_only(&statement);
        let selected = selected_columns(&statement);
        let plan = match state.statement_to_plan(statement).await {
            Ok(plan) => plan,
            // `INSERT INTO events VALUES (1)` fails planning on its values before the
            // read-only check below: the refusal is the answer, not the values' error.
            Err(_) if !reads => return Err(refused),
            Err(e) => return Err(hidden_sort_column(e, selected)),
        };
        options.verify_plan(&plan).map_err(|_| refused)?;
        // The times `instants::check` cannot see in the text (`to_timestamp('…')`),
        // by their folded value.
        crate::instants::expressions::check(&plan, Arc::clone(state.config_options()))?;
        // Before it runs, for every caller and output format alike (the rule and why:
        // the `columns` module).
        crate::columns::check(plan.schema().fields())?;
        Ok(self.ctx.execute_logical_plan(plan).await?)
    }

    /// Runs a read-only SQL query and collects its answer (see [`collect`]: at least
    /// one batch, so the columns are known when no row matched).
    pub async fn collect(&self, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
        collect(self.sql(sql).await?).await
    }

    /// The `events` table, for building a query with DataFusion's DataFrame API.
    pub async fn events(&self) -> Result<DataFrame, QueryError> {
        Ok(self.ctx.table(TABLE).await?)
    }

    /// This engine with the sources' files listed once, now, for several statements
    /// that make one answer (a report's parts): each of its queries reads that
    /// listing instead of listing the sources afresh. A file removed after this (a
    /// store's retention, a file target's `max_files`) is then counted and named as
    /// removed ([`Engine::files_removed`]) by whichever statement comes to read it,
    /// instead of being in the parts read before and silently absent from the later
    /// ones. Files added after it are not seen. The scans' counts and findings are
    /// this engine's (shared), and so are its memory and spill limits and functions.
    pub(crate) async fn snapshot(&self) -> Result<Engine, QueryError> {
        use datafusion::catalog::{
            CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
            MemorySchemaProvider,
        };
        use datafusion::execution::SessionStateBuilder;

        let files = crate::provider::list(&self.sources, &self.counters).await?;
        // A catalog of its own: the engine's (shared by its clones) keeps its table,
        // which lists afresh. Everything else (settings, functions, runtime) as is.
        let state = self.ctx.state();
        let names = state.config().options().catalog.clone();
        let catalogs = Arc::new(MemoryCatalogProviderList::new());
        let catalog = Arc::new(MemoryCatalogProvider::new());
        let schema = Arc::new(MemorySchemaProvider::new());
        catalog.register_schema(&names.default_schema, schema)?;
        catalogs.register_catalog(names.default_catalog, catalog);
        let state = SessionStateBuilder::new_from_existing(state)
            .with_catalog_list(catalogs)
            .build();
        let ctx = SessionContext::new_with_state(state);
        ctx.register_table(
            TABLE,
            Arc::new(EventTable::listed(
                self.sources.clone(),
                self.counters.clone(),
                files,
            )),
        )?;
        Ok(Engine {
            ctx,
            counters: self.counters.clone(),
            sources: self.sources.clone(),
        })
    }

    /// What the scans of this engine did so far (summed over its queries).
    pub fn stats(&self) -> ScanStats {
        self.counters.snapshot()
    }

    /// The files of the audit folders read so far that are not audit files (not read),
    /// each with why, in path order: for the caller to report, since their events, if
    /// any, are not in the answers.
    pub fn files_not_read(&self) -> Vec<NotAuditFile> {
        self.counters.not_audit_files()
    }

    /// The audit files read so far that hold lines that are not events (torn or
    /// foreign: skipped), with how many, in path order. `auditrail verify` reads stores
    /// only, so the caller names these files itself.
    pub fn audit_files_with_unreadable_lines(&self) -> Vec<(PathBuf, u64)> {
        self.counters.audit_files_with_unreadable_lines()
    }

    /// The files the queries so far listed but found removed when they came to read
    /// them (a store's retention or a file target's `max_files` running meanwhile), in
    /// path order: the answers lack their events, and the caller says so.
    pub fn files_removed(&self) -> Vec<PathBuf> {
        self.counters.files_removed()
    }

    /// The stores' segment files read so far that hold records whose chain hash does
    /// not follow from the record just before them in the file (changed since the store
    /// wrote them; they are in the answers), with how many, in path order: the caller
    /// says so, and `auditrail verify` names the records.
    pub fn files_failing_chain(&self) -> Vec<(PathBuf, u64)> {
        self.counters.files_failing_chain()
    }
}

/// Whether `statement` is of a kind that only reads (`SELECT`, `WITH`, `EXPLAIN`,
/// `SHOW`, `DESCRIBE`). DataFusion's own check (`SQLOptions::verify_plan`) still
/// decides on what plans; this only names the refusal of what does not.
fn reads_only(statement: &datafusion::sql::parser::Statement) -> bool {
    use datafusion::sql::parser::Statement as Df;
    use datafusion::sql::sqlparser::ast::Statement as Sql;
    match statement {
        Df::Statement(s) => match &**s {
            // `WITH x AS (...) INSERT ...`: a query whose body changes something.
            Sql::Query(q) => !changes(&q.body),
            Sql::Explain { statement, .. } => reads_only(
                &datafusion::sql::parser::Statement::Statement(statement.clone()),
            ),
            other => matches!(
                other,
                Sql::ExplainTable { .. }
                    | Sql::ShowTables { .. }
                    | Sql::ShowColumns { .. }
                    | Sql::ShowVariable { .. }
                    | Sql::ShowVariables { .. }
                    | Sql::ShowFunctions { .. }
                    | Sql::ShowStatus { .. }
            ),
        },
        Df::Explain(e) => reads_only(&e.statement),
        Df::CreateExternalTable(_) | Df::CopyTo(_) | Df::Reset(_) => false,
    }
}

/// How many columns a plain `SELECT` names (no `*`), `None` for any other statement:
/// a column the engine's message places beyond them is one it added itself.
fn selected_columns(statement: &datafusion::sql::parser::Statement) -> Option<usize> {
    use datafusion::sql::parser::Statement as Df;
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, Statement as Sql};
    let Df::Statement(s) = statement else {
        return None;
    };
    let Sql::Query(q) = &**s else {
        return None;
    };
    let SetExpr::Select(select) = &*q.body else {
        return None;
    };
    select
        .projection
        .iter()
        .all(|p| {
            matches!(
                p,
                SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
            )
        })
        .then_some(select.projection.len())
}

/// The engine's "two expressions of one name" refusal (see
/// `words::same_expression_names`) when the second is past the `selected` columns:
/// the ORDER BY column the engine added, hidden, to sort by
/// ([`QueryError::SortColumnSameName`]). Any other error as it is.
fn hidden_sort_column(
    e: datafusion::error::DataFusionError,
    selected: Option<usize>,
) -> QueryError {
    use datafusion::error::DataFusionError as Df;
    let Some(selected) = selected else {
        return e.into();
    };
    let mut inner = &e;
    while let Df::Context(_, next) | Df::Diagnostic(_, next) = inner {
        inner = next;
    }
    if let Df::Plan(s) = inner {
        if let Some((first, first_at, second, second_at)) = crate::words::same_expression_names(s) {
            if first_at < selected && second_at >= selected {
                return QueryError::SortColumnSameName {
                    column: first.to_owned(),
                    at: first_at + 1,
                    sort: second.to_owned(),
                };
            }
        }
    }
    e.into()
}

/// Whether a query's body is a statement that changes something (`INSERT`, `UPDATE`,
/// `DELETE`, `MERGE` behind `WITH`).
fn changes(body: &datafusion::sql::sqlparser::ast::SetExpr) -> bool {
    use datafusion::sql::sqlparser::ast::SetExpr;
    matches!(
        body,
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_)
    )
}

/// The refused statement of `statement`, named by its first word as written back by
/// the parser (`CREATE`, `INSERT`): the explained one for `EXPLAIN [ANALYZE] COPY ...`
/// ("COPY (under EXPLAIN)"; "EXPLAIN is refused" named a statement the message lists
/// as allowed), the one behind `WITH` for `WITH x AS (...) INSERT ...` ("INSERT (after
/// WITH)"; DataFusion answered "not implemented yet", as if a later version would run
/// it).
fn refused_statement(statement: &datafusion::sql::parser::Statement) -> String {
    use datafusion::sql::parser::Statement as Df;
    match statement {
        Df::Explain(e) => format!("{} (under EXPLAIN)", refused_statement(&e.statement)),
        Df::Statement(s) => refused_sql(s),
        other => first_word(&other.to_string()),
    }
}

fn refused_sql(statement: &datafusion::sql::sqlparser::ast::Statement) -> String {
    use datafusion::sql::sqlparser::ast::{SetExpr, Statement as Sql};
    match statement {
        Sql::Explain { statement, .. } => format!("{} (under EXPLAIN)", refused_sql(statement)),
        Sql::Query(q) if changes(&q.body) => match &*q.body {
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                format!("{} (after WITH)", refused_sql(s))
            }
            _ => first_word(&statement.to_string()),
        },
        other => first_word(&other.to_string()),
    }
}

fn first_word(text: &str) -> String {
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Runs `df` and collects its answer: its batches, or one empty batch of its schema
/// when no row matched. DataFusion answers "no rows" with no batch at all, which
/// leaves a writer without the column names: a CSV would have no header line and a
/// table no header (docs/query.md promises both).
///
/// A panic inside DataFusion or Arrow while the query runs (they panic on some limits
/// instead of returning an error, e.g. "offset overflow" when `string_agg` builds a
/// value past 2 GiB) is this query's error ([`QueryError::EngineBroke`]), not the end
/// of the process: the engine holds no state shared with other queries that the
/// panic could leave broken (the plan and its buffers are dropped with it).
///
/// A breakdown (a panic, an internal error) after the engine's memory pool refused
/// memory during the query is the memory limit (`ResourcesExhausted`, with the pool's
/// words): some operators go on past a refusal by spilling, and break down there
/// (`crate::memory`). The refusals are counted per pool: a query running beside this
/// one on the same engine could have met the limit instead, and then this query's
/// breakdown is said as the limit too; the CLI and the server run one query per engine.
///
/// A failure during which the cap of the spill files
/// ([`EngineBuilder::max_spill_bytes`]) refused a write is that cap
/// ([`QueryError::SpillLimit`]), counted likewise (`crate::spill`).
pub async fn collect(df: DataFrame) -> Result<Vec<RecordBatch>, QueryError> {
    let schema = df.schema().inner().clone();
    // Which columns hold JSON, by where they come from (`crate::json_lineage`): read
    // from the plan before it runs.
    let json = crate::json_lineage::json_columns(df.logical_plan());
    let task = df.task_ctx();
    let pool = Arc::clone(task.memory_pool());
    let watched = pool.downcast_ref::<WatchedPool>();
    let before = watched.map_or(0, WatchedPool::refusals);
    let spill = task.session_config().get_extension::<SpillWatch>();
    let spill_before = spill.as_ref().map_or(0, |s| s.refusals());
    let result = match AssertUnwindSafe(df.collect()).catch_unwind().await {
        Ok(answer) => answer.map_err(QueryError::from),
        Err(payload) => Err(QueryError::EngineBroke {
            message: panic_message(&*payload),
        }),
    };
    let batches = result.map_err(|e| match (watched, &spill) {
        // First: the spilling a memory refusal starts is what the cap refused.
        // Said in its own words: DataFusion's ("try increasing the config
        // `datafusion.runtime.max_temp_directory_size`") name a setting no caller has.
        (_, Some(s)) if s.refusals() > spill_before => QueryError::SpillLimit { limit: s.limit() },
        (Some(w), _) if w.refusals() > before => match w.last_refusal() {
            Some(refusal) => e.after_memory_refusal(refusal),
            None => e,
        },
        _ => e,
    })?;
    let batches = if batches.is_empty() {
        vec![RecordBatch::new_empty(schema)]
    } else {
        batches
    };
    let batches = crate::json_lineage::marked(batches, &json)?;
    // The values of `->` / `json_get` leave the engine as their JSON text: no output
    // format writes Arrow's union of them (`crate::json_values`).
    crate::json_values::plain(&batches)
}

/// `df` cut to at most `rows` rows: a limit on top of its plan, except for `EXPLAIN
/// ANALYZE`, which DataFusion runs only as the root of its plan ("Analyze must be root
/// of the plan"). Its answer is the plan with its metrics, a few rows: the caller's
/// own count of the rows it keeps still applies.
pub fn at_most(df: DataFrame, rows: usize) -> Result<DataFrame, QueryError> {
    if matches!(df.logical_plan(), LogicalPlan::Analyze(_)) {
        return Ok(df);
    }
    match fetch(rows) {
        Some(rows) => Ok(df.limit(0, Some(rows))?),
        None => Ok(df),
    }
}

/// `rows` as a limit the engine can hold, `None` for one that cuts nothing. DataFusion
/// keeps a limit as a signed 64-bit number: a `usize` above `i64::MAX` wrapped to a
/// negative one, and `--limit 9223372036854775808` failed with "LIMIT must be >= 0,
/// '-9223372036854775808' was provided", a value nobody gave. No table has that many
/// rows: such a limit keeps them all.
pub(crate) fn fetch(rows: usize) -> Option<usize> {
    i64::try_from(rows).ok().map(|_| rows)
}
