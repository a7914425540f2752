//! `.deleted-seqs.jsonl` lists the node numbers prunes deleted, so that the server
//! counts them as deleted, not missing. It was not signed: an edit listing numbers that
//! never arrived (or whose records were removed) hid them from the server's missing
//! numbers, and `verify` did not read it. Each deletion line now signs the file's
//! SHA-256 before and after its prune (`deletedSeqs`): `verify` says the file is as the
//! newest line left it, names an edit since (`deleted-seqs` error at the file), and an
//! edit made before a later prune (which builds on it) at that prune's line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::verify::ProblemKind;
use auditrail_store::DELETED_SEQS_FILE;
use retention_support::{jan, of_kind, prune_before, Store};

const FORGED: &str = "{\"node\":\"node-2\",\"seqs\":[[1,500]],\"records\":500}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_the_deleted_numbers_is_named() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=8, 40).await;
    assert_eq!(prune_before(&open, jan(3), jan(9)).await.len(), 1);
    let report = store.verify(&[]);
    assert!(report.ok, "{report}");
    let how = report.stores[0].deleted_seqs.clone().unwrap_or_default();
    assert!(how.starts_with("as the deletion line at"), "{how}");

    // Numbers of another node listed as deleted, after the prune.
    let path = store.root.join(DELETED_SEQS_FILE);
    let genuine = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{genuine}{FORGED}")).unwrap();
    let report = store.verify(&[]);
    let named = of_kind(&report, ProblemKind::DeletedSeqs);
    assert!(
        !report.ok
            && named
                .iter()
                .any(|m| m.contains("not as any deletion line left it")),
        "{report}"
    );

    // A later prune builds on the edited file (and signs what it leaves): the edit is
    // named at its line.
    assert_eq!(prune_before(&open, jan(5), jan(9)).await.len(), 1);
    store.close(open).await;
    let report = store.verify(&[]);
    let named = of_kind(&report, ProblemKind::DeletedSeqs);
    assert!(
        !report.ok
            && named
                .iter()
                .any(|m| m.contains("was changed between the deletion lines")),
        "{report}"
    );
    assert!(
        std::fs::read_to_string(&path).unwrap().contains("node-2"),
        "the edit is still listed"
    );
}
