//! The attacker without the key appends a correctly chained record to a store whose
//! server stopped cleanly (SIGTERM: its final line says so). The next start does not
//! sign it: it is refused, naming the store, the chainSeq range and the segment file,
//! and pointing to `auditrail verify` and `auditrail store accept`; verify reports
//! `appended-after-clean-stop`. Once an operator accepts the state, the server starts,
//! signs the record as recovered at start (logged), and verify goes on showing it.
//! (Case srv2-03 `forged-append-signed-at-next-start`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tamper_support;

use auditrail_testkit::store::append_chained;
use tamper_support::*;

fn problems_of_kind<'a>(report: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    report["stores"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == kind)
        .collect()
}

#[test]
fn a_record_appended_after_a_clean_stop_is_refused_until_accepted_and_stays_visible() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fifty_records(dir.path());
    let log = store.join("checkpoints.jsonl");
    let last_line = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    assert!(
        last_line.contains("\"chainSeq\":50,") && last_line.contains("\"cleanStop\":true"),
        "the final line records the clean stop: {last_line}"
    );

    let (file, seq) = append_chained(&store, |body| {
        body.replace("user50", "mallory")
            .replace("\"seq\":50", "\"seq\":51")
            .replacen("-000000000032\"", "-000000000666\"", 1)
    });
    assert_eq!(seq, 51);
    let rel = file
        .strip_prefix(&store)
        .unwrap()
        .to_string_lossy()
        .into_owned();

    // Verify names it for what it is.
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 1, "{report:#}");
    let found = problems_of_kind(&report, "appended-after-clean-stop");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["severity"], "error", "{report:#}");
    assert_eq!(
        (found[0]["firstSeq"].as_u64(), found[0]["lastSeq"].as_u64()),
        (Some(51), Some(51)),
        "{report:#}"
    );

    // The start refuses, and signs nothing.
    let log_before = std::fs::read(&log).unwrap();
    let (code, err) = match try_start(dir.path()) {
        Ok(server) => {
            stop(server);
            panic!("the server started on a record written while it was stopped");
        }
        Err(e) => e,
    };
    assert_ne!(code, 0);
    for what in [
        store.display().to_string(),
        "chainSeq 51..51".to_string(),
        rel.clone(),
        "stopped cleanly".to_string(),
        "auditrail verify".to_string(),
        "auditrail store accept".to_string(),
    ] {
        assert!(err.contains(&what), "the refusal names {what:?}: {err}");
    }
    assert_eq!(std::fs::read(&log).unwrap(), log_before, "nothing signed");
    let (code, _) = verify(dir.path(), &key);
    assert_eq!(code, 1);

    // An operator accepts: the acceptance records what verify found.
    let (code, out) = accept(dir.path(), "record 51 checked with its sender");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("appended-after-clean-stop"), "{out}");

    // The server starts, and says what it vouches for without a seal of its own.
    let server = try_start(dir.path()).unwrap_or_else(|(c, e)| panic!("exit {c}: {e}"));
    let logged = strip_ansi(&server.stderr());
    assert_eq!(stop(server), 0);
    let warning = logged
        .lines()
        .find(|l| l.contains("WARN") && l.contains("chainSeq 51..51"))
        .unwrap_or_else(|| panic!("no warning naming the records: {logged}"));
    assert!(
        warning.contains(&store.display().to_string()) && warning.contains("recovered"),
        "{warning}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("\"recovered\":{\"fromSeq\":51,\"toSeq\":51}"),
        "{text}"
    );

    // Verify passes (the operator accepted it) and still shows the record.
    let (code, report) = verify(dir.path(), &key);
    assert_eq!(code, 0, "{report:#}");
    let found = problems_of_kind(&report, "appended-after-clean-stop");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["severity"], "warning", "{report:#}");
    assert_eq!(found[0]["firstSeq"], 51, "{report:#}");
    assert!(
        !problems_of_kind(&report, "accepted-state").is_empty(),
        "{report:#}"
    );
}
