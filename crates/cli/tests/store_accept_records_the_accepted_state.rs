//! After the server refused a store whose checkpoint log was lost, `auditrail store
//! accept` records, signed with the server's key, who accepted the state, why and what
//! was found; the server then starts and signs from there, and `verify` reports the
//! acceptance (a warning) from then on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_integrity::high_water::{HighWaterMark, ACCEPTANCES_FILE};
use auditrail_integrity::PublicKey;
use tamper_support::*;

#[test]
fn an_accepted_state_is_signed_and_reported_and_the_server_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    std::fs::remove_file(store.join("checkpoints.jsonl")).unwrap();
    assert!(
        try_start(dir.path()).is_err(),
        "refused before the acceptance"
    );

    let (code, out) = accept(dir.path(), "checkpoint log lost with a disk");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("no-checkpoints") || out.contains("rolled-back"),
        "{out}"
    );

    let history = std::fs::read_to_string(dir.path().join("data").join(ACCEPTANCES_FILE)).unwrap();
    let line = history.lines().last().unwrap();
    let mark = HighWaterMark::parse_line(line.as_bytes()).unwrap();
    assert_eq!(mark.key, key.parse::<PublicKey>().unwrap());
    let acc = mark.accepted.unwrap();
    assert_eq!(acc.reason, "checkpoint log lost with a disk");
    assert!(acc.found.contains("50 records"), "{}", acc.found);
    // The signature covers the record: any edit breaks it.
    let edited = line.replace("lost with a disk", "lost on purpose");
    assert!(HighWaterMark::parse_line(edited.as_bytes()).is_err());

    let server = try_start(dir.path()).unwrap_or_else(|(c, l)| panic!("exit {c}: {l}"));
    assert_eq!(stop(server), 0);
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 0, "{report:#}");
    let problems = report["stores"][0]["problems"].as_array().unwrap();
    let accepted = problems
        .iter()
        .find(|p| p["kind"] == "accepted-state")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(accepted["severity"], "warning");
    assert!(accepted["message"]
        .as_str()
        .unwrap()
        .contains("checkpoint log lost with a disk"));
}
