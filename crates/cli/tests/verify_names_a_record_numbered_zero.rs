//! A record line numbered `"chainSeq":0` (hashed from the zeros before the first record,
//! as docs/tamper-evidence.md describes the chain; but chain numbers start at 1, and the
//! server never writes 0) is a malformed line: `verify` names its file and line and
//! exits 1, wherever in the file it was put. The server starts on the store and logs
//! the line as unreadable. verify used to panic ("attempt to subtract with overflow":
//! the walk took 1 from the record's number to find the one before it; a release build
//! would wrap) and the server took the line as a record without a word.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sha2::{Digest, Sha256};

use crate::tamper_support::{fifty_records, only_segment, problems_at, stop, try_start, verify};

/// A record line numbered 0 whose chain hash is the one its number and body give
/// after the all-zero hash.
fn record_numbered_zero() -> String {
    let body = r#"{"clientEvent":{"id":"ffffffff-0000-7000-8000-000000000001","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":9,"message":{"msgType":"x"}},"origAddress":"127.0.0.1","serverTimestamp":"2026-11-25T16:55:49.124Z","keyId":null"#;
    let mut h = Sha256::new();
    h.update(b"auditrail-chain-v1");
    h.update([0u8; 32]);
    h.update(0u64.to_be_bytes());
    h.update(body.as_bytes());
    format!(
        "{body},\"chainSeq\":0,\"chainHash\":\"{}\"}}",
        hex::encode(h.finalize())
    )
}

#[test]
fn a_record_numbered_zero_is_a_malformed_line_verify_names() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let (file, rel) = only_segment(&store);
    let original = std::fs::read_to_string(&file).unwrap();
    let zero = record_numbered_zero();
    // Inserted as line 4, and appended as line 51.
    for at in [4usize, 51] {
        let mut lines: Vec<&str> = original.lines().collect();
        lines.insert(at - 1, &zero);
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let (code, report) = verify(dir.path(), &key);
        assert_eq!(code, 1, "line {at}: {report}");
        assert_eq!(
            problems_at(&report, "malformed-line"),
            vec![(rel.clone(), at as u64)],
            "line {at}: {report}"
        );
    }

    // Between readable records: the server starts, says so, and leaves it in place.
    let mut lines: Vec<&str> = original.lines().collect();
    lines.insert(3, &zero);
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let server = try_start(dir.path()).unwrap_or_else(|(code, err)| panic!("{code}: {err}"));
    let log = server.stderr();
    assert_eq!(stop(server), 0);
    assert!(
        log.contains("unreadable lines between readable records"),
        "{log}"
    );
    assert!(std::fs::read_to_string(&file).unwrap().contains(&zero));
}
