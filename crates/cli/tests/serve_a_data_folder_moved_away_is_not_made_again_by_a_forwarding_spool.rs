//! The data folder moved away while a server with a forwarding `eventserver`
//! destination runs (`mv data data.moved`), its next hop down so that batches wait in
//! the destination's spool (`<data_dir>/spool/<name>`). Before, the next batch found
//! the spool folder gone and made it again at the old path with its lock file (ERROR
//! "the spool folder was removed ... created again"): the data folder was back at its
//! path, the spool split across two folders. Now the destinations' dispatcher is given
//! the data folder's check, which the spool asks before it makes its folder again:
//! nothing is made at the path, an ERROR names the data folder, and once the folder is
//! moved back the spool takes batches again, those it held still there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::serve_support::{event_line, new_id, post_events, request, start};

const SALT: u64 = 6512;
const REFUSED: &str = "the spool folder is gone with the data folder holding it";

#[test]
fn a_forwarding_spool_does_not_make_a_moved_data_folder_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A port held by the test, nobody listening: the next hop is down.
    let down = auditrail_testkit::port::Port::new();
    // A short acknowledgement timeout: the batch sent while the folder is away is
    // answered `503` (the spool cannot take it) without a long wait.
    std::fs::write(
        d.join("server.toml"),
        format!(
            "data_dir = \"data\"\nshutdown_timeout_s = 1\nack_timeout_ms = 1000\n\
             [[destinations]]\nname = \"fwd\"\ntype = \"eventserver\"\nurl = \"http://{}\"\n",
            down.addr()
        ),
    )
    .unwrap();
    let server = start(d, &["--config", "server.toml"]);
    let data = d.join("data");
    let post = |n: u64| {
        post_events(&server.addr, &event_line(&new_id(n, SALT), "n1", n), None)
            .unwrap_or_else(|e| panic!("no answer: {e}\n{}", server.stderr()))
    };
    let (status, answer) = post(1);
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());
    assert!(data.join("spool/fwd").is_dir(), "{}", server.stderr());

    let moved = d.join("data.moved");
    std::fs::rename(&data, &moved).unwrap();
    let (status, answer) = post(2);
    assert_eq!(status, 503, "the spool cannot take it: {answer}");
    assert!(
        !data.exists(),
        "made again at its path: {:?}\n{}",
        walk(&data),
        server.stderr()
    );
    let log = server.stderr();
    let refused: Vec<&str> = log.lines().filter(|l| l.contains(REFUSED)).collect();
    assert_eq!(refused.len(), 1, "said once: {refused:#?}\n{log}");
    assert!(
        refused[0].contains("ERROR")
            && refused[0].contains(&format!("the data folder {}", data.display())),
        "{refused:?}"
    );

    // Back: the spool takes batches again, the first one still in it.
    std::fs::rename(&moved, &data).unwrap();
    // Sent again as a client does while the answer is `503` (the held batch may still
    // be in its retry's back-off); bounded, a hang guard, no timing asserted.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, answer) = post(3);
        if status == 200 {
            break;
        }
        assert!(
            status == 503 && std::time::Instant::now() < until,
            "{status} {answer}\n{}",
            server.stderr()
        );
    }
    let (status, body) = request(&server.addr, "GET", "/v1/stats", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    let fwd = &stats["destinations"][0];
    assert_eq!(fwd["lost"], 0, "{stats:#}");
    assert!(
        fwd["forwarding"]["pendingEvents"].as_u64().unwrap() >= 2,
        "{stats:#}"
    );
    assert!(!data.join("data.moved").exists(), "{:?}", walk(&data));
    drop(server);
}

/// What is under `dir` (for a failure's message).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                todo.push(e.path());
            }
            out.push(e.path());
        }
    }
    out
}
