//! A complete line that is not an audit event is an error naming the file and line
//! (only torn lines are skipped).

use auditrail_target_file::ReadError;

#[test]
fn a_complete_line_that_is_not_an_event_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let good = r#"{"severity":"INFO","logger":"audit.generic","id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":1,"message":{"msgType":"login"}}"#;
    let bad_field = good.replace(r#""seq":1"#, r#""seq":-1"#);
    std::fs::write(&path, format!("{good}\n{bad_field}\n")).unwrap();
    match auditrail_target_file::read_audit_file(&path) {
        Err(ReadError::Corrupt { line, reason, .. }) => {
            assert_eq!(line, 2);
            assert!(reason.contains("seq"), "{reason}");
        }
        other => panic!("expected a corrupt-line error, got {other:?}"),
    }
    std::fs::write(&path, format!("not json at all\n{good}\n")).unwrap();
    let err = auditrail_target_file::read_audit_file(&path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("audit.log:1:"), "{err}");
}
