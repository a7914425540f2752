//! The chain fields of a record line must be in the one form the server writes:
//! `"chainSeq":<decimal without leading zeros>,"chainHash":"<64 lower-case hex>"`. A line
//! spelt otherwise (`"chainSeq":03`, not even JSON; `0004`; the hash in upper case, or
//! one digit of it) is a changed line, and every reader says so alike: `verify` names
//! it as a malformed line (exit 1), `query events` skips it (and says it skipped a line),
//! `prove` finds no record of its event, and the server logs it as unreadable at start.
//! verify used to pass such a store (exit 0, "verdict: OK": it read the number and the
//! hash whatever their spelling, and the record's body still chained) while queries and
//! `prove` could not see the event: an event hidden from every reader with the tamper
//! check green; and an upper-case hash, a record's bytes changed, went unreported.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support::run;
use crate::serve_support::new_id;
use crate::tamper_support::{
    edit_line, fifty_records, only_segment, problems_at, stop, try_start, verify,
};

/// An edit of a record line.
type Edit = fn(&str) -> String;

/// The line with its `"chainSeq":<n>` spelt `"chainSeq":<to>`.
fn seq_spelt(line: &str, to: &str) -> String {
    let key = "\"chainSeq\":";
    let at = line.rfind(key).unwrap() + key.len();
    let end = at + line[at..].find(',').unwrap();
    format!("{}{to}{}", &line[..at], &line[end..])
}

/// The line with the hex digits of its `chainHash` from `from` on in upper case.
fn hash_upper_from(line: &str, from: usize) -> String {
    let at = line.rfind("\"chainHash\":\"").unwrap() + "\"chainHash\":\"".len();
    let (head, hash) = line.split_at(at + from);
    format!("{head}{}", hash.to_ascii_uppercase())
}

#[test]
fn chain_fields_spelt_otherwise_are_one_malformed_line_to_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let (file, rel) = only_segment(&store);
    let original = std::fs::read(&file).unwrap();
    let cases: [(&str, usize, Edit); 5] = [
        ("chainSeq 03", 3, |l| seq_spelt(l, "03")),
        ("chainSeq 0004", 4, |l| seq_spelt(l, "0004")),
        ("chainSeq 005", 5, |l| seq_spelt(l, "005")),
        ("hash in upper case", 3, |l| hash_upper_from(l, 0)),
        // The last letter of the hash alone in upper case.
        ("one hex digit in upper case", 6, |l| {
            let at = l.rfind(|c: char| ('a'..='f').contains(&c)).unwrap();
            format!("{}{}", &l[..at], l[at..].to_ascii_uppercase())
        }),
    ];
    for (what, line, edit) in &cases {
        std::fs::write(&file, &original).unwrap();
        edit_line(&file, *line, *edit);
        let (code, report) = verify(dir.path(), &key);
        assert_eq!(code, 1, "{what}: {report}");
        assert_eq!(
            problems_at(&report, "malformed-line"),
            vec![(rel.clone(), *line as u64)],
            "{what}: {report}"
        );
        let (code, out) = run(
            dir.path(),
            &["query", "-d", "data", "events", "--format", "ndjson"],
        );
        assert_eq!(code, 0, "{what}: {out}");
        assert_eq!(
            out.lines().filter(|l| l.starts_with('{')).count(),
            49,
            "{what}: {out}"
        );
        assert!(!out.contains(&new_id(*line as u64, 77)), "{what}: {out}");
        assert!(out.contains("skipped 1"), "{what}: {out}");
        let (code, out) = run(
            dir.path(),
            &[
                "prove",
                "--data-dir",
                "data",
                "--event-id",
                &new_id(*line as u64, 77),
            ],
        );
        assert_eq!(code, 1, "{what}: {out}");
    }

    // The server's start reads the last case's line as the others do: unreadable.
    let server = try_start(dir.path()).unwrap_or_else(|(code, err)| panic!("{code}: {err}"));
    let log = server.stderr();
    assert_eq!(stop(server), 0);
    assert!(
        log.contains("unreadable lines between readable records"),
        "{log}"
    );
}
