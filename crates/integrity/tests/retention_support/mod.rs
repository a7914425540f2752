//! Helpers of the retention tests: a real store with day partitions, opened the way the
//! server opens it (checked against its high-water mark, checkpoint task, seals), fed
//! events day by day with a few late ones, pruned, closed and reopened, and verified.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auditrail_core::{Event, Timestamp};
use auditrail_integrity::verify::{self, NoProgress, ProblemKind, Report, Severity, VerifyOptions};
use auditrail_integrity::{
    Archive, CheckpointPolicy, HighWaterMarks, IntegrityError, Pruned, Receipt, Signer,
    StoreIntegrity,
};
use auditrail_store::{
    ArchiveConfig, PruneRule, StoreConfig, StoreFiles, StoreHandle, StoreTarget,
};

/// Topics of the events: each day has a folder per topic.
pub(crate) const TOPICS: [&str; 3] = ["generic", "authfail", "apicalls"];

/// An open store with its integrity, as the server holds it.
pub(crate) struct Open {
    pub target: Arc<StoreTarget>,
    pub integrity: StoreIntegrity,
}

/// A store under a data dir.
pub(crate) struct Store {
    pub dir: tempfile::TempDir,
    pub data_dir: PathBuf,
    pub root: PathBuf,
    pub signer: Arc<Signer>,
    pub config: StoreConfig,
    /// The checkpoint policy the store is opened with.
    pub policy: CheckpointPolicy,
    next: u64,
    /// Receipts of every batch written, with the day of its events.
    pub receipts: Vec<(u32, Receipt)>,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store::in_temp_folder(tempfile::tempdir().unwrap())
    }

    /// A store whose checkpoint log is sealed in pieces of 1 500 bytes (a few lines
    /// each), so that a test sees several pieces after a few batches.
    pub(crate) fn in_small_pieces() -> Store {
        let mut store = Store::new();
        store.policy = CheckpointPolicy {
            piece_bytes: 1500,
            ..CheckpointPolicy::default()
        };
        store
    }

    /// A store under a temp folder inside `parent` (a file system of the test's own).
    pub(crate) fn new_in(parent: &Path) -> Store {
        Store::in_temp_folder(tempfile::tempdir_in(parent).unwrap())
    }

    fn in_temp_folder(dir: tempfile::TempDir) -> Store {
        let data_dir = dir.path().join("data");
        let root = data_dir.join("store");
        let signer = Arc::new(Signer::load_or_create(&data_dir).unwrap());
        let config: StoreConfig = serde_json::from_value(serde_json::json!({
            "path": "store", "partitioning": "day", "segment_max_bytes": 8192
        }))
        .unwrap();
        Store {
            dir,
            data_dir,
            root,
            signer,
            config,
            policy: CheckpointPolicy::default(),
            next: 1,
            receipts: Vec::new(),
        }
    }

    /// Opens the store as the server does (refused states included).
    pub(crate) fn open(&self) -> Open {
        let target = Arc::new(StoreTarget::open(&self.root, &self.config, "store").unwrap());
        let marks = Arc::new(HighWaterMarks::in_data_dir(&self.data_dir));
        let integrity = StoreIntegrity::attach_checked(
            &target.handle(),
            self.signer.clone(),
            self.policy,
            marks,
            None,
        )
        .unwrap();
        Open { target, integrity }
    }

    /// An event of January `day` 2026, topic by number.
    pub(crate) fn event(&mut self, day: u32) -> Arc<Event> {
        let n = self.next;
        self.next += 1;
        let v = serde_json::json!({
            "id": uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + u128::from(n)).hyphenated().to_string(),
            "timestamp": format!("2026-01-{day:02}T{:02}:{:02}:00.000Z", n % 24, n % 60),
            "topic": TOPICS[(n % 3) as usize],
            "node": "node-1",
            "seq": n,
            "message": {"msgType": "login", "authUser": format!("user-{n}"), "pad": "x".repeat(100)}
        });
        Arc::new(Event::from_json(&v.to_string()).unwrap())
    }

    /// Writes `per_day` events for each of `days`, in batches of 30, each batch of a
    /// day after the first also carrying one late event of two days before, so the
    /// chain interleaves days as a real server's does.
    pub(crate) async fn write_days(
        &mut self,
        open: &Open,
        days: std::ops::RangeInclusive<u32>,
        per_day: u32,
    ) {
        for day in days {
            let mut left = per_day;
            while left > 0 {
                let n = left.min(30);
                left -= n;
                let mut batch: Vec<Arc<Event>> = (0..n).map(|_| self.event(day)).collect();
                if day > 2 {
                    batch.push(self.event(day - 2));
                }
                self.send(open, batch, day).await;
            }
        }
    }

    /// Sends one batch and keeps its receipt (with `day`).
    pub(crate) async fn send(&mut self, open: &Open, batch: Vec<Arc<Event>>, day: u32) {
        let t = open.target.clone();
        let sent = batch.clone();
        tokio::task::spawn_blocking(move || t.send_blocking(&sent))
            .await
            .unwrap()
            .unwrap();
        let keys: Vec<_> = batch.iter().map(|e| StoreHandle::receipt_key(e)).collect();
        let receipt = open.integrity.receipt(&keys).unwrap();
        open.integrity
            .sealed_through(receipt.last_seq)
            .await
            .unwrap();
        self.receipts.push((day, receipt));
    }

    /// Closes the store (final checkpoint) as the server does at shutdown.
    pub(crate) async fn close(&self, open: Open) {
        let Open { target, integrity } = open;
        drop(target);
        integrity.close().await.unwrap();
    }

    /// The time partition folders of the store (relative), sorted.
    pub(crate) fn partitions(&self) -> Vec<String> {
        let files = StoreFiles::walk(&self.root).unwrap();
        let mut dirs: Vec<String> = files
            .segments()
            .map(|f| f.rel.rsplit_once('/').unwrap().0.to_string())
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// Segment bytes of the store.
    pub(crate) fn bytes(&self) -> u64 {
        StoreFiles::walk(&self.root).unwrap().segment_bytes()
    }

    /// Verifies against the trusted key, with receipts.
    pub(crate) fn verify(&self, receipts: &[(u32, Receipt)]) -> Report {
        let options = VerifyOptions {
            public_key: Some(*self.signer.public_key()),
            receipts: receipts
                .iter()
                .enumerate()
                .map(|(i, (_, r))| (format!("receipt {i}"), r.clone()))
                .collect(),
            ..VerifyOptions::default()
        };
        verify::verify(&self.root, &options, &NoProgress).unwrap()
    }
}

