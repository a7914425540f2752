//! `cargo xtask bench [NAME]`: every benchmark, or one. Numbers are reported, never
//! asserted; each bench compares against a baseline measured in the same run.

/// A benchmark: its name, the `cargo` arguments that run it, and whether it needs the
/// Kafka broker.
struct Bench {
    name: &'static str,
    cargo: &'static [&'static str],
    needs_kafka: bool,
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "core",
        cargo: &["bench", "-p", "auditrail-core", "--bench", "dispatch"],
        needs_kafka: false,
    },
    Bench {
        name: "allocations",
        cargo: &["bench", "-p", "auditrail-core", "--bench", "allocations"],
        needs_kafka: false,
    },
    Bench {
        name: "file",
        cargo: &[
            "bench",
            "-p",
            "auditrail-target-file",
            "--bench",
            "file_throughput",
        ],
        needs_kafka: false,
    },
    Bench {
        name: "store",
        cargo: &["bench", "-p", "auditrail-store", "--bench", "store"],
        needs_kafka: false,
    },
    Bench {
        name: "server",
        cargo: &[
            "run",
            "--release",
            "-p",
            "auditrail-eventserver",
            "--example",
            "auditrail-loadgen",
            "--",
            "--mode",
            "both",
            "--connections",
            "8",
            "--seconds",
            "10",
            // As nodes do: the server signs every answer for its nonce.
            "--nonce",
        ],
        needs_kafka: false,
    },
    Bench {
        name: "integrity",
        cargo: &[
            "bench",
            "-p",
            "auditrail-integrity",
            "--bench",
            "integrity_verify",
        ],
        needs_kafka: false,
    },
    Bench {
        name: "node",
        cargo: &[
            "bench",
            "-p",
            "auditrail-target-eventserver",
            "--bench",
            "end_to_end",
        ],
        needs_kafka: false,
    },
    Bench {
        name: "query",
        cargo: &[
            "run",
            "--release",
            "-p",
            "auditrail-query",
            "--example",
            "query-scan-bench",
            "--",
        ],
        needs_kafka: false,
    },
    Bench {
        name: "kafka",
        cargo: &[
            "bench",
            "-p",
            "auditrail-target-kafka",
            "--bench",
            "throughput",
        ],
        needs_kafka: true,
    },
];

/// Runs the named benchmark (with any further arguments passed to it), or all of them.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let wanted = args.first().map(String::as_str);
    // Process benchmarks with their own rounds and arguments (not part of "all": `peers`
    // installs a distribution package; `scale` builds the CLI with the `kafka` feature
    // and runs several servers for minutes).
    match wanted {
        Some("chaining") => return crate::chaining::run(),
        Some("peers") => return crate::peers::run(&args[1..]),
        Some("scale") => return crate::scale::run(&args[1..]),
        Some("instructions") => {
            // Counted by valgrind, a package of the distribution.
            crate::packages::ensure("valgrind", "valgrind")?;
            let mut cargo = vec!["bench", "-p", "auditrail-core", "--bench", "instructions"];
            cargo.extend(args[1..].iter().map(String::as_str));
            return crate::run::cargo(&cargo);
        }
        _ => {}
    }
    let extra: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let selected: Vec<&Bench> = BENCHES
        .iter()
        .filter(|b| wanted.is_none_or(|w| w == b.name))
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = BENCHES.iter().map(|b| b.name).collect();
        return Err(format!(
            "unknown bench {:?}; known: {}, chaining, instructions, peers, scale",
            wanted.unwrap_or(""),
            names.join(", ")
        ));
    }
    let _broker = if selected.iter().any(|b| b.needs_kafka) {
        Some(crate::broker::ensure()?)
    } else {
        None
    };
    for bench in selected {
        crate::run::step(&format!("bench {}", bench.name));
        let mut cargo: Vec<&str> = bench.cargo.to_vec();
        cargo.extend(&extra);
        crate::run::cargo(&cargo)?;
    }
    Ok(())
}
