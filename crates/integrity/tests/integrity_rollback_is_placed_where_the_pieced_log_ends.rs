//! A rollback of a checkpoint log kept in pieces (the live piece `checkpoints.jsonl`
//! removed) is placed where the log now ends: the last sealed piece and its last line,
//! saying the live piece is missing. It was placed at `checkpoints.jsonl:<lines of all
//! pieces>`, a file that is not there and a line no file has.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::verify::ProblemKind;
use auditrail_store::checkpoint_pieces::sealed_pieces;
use retention_support::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_live_piece_is_reported_at_the_end_of_the_last_sealed_piece() {
    let mut store = Store::in_small_pieces();
    let open = store.open();
    store.write_days(&open, 1..=3, 60).await;
    store.close(open).await;
    let live = store.root.join("checkpoints.jsonl");
    // An idle restart adds lines: until the live piece holds some.
    for _ in 0..3 {
        if std::fs::metadata(&live).is_ok_and(|m| m.len() > 0) {
            break;
        }
        let open = store.open();
        store.close(open).await;
    }
    assert!(std::fs::metadata(&live).unwrap().len() > 0);
    assert!(store.verify(&[]).ok, "{}", store.verify(&[]));
    let last = sealed_pieces(&store.root).unwrap().pop().unwrap();
    let lines = std::fs::read(&last.path)
        .unwrap()
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64;

    std::fs::remove_file(&live).unwrap();
    let report = store.verify(&[]);
    let problem = report
        .stores
        .iter()
        .flat_map(|s| &s.problems)
        .find(|p| p.kind == ProblemKind::RolledBack)
        .unwrap_or_else(|| panic!("no rollback reported:\n{report}"));
    assert_eq!(
        problem.file.as_deref(),
        Some(last.name.as_str()),
        "{problem:?}"
    );
    assert_eq!(problem.line, Some(lines), "{problem:?}");
    assert!(
        problem.message.contains(&last.name)
            && problem
                .message
                .contains("checkpoints.jsonl, the live piece, is missing"),
        "{problem:?}"
    );
}
