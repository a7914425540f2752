//! An error whose message already includes its cause's text (`{file}: cannot read:
//! {source}`) prints that cause once, not twice (`... No such file or directory (os
//! error 2): No such file or directory (os error 2)`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use retention_support::run;

#[test]
fn a_missing_config_file_names_the_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["serve", "--config", "missing.toml"][..],
        &["verify", "--config", "missing.toml"][..],
    ] {
        let (code, out) = run(dir.path(), args);
        assert_ne!(code, 0, "{out}");
        assert!(out.contains("missing.toml"), "{out}");
        assert_eq!(
            out.matches("No such file or directory").count(),
            1,
            "{args:?}: {out}"
        );
    }
}
