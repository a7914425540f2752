//! An attacker who rewrites records and re-signs every checkpoint with a key of their
//! own (keeping the log perfectly consistent) is caught by the trusted public key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::sync::Arc;

use auditrail_integrity::checkpoint::{parse_unverified, Checkpoint};
use auditrail_integrity::verify::{ProblemKind, VerifyOptions};
use auditrail_integrity::Signer;
use integrity_support::{build, edit_lines};

/// Re-signs the whole log with `key`, relinking every line: internally consistent.
fn resign(log: &std::path::Path, key: &Signer) {
    edit_lines(log, |lines| {
        let mut prev = [0u8; 32];
        for line in lines.iter_mut() {
            let cp = parse_unverified(line).unwrap();
            let (_, new) = Checkpoint::sign(key, cp.index, &cp.store_id, cp.link, cp.time, prev);
            prev = Checkpoint::line_digest(new.as_bytes());
            *line = new.into_bytes();
        }
    });
}

#[test]
fn checkpoints_re_signed_with_another_key_are_each_reported_against_the_trusted_key() {
    let fx = build(2000);
    let log = fx.store.join("checkpoints.jsonl");
    let checkpoints = std::fs::read_to_string(&log).unwrap().lines().count();
    let attacker = Arc::new(Signer::from_seed([66; 32]));
    resign(&log, &attacker);
    let report = fx.verify();
    assert!(!report.ok);
    let wrong: Vec<_> = report
        .problems()
        .filter(|p| p.kind == ProblemKind::WrongKey)
        .collect();
    assert_eq!(wrong.len(), checkpoints, "{report}");
    assert!(wrong[0]
        .message
        .contains(&attacker.public_key().to_string()));
    assert!(
        report.problems().all(|p| p.kind == ProblemKind::WrongKey),
        "{report}"
    );
}

#[test]
fn even_with_the_data_dirs_public_key_replaced_a_given_key_catches_it() {
    let fx = build(500);
    let attacker = Signer::from_seed([66; 32]);
    resign(&fx.store.join("checkpoints.jsonl"), &attacker);
    std::fs::write(
        fx.data_dir.join("signing.pub"),
        format!("{}\n", attacker.public_key()),
    )
    .unwrap();
    // Trusting the data dir's (replaced) file is fooled: that is why the docs say to
    // keep the public key elsewhere.
    let fooled = fx.verify_with(VerifyOptions::default());
    assert!(fooled.ok, "{fooled}");
    let report = fx.verify();
    assert!(!report.ok);
    assert!(report.problems().any(|p| p.kind == ProblemKind::WrongKey));
}
