//! The `events` table: a DataFusion [`TableProvider`] over stores and audit folders.
//!
//! Filters on the columns that folders determine (`topic`, `routingKey`, `timestamp`)
//! are used before anything is read: DataFusion's own `PruningPredicate` evaluates
//! them against what each file's folders say (its partition values, as min/max
//! statistics), and a file that cannot hold a matching event is never opened. The
//! filters are "inexact": DataFusion still applies them to the rows read, so pruning
//! only ever saves work and never changes an answer.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, StringArray, TimestampMillisecondArray, UInt64Array,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::{Column as DfColumn, DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_optimizer::pruning::PruningPredicateBuilder;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::ExecutionPlan;

use crate::scan::{Counters, FilesStream, SeenEvents};
use crate::schema::{self, Column};
use crate::source::{self, DataFile, Partition, Source};

/// Columns whose values the folders determine.
const PARTITION_COLUMNS: [Column; 3] = [Column::Topic, Column::RoutingKey, Column::Timestamp];

/// The events of a set of sources as one table.
pub(crate) struct EventTable {
    sources: Vec<Source>,
    counters: Arc<Counters>,
    /// The files every scan starts from, listed once (a report's statements, see
    /// [`crate::Engine::snapshot`]); `None`: each scan lists the sources afresh.
    listed: Option<Arc<Vec<DataFile>>>,
}

impl fmt::Debug for EventTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventTable")
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl EventTable {
    pub(crate) fn new(sources: Vec<Source>, counters: Arc<Counters>) -> EventTable {
        EventTable {
            sources,
            counters,
            listed: None,
        }
    }

    /// The table whose scans all read `files`, a listing taken once: a file removed
    /// since is counted as removed when a scan comes to read it
    /// (`ScanStats::files_removed`), rather than missing from later scans unsaid.
    pub(crate) fn listed(
        sources: Vec<Source>,
        counters: Arc<Counters>,
        files: Vec<DataFile>,
    ) -> EventTable {
        EventTable {
            sources,
            counters,
            listed: Some(Arc::new(files)),
        }
    }
}

/// Lists the files of `sources` (off the async threads: a store's folders may be many)
/// and counts what the listing met.
pub(crate) async fn list(
    sources: &[Source],
    counters: &Counters,
) -> std::result::Result<Vec<DataFile>, crate::error::QueryError> {
    let sources = sources.to_vec();
    let listing = tokio::task::spawn_blocking(move || source::list(&sources))
        .await
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))??;
    counters.listed(listing.files.len() as u64, listing.sampled);
    counters.not_audit(listing.not_audit);
    Ok(listing.files)
}

#[async_trait]
impl TableProvider for EventTable {
    fn schema(&self) -> SchemaRef {
        schema::schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                let on_partition_columns = f
                    .column_refs()
                    .iter()
                    .all(|c| PARTITION_COLUMNS.iter().any(|p| p.name() == c.name));
                if on_partition_columns {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let files = match &self.listed {
            Some(files) => files.as_ref().clone(),
            None => list(&self.sources, &self.counters)
                .await
                .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?,
        };
        let files = prune(state, filters, files)?;
        self.counters.pruned_to(files.len() as u64);

        let full = schema::schema();
        let indices: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..full.fields().len()).collect(),
        };
        let columns: Vec<Column> = indices.iter().map(|&i| Column::ALL[i]).collect();
        let projected = Arc::new(full.project(&indices)?);

        // One event is one row, across every source (the same event stored by several
        // stores, or stored twice by one store beyond its de-duplication window).
        // Shared by the partitions of this scan; a plan is executed once.
        let seen = Arc::new(SeenEvents::default());
        let partitions: Vec<Arc<dyn PartitionStream>> =
            split(files, state.config().target_partitions())
                .into_iter()
                .map(|files| -> Arc<dyn PartitionStream> {
                    Arc::new(FilesStream::new(
                        files,
                        projected.clone(),
                        columns.clone(),
                        self.counters.clone(),
                        seen.clone(),
                    ))
                })
                .collect();
        Ok(Arc::new(StreamingTableExec::try_new(
            projected,
            partitions,
            None,
            Vec::new(),
            false,
            limit,
        )?))
    }
}

