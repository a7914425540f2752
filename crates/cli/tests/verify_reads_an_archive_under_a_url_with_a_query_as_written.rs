//! Versions before 2026-12-07 took an archive URL holding `?` or `#` literally
//! (`file:///srv/arch?x` archived into the folder `arch?x`), and their stores' signed
//! deletion lines name that URL. The check that now refuses such URLs for writing
//! (`serve`, `store prune`) made `verify --archive` refuse them too: such an archive,
//! the only copy of the records deleted, could no longer be checked. `verify` reads it
//! as written, warning. (The archive is made here by a prune into a plain folder, then
//! moved to a folder named as such a URL reads literally.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::serve_support;
use crate::tamper_support;

use retention_support::{post_day, prune, run, write_config};
use serve_support::start;

#[test]
fn verify_reads_an_archive_whose_url_holds_a_query_literally() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let url = format!("file://{}", archive.display());
    write_config(dir.path(), &format!("archive = \"{url}\"\n"));
    let server = start(dir.path(), &["--config", "server.toml"]);
    for (i, day) in ["2025-01-01", "2025-01-02", "2025-01-03"]
        .iter()
        .enumerate()
    {
        post_day(&server, day, 10, i as u64 + 1);
    }
    assert_eq!(tamper_support::stop(server), 0);
    let key = std::fs::read_to_string(dir.path().join("data/signing.pub")).unwrap();
    let key = key.trim();
    let (code, out) = prune(dir.path(), "2025-01-02", &[]);
    assert_eq!(code, 0, "{out}");

    let literal = dir.path().join("arch?x");
    std::fs::rename(&archive, &literal).unwrap();
    let old_url = format!("file://{}", literal.display());
    let (code, out) = run(
        dir.path(),
        &["verify", "--archive", &old_url, "--public-key", key],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("read as written") && out.contains("verdict: OK"),
        "{out}"
    );
}
