//! `auditrail verify`: check a closed (or live) store offline: every record, the hash
//! chain across all partition files, the signed checkpoints, and receipts.

use crate::{out, outln};
use auditrail::counted::counted;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use auditrail_integrity::proof::Bundle;
use auditrail_integrity::verify::{self, receipts::read_receipts, VerifyOptions};
use auditrail_integrity::PublicKey;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Stores smaller than this verify in well under a second: no bar.
const SHOW_FROM_BYTES: u64 = 64 * 1024 * 1024;

/// Arguments of `auditrail verify`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The server's data dir (every store under it) or one store's folder. Without it
    /// (and without --config or --archive): the data dir `auditrail serve` uses without
    /// a config, ./auditrail-data (or `AUDITRAIL_DATA_DIR`).
    dir: Option<PathBuf>,
    /// A store's archive (see `archive` in the store's config). Alone: the archive is
    /// verified instead of a store: its objects are downloaded to a temporary folder
    /// and checked there: the checkpoint log copied with them (signatures, with
    /// `--public-key`), each object against the SHA-256 its signed deletion line
    /// records, and the records' chain (an archive alone cannot show it is complete).
    /// With a folder: the store is verified, and the archive against the store's own
    /// log: each object its deletion lines record there (present, size, SHA-256), and
    /// the archive's copy of the log not cut back before the newest of those lines.
    #[command(flatten)]
    archive: super::archive_args::ArchiveArgs,
    /// Check a proof bundle written by `auditrail prove` instead of a store, offline,
    /// with `--public-key` alone (required): exit 0 when it holds, 1 naming what failed.
    /// A key from before a rotation works: the bundle's handover lines are followed.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dir", "config", "receipts", "witnesses", "live", "archive"], requires = "public_key")]
    proof: Option<PathBuf>,
    /// The server's config file: verify its `store` destinations and the partition
    /// stores of its Kafka sources (under their high-water marks), with the public half
    /// of the key it signs with (its `signing_key`, else the data dir's, as `keys
    /// export --config` prints it) unless `--public-key` is given, instead of a folder.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dir", "archive"])]
    config: Option<PathBuf>,
    /// The trusted public key: a file holding `ed25519:<64 hex>` (as printed by
    /// `auditrail keys export`), or that text itself. Without it the data dir's
    /// `signing.pub` is used (with `--config`: the server's own key), which an attacker
    /// on the server could replace.
    #[arg(long, value_name = "FILE|KEY")]
    public_key: Option<String>,
    /// A receipt to check (a saved `200` answer of `POST /v1/events`, a receipt object,
    /// or JSON lines of them), or a folder of such `.jsonl` files (a node's
    /// `<run_dir>/receipts`, where its `eventserver` targets keep every receipt).
    /// Repeatable.
    #[arg(long = "receipt", value_name = "FILE")]
    receipts: Vec<PathBuf>,
    /// What a witness holds: JSON lines of checkpoint lines or of the checkpoint events
    /// the server's `[[witnesses]]` send (from Kafka, or `auditrail query events
    /// --topic checkpoint --format ndjson` on a witness server), or a witness server's
    /// store folder. Each is checked against the store's log: a rollback or a fork is
    /// named. Repeatable.
    #[arg(long = "witness", value_name = "FILE|DIR")]
    witnesses: Vec<PathBuf>,
    /// The store is being written right now: records after the last checkpoint,
    /// records missing above it (a batch still being appended) and an incomplete last
    /// line are warnings, not errors; records missing at or below a checkpoint stay
    /// errors. Without it, a store whose writer lock is held (a running server has it
    /// open) is checked so all the same, and its report says so: `the store is held by
    /// a running server (pid N, lock file F): checked as --live`. Its newest records
    /// wait for the server's next seal, which is no tampering.
    #[arg(long)]
    live: bool,
    /// Print a JSON report on stdout instead of text.
    #[arg(long)]
    json: bool,
}

struct Bar(ProgressBar);