/// The files that may hold rows matching `filters`.
fn prune(state: &dyn Session, filters: &[Expr], files: Vec<DataFile>) -> Result<Vec<DataFile>> {
    let Some(predicate) = conjunction(filters.iter().cloned()) else {
        return Ok(files);
    };
    let schema = schema::schema();
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let physical = state.create_physical_expr(predicate, &df_schema)?;
    // `None`: the filters say nothing about the folders (or cannot be reasoned
    // about): every file is read.
    let Some(pruning) = PruningPredicateBuilder::new()
        .with_file_schema(schema)
        .build(physical)
    else {
        return Ok(files);
    };
    let keep = pruning.prune(&FileStatistics(&files))?;
    Ok(files
        .into_iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect())
}

/// Spreads files over `n` partitions, largest first onto the least loaded.
fn split(mut files: Vec<DataFile>, n: usize) -> Vec<Vec<DataFile>> {
    let n = n.clamp(1, files.len().max(1));
    files.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    let mut parts: Vec<(u64, Vec<DataFile>)> = (0..n).map(|_| (0, Vec::new())).collect();
    for f in files {
        if let Some(p) = parts.iter_mut().min_by_key(|p| p.0) {
            p.0 += f.size;
            p.1.push(f);
        }
    }
    parts
        .into_iter()
        .map(|(_, mut files)| {
            files.sort_by(|a, b| a.path.cmp(&b.path));
            files
        })
        .collect()
}

/// Each file as a container whose min/max values are what its folders say.
struct FileStatistics<'a>(&'a [DataFile]);

impl FileStatistics<'_> {
    fn strings(&self, value: impl Fn(&DataFile) -> Option<&str>) -> Option<ArrayRef> {
        if self.0.iter().all(|f| value(f).is_none()) {
            return None;
        }
        Some(Arc::new(self.0.iter().map(value).collect::<StringArray>()))
    }

    fn times(&self, value: impl Fn((i64, i64)) -> i64) -> Option<ArrayRef> {
        if self.0.iter().all(|f| f.partition.time.is_none()) {
            return None;
        }
        let array: TimestampMillisecondArray = self
            .0
            .iter()
            .map(|f| f.partition.time.map(&value))
            .collect();
        Some(Arc::new(array.with_timezone("UTC")))
    }

    fn bound(&self, column: &DfColumn, max: bool) -> Option<ArrayRef> {
        match column.name.as_str() {
            n if n == Column::Topic.name() => self.strings(|f| f.partition.topic.as_deref()),
            n if n == Column::RoutingKey.name() => {
                self.strings(|f| f.partition.routing_key.as_deref())
            }
            n if n == Column::Timestamp.name() => {
                if max {
                    self.times(|(_, end)| end - 1)
                } else {
                    self.times(|(start, _)| start)
                }
            }
            _ => None,
        }
    }
}

impl PruningStatistics for FileStatistics<'_> {
    fn min_values(&self, column: &DfColumn) -> Option<ArrayRef> {
        self.bound(column, false)
    }

    fn max_values(&self, column: &DfColumn) -> Option<ArrayRef> {
        self.bound(column, true)
    }

    fn num_containers(&self) -> usize {
        self.0.len()
    }

    fn null_counts(&self, column: &DfColumn) -> Option<ArrayRef> {
        // A routing-key folder other than the no-key folder holds no event without a key.
        if column.name != Column::RoutingKey.name() {
            return None;
        }
        let counts: UInt64Array = self
            .0
            .iter()
            .map(|f| match f.partition.routing_key.as_deref() {
                Some(k) if k != Partition::NO_KEY_FOLDER => Some(0),
                _ => None,
            })
            .collect();
        Some(Arc::new(counts))
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        None
    }

    fn contained(&self, _: &DfColumn, _: &HashSet<ScalarValue>) -> Option<BooleanArray> {
        None
    }
}
