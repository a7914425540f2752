//! `auditrail store prune`: retention by hand. Deletes a stopped server's closed time
//! partitions older than `--before` (and/or the oldest while a store is larger than
//! `--max-bytes`), each deletion first recorded, signed, in the store's checkpoint log
//! (the same code path as the server's `retention`: `StoreIntegrity::prune`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use auditrail::counted::counted;
use auditrail::Timestamp;
use auditrail_integrity::Signer;
use auditrail_store::{PrunePlan, PruneRule};

use crate::outln;

/// Arguments of `auditrail store prune`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Delete the time partitions that ended at or before this instant: a date
    /// (`2025-11-01`, midnight UTC), RFC 3339, or a duration before now (`400d`).
    #[arg(long, value_name = "WHEN")]
    before: Option<String>,
    /// Then delete the oldest closed partitions while a store's segments take more
    /// than this many bytes.
    #[arg(long, value_name = "BYTES")]
    max_bytes: Option<u64>,
    /// Show what would be deleted; change nothing (takes no lock).
    #[arg(long)]
    dry_run: bool,
    /// Why (kept in the signed record, with the OS user). Default: the command line.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// The server's data dir (holds `signing.key` and `high-water.jsonl`; a Kafka
    /// source's partition store keeps its mark in its partition folder, where it is
    /// read and written whatever the data dir).
    #[arg(long, value_name = "DIR", default_value = "auditrail-data")]
    data_dir: PathBuf,
    /// The store folder (default: every store under the data dir, partition stores
    /// included).
    #[arg(long, value_name = "DIR")]
    store: Vec<PathBuf>,
    /// The secret key file, when the server's config names one (`signing_key`).
    #[arg(long, value_name = "FILE")]
    signing_key: Option<PathBuf>,
    /// The server's config file: its data dir, signing key, its `store` destinations
    /// with their layouts (without it, stores have the default layout) and its Kafka
    /// sources' partition stores (which have no `retention` of their own).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["data_dir", "signing_key", "store"])]
    config: Option<PathBuf>,
    /// Archive before delete: copy the partitions to this archive (and read them back)
    /// before deleting them; overrides the stores' `archive` from `--config`.
    #[command(flatten)]
    archive: super::archive_args::ArchiveArgs,
    /// Delete without a copy the partitions of a store whose earlier deletions were
    /// archived (its checkpoint log names an archive), when no archive is given: a
    /// prune refuses that otherwise, as a forgotten `--config` or `--archive`.
    #[arg(long, conflicts_with = "archive")]
    no_archive: bool,
}