impl verify::Progress for Bar {
    fn start(&self, total: u64) {
        if total >= SHOW_FROM_BYTES && std::io::stderr().is_terminal() {
            self.0.set_draw_target(ProgressDrawTarget::stderr());
        }
        self.0.set_length(total);
        self.0.set_position(0);
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
        self.0.set_draw_target(ProgressDrawTarget::hidden());
    }
}

/// `--proof`: checks a bundle with the trusted key; exit 1 naming what failed.
fn check_proof(path: &std::path::Path, key: &PublicKey, json: bool) -> anyhow::Result<ExitCode> {
    // An operator's file: a regular file or a pipe, bounded (a device or a FIFO nobody
    // writes never holds the command).
    let text =
        auditrail_integrity::read_given_text(path, auditrail_integrity::MAX_PROOF_BUNDLE_BYTES)?;
    let result = Bundle::parse(&text).and_then(|b| b.verify(key));
    let (ok, message) = match &result {
        Ok(what) => (true, what.clone()),
        Err(e) => (false, e.to_string()),
    };
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"ok": ok, "message": message}))?
        )?;
    } else if ok {
        outln!("proof holds: {message}")?;
    } else {
        outln!("PROOF FAILED: {message}")?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs the command: exit 0 only when everything holds, 1 when a problem was found.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let public_key = match &args.public_key {
        None => None,
        // A key's text, or a secret key's line given by mistake, which the parse names
        // without showing it (read as a path, it was shown in the "no such file" error).
        Some(k)
            if k.starts_with(auditrail::key_file::PUBLIC_PREFIX)
                || k.starts_with(auditrail::key_file::SECRET_PREFIX) =>
        {
            Some(k.parse::<PublicKey>()?)
        }
        Some(path) => Some(PublicKey::read_file(path.as_ref())?),
    };
    if let Some(path) = &args.proof {
        let key = public_key.context("--proof needs --public-key")?;
        return check_proof(path, &key, args.json);
    }
    let mut receipts = Vec::new();
    // Lines of receipt files that hold no receipt (a node's write cut short), reported
    // as notes: the other receipts are still checked.
    let mut skipped = Vec::new();
    for path in &args.receipts {
        let files = if path.is_dir() {
            let files = receipt_files(path)?;
            if files.is_empty() {
                anyhow::bail!("--receipt {}: no .jsonl file in it", path.display());
            }
            files
        } else {
            vec![path.clone()]
        };
        let before = receipts.len();
        for file in files {
            let read = read_receipts(&file)?;
            receipts.extend(read.receipts);
            skipped.extend(read.skipped.into_iter().map(|(line, why)| {
                format!(
                    "--receipt {} line {line} skipped: {why} (a write cut short by a crash or a full disk?)",
                    file.display()
                )
            }));
        }
        if receipts.len() == before {
            anyhow::bail!(
                "--receipt {}: no readable receipt in it ({})",
                path.display(),
                skipped.last().map_or("", String::as_str)
            );
        }
    }
    let mut witnesses = Vec::new();
    for path in &args.witnesses {
        let held = verify::witness::read_witness(path)?;
        if held.is_empty() {
            anyhow::bail!("--witness {}: no checkpoint in it", path.display());
        }
        witnesses.extend(held);
    }
    let options = VerifyOptions {
        public_key,
        public_key_from: None,
        receipts,
        live: args.live,
        // An operator's check of a running server (the upgrade procedure's) must not
        // fail on the records its next checkpoint seals; the report says it was so.
        live_when_held: true,
        witnesses,
        layouts: Default::default(),
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} verifying [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let archive = args.archive.config_for_reading()?;
    // No folder, config or archive: the data dir `serve` keeps without a config, as
    // `query`, `keys` and `store` default to it. Before, clap refused the command
    // ("required arguments were not provided: <DIR>") right after `auditrail serve`.
    let dir = match (&args.dir, &args.config) {
        (None, None) if archive.is_none() => Some(serve_data_dir()?),
        _ => args.dir.clone(),
    };
    // The stores whose archive is checked against their own log, with that archive.
    let mut linked: Vec<(PathBuf, auditrail_store::ArchiveConfig)> = Vec::new();
    let report = match (&args.config, &dir) {
        (_, None) if archive.is_some() => {
            let config = archive.as_ref().context("--archive")?;
            verify_archive(config, &options, &Bar(bar))?
        }
        (Some(path), _) => {
            let config = super::server_config::load(path)?;
            // The config says each store destination's folder layout: records are
            // checked against it rather than against one inferred from the folders.
            // Without --public-key: the public half of the key the server signs with,
            // found as `keys export --config` finds it (its `signing_key`, which
            // writes no `signing.pub`, else the data dir's key).
            let (public_key, public_key_from) = match &options.public_key {
                Some(k) => (Some(*k), None),
                None => match super::server_config::public_key(&config)? {
                    Some((k, from)) => (Some(k), Some(from)),
                    None => (None, None),
                },
            };
            let options = VerifyOptions {
                public_key,
                public_key_from,
                layouts: config
                    .stores()
                    .into_iter()
                    .map(|(store, c)| (store, auditrail_store::Layout::from(&c)))
                    .collect(),
                ..options.clone()
            };
            linked = config
                .stores()
                .into_iter()
                .filter_map(|(store, c)| Some((store, c.archive?)))
                .collect();
            // A configured store that is not there: reported as gone when the data dir's
            // marks name it (as `verify DATA_DIR` does), else an error naming it.
            verify::verify_stores(&config.data_dir, config.store_paths(), &options, &Bar(bar))
                .map_err(|e| never_written(e, &config, path))
                .with_context(|| format!("verifying the stores of {}", path.display()))?
        }
        (None, Some(dir)) if !dir.is_dir() => {
            // Missing, a file, something else: said as `query --dir` says it.
            anyhow::bail!(
                "{}: {} (give a data dir or a store folder)",
                dir.display(),
                auditrail_query::NotAFolderFound::at(dir)
            )
        }
        (None, Some(dir)) => {
            let report = verify::verify(dir, &options, &Bar(bar)).map_err(|e| {
                // Most errors name the folder (or a file in it) themselves: said once.
                if e.to_string().starts_with(&dir.display().to_string()) {
                    anyhow::Error::new(e)
                } else {
                    anyhow::Error::new(e).context(format!("verifying {}", dir.display()))
                }
            })?;
            if let Some(config) = &archive {
                linked = report
                    .stores
                    .iter()
                    .map(|s| (PathBuf::from(&s.path), config.clone()))
                    .collect();
            }
            report
        }
        (None, None) => anyhow::bail!("give a folder to verify, or --config"),
    };
    let mut report = report;
    if dir.is_some() || args.config.is_some() {
        check_archives(&mut report, &linked, archive.is_some())?;
    }
    report.notes.extend(skipped);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        out!("{report}")?;
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The data dir `auditrail serve` uses without `--config` (its default, or
/// `AUDITRAIL_DATA_DIR`), when it is there; else an error naming it and the two ways to
/// say what to verify.
fn serve_data_dir() -> anyhow::Result<PathBuf> {
    let config = auditrail_eventserver::config::ServerConfig::load_with_env(
        None,
        &super::server_config::registry()?,
        std::env::vars_os(),
    )?;
    let dir = config.data_dir;
    if !dir.is_dir() {
        anyhow::bail!(
            "no folder given, and {} (the data dir of `auditrail serve` without --config) {}: \
             give a data dir or a store folder (`auditrail verify DIR`), or the server's config \
             (`auditrail verify --config FILE`)",
            dir.display(),
            auditrail_query::NotAFolderFound::at(&dir)
        );
    }
    Ok(dir)
}

/// A configured store folder never written, said with the destination that names it
/// (`name`, and `path` as the config writes it); other errors as they are.
fn never_written(
    e: auditrail_integrity::IntegrityError,
    config: &auditrail_eventserver::config::ServerConfig,
    file: &Path,
) -> anyhow::Error {
    let auditrail_integrity::IntegrityError::StoreNeverWritten { path: store, .. } = &e else {
        return e.into();
    };
    let Some((name, _)) = config.store_names().into_iter().find(|(_, p)| p == store) else {
        return e.into();
    };
    let written = store
        .strip_prefix(&config.data_dir)
        .unwrap_or(store)
        .display()
        .to_string();
    anyhow::Error::new(e).context(format!(
        "store destination {name:?} (path {written:?} in {})",
        file.display()
    ))
}

/// `--archive`: downloads the archive into a temporary folder, then verifies that copy
/// with the store format's one walker and verifier (`verify_archive`). A copy rather
/// than a reader generic over an object store: the walker merges many segment files
/// at once and re-reads none, so reading them from local disk keeps the one reader
/// as it is; the copy is as large as the archive and removed afterwards.
fn verify_archive(
    config: &auditrail_store::ArchiveConfig,
    options: &VerifyOptions,
    progress: &dyn verify::Progress,
) -> anyhow::Result<verify::Report> {
    let archive = auditrail_integrity::Archive::open_as_written(config)?;
    // Removed at the end, or by the next run if this one is killed (archive_copy.rs).
    let copy = super::archive_copy::ArchiveCopy::make()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let objects = runtime.block_on(archive.download(&copy.path()))?;
    if objects == 0 {
        anyhow::bail!("archive {}: no object under it", archive.url());
    }
    let mut report = verify::verify_archive(&copy.path(), options, progress)
        .with_context(|| format!("verifying the archive {}", archive.url()))?;
    for s in &mut report.stores {
        s.path = archive.url().to_string();
    }
    // What the archive holds is checked against the log it holds: objects removed
    // together with the lines naming them leave a consistent, signed archive.
    if options.witnesses.is_empty() {
        report.notes.push(format!(
            "an archive alone cannot show that it is complete (its newest objects and the log lines naming them may have been removed together): check it against the store's own log with `auditrail verify DATA_DIR --archive {}` (or `--config`), or give a --witness",
            archive.url()
        ));
    }
    Ok(report)
}

/// Checks each store's archive in `linked` against the store's own checkpoint log
/// (`verify::check_against_store`), and notes the archives that deletion lines name
/// and nothing here checked. `given`: `--archive` was given with a folder.
fn check_archives(
    report: &mut verify::Report,
    linked: &[(PathBuf, auditrail_store::ArchiveConfig)],
    given: bool,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let mut notes = Vec::new();
    for s in &mut report.stores {
        let path = PathBuf::from(&s.path);
        let config = linked
            .iter()
            .find(|(store, _)| *store == path)
            .map(|(_, c)| c);
        let mut unchecked: Vec<String> = s.archived.keys().cloned().collect();
        if let Some(config) = config {
            let archive = auditrail_integrity::Archive::open_as_written(config)?;
            let done = runtime.block_on(verify::check_against_store(&path, &archive, s));
            unchecked.retain(|url| auditrail_store::archive_url_spelled(url) != archive.url());
            if done.objects > 0 {
                notes.push(format!(
                    "store {}: the {} its checkpoint log records in archive {} {} checked there (size, SHA-256), and the archive's log against the store's",
                    s.path,
                    counted(done.objects, "object", "objects"),
                    archive.url(),
                    if done.objects == 1 { "was" } else { "were" }
                ));
            } else if given {
                notes.push(format!(
                    "store {}: no deletion line of its checkpoint log names archive {}: nothing to check there",
                    s.path,
                    archive.url()
                ));
            }
        }
        for url in unchecked {
            notes.push(format!(
                "store {}: its checkpoint log records {} archived in {url} (the only copy of the records it deleted), not checked here: add `--archive {url}` (with its S3 options) or verify with `--config`",
                s.path,
                counted(s.archived[&url], "object", "objects")
            ));
        }
    }
    report.notes.extend(notes);
    report.ok =
        report.stores.iter().all(verify::StoreReport::ok) && report.receipts.iter().all(|r| r.ok);
    Ok(())
}

/// The `.jsonl` files in a receipts folder and in its sub-folders (a node keeps one
/// folder per target, one file per day), sorted.
fn receipt_files(dir: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in
            std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
