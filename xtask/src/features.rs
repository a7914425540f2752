//! The feature matrix: the facade and the CLI must build with no target feature and
//! with each target feature alone, not only with the defaults and `--all-features`
//! that the rest of CI builds. A `#[cfg(feature = ..)]` mistake (a use of a target crate
//! outside its feature, an import left unused without it) shows up only in such a
//! combination.
//!
//! Each combination is checked with `xtask-unify` (`xtask/unify/`) selected beside it,
//! so that its dependencies are built with the features the workspace run gives them
//! and are reused from that run instead of compiled again (that crate's manifest says
//! why; the test below keeps it true).

use crate::run;

/// The package selected beside each checked one (`xtask/unify/Cargo.toml`).
const UNIFY: &str = "xtask-unify";

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
    for (package, feature) in combinations() {
        let mut args = vec!["clippy"];
        args.extend(selection(package, feature));
        if with_tests(package) {
            args.push("--all-targets");
        }
        args.extend(["--", "-D", "warnings"]);
        run::cargo(&args)?;
    }
    Ok(())
}

/// Every (package, feature) pair the matrix checks; `None`: no feature.
fn combinations() -> impl Iterator<Item = (&'static str, Option<&'static str>)> {
    MATRIX.iter().flat_map(|(package, features)| {
        std::iter::once(None)
            .chain(features.iter().copied().map(Some))
            .map(move |f| (*package, f))
    })
}

/// The cargo arguments that select one combination: the package, `xtask-unify`, the
/// feature.
fn selection(package: &'static str, feature: Option<&'static str>) -> Vec<&'static str> {
    let mut args = vec!["-p", package, "-p", UNIFY, "--no-default-features"];
    if let Some(f) = feature {
        args.extend(["--features", f]);
    }
    args
}

/// Whether a package's tests are checked too: the facade's are (they depend on the
/// features); the CLI's are not (they run a server and send through the default
/// targets).
fn with_tests(package: &str) -> bool {
    package == "auditrail"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// `cargo tree`'s "name version features" lines of the dependencies a selection
    /// builds (host and target alike; the workspace's own packages left out: their
    /// features are what the matrix varies).
    fn feature_sets(selection: &[&str], dev: bool) -> BTreeSet<String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let edges = if dev {
            "normal,build,dev"
        } else {
            "normal,build"
        };
        let out = std::process::Command::new(&cargo)
            .arg("tree")
            .args(selection)
            .args(["-e", edges, "-f", "{p} {f}", "--prefix", "none", "--locked"])
            .current_dir(crate::run::workspace_root())
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo tree {selection:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let root = crate::run::workspace_root().display().to_string();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.contains(&root))
            .map(|l| {
                l.replace(" (*)", "")
                    .replace(" (proc-macro)", "")
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    /// Each combination's dependencies have exactly the features of the workspace run
    /// (`--workspace --all-features --all-targets`), so CI checks them once. Fails after
    /// a dependency update that changes a feature set, with what to put in
    /// `xtask/unify/Cargo.toml`.
    #[test]
    fn the_feature_matrix_reuses_the_workspace_build() {
        let workspace = feature_sets(&["--workspace", "--all-features"], true);
        let mut differ = BTreeSet::new();
        for (package, feature) in combinations() {
            // `cargo tree --all-targets` means every platform, not every build target:
            // dev-dependencies' edges stand for the tests.
            for line in feature_sets(&selection(package, feature), with_tests(package)) {
                if !workspace.contains(&line) {
                    differ.insert(line);
                }
            }
        }
        let wanted: Vec<String> = differ
            .iter()
            .map(|line| {
                let name_version = line.split(' ').take(2).collect::<Vec<_>>().join(" ");
                let in_workspace = workspace
                    .iter()
                    .filter(|w| w.starts_with(&format!("{name_version} ")) || **w == name_version)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" | ");
                format!("  matrix: {line}\n  workspace: {in_workspace}")
            })
            .collect();
        assert!(
            wanted.is_empty(),
            "the feature matrix builds these dependencies with other features than the \
             workspace run; ask for the workspace's features in xtask/unify/Cargo.toml \
             (a proc-macro's or build script's dependency under [build-dependencies]):\n{}",
            wanted.join("\n")
        );
    }

    /// The check above sees a difference: without `xtask-unify`, the CLI alone gets
    /// other features (serde's `alloc`, among others, comes from dev-dependencies).
    #[test]
    fn the_check_sees_a_feature_difference() {
        let workspace = feature_sets(&["--workspace", "--all-features"], true);
        let alone = feature_sets(&["-p", "auditrail-cli", "--no-default-features"], false);
        assert!(alone.iter().any(|l| !workspace.contains(l)));
    }
}
