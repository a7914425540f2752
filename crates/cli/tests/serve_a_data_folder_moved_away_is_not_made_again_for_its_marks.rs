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

use std::time::{Duration, Instant};

use crate::full_disk_support::readyz;
use crate::serve_support::{event_line, new_id, post_events, start, ServerProc};

const SALT: u64 = 641;

fn post(server: &ServerProc, n: u64) {
    let (status, answer) = post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
        .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
}

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
    let store = dir.path().join("stores/a");
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            "data_dir = \"data\"\n[checkpoints]\nevery_records = 1\n\
             [[destinations]]\nname = \"a\"\ntype = \"store\"\npath = {store:?}\n"
        ),
    )
    .unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    post(&server, 1);
    let data = dir.path().join("data");
    assert!(data.join("high-water.jsonl").is_file());
    let moved = dir.path().join("data.moved");
    std::fs::rename(&data, &moved).unwrap();

    // The store is outside: the batch is stored and sealed, the mark cannot be written.
    post(&server, 2);
    assert!(
        !data.exists(),
        "made again at its path: {:?}\n{}",
        std::fs::read_dir(&data).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>()),
        server.stderr()
    );
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, reasons, answer) = degraded(&server);
        assert_eq!(status, 200, "still ready: {answer}");
        if reasons.contains(&("data_folder_moved".to_owned(), None))
            && reasons.contains(&("high_water_mark_unwritten".to_owned(), Some("a".to_owned())))
        {
            assert!(
                !answer.to_string().contains(dir.path().to_str().unwrap()),
                "no path under /readyz: {answer}"
            );
            break;
        }
        assert!(Instant::now() < until, "{answer}\n{}", server.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
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
    post(&server, 3);
    assert!(!data.exists(), "{}", server.stderr());

    // The folder back: the marks are written there again, and nothing is degraded.
    std::fs::rename(&moved, &data).unwrap();
    post(&server, 4);
    let until = Instant::now() + Duration::from_secs(60);
    while !degraded(&server).1.is_empty() {
        assert!(Instant::now() < until, "{}", degraded(&server).2);
        std::thread::sleep(Duration::from_millis(100));
    }
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
