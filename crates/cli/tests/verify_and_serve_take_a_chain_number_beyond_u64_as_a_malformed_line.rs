//! A record line whose `chainSeq` is a number at or above 2^64 (20 digits or more: a
//! typo, a damaged digit, a forged line), or whose chain fields are of another type
//! than the written ones, is a malformed line: `verify` names its file and line and
//! exits 1, and the server starts on the store (a damaged line between readable
//! records is left in place and logged, as any unreadable line), `query events` and
//! `prove` read on. The reader of the chain fields used to call itself again on a
//! number above 2^64-1, without end: "stack overflow" aborted the server at every
//! start, and `verify`, `query events` and `prove` alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support::run;
use crate::serve_support::new_id;
use crate::tamper_support::{
    edit_line, fifty_records, only_segment, problems_at, stop, try_start, verify,
};

/// An edit of a record line.
type Edit = fn(&str) -> String;

/// `"chainSeq":<digits>` of a line, as the server writes it, replaced by `to`.
fn with_chain_seq(line: &str, to: &str) -> String {
    let key = "\"chainSeq\":";
    let at = line.rfind(key).unwrap() + key.len();
    let end = at + line[at..].find(',').unwrap();
    format!("{}{to}{}", &line[..at], &line[end..])
}

#[test]
fn a_chain_number_beyond_u64_is_a_malformed_line_verify_names_and_serve_starts_on() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let (file, rel) = only_segment(&store);
    edit_line(&file, 7, |l| with_chain_seq(l, "18446744073709551616"));

    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        problems_at(&report, "malformed-line"),
        vec![(rel.clone(), 7)],
        "{report}"
    );

    // The readers of the store read on past the line.
    let (code, out) = run(
        dir.path(),
        &["query", "-d", "data", "events", "--format", "ndjson"],
    );
    assert_eq!(code, 0, "{out}");
    for n in (1..=50).filter(|n| *n != 7) {
        assert!(out.contains(&new_id(n, 77)), "event {n}: {out}");
    }
    // `prove` answers (a proof, or that no record holds the event), never aborts.
    for n in [7, 8] {
        let (code, out) = run(
            dir.path(),
            &["prove", "--data-dir", "data", "--event-id", &new_id(n, 77)],
        );
        assert!(
            (code == 0 || code == 1) && !out.contains("overflow") && !out.contains("panicked"),
            "event {n}: {code}: {out}"
        );
    }

    // The server starts, and leaves the damaged line where it is.
    let before = std::fs::read(&file).unwrap();
    let server = try_start(dir.path()).unwrap_or_else(|(code, err)| panic!("{code}: {err}"));
    assert_eq!(stop(server), 0);
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn chain_fields_out_of_range_or_of_another_type_are_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let (file, rel) = only_segment(&store);
    let original = std::fs::read(&file).unwrap();
    let edits: [(&str, Edit); 9] = [
        ("99999999999999999999", |l| {
            with_chain_seq(l, "99999999999999999999")
        }),
        ("30 digits", |l| {
            with_chain_seq(l, "123456789012345678901234567890")
        }),
        ("-7", |l| with_chain_seq(l, "-7")),
        ("\"7\"", |l| with_chain_seq(l, "\"7\"")),
        ("7.0", |l| with_chain_seq(l, "7.0")),
        ("7e0", |l| with_chain_seq(l, "7e0")),
        ("null", |l| with_chain_seq(l, "null")),
        ("hash null", |l| {
            let at = l.rfind("\"chainHash\":").unwrap();
            format!("{}\"chainHash\":null}}", &l[..at])
        }),
        ("hash of 62 digits", |l| {
            format!("{}\"}}", &l[..l.len() - 4])
        }),
    ];
    for (what, edit) in edits {
        std::fs::write(&file, &original).unwrap();
        edit_line(&file, 7, edit);
        let (code, report) = verify(dir.path(), &key);
        assert_eq!(code, 1, "{what}: {report}");
        assert_eq!(
            problems_at(&report, "malformed-line"),
            vec![(rel.clone(), 7)],
            "{what}: {report}"
        );
    }
}
