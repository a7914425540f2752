//! A store written by the real `store` destination, with checkpoints, verifies clean:
//! the verifier has no false positives on thousands of interleaved records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::VerifyOptions;
use integrity_support::build;

#[test]
fn an_untouched_store_verifies_with_no_problem_and_every_receipt_holds() {
    let fx = build(3000);
    let mut options = VerifyOptions {
        public_key: Some(fx.public_key),
        ..VerifyOptions::default()
    };
    for (i, r) in fx.receipts.iter().enumerate() {
        options.receipts.push((format!("batch {i}"), r.clone()));
    }
    let report = fx.verify_with(options);
    assert!(report.ok, "{report}");
    assert_eq!(report.stores.len(), 1);
    let s = &report.stores[0];
    assert!(s.problems.is_empty(), "{report}");
    assert_eq!(
        (s.records, s.last_seq, s.last_checkpoint_seq),
        (3000, 3000, Some(3000))
    );
    // Many interleaved partition files, so the walk really merges across files.
    assert!(s.files > 50, "only {} files", s.files);
    assert_eq!(report.receipts.len(), 30);
    assert!(report.receipts.iter().all(|r| r.ok), "{report}");
}

#[test]
fn without_a_given_key_the_data_dirs_public_key_is_used_and_said_so() {
    let fx = build(300);
    let report = fx.verify_with(VerifyOptions::default());
    assert!(report.ok, "{report}");
    assert_eq!(report.trusted_key, Some(fx.public_key.to_string()));
    assert!(
        report.key_source.contains("signing.pub"),
        "{}",
        report.key_source
    );
    assert!(report.notes.iter().any(|n| n.contains("--public-key")));
    // One store's folder works as well as the data dir (the key is found above it).
    let one = auditrail_integrity::verify::verify(
        &fx.store,
        &VerifyOptions::default(),
        &auditrail_integrity::verify::NoProgress,
    )
    .unwrap();
    assert!(one.ok, "{one}");
    assert_eq!(one.trusted_key, Some(fx.public_key.to_string()));
    assert_eq!(one.stores[0].records, 300);
}
