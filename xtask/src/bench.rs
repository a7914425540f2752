//! `cargo xtask bench [NAME]`: every benchmark, or one. Numbers are reported, never
//! asserted; each bench compares against a baseline measured in the same run.

/// Benchmarks by name: what they run.
const BENCHES: &[(&str, &[&str])] = &[
    (
        "core",
        &["bench", "-p", "auditrail-core", "--bench", "dispatch"],
    ),
    ("file", &["bench", "-p", "auditrail-target-file"]),
];

/// Runs the named benchmark, or all of them.
pub fn run(args: &[String]) -> Result<(), String> {
    let wanted = args.first().map(String::as_str);
    let mut ran = false;
    for (name, cargo_args) in BENCHES {
        if wanted.is_none_or(|w| w == *name) {
            crate::run::step(&format!("bench {name}"));
            crate::run::cargo(cargo_args)?;
            ran = true;
        }
    }
    if ran {
        Ok(())
    } else {
        let names: Vec<&str> = BENCHES.iter().map(|(n, _)| *n).collect();
        Err(format!(
            "unknown bench {:?}; known: {}",
            wanted.unwrap_or(""),
            names.join(", ")
        ))
    }
}
