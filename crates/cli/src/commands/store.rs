//! `auditrail store`: operator commands on a stopped server's stores.
//!
//! `store accept` records, signed with the server's key, that a person accepted a
//! store's state as it is, after the server refused to start on it (a checkpoint log
//! missing, emptied or shorter than the store's high-water mark, a store id deleted, a
//! store rolled back). What `verify` found at that moment is part of the record, a
//! signed line of the store's checkpoint log, and `verify` reports the acceptance from
//! then on. `store prune` deletes old time
//! partitions with a signed record of each deletion (see `store_prune`).

use crate::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use auditrail::counted::counted;
use auditrail_integrity::accept::accept;
use auditrail_integrity::verify::{self, NoProgress, Severity, VerifyOptions};
use auditrail_integrity::Signer;

/// Arguments of `auditrail store`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(clap::Subcommand)]
enum StoreCommand {
    /// Record, signed, that you accepted a store's current state (with what `verify`
    /// finds in it now), so that the server starts on it again. Run it with the
    /// server stopped, after `auditrail verify`.
    Accept {
        /// The server's data dir (holds `signing.key` and `high-water.jsonl`; a Kafka
        /// source's partition store keeps its mark in its partition folder, where it is
        /// read and written whatever the data dir).
        #[arg(long, value_name = "DIR", default_value = "auditrail-data")]
        data_dir: PathBuf,
        /// The store folder (default: every store under the data dir, partition stores
        /// included).
        #[arg(long, value_name = "DIR")]
        store: Vec<PathBuf>,
        /// Why the state is accepted (kept in the signed record).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// The secret key file, when the server's config names one (`signing_key`).
        #[arg(long, value_name = "FILE")]
        signing_key: Option<PathBuf>,
        /// The server's config file: its data dir, signing key and (without --store)
        /// its `store` destinations and its Kafka sources' partition stores.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["data_dir", "signing_key"])]
        config: Option<PathBuf>,
    },
    /// Delete closed time partitions older than a date (and/or the oldest ones while a
    /// store is larger than a size), each deletion recorded, signed, in the store's
    /// checkpoint log first, so that `verify` passes afterwards and still names any
    /// deletion no record explains. Run it with the server stopped (`--dry-run` reads
    /// only, and works while it runs). A running server does the same on its own with
    /// `retention` in its store's config.
    Prune(super::store_prune::Args),
}

/// Runs the command.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        StoreCommand::Prune(args) => super::store_prune::run(args),
        StoreCommand::Accept {
            data_dir,
            store,
            reason,
            signing_key,
            config,
        } => {
            if reason.trim().is_empty() {
                bail!("--reason must say why the state is accepted");
            }
            let files = super::offline::locate(&super::offline::Source {
                config: config.as_deref(),
                data_dir: &data_dir,
                signing_key: signing_key.as_deref(),
                stores: &store,
                needs_layout: false,
            })?;
            let session = super::offline::Session::begin(files, "store accept")?;
            let key_path = &session.files.key_path;
            let signer = Signer::load(key_path)
                .with_context(|| format!("the server's signing key ({})", key_path.display()))?;
            let by = super::offline::operator();
            let stores: Vec<&PathBuf> = session.files.stores.iter().map(|(p, _)| p).collect();
            // A marks file this user cannot replace refuses the command before the
            // recovery below or any acceptance line changes a store.
            for marks in session.all_marks() {
                marks.check_replaceable()?;
            }
            for s in &stores {
                // Where the server reads the store's mark and acceptances (a partition
                // store's: its partition folder): accepted anywhere else, the line
                // would change nothing at the next start.
                let marks = session.marks_of(s);
                // The store's crash recovery first, as the server's next start runs it:
                // after a `kill -9` the files may end in a torn line or an interrupted,
                // never acknowledged batch that the start cuts. Accepted as found, such
                // records were signed as the accepted head, and the start then refused
                // the store for having lost them.
                let recovered = auditrail_store::recover_closed(s)
                    .with_context(|| format!("recovering store {}", s.display()))?;
                // What the recovery changed is part of what the operator signs off:
                // signed as the verify of the recovered files alone, a cut (the
                // interrupted batch, or every record after a gap the lost checkpoint
                // log no longer explains) would be in the log lines only.
                let found = match recovered.as_ref().and_then(recovery_summary) {
                    Some(cut) => format!("{cut}; then {}", findings(s, &signer)?),
                    None => findings(s, &signer)?,
                };
                let done = accept(s, &marks, &signer, &by, &reason, &found)?;
                outln!(
                    "accepted {} (store {}): recorded as checkpoint #{} of its log (chainSeq {}), its high-water mark in {}; found: {}",
                    s.display(),
                    done.mark.store_id,
                    done.line.index,
                    done.line.link.seq,
                    marks.path().display(),
                    done.line.accepted.as_ref().map_or("", |a| a.found.as_str())
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What the crash recovery `store accept` ran first changed, in one line; `None` when
/// it changed nothing.
fn recovery_summary(r: &auditrail_store::RecoveryReport) -> Option<String> {
    let mut parts = Vec::new();
    if r.records_cut_after_gap > 0 {
        parts.push(format!(
            "{} cut after the chain gap at chainSeq {} (kept in .cut files)",
            counted(r.records_cut_after_gap, "record", "records"),
            r.first_gap
                .map_or_else(|| "?".to_string(), |g| g.to_string())
        ));
    }
    if r.torn_tails_cut > 0 {
        parts.push(format!(
            "{} cut ({})",
            counted(r.torn_tails_cut, "torn tail", "torn tails"),
            counted(r.tail_bytes_cut, "byte", "bytes")
        ));
    }
    if !r.corrupt_files.is_empty() {
        parts.push(format!(
            "{} set aside",
            counted(r.corrupt_files.len(), "file", "files")
        ));
    }
    if r.empty_files_removed > 0 {
        parts.push(format!(
            "{} removed",
            counted(r.empty_files_removed, "empty file", "empty files")
        ));
    }
    (!parts.is_empty()).then(|| format!("crash recovery: {}", parts.join(", ")))
}

/// What `verify` finds in the store now, in one line (kinds and counts, and the first
/// error's message).
fn findings(store: &std::path::Path, signer: &Signer) -> anyhow::Result<String> {
    let options = VerifyOptions {
        public_key: Some(*signer.public_key()),
        ..VerifyOptions::default()
    };
    let report = verify::verify(store, &options, &NoProgress)?;
    let Some(r) = report.stores.first() else {
        return Ok("nothing to verify".into());
    };
    let mut parts = vec![format!(
        "{} (last chainSeq {}), last checkpoint at chainSeq {}",
        counted(r.records, "record", "records"),
        r.last_seq,
        r.last_checkpoint_seq
            .map_or_else(|| "none".to_string(), |s| s.to_string())
    )];
    let mut counts: Vec<(String, usize)> = Vec::new();
    for p in r.problems.iter().filter(|p| p.severity == Severity::Error) {
        let name = p.kind.name().to_string();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => counts.push((name, 1)),
        }
    }
    if counts.is_empty() {
        parts.push("no errors".into());
    } else {
        parts.push(
            counts
                .iter()
                .map(|(n, c)| format!("{n} x{c}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        if let Some(p) = r.problems.iter().find(|p| p.severity == Severity::Error) {
            parts.push(format!("first: {}", p.message));
        }
    }
    Ok(parts.join("; "))
}
