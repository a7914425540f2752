//! `auditrail prove` proves only what `auditrail verify` and queries read as an event
//! (`StoredEvent::read`): a line whose chain holds and that a checkpoint signs, but whose
//! event is no readable stored event (here a `message` that is a string), is refused,
//! naming its file, line, chainSeq and why, and no bundle is written. Such a line is what
//! a start of a version before 2026-12-05 signed as `recovered` when it found it after a
//! crash; the test signs it the same way, with the server's key. Before, prove read the
//! record with the looser `Record::parse` and wrote a bundle of it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use std::sync::Arc;

use auditrail_integrity::{CheckpointPolicy, Checkpointer, Signer};
use auditrail_store::chain::parse_line;
use auditrail_store::merkle::{leaf_hash, CompactRange};
use auditrail_store::Head;
use auditrail_testkit::store::{append_chained, lines};
use retention_support::run;
use serve_support::new_id;
use tamper_support::stop;

#[test]
fn prove_names_the_line_and_writes_no_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let server = tamper_support::server_with_twenty(dir.path(), 93);
    assert_eq!(stop(server), 0);
    let store = dir.path().join("data/store");

    // Record 21: chained after record 20, a new id, its message a string.
    let event = new_id(21, 93);
    let (segment, seq) = append_chained(&store, |body| {
        body.replace("\"seq\":20", "\"seq\":21")
            .replace(&new_id(20, 93), &event)
            .replacen(r#""message":{"#, r#""message":"login","was":{"#, 1)
    });
    assert_eq!(seq, 21);
    assert!(std::fs::read_to_string(&segment)
        .unwrap()
        .contains(r#""message":"login","was":{"#));
    // Signed with a tree head over it, as a start that took it for a recovered record
    // signed it.
    let mut links: Vec<_> = lines(&store)
        .iter()
        .map(|(_, l)| parse_line(l).unwrap().link)
        .collect();
    links.sort_by_key(|l| l.seq);
    let mut tree = CompactRange::new(0);
    for link in &links {
        tree.push_leaf(leaf_hash(link));
    }
    let signer = Arc::new(Signer::load_or_create(&dir.path().join("data")).unwrap());
    let head = Head {
        link: *links.last().unwrap(),
        tree: Some(tree),
        quiet: 0,
    };
    drop(Checkpointer::open(&store, signer, CheckpointPolicy::default(), head).unwrap());
    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    assert!(
        log.lines()
            .last()
            .is_some_and(|l| l.contains("\"chainSeq\":21,") && l.contains("\"treeHead\"")),
        "{log}"
    );

    let file = segment.strip_prefix(&store).unwrap().display().to_string();
    for pick in [vec![], vec!["--chain-seq", "21"]] {
        let mut args = vec![
            "prove",
            "--data-dir",
            "data",
            "--event-id",
            &event,
            "--out",
            "bundle.json",
        ];
        args.extend_from_slice(&pick);
        let (code, out) = run(dir.path(), &args);
        assert_eq!(code, 1, "{pick:?}: {out}");
        assert!(
            out.contains(&format!("line 21 of {file} (chainSeq 21)"))
                && out.contains("is no readable stored event")
                && out.contains("message is not a JSON object")
                && out.contains("auditrail verify"),
            "{pick:?}: names the file, the line and why: {out}"
        );
        assert!(
            !dir.path().join("bundle.json").exists(),
            "{pick:?}: no bundle: {out}"
        );
    }
}
