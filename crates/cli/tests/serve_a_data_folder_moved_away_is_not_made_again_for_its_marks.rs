//! The data folder moved away while the server runs (`mv data data.moved`: a cleanup
//! job, a migration), its store kept elsewhere: the high-water marks' writer made the
//! folder again at its old path holding only `high-water.jsonl` (`create_dir_all`),
//! silently, while the signing key, the lock and the marks signed so far were in the
//! folder moved away: the server's state was split across two folders. Now nothing is
//! made at its path: the server says so once at WARN naming the folder, `/readyz` stays
//! ready (the store outside takes and seals its batches) and names it under `degraded`
//! (`data_folder_moved`, and the store's `high_water_mark_unwritten` once its mark is
//! due); once the folder is back the marks are written there again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::full_disk_support::readyz;
use crate::serve_support::{
    assert_not_made_again, post_accepted, start_sealing_every_record, wait_until, ServerProc,
};

const SALT: u64 = 641;

/// `/readyz`'s degraded reasons, each with its store (if any).
fn degraded(server: &ServerProc) -> (u16, Vec<(String, Option<String>)>, serde_json::Value) {
    let (status, answer) = readyz(&server.addr);
    let reasons = answer["degraded"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|d| {
                    (
                        d["reason"].as_str().unwrap().to_owned(),
                        d["store"].as_str().map(str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (status, reasons, answer)
}

#[test]
fn a_data_folder_moved_away_is_not_made_again_and_is_named_until_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_sealing_every_record(dir.path(), "");
    post_accepted(&server, 1, SALT);
    let data = dir.path().join("data");
    assert!(data.join("high-water.jsonl").is_file());
    let moved = dir.path().join("data.moved");
    std::fs::rename(&data, &moved).unwrap();

    // The store is outside: the batch is stored and sealed, the mark cannot be written.
    post_accepted(&server, 2, SALT);
    assert_not_made_again(&server, &data);
    wait_until("both named under /readyz", &[&server], || {
        let (status, reasons, answer) = degraded(&server);
        assert_eq!(status, 200, "still ready: {answer}");
        let named = reasons.contains(&("data_folder_moved".to_owned(), None))
            && reasons.contains(&("high_water_mark_unwritten".to_owned(), Some("a".to_owned())));
        if named {
            assert!(
                !answer.to_string().contains(dir.path().to_str().unwrap()),
                "no path under /readyz: {answer}"
            );
        }
        named
    });
    let warned: Vec<String> = server
        .stderr()
        .lines()
        .filter(|l| l.contains("folder of the high-water marks was moved away"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        warned.len(),
        1,
        "said once: {warned:?}\n{}",
        server.stderr()
    );
    let named = [
        format!("folder={}", data.display()),
        "folder=data ".to_owned(),
    ];
    assert!(
        warned[0].contains("WARN") && named.iter().any(|n| warned[0].contains(n.as_str())),
        "{warned:?}"
    );
    post_accepted(&server, 3, SALT);
    assert!(!data.exists(), "{}", server.stderr());

    // The folder back: the marks are written there again, and nothing is degraded.
    std::fs::rename(&moved, &data).unwrap();
    post_accepted(&server, 4, SALT);
    wait_until("nothing degraded", &[&server], || {
        degraded(&server).1.is_empty()
    });
    let marks = std::fs::read_to_string(data.join("high-water.jsonl")).unwrap();
    assert!(marks.contains("\"chainSeq\":4"), "{marks}");
    assert_eq!(server.terminate(), 0);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["verify", "--config", "server.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
