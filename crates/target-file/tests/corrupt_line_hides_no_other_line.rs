//! A complete line that is not an audit event makes the read an error naming its file
//! and line, and that error still holds the event of every other line, of every file
//! read, and lists each corrupt line: one bad line hides no other. (The read used to
//! stop at the first such line and give back nothing.)

use auditrail_target_file::ReadError;

const GOOD: &str = r#"{"severity":"INFO","logger":"audit.generic","id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":1,"message":{"msgType":"login","n":1e400}}"#;

fn good(seq: u64) -> String {
    GOOD.replace(r#""seq":1"#, &format!(r#""seq":{seq}"#))
}

#[test]
fn every_other_line_is_read_and_each_corrupt_line_named() {
    let dir = tempfile::tempdir().unwrap();
    let rolled = dir.path().join("audit.log.1");
    let active = dir.path().join("audit.log");
    let bad_field = good(2).replace(r#""topic":"generic""#, r#""topic":"Not A Topic""#);
    std::fs::write(
        &rolled,
        format!("{}\n{bad_field}\n{}\nnot json at all\n", good(1), good(3)),
    )
    .unwrap();
    std::fs::write(&active, format!("{}\n[1,2]\n", good(4))).unwrap();

    let seqs = |read: &auditrail_target_file::ReadOutcome| -> Vec<u64> {
        read.events.iter().map(|e| e.seq).collect()
    };
    match auditrail_target_file::read_audit_dir(dir.path(), "audit.log") {
        Err(err @ ReadError::Corrupt { .. }) => {
            let text = err.to_string();
            let ReadError::Corrupt {
                path,
                line,
                reason,
                read,
            } = err
            else {
                unreachable!()
            };
            assert_eq!((path.as_path(), line), (rolled.as_path(), 2));
            assert!(reason.contains("topic"), "{reason}");
            assert!(text.contains("audit.log.1:2:"), "{text}");
            assert!(text.contains("2 more lines"), "{text}");
            assert_eq!(seqs(&read), [1, 3, 4], "every other line's event");
            let corrupt: Vec<(&std::path::Path, usize)> = read
                .corrupt
                .iter()
                .map(|c| (c.path.as_path(), c.line))
                .collect();
            assert_eq!(
                corrupt,
                [
                    (rolled.as_path(), 2),
                    (rolled.as_path(), 4),
                    (active.as_path(), 2)
                ]
            );
            assert!(read.torn.is_empty());
        }
        other => panic!("expected a corrupt-line error, got {other:?}"),
    }

    // One file alike.
    match auditrail_target_file::read_audit_file(&active) {
        Err(ReadError::Corrupt { line, read, .. }) => {
            assert_eq!(line, 2);
            assert_eq!(seqs(&read), [4]);
        }
        other => panic!("expected a corrupt-line error, got {other:?}"),
    }
}
