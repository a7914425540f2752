//! `cargo xtask`: the project's development tasks. Std only, so it builds in seconds.
//!
//! - `cargo xtask test [ARGS…]`  the whole test suite; starts the Kafka broker it needs
//! - `cargo xtask ci`            fmt check, clippy `-D warnings`, feature matrix, docs,
//!   `systemd-analyze verify` of the unit (when available), then `test`
//! - `cargo xtask unit`          `systemd-analyze verify packaging/auditrail.service` alone
//! - `cargo xtask features`      the feature matrix alone: facade and CLI with no target
//!   feature and with each one alone
//! - `cargo xtask bench [NAME]`  benchmarks: core, file, store, server, kafka, integrity, node (default: all);
//!   chaining, peers (rsyslog side by side), scale (storing servers as a Kafka consumer
//!   group) on request
//! - `cargo xtask docs`          API docs with warnings as errors

mod bench;
mod bench_report;
mod broker;
mod browser;
mod chaining;
mod features;
mod installs;
mod packages;
mod peers;
mod run;
mod s3;
mod scale;
mod serve;
mod tidy;
mod tidy_errors;
mod unit;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, rest)) => (t.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "test" => test(rest),
        "ci" => ci(),
        "features" => features::check(),
        "bench" => bench::run(rest),
        "docs" => docs(),
        "unit" => unit::verify(),
        "help" | "--help" | "-h" => {
            println!("{}", HELP);
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "usage: cargo xtask <task>
  test [ARGS…]   run the whole test suite (starts a Kafka broker unless AUDITRAIL_KAFKA_BROKERS is set);
                 ARGS go to `cargo test` (e.g. `cargo xtask test -p auditrail-core`)
  ci             fmt check, clippy -D warnings, feature matrix, rustdoc -D warnings,
                 systemd-analyze verify of packaging/auditrail.service (when available), then the whole test suite
  features       the feature matrix alone: clippy -D warnings of the facade and the CLI with
                 --no-default-features, and with each target feature alone
  bench [NAME]   benchmarks (core, file, store, server, kafka, integrity, node; default: all);
                 on request only: chaining, peers (`cargo xtask bench peers --help`),
                 scale (`cargo xtask bench scale --help`)
  docs           build the API docs, warnings as errors
  unit           systemd-analyze verify packaging/auditrail.service (skipped with a note without it)";

/// What `cargo test` builds and runs for the whole suite.
const SUITE: [&str; 2] = ["--workspace", "--all-features"];

/// Runs `cargo test` over the whole workspace with every feature, with a Kafka broker.
fn test(extra: &[String]) -> Result<(), String> {
    let _broker = broker::ensure()?;
    browser::ensure()?;
    s3::ensure()?;
    // libfaketime: the server run with its clock set back (the store timeline's test).
    packages::ensure("faketime", "faketime")?;
    let mut args: Vec<&str> = vec!["test"];
    if extra.is_empty() {
        // Libraries, binaries, integration tests and doc tests of every crate. Benches
        // are not run here (they are measured by `cargo xtask bench`), but clippy in
        // `ci` compiles them, so they cannot rot.
        // `--no-fail-fast`: one run shows every failing test, not just the first binary's.
        args.extend(SUITE);
        args.push("--no-fail-fast");
    } else {
        args.extend(extra.iter().map(String::as_str));
    }
    run::cargo(&args)
}

fn ci() -> Result<(), String> {
    // CI builds from an empty target folder, where incremental compilation saves
    // nothing and its caches cost several GB of disk for this workspace (a CI run once
    // failed with "No space left on device" while linking test binaries). Set here, on
    // xtask's own single thread before any child starts, so every cargo run below
    // inherits it. A developer's `cargo xtask test` keeps incremental builds.
    std::env::set_var("CARGO_INCREMENTAL", "0");
    // CI installs and starts everything the tests need and runs as root: a test that
    // finds a prerequisite missing (root, a loop device, mkfs.ext4, unshare, chattr)
    // fails with the reason instead of passing without checking anything
    // (auditrail_testkit::prereq). `AUDITRAIL_REQUIRE_ROOT_TESTS=0 cargo xtask ci`
    // runs without that rule.
    if std::env::var_os("AUDITRAIL_REQUIRE_ROOT_TESTS").is_none() {
        std::env::set_var("AUDITRAIL_REQUIRE_ROOT_TESTS", "1");
    }
    // From here until `finish`, another thread starts child processes: nothing may
    // set environment variables (the test step's `ensure` functions do, after it).
    let installs = installs::start();
    run::disk_report();
    run::step("format check");
    run::cargo(&["fmt", "--all", "--", "--check"])?;
    run::step("clippy, warnings as errors");
    run::cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?;
    run::step("feature matrix: no target feature, and each one alone");
    features::check()?;
    run::step("API docs, warnings as errors");
    docs()?;
    run::step("systemd unit");
    unit::verify()?;
    // The test binaries need none of the installed programs to build: building them
    // while the installs still run fills the cores each leaves idle (a link, a crate
    // built alone) instead of waiting for the installs first.
    run::step("build the test suite");
    run::cargo(&[&["test"][..], &SUITE, &["--no-run"]].concat())?;
    run::disk_report();
    installs.finish();
    run::step("the whole test suite");
    let tested = test(&[]);
    run::disk_report();
    tested
}

fn docs() -> Result<(), String> {
    run::cargo_env(
        &["doc", "--workspace", "--all-features", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )
}
