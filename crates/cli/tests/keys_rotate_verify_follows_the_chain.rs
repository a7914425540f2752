//! `auditrail keys rotate` on a stopped server: every store's log gets a line, signed
//! by the old key, that hands signing over to the new one; the server then signs with
//! the new key, and `verify` passes with either public key (receipts signed before and
//! after included). A line signed by the retired key after the rotation is
//! `wrong-key`, and the server refuses to sign with the retired key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;
use crate::tamper_support;

use auditrail_integrity::{Checkpoint, Signer};
use serve_support::{event_line, new_id, post_events, start};
use tamper_support::{error_kinds, stop, try_start};

fn post_batch(server: &serve_support::ServerProc, first: u64, receipt: &std::path::Path) {
    let body: String = (first..first + 10)
        .map(|n| event_line(&new_id(n, 41), "n1", n) + "\n")
        .collect();
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    std::fs::write(receipt, answer.to_string()).unwrap();
}

fn verify(dir: &std::path::Path, key: &str, receipts: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["verify", "data", "--public-key", key, "--json"];
    for r in receipts {
        args.extend(["--receipt", r]);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

fn auditrail(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_rotated_key_is_followed_by_verify_and_the_retired_key_cannot_sign() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("server.toml"), tamper_support::CONFIG).unwrap();
    let server = start(d, &["--config", "server.toml", "--data-dir", "data"]);
    post_batch(&server, 1, &d.join("r1.json"));
    assert_eq!(stop(server), 0);
    let old_pub = std::fs::read_to_string(d.join("data/signing.pub")).unwrap();
    let old_secret = std::fs::read_to_string(d.join("data/signing.key")).unwrap();

    let (code, out) = auditrail(d, &["keys", "rotate", "--data-dir", "data"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hands signing over to"), "{out}");
    let new_pub = std::fs::read_to_string(d.join("data/signing.pub")).unwrap();
    assert_ne!(new_pub, old_pub);
    let (code, exported) = auditrail(d, &["keys", "export", "--data-dir", "data"]);
    assert_eq!(code, 0);
    assert_eq!(exported.trim(), new_pub.trim());
    assert!(!d.join("data/signing.key.next").exists());

    // The server starts with the new key and signs with it.
    let server = start(d, &["--config", "server.toml", "--data-dir", "data"]);
    post_batch(&server, 11, &d.join("r2.json"));
    assert_eq!(stop(server), 0);
    let log = std::fs::read_to_string(d.join("data/store/checkpoints.jsonl")).unwrap();
    let lines: Vec<Checkpoint> = log
        .lines()
        .map(|l| Checkpoint::parse_line(l.as_bytes()).unwrap())
        .collect();
    let rotation = lines.iter().position(|c| c.next_key.is_some()).unwrap();
    assert_eq!(lines[rotation].key.to_string(), old_pub.trim());
    assert!(lines[rotation + 1..]
        .iter()
        .all(|c| c.key.to_string() == new_pub.trim()));
    assert!(
        rotation + 1 < lines.len(),
        "the server signed after the rotation"
    );

    // Either key verifies the whole store, and both receipts.
    for key in [old_pub.trim(), new_pub.trim()] {
        let (code, report) = verify(d, key, &["r1.json", "r2.json"]);
        assert_eq!(code, 0, "with {key}: {report:#}");
    }

    // A line signed by the retired key after the rotation is refused by verify.
    let old = {
        let f = d.join("old.key");
        std::fs::write(&f, &old_secret).unwrap();
        Signer::load(&f).unwrap()
    };
    let last_line = log.lines().last().unwrap();
    let last = lines.last().unwrap();
    let (_, forged) = Checkpoint::sign(
        &old,
        last.index + 1,
        &last.store_id,
        last.link,
        last.time.clone(),
        Checkpoint::line_digest(last_line.as_bytes()),
    );
    std::fs::write(
        d.join("data/store/checkpoints.jsonl"),
        format!("{log}{forged}\n"),
    )
    .unwrap();
    let (code, report) = verify(d, old_pub.trim(), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        error_kinds(&report).contains(&"wrong-key".to_string()),
        "{report:#}"
    );
    assert!(report.to_string().contains("retired"), "{report:#}");
    std::fs::write(d.join("data/store/checkpoints.jsonl"), &log).unwrap();

    // The server refuses to sign with the retired key: put back alone, it is not the
    // key `signing.pub` holds; put back with its public file, the log handed signing
    // over from it.
    std::fs::write(d.join("data/signing.key"), &old_secret).unwrap();
    let err = try_start(d).err().expect("refused with the retired key");
    assert!(err.1.contains("are not halves of one key"), "{}", err.1);
    std::fs::write(d.join("data/signing.pub"), &old_pub).unwrap();
    let err = try_start(d).err().expect("refused with the retired key");
    assert!(err.1.contains("handed signing over"), "{}", err.1);
}
