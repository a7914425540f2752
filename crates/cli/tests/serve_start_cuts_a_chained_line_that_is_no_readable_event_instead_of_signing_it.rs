//! A line after the last checkpoint of a killed server, with chain fields that chain
//! correctly but an event part that is no readable stored event (here an `id` that is
//! no UUID): `auditrail verify` and queries do not read it as an event, so the next
//! start must not vouch for it. It is cut as what it is, damage after the last record
//! (kept in the segment's `.cut` file), and the start's log names its file, its line
//! and why, as an error. Before, recovery judged such a line by its chain fields alone
//! and the start signed it as a recovered record, saying nothing about it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::append_chained;
use tamper_support::*;

#[test]
fn the_line_is_cut_aside_and_named_never_signed_as_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let server = tamper_support::server_with_twenty(dir.path(), 89);
    server.kill9();
    let store = dir.path().join("data/store");

    // Chained after record 20, its event's id no UUID.
    let (segment, seq) = append_chained(&store, |body| {
        body.replace("\"seq\":20", "\"seq\":21")
            .replacen("\"id\":\"", "\"id\":\"not-a-uuid-", 1)
    });
    assert_eq!(seq, 21);
    let appended = std::fs::read_to_string(&segment)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    assert!(appended.contains("not-a-uuid-"), "{appended}");

    let server = try_start(dir.path()).unwrap_or_else(|(c, e)| panic!("exit {c}: {e}"));
    let logged = strip_ansi(&server.stderr());
    assert_eq!(stop(server), 0);

    let log = std::fs::read_to_string(store.join("checkpoints.jsonl")).unwrap();
    assert!(
        !log.contains("\"recovered\""),
        "the line is signed as a recovered record: {log}"
    );
    let name = segment.file_name().unwrap().to_str().unwrap();
    let named = logged
        .lines()
        .find(|l| l.contains("ERROR") && l.contains(name) && l.contains("line=21"))
        .unwrap_or_else(|| panic!("no error naming the file and line: {logged}"));
    assert!(
        named.contains("no readable stored event") && named.contains("clientEvent"),
        "says why: {named}"
    );
    let mut cut = segment.clone().into_os_string();
    cut.push(".cut");
    let kept = std::fs::read_to_string(&cut).unwrap_or_default();
    assert!(kept.contains(&appended), "kept aside: {kept:?}");
    assert!(
        !std::fs::read_to_string(&segment)
            .unwrap()
            .contains("not-a-uuid-"),
        "cut from the segment"
    );

    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let (code, report) = verify(dir.path(), key.trim());
    assert_eq!(code, 0, "{report:#}");
    let kinds: Vec<&str> = report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"recovered-at-start"), "{report:#}");
}
