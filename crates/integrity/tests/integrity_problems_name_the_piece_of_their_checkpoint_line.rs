//! With the checkpoint log in pieces, `verify` names a checkpoint line by the piece
//! holding it and its line there (`checkpoints.jsonl.<N>:L`): it said
//! `checkpoints.jsonl:<its number across all pieces>`, a file and line that do not
//! hold it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use auditrail_integrity::verify::ProblemKind;
use auditrail_store::checkpoint_pieces::{piece_name, sealed_pieces};
use integrity_support::{build_in_pieces, remove_records, show};

#[test]
fn a_gap_vouched_for_by_a_line_of_a_sealed_piece_names_that_piece() {
    // A line every 500 records, each over 300 bytes: every line its own piece.
    let fx = build_in_pieces(2000, 300);
    let pieces = sealed_pieces(&fx.store).unwrap();
    assert!(pieces.len() >= 3, "{pieces:?}");
    // Checkpoint #2 vouches for chainSeq 1000.
    remove_records(&fx, 990..=1010);
    let report = fx.verify();
    let gap = report
        .stores
        .iter()
        .flat_map(|s| &s.problems)
        .find(|p| p.kind == ProblemKind::MissingRecords)
        .unwrap_or_else(|| panic!("no gap:\n{}", show(&report)));
    let place = format!("the checkpoint at {}:1 vouches", piece_name(2));
    assert!(
        gap.message.contains(&place),
        "{place} not in {}",
        gap.message
    );
}