/// Midnight UTC of January `day` 2026.
pub(crate) fn jan(day: u32) -> Timestamp {
    format!("2026-01-{day:02}T00:00:00.000Z").parse().unwrap()
}

/// Prune by age at `now`, deleting what ended at or before `before`.
pub(crate) async fn prune_before(open: &Open, before: Timestamp, now: Timestamp) -> Vec<Pruned> {
    open.integrity
        .prune(
            PruneRule {
                before: Some(before),
                max_bytes: None,
                now,
            },
            "test retention",
            false,
        )
        .await
        .unwrap()
}

/// An archive in the local folder `folder` (`file://`).
pub(crate) fn archive_in(folder: &Path) -> Archive {
    Archive::open(&ArchiveConfig::url(format!("file://{}", folder.display()))).unwrap()
}

/// Prune by age at `now` with archive before delete.
pub(crate) async fn prune_archiving(
    open: &Open,
    archive: &Archive,
    before: Timestamp,
    now: Timestamp,
) -> Result<Vec<Pruned>, IntegrityError> {
    open.integrity
        .prune_archiving(
            PruneRule {
                before: Some(before),
                max_bytes: None,
                now,
            },
            "test retention",
            archive,
        )
        .await
}

/// The objects archived by a prune of `store`'s days 1 and 2 (of four days of 30
/// events) into `archive`: the setup of the tests that put something else at an
/// archived object's name.
pub(crate) async fn archived_objects(
    store: &mut Store,
    open: &Open,
    archive: &Archive,
) -> Vec<auditrail_integrity::ArchivedObject> {
    store.write_days(open, 1..=4, 30).await;
    let passes = prune_archiving(open, archive, jan(3), jan(5))
        .await
        .unwrap();
    passes[0]
        .checkpoint
        .as_ref()
        .and_then(|c| c.deleted.as_ref())
        .and_then(|d| d.archived.as_ref())
        .unwrap()
        .objects
        .clone()
}

/// A FIFO (named pipe) made at `path`: what a plain `open(2)` for reading waits on
/// for ever.
pub(crate) fn mkfifo(path: &Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
}

/// Downloads `archive` and verifies the copy against `key`, as `auditrail verify
/// --archive` does.
pub(crate) async fn verify_archive(archive: &Archive, key: &Signer) -> Report {
    let copy = tempfile::tempdir().unwrap();
    assert!(archive.download(copy.path()).await.unwrap() > 0);
    let options = VerifyOptions {
        public_key: Some(*key.public_key()),
        ..VerifyOptions::default()
    };
    verify::verify_archive(copy.path(), &options, &NoProgress).unwrap()
}

/// Every file under a local archive's folder (relative, `/`-separated) with its bytes.
pub(crate) fn files_under(folder: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, at: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(at).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk(base, &entry.path(), out);
            } else {
                let rel = entry.path().strip_prefix(base).unwrap().to_path_buf();
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(folder, folder, &mut out);
    out
}

/// An error and its causes, `: `-separated.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

/// The errors of a report, as `kind: message` lines.
pub(crate) fn errors(report: &Report) -> Vec<String> {
    report
        .stores
        .iter()
        .flat_map(|s| &s.problems)
        .filter(|p| p.severity == Severity::Error)
        .map(|p| format!("{}: {}", p.kind.name(), p.message))
        .collect()
}

/// Problems of one kind.
pub(crate) fn of_kind(report: &Report, kind: ProblemKind) -> Vec<String> {
    report
        .stores
        .iter()
        .flat_map(|s| &s.problems)
        .filter(|p| p.kind == kind)
        .map(|p| p.message.clone())
        .collect()
}

/// Whether a partition folder (relative) is for January `day`.
pub(crate) fn is_day(folder: &str, day: u32) -> bool {
    folder.ends_with(&format!("2026/01/{day:02}"))
}

/// The partition folders of a set of days.
pub(crate) fn days_of(folders: &[String]) -> Vec<u32> {
    let mut days: Vec<u32> = folders
        .iter()
        .map(|f| f.rsplit('/').next().unwrap().parse().unwrap())
        .collect();
    days.sort();
    days.dedup();
    days
}

/// Copies a folder tree (to put "deleted" files back, as an interrupted prune leaves).
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}
