//! An archive's S3 endpoint goes into every request's URL. One the S3 client cannot
//! parse (`127.0.0.1:9000`, a common typo for `http://127.0.0.1:9000`; an empty one;
//! one with a space) was accepted by the config check, and the client (`object_store`)
//! then panicked at the first request: `store prune` and `verify --archive` ended with
//! exit 101 and a backtrace, and the server's retention task died without logging
//! `retention failed`. Every place that reads an endpoint refuses it, naming the key
//! (or the flag, or the environment variable) and the expected form: `auditrail serve`
//! (the config check), `store prune` (with `--config`, `--archive-endpoint`, or
//! `AWS_ENDPOINT`), and `verify --archive`. Nothing is deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use crate::retention_support;
use crate::tamper_support;

use retention_support::{days, run, write_config};

const FORM: &str = "expected http://host:port (with `allow_http`) or https://host[:port]";

#[test]
fn an_archive_endpoint_the_s3_client_cannot_use_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = retention_support::store_of_two_days(dir.path(), "");
    let before = days(&store);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();

    let refused = [
        ("127.0.0.1:9000", "no scheme"),
        ("", "empty"),
        (
            "ftp://127.0.0.1:9000",
            "the scheme \"ftp\" is not http or https",
        ),
        ("http://127.0.0.1:9000/a b", "not a URL"),
    ];
    for (endpoint, says) in refused {
        // The server's config check: it does not start.
        write_config(
            dir.path(),
            &format!(
                "retention = \"30d\"\narchive = {{ url = \"s3://audit/eu-1\", endpoint = {endpoint:?}, allow_http = true, access_key_id = \"k\", secret_access_key = \"s\" }}\n"
            ),
        );
        let (code, err) = match tamper_support::try_start(dir.path()) {
            Ok(server) => {
                tamper_support::stop(server);
                panic!("the server started with the archive endpoint {endpoint:?}");
            }
            Err(refused) => refused,
        };
        assert_ne!(code, 0, "{err}");
        assert!(
            err.contains("server.toml: destinations[0] (\"store-0\", type \"store\")")
                && err.contains(&format!("`archive.endpoint` = {endpoint:?}: {says}"))
                && err.contains(FORM),
            "{endpoint:?}: {err}"
        );

        // `store prune` with that config.
        let (code, out) = run(
            dir.path(),
            &[
                "store",
                "prune",
                "--config",
                "server.toml",
                "--before",
                "2025-01-02",
            ],
        );
        assert_ne!(code, 0, "{out}");
        assert!(!out.contains("panicked"), "{out}");
        assert!(
            out.contains(&format!("`archive.endpoint` = {endpoint:?}: {says}")),
            "{endpoint:?}: {out}"
        );

        // The flags of `store prune` and `verify --archive`.
        let flags = [
            "--archive",
            "s3://audit/eu-1",
            "--archive-endpoint",
            endpoint,
            "--archive-allow-http",
        ];
        let prune = [
            &[
                "store",
                "prune",
                "--data-dir",
                "data",
                "--before",
                "2025-01-02",
            ][..],
            &flags,
        ]
        .concat();
        let verify = [&["verify", "--public-key", key.trim()][..], &flags].concat();
        for args in [prune, verify] {
            let (code, out) = run(dir.path(), &args);
            assert_ne!(code, 0, "{args:?}: {out}");
            assert!(!out.contains("panicked"), "{args:?}: {out}");
            assert!(
                out.contains(&format!("--archive-endpoint {endpoint:?}: {says}"))
                    && out.contains(FORM),
                "{args:?}: {out}"
            );
        }
        assert_eq!(days(&store), before, "{endpoint:?}");
    }

    // An endpoint from the environment (`AWS_ENDPOINT`, read by the S3 client).
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "store",
            "prune",
            "--data-dir",
            "data",
            "--before",
            "2025-01-02",
        ])
        .args(["--archive", "s3://audit/eu-1", "--archive-allow-http"])
        .env("AWS_ENDPOINT", "127.0.0.1:9000")
        .env("AWS_ACCESS_KEY_ID", "k")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        text.contains("AWS_ENDPOINT (or AWS_ENDPOINT_URL) = \"127.0.0.1:9000\" (from the environment): no scheme"),
        "{text}"
    );
    assert_eq!(days(&store), before);
}
