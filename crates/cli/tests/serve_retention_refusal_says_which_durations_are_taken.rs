//! `retention` is read by the `humantime` crate's grammar (spans of a whole or decimal
//! number and a unit, added together), which docs/configuration.md now lists whole. A
//! value it refuses was answered with the parser's own words and three examples, never
//! the grammar or what `M` and `y` mean; and `6m`, meant as six months, was refused as
//! "must be at least 1h" without saying that `m` is minutes. Now a refusal names the
//! key, shows the value and lists what is taken.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;
use crate::tamper_support;

fn refusal(dir: &std::path::Path, retention: &str) -> String {
    retention_support::write_config(dir, &format!("retention = {retention:?}\n"));
    match tamper_support::try_start(dir) {
        Ok(server) => {
            tamper_support::stop(server);
            panic!("the server started with retention = {retention:?}");
        }
        Err((code, err)) => {
            assert_ne!(code, 0, "{err}");
            err
        }
    }
}

#[test]
fn a_retention_refused_names_the_value_and_the_accepted_forms() {
    let dir = tempfile::tempdir().unwrap();
    for value in ["400 dys", "400", "1d-2h"] {
        let err = refusal(dir.path(), value);
        assert!(
            err.contains(&format!("`retention` = {value:?}: "))
                && err.contains(
                    "one or more spans, each a whole or decimal number and a unit, added together"
                )
                && err.contains("M (months of 30.44 days), y (years of 365.25 days)"),
            "{value:?}: {err}"
        );
    }
    let err = refusal(dir.path(), "6m");
    assert!(
        err.contains("`retention` must be at least 1h (`m` is minutes: write months as `M`"),
        "{err}"
    );
}
