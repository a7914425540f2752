//! The feature matrix: the facade and the CLI must build with no target feature and
//! with each target feature alone, not only with the defaults and `--all-features`
//! that the rest of CI builds. A `#[cfg(feature = ..)]` mistake (a use of a target crate
//! outside its feature, an import left unused without it) shows up only in such a
//! combination.

use crate::run;

/// Packages whose target features are checked one by one, and those features.
const MATRIX: &[(&str, &[&str])] = &[
    ("auditrail", &["file", "eventserver", "kafka", "metrics"]),
    ("auditrail-cli", &["file", "eventserver", "kafka"]),
];

/// `cargo clippy -D warnings` (a check that also fails on a warning a combination
/// causes, and shares its build with CI's other clippy run) of every package in
/// [`MATRIX`] with `--no-default-features`, then with each feature alone. The
/// facade's tests are built too (they depend on the features); the CLI's library and
/// binary only (its tests run a server and send through the default targets).
pub(crate) fn check() -> Result<(), String> {
    for (package, features) in MATRIX {
        let targets: &[&str] = if *package == "auditrail" {
            &["--all-targets"]
        } else {
            &[]
        };
        let combinations = std::iter::once(None).chain(features.iter().copied().map(Some));
        for feature in combinations {
            let mut args = vec!["clippy", "-p", package, "--no-default-features"];
            if let Some(f) = feature {
                args.extend(["--features", f]);
            }
            args.extend(targets);
            args.extend(["--", "-D", "warnings"]);
            run::cargo(&args)?;
        }
    }
    Ok(())
}
