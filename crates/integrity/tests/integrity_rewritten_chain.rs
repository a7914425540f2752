//! An attacker without the signing key who changes a record and recomputes the whole
//! chain after it (every later hash, in every file) leaves a perfectly consistent chain:
//! the signed checkpoints still catch it, naming the first checkpoint that no longer
//! matches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::collections::BTreeMap;

use auditrail_integrity::verify::ProblemKind;
use auditrail_store::chain::{next_link, parse_line, ChainLink};
use integrity_support::{build, errors, record_files};

#[test]
fn a_change_with_the_chain_recomputed_is_caught_by_the_next_checkpoint() {
    let fx = build(2000);
    // Every record: seq -> (file, line index, body).
    let mut records: BTreeMap<u64, (std::path::PathBuf, usize, Vec<u8>)> = BTreeMap::new();
    let mut files: BTreeMap<std::path::PathBuf, Vec<Vec<u8>>> = BTreeMap::new();
    for f in record_files(&fx.store) {
        let text = std::fs::read(&f).unwrap();
        let lines: Vec<Vec<u8>> = text
            .strip_suffix(b"\n")
            .unwrap()
            .split(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        for (i, l) in lines.iter().enumerate() {
            let p = parse_line(l).unwrap();
            records.insert(p.link.seq, (f.clone(), i, p.body.to_vec()));
        }
        files.insert(f, lines);
    }
    // Change record 1234 and re-seal it and everything after it.
    let mut prev = ChainLink::GENESIS;
    for (seq, (f, i, body)) in records.iter_mut() {
        if *seq == 1234 {
            let text = String::from_utf8(body.clone()).unwrap();
            *body = text.replace("user-1234", "user-0000").into_bytes();
        }
        let link = next_link(&prev, body);
        if *seq >= 1234 {
            let mut line = body.clone();
            line.extend_from_slice(
                format!(
                    ",\"chainSeq\":{seq},\"chainHash\":\"{}\"}}",
                    link.hash_hex()
                )
                .as_bytes(),
            );
            files.get_mut(f).unwrap()[*i] = line;
        }
        prev = link;
    }
    for (f, lines) in &files {
        let mut out = lines.join(&b'\n');
        out.push(b'\n');
        std::fs::write(f, out).unwrap();
    }
    let report = fx.verify();
    assert!(!report.ok);
    let errs = errors(&report);
    // The chain itself is consistent: only checkpoints from 1500 on disagree.
    assert!(
        errs.iter().all(|e| e.0 == ProblemKind::CheckpointMismatch),
        "{report}"
    );
    let first = report.problems().next().unwrap();
    assert_eq!(first.first_seq, Some(1500), "{report}");
    assert_eq!(first.file.as_deref(), Some("checkpoints.jsonl"));
    assert!(first.message.contains("rewritten"), "{}", first.message);
}
