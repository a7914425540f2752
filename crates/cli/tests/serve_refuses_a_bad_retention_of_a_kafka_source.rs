//! A Kafka source's `retention` (and `retention_max_bytes`) is read and checked as a
//! `store` destination's: a bad value is refused before anything starts, with the
//! message a store destination gets for it, naming the file, the source entry and the
//! key. (Before, a source had no such key: `retention` was refused as unknown.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

/// `auditrail serve` with `entry` as the whole of its one table: exit code, stderr.
fn serve(dir: &Path, table: &str, entry: &str) -> (Option<i32>, String) {
    std::fs::write(
        dir.join("s.toml"),
        format!("data_dir = \"data\"\n{table}\n{entry}"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["serve", "--config", "s.toml", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The refusal's own words, after the entry it names (`...: `retention` ...`; a
/// destination's entry names the key once more before them).
fn message(stderr: &str) -> &str {
    let at = stderr
        .rfind("`retention")
        .unwrap_or_else(|| panic!("no `retention...` in {stderr}"));
    stderr[at..].lines().next().unwrap()
}

#[test]
fn a_bad_retention_of_a_kafka_source_is_refused_as_a_store_destinations() {
    let dir = tempfile::tempdir().unwrap();
    let source = "type = \"kafka\"\nbrokers = \"127.0.0.1:1\"\ntopics = [\"t\"]\n\
                  group_id = \"g\"\nstore_root = \"p\"";
    let store = "type = \"store\"\npath = \"s\"";
    for bad in [
        "retention = \"400\"",
        "retention = \"10m\"",
        "retention = \"forever\"",
        "retention_max_bytes = 0",
    ] {
        let (code, from_source) = serve(dir.path(), "[[sources]]", &format!("{source}\n{bad}\n"));
        assert_ne!(code, Some(0), "{bad}: {from_source}");
        assert!(
            from_source.contains("s.toml") && from_source.contains("sources[0]"),
            "{bad}: names the file and the entry: {from_source}"
        );
        let key = bad.split(' ').next().unwrap();
        assert!(
            message(&from_source).starts_with(&format!("`{key}`")),
            "{bad}: names the key: {from_source}"
        );
        let (code, from_store) =
            serve(dir.path(), "[[destinations]]", &format!("{store}\n{bad}\n"));
        assert_ne!(code, Some(0), "{bad}: {from_store}");
        assert_eq!(
            message(&from_source),
            message(&from_store),
            "{bad}: the store destination's message"
        );
    }
    // Nothing was created for a refused config.
    assert!(!dir.path().join("data").join("p").exists());
}
