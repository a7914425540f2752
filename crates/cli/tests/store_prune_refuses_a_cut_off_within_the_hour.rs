//! `auditrail store prune --before` later than an hour ago (`0d`, `10m`, a time in
//! the future) is refused, as `retention` under an hour is: it would delete every
//! partition but the newest at once. Without `--before` and `--max-bytes` the error
//! names both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;

#[test]
fn a_cut_off_in_the_last_hour_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    for before in ["0d", "10m", "2999-01-01"] {
        let (code, out) = run(
            dir.path(),
            &["store", "prune", "--data-dir", "data", "--before", before],
        );
        assert_ne!(code, 0, "{before}: {out}");
        assert!(
            out.contains("less than an hour before now"),
            "{before}: {out}"
        );
    }
    let (code, out) = run(dir.path(), &["store", "prune", "--data-dir", "data"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("--before") && out.contains("--max-bytes"),
        "{out}"
    );
}
