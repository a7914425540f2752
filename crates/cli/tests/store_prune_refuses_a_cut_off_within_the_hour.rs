//! `auditrail store prune --before` later than an hour ago (`0d`, `10m`, a time in
//! the future) is refused, as `retention` under an hour is: it would delete every
//! partition but the newest at once; a time in the future is said to be in the future
//! (it was said to be "less than an hour before now"). Without `--before` and `--max-bytes` the error
//! names both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;

#[test]
fn a_cut_off_in_the_last_hour_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    for before in ["0d", "10m"] {
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
    // A time in the future is said to be one (it was "less than an hour before now").
    for before in ["2999-01-01", "9999-12-31", "2999-06-01T00:00:00+02:00"] {
        let (code, out) = run(
            dir.path(),
            &["store", "prune", "--data-dir", "data", "--before", before],
        );
        assert_ne!(code, 0, "{before}: {out}");
        assert!(out.contains("is in the future"), "{before}: {out}");
        assert!(!out.contains("before now ("), "{before}: {out}");
    }
    let (code, out) = run(dir.path(), &["store", "prune", "--data-dir", "data"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("--before") && out.contains("--max-bytes"),
        "{out}"
    );
}