/// Runs the command.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let now = Timestamp::now();
    // Checked against the wall clock here (a typo, a duration too short); each store
    // computes its own cut-off from its own "now" below (`store_now`).
    let before = args
        .before
        .as_deref()
        .map(|b| auditrail_query::parse_time("--before", b, now))
        .transpose()?;
    if args.max_bytes == Some(0) {
        bail!("--max-bytes must be at least 1");
    }
    if before.is_none() && args.max_bytes.is_none() {
        bail!("say what to delete: --before WHEN (a date, RFC 3339, or a duration before now such as 400d) and/or --max-bytes BYTES");
    }
    if let Some(b) = before {
        // As `retention` (at least 1h): a cut-off in the last hour deletes every
        // partition but the newest at once, a typo far more often than a wish.
        if b.unix_millis() > now.unix_millis() {
            bail!("--before {b} is in the future (now is {now}): every partition but the newest would be deleted, those that still receive events among them; give a time at least an hour before now");
        }
        if b.unix_millis() > now.unix_millis() - 3_600_000 {
            bail!("--before {b} is less than an hour before now ({now}): partitions that may still receive late events would be deleted; give an earlier time");
        }
    }
    let files = super::offline::locate(&super::offline::Source {
        config: args.config.as_deref(),
        data_dir: &args.data_dir,
        signing_key: args.signing_key.as_deref(),
        stores: &args.store,
        needs_layout: true,
    })?;
    let archive_flag = args.archive.config()?;
    check_archives(&files, archive_flag.as_ref())?;
    let rule_for = |path: &std::path::Path| -> anyhow::Result<PruneRule> {
        let store_now = store_now(path, now)?;
        Ok(PruneRule {
            before: args
                .before
                .as_deref()
                .map(|b| auditrail_query::parse_time("--before", b, store_now))
                .transpose()?,
            max_bytes: args.max_bytes,
            now: store_now,
        })
    };
    if args.dry_run {
        for (path, config) in &files.stores {
            let rule = rule_for(path)?;
            let found = auditrail_store::prune::dry_run(path, config, &rule)
                .with_context(|| format!("store {}", path.display()))?;
            describe_dry_run(path, &found.passes)?;
            describe_left_out(path, &found)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !args.no_archive {
        for (path, config) in &files.stores {
            if archive_flag.is_none() && config.archive.is_none() {
                refuse_unarchived(path)?;
            }
        }
    }
    let session = super::offline::Session::begin(files, "store prune")?;
    let key_path = &session.files.key_path;
    let signer = Arc::new(
        Signer::load(key_path)
            .with_context(|| format!("the server's signing key ({})", key_path.display()))?,
    );
    let by = super::offline::operator();
    if matches!(&args.reason, Some(r) if r.trim().is_empty()) {
        bail!("--reason must not be empty");
    }
    let reason_for = |rule: &PruneRule| match &args.reason {
        Some(r) => format!("{r} (auditrail store prune, by {by})"),
        None => {
            let mut what = Vec::new();
            if let Some(b) = rule.before {
                what.push(format!("--before {b}"));
            }
            if let Some(m) = args.max_bytes {
                what.push(format!("--max-bytes {m}"));
            }
            format!("auditrail store prune {}, by {by}", what.join(" "))
        }
    };
    for (path, config) in &session.files.stores {
        let rule = rule_for(path)?;
        let reason = reason_for(&rule);
        let reason = reason.as_str();
        let archive = archive_flag
            .as_ref()
            .or(config.archive.as_ref())
            .map(auditrail_integrity::Archive::open)
            .transpose()
            .with_context(|| format!("store {}", path.display()))?;
        let working = working(path, archive.is_some());
        // Each pass said when it is done (a big store's prune runs many, minutes in
        // all), above the spinner: a prune stopped part way (Ctrl-C, a kill) has said
        // what it deleted so far.
        let mut said = {
            let working = working.clone();
            move |p: &auditrail_integrity::Pruned| {
                // A stdout gone away (`| head`) does not stop the prune.
                let _ = working.suspend(|| describe_pass(path, p));
            }
        };
        let passes = session.with_store_pruning(path, config, &signer, |integrity| async move {
            match &archive {
                Some(a) => {
                    integrity
                        .prune_archiving_until(rule, reason, a, None, &mut said)
                        .await
                }
                None => integrity.prune_until(rule, reason, None, &mut said).await,
            }
        });
        working.finish_and_clear();
        let passes = passes?;
        if passes.is_empty() {
            outln!("store {}: nothing to delete", path.display())?;
        }
        if passes.len() > 1 {
            // The totals, to hold against the dry run's.
            let plans: Vec<&PrunePlan> = passes.iter().map(|p| &p.plan).collect();
            let (partitions, records, bytes) = totals(&plans);
            outln!(
                "store {}: in all, {} passes deleted {}, {}, {}",
                path.display(),
                passes.len(),
                counted(partitions, "partition", "partitions"),
                counted(records, "record", "records"),
                counted(bytes, "byte", "bytes")
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a prune without an archive of the store at `path` when the newest deletion
/// its checkpoint log records was archived
/// ([`auditrail_integrity::archive::newest_deletion_archive`]): run by hand with
/// `--data-dir` (or a config that lost the store's `archive`), the prune would delete
/// the partitions with no copy, for good, where the last deletion kept one.
fn refuse_unarchived(path: &std::path::Path) -> anyhow::Result<()> {
    if let Some((index, url)) = auditrail_integrity::archive::newest_deletion_archive(path) {
        bail!(
            "store {}: its deletions were archived to {url} (checkpoint #{index} of its log records the newest), and no archive is given: this prune would delete partitions with no copy; give the store's archive (`--config` with its `archive`, or `--archive {url}` with its S3 options), or `--no-archive` to delete them without a copy",
            path.display()
        );
    }
    Ok(())
}

/// Prints what one pass of a real prune deleted, its archive and its signed line.
fn describe_pass(path: &std::path::Path, p: &auditrail_integrity::Pruned) -> anyhow::Result<()> {
    match &p.left {
        None => describe(path, &p.plan)?,
        // Part of the recorded deletion could not be removed (the error follows):
        // what was removed is said, and what is left.
        Some(left) => {
            outln!(
                "store {}: deleted {} ({}, {}) of the {} its line records; {} ({}, {}) could not be removed and are left until the next prune: {}",
                path.display(),
                counted(p.removed_partitions().count(), "partition", "partitions"),
                counted(p.removed_records(), "record", "records"),
                counted(p.removed_bytes(), "byte", "bytes"),
                p.plan.partitions.len(),
                counted(left.partitions.len(), "partition", "partitions"),
                counted(left.records, "record", "records"),
                counted(left.bytes, "byte", "bytes"),
                left.partitions.join(", ")
            )?;
        }
    }
    if !p.plan.folders_left.is_empty() {
        outln!(
            "  {} could not be removed (their parent refuses it: read-only or immutable); their records are deleted, remove them by hand: {}",
            counted(p.plan.folders_left.len(), "emptied folder", "emptied folders"),
            p.plan.folders_left.join(", ")
        )?;
    }
    if let Some(a) = p
        .checkpoint
        .as_ref()
        .and_then(|c| c.deleted.as_ref())
        .and_then(|d| d.archived.as_ref())
    {
        outln!(
            "  archived first: {} in {} (each read back and compared)",
            counted(a.objects.len(), "object", "objects"),
            a.url
        )?;
    }
    if let Some(cp) = &p.checkpoint {
        outln!(
            "  recorded as checkpoint #{} (chainSeq {}) in {}",
            cp.index,
            cp.link.seq,
            path.join(auditrail_store::CHECKPOINT_LOG).display()
        )?;
    }
    Ok(())
}

/// A spinner on stderr (only on a terminal) with the time spent, while a store is
/// pruned: an archive before delete uploads and reads back every partition first,
/// which takes minutes for a large store on a slow object store, and the command
/// printed nothing meanwhile. A spinner, not a bar: the uploads report no progress of
/// their own (the store's archive code uploads each pass as one step).
fn working(path: &std::path::Path, archiving: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.set_message(if archiving {
        format!(
            "store {}: archiving the partitions to delete (each read back), then deleting them",
            path.display()
        )
    } else {
        format!("store {}: deleting partitions", path.display())
    });
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    spinner
}

/// The "now" a store is pruned against, said on stdout: the wall clock, unless it is
/// later than the store's last checkpoint time by more than the tolerance; then that
/// checkpoint's time (the server is stopped, so nothing was written since: a clock
/// set ahead must not make fresh partitions look old; the cost is that a prune run
/// long after the stop deletes as if run at the stop).
fn store_now(path: &std::path::Path, wall: Timestamp) -> anyhow::Result<Timestamp> {
    // The server is stopped: no uptime to catch up with (`reading` below is at zero).
    let clock = auditrail_store::RetentionClock::read(path, auditrail_store::CatchUpRate::NONE)
        .with_context(|| format!("store {}", path.display()))?;
    let reading = clock.reading(wall, std::time::Duration::ZERO);
    match clock.last_checkpoint() {
        Some(last) if reading.wall_ahead() => {
            outln!(
                "store {}: now is taken as {last}, the time of its last checkpoint: the wall clock ({wall}) is later by more than {} s",
                path.display(),
                auditrail_store::CLOCK_TOLERANCE.as_secs()
            )?;
            Ok(last)
        }
        _ => {
            outln!("store {}: now is {wall} (the wall clock)", path.display())?;
            Ok(wall)
        }
    }
}

/// The archive each store is pruned to (`--archive` for all of them, else each one's
/// from `--config`): a prefix belongs to one store, and a local archive stays out of
/// the store folders and the data dir (as `auditrail serve` checks its config).
fn check_archives(
    files: &super::offline::ServerFiles,
    flag: Option<&auditrail_store::ArchiveConfig>,
) -> anyhow::Result<()> {
    let names: Vec<String> = files
        .stores
        .iter()
        .map(|(path, _)| format!("store {}", path.display()))
        .collect();
    let places: Vec<auditrail_store::ArchivePlace<'_>> = files
        .stores
        .iter()
        .zip(&names)
        .map(|((path, config), name)| auditrail_store::ArchivePlace {
            name,
            root: path,
            archive: flag.or(config.archive.as_ref()),
        })
        .collect();
    auditrail_store::check_archive_places(&files.data_dir, &places).map_err(|e| match flag {
        Some(_) => anyhow::Error::new(e).context("--archive"),
        None => anyhow::Error::new(e),
    })
}

/// Prints what one pass of a prune deleted.
fn describe(store: &std::path::Path, plan: &PrunePlan) -> anyhow::Result<()> {
    outln!(
        "store {}: deleted {} ({}, {}; chainSeq {})",
        store.display(),
        counted(plan.partitions.len(), "partition", "partitions"),
        counted(plan.records, "record", "records"),
        counted(plan.bytes, "byte", "bytes"),
        ranges(&plan.ranges)
    )?;
    list(plan)?;
    for f in &plan.kept_for_head {
        outln!("  kept for now: {f} (holds the newest record, which is never deleted)")?;
    }
    for u in &plan.unremovable {
        outln!(
            "  not deleted: {} cannot be removed ({u}); left out of the signed line, the next prune tries it again",
            u.folder
        )?;
    }
    Ok(())
}

/// Prints what a prune would delete: the totals of every pass it makes first (what
/// the real run deletes in all), then each pass with its partitions.
fn describe_dry_run(store: &std::path::Path, passes: &[PrunePlan]) -> anyhow::Result<()> {
    if passes.is_empty() {
        outln!("store {}: nothing to delete", store.display())?;
        return Ok(());
    }
    let plans: Vec<&PrunePlan> = passes.iter().collect();
    let (partitions, records, bytes) = totals(&plans);
    // The passes' ranges joined where one pass's run goes on in the next.
    let mut all_ranges: Vec<auditrail_store::DeletedRange> = Vec::new();
    let mut each: Vec<&auditrail_store::DeletedRange> =
        passes.iter().flat_map(|p| &p.ranges).collect();
    each.sort_by_key(|r| r.first);
    for r in each {
        match all_ranges.last_mut() {
            Some(m) if r.first <= m.last.saturating_add(1) => m.last = m.last.max(r.last),
            _ => all_ranges.push(r.clone()),
        }
    }
    let how = match passes.len() {
        1 => "in 1 pass".to_string(),
        n => format!(
            "in {n} passes (a pass deletes at most {} partitions, each pass recorded by its own signed line)",
            auditrail_store::prune::MAX_PARTITIONS_PER_PRUNE
        ),
    };
    outln!(
        "store {}: would delete {} ({}, {}; chainSeq {}) {how}",
        store.display(),
        counted(partitions, "partition", "partitions"),
        counted(records, "record", "records"),
        counted(bytes, "byte", "bytes"),
        ranges(&all_ranges)
    )?;
    for (i, plan) in passes.iter().enumerate() {
        if passes.len() > 1 {
            // Not "would delete" again: that line gives the totals.
            outln!(
                "store {}: pass {} of {}: {} ({}, {}; chainSeq {})",
                store.display(),
                i + 1,
                passes.len(),
                counted(plan.partitions.len(), "partition", "partitions"),
                counted(plan.records, "record", "records"),
                counted(plan.bytes, "byte", "bytes"),
                ranges(&plan.ranges)
            )?;
        }
        list(plan)?;
    }
    // A partition kept for holding the newest record is selected again by each pass.
    let mut kept: Vec<&String> = passes.iter().flat_map(|p| &p.kept_for_head).collect();
    kept.sort();
    kept.dedup();
    for f in kept {
        outln!("  kept for now: {f} (holds the newest record, which is never deleted)")?;
    }
    Ok(())
}

/// Prints the partitions due that a dry run found the real prune would leave out: those
/// whose files cannot be removed, and those holding a record that does not belong in
/// their folder. The real prune deletes the rest, then fails naming them.
fn describe_left_out(
    store: &std::path::Path,
    found: &auditrail_store::prune::DryRun,
) -> anyhow::Result<()> {
    let n = found.unremovable.len() + found.misplaced.len();
    if n == 0 {
        return Ok(());
    }
    outln!(
        "store {}: would leave out {} due (not deleted, in no signed line; the prune would delete the rest, then fail naming them):",
        store.display(),
        counted(n, "partition", "partitions")
    )?;
    for u in &found.unremovable {
        outln!(
            "  left out: {} cannot be removed ({u}); the next prune tries it again",
            u.folder
        )?;
    }
    for m in &found.misplaced {
        outln!(
            "  left out: {m} (`auditrail verify` names every such record, misplaced-record); kept until someone looks"
        )?;
    }
    Ok(())
}

/// One line per partition of a plan.
fn list(plan: &PrunePlan) -> anyhow::Result<()> {
    for p in &plan.partitions {
        outln!(
            "  {}  {}, {}, ended {}",
            p.folder,
            counted(p.records, "record", "records"),
            counted(p.bytes, "byte", "bytes"),
            p.end
        )?;
    }
    Ok(())
}

/// Partitions, records and bytes of `plans` together.
fn totals(plans: &[&PrunePlan]) -> (usize, u64, u64) {
    plans.iter().fold((0, 0, 0), |(n, r, b), p| {
        (n + p.partitions.len(), r + p.records, b + p.bytes)
    })
}

fn ranges(ranges: &[auditrail_store::DeletedRange]) -> String {
    let mut parts: Vec<String> = ranges
        .iter()
        .take(5)
        .map(|r| {
            if r.first == r.last {
                r.first.to_string()
            } else {
                format!("{}..{}", r.first, r.last)
            }
        })
        .collect();
    if ranges.len() > 5 {
        parts.push(format!("and {} more ranges", ranges.len() - 5));
    }
    parts.join(", ")
}
