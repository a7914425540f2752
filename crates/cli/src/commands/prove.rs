//! `auditrail prove`: a Merkle proof bundle from a store (an event's inclusion in a
//! signed tree head, or one checkpoint's tree extending another's), for an auditor to
//! check offline with `auditrail verify --proof` and the public key alone.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use auditrail::EventId;
use auditrail_integrity::proof::{
    event_records, prove_consistency, prove_inclusion, EventRecord, InclusionBundle,
};

use crate::outln;

/// Arguments of `auditrail prove`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The store's folder.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "data_dir"])]
    store: Option<PathBuf>,
    /// The server's config file: its only `store` destination (or the one that holds
    /// the event).
    #[arg(long, value_name = "FILE", conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// The server's data dir: the stores under it.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The event to prove (its id): an inclusion proof.
    #[arg(long, value_name = "UUID", required_unless_present = "consistency")]
    event_id: Option<String>,
    /// Which record of the event to prove (its chainSeq), when several records hold
    /// its id (ids are chosen by clients: two different events may share one).
    #[arg(long, value_name = "N", requires = "event_id")]
    chain_seq: Option<u64>,
    /// The checkpoint (its number) the inclusion proof is against; default the last
    /// one with a tree head.
    #[arg(long, value_name = "N", conflicts_with = "consistency")]
    checkpoint: Option<u64>,
    /// A consistency proof between two checkpoints (`--from`, `--to`) instead.
    #[arg(long, conflicts_with = "event_id", requires = "from")]
    consistency: bool,
    /// The earlier checkpoint's number.
    #[arg(long, value_name = "N")]
    from: Option<u64>,
    /// The later checkpoint's number; default the last one with a tree head.
    #[arg(long, value_name = "M")]
    to: Option<u64>,
    /// Write the bundle here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs the command.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stores: Vec<PathBuf> = match (&args.store, &args.config, &args.data_dir) {
        (Some(s), _, _) => vec![s.clone()],
        (None, Some(path), _) => super::server_config::load(path)?.store_paths(),
        (None, None, Some(dir)) => auditrail_integrity::marks_folder::stores_under(dir),
        (None, None, None) => bail!("give --store DIR, --config FILE or --data-dir DIR"),
    };
    if stores.is_empty() {
        bail!("no store found");
    }
    let json = if args.consistency {
        let [store] = stores.as_slice() else {
            bail!("{} stores found: give the one with --store", stores.len());
        };
        let from = args.from.context("--from N")?;
        let bundle = prove_consistency(store, from, args.to)
            .with_context(|| format!("store {}", store.display()))?;
        serde_json::to_string_pretty(&bundle)?
    } else {
        let id_text = args.event_id.as_deref().context("--event-id UUID")?;
        let id: EventId = id_text
            .parse()
            .map_err(|e| anyhow::anyhow!("--event-id {id_text}: {e}"))?;
        let bundle = inclusion(&stores, &id, args.chain_seq, args.checkpoint)?;
        serde_json::to_string_pretty(&bundle)?
    };
    match &args.out {
        Some(path) => std::fs::write(path, format!("{json}\n"))
            .with_context(|| format!("writing {}", path.display()))?,
        None => outln!("{json}")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The inclusion proof of `id` from the one store that holds it. Looked for in every
/// store first: when two stores hold it, the proof must not be about whichever store
/// comes first (they may hold different events under that id), so the user picks one
/// with `--store`. Within the store, `prove_inclusion` does the same for its records.
fn inclusion(
    stores: &[PathBuf],
    id: &EventId,
    chain_seq: Option<u64>,
    checkpoint: Option<u64>,
) -> anyhow::Result<InclusionBundle> {
    let prove = |store: &PathBuf| {
        prove_inclusion(store, id, chain_seq, checkpoint)
            .with_context(|| format!("store {}", store.display()))
    };
    if let [store] = stores {
        return prove(store);
    }
    let mut holding: Vec<(&PathBuf, Vec<EventRecord>)> = Vec::new();
    let mut last_err = None;
    for store in stores {
        match event_records(store, id) {
            Ok(records) if records.is_empty() => {}
            Ok(records) => holding.push((store, records)),
            Err(e) => {
                last_err = Some(anyhow::Error::new(e).context(format!("store {}", store.display())))
            }
        }
    }
    // With --chain-seq, the stores whose record at that chainSeq is the event; when
    // none has it, the one store that holds the event says so (a typed error).
    let picked: Vec<_> = match chain_seq {
        Some(seq) => holding
            .iter()
            .filter(|(_, records)| records.iter().any(|r| r.chain_seq == seq))
            .collect(),
        None => holding.iter().collect(),
    };
    match (picked.as_slice(), holding.as_slice()) {
        ([(store, _)], _) | ([], [(store, _)]) => prove(store),
        ([], []) => Err(last_err.unwrap_or_else(|| {
            anyhow::anyhow!(
                "no record of the {} holds event {id}",
                auditrail::counted::counted(stores.len(), "store", "stores")
            )
        })),
        (_, _) => {
            let shown = if picked.is_empty() {
                holding.iter().collect()
            } else {
                picked
            };
            let list: Vec<String> = shown
                .iter()
                .map(|(store, records)| {
                    let records: Vec<String> = records.iter().map(ToString::to_string).collect();
                    format!("store {}: {}", store.display(), records.join(", "))
                })
                .collect();
            bail!(
                "{} stores hold event {id} ({}); give the one to prove with --store DIR",
                shown.len(),
                list.join("; ")
            )
        }
    }
}
