//! `cargo xtask bench chaining`: what tamper evidence costs on durable ingest, measured
//! through the real `auditrail serve` with one durable store destination: the chain
//! with per-batch seals and Merkle tree heads (the default), the same without the
//! Merkle tree, the chain with periodic checkpoints only, and no chain, in alternating
//! rounds of the same script (so drift in the machine's load
//! hits every side alike), driven by the load generator over loopback.

use std::process::Command;

const ROUNDS: usize = 3;
const SECONDS: &str = "8";

/// What the store does besides writing records.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// Chain, Merkle tree, and a signed log line (with the tree head) before every
    /// acknowledgement (the default).
    Merkle,
    /// Chain and per-batch seals, without the Merkle tree.
    Sealed,
    /// Chain, signed checkpoints by count and time only.
    Chained,
    /// Neither (the baseline).
    Off,
}

impl Evidence {
    const ALL: [Evidence; 4] = [
        Evidence::Merkle,
        Evidence::Sealed,
        Evidence::Chained,
        Evidence::Off,
    ];

    fn name(self) -> &'static str {
        match self {
            Evidence::Merkle => "chain + per-batch seals + Merkle heads (default)",
            Evidence::Sealed => "chain + per-batch seals, no Merkle tree",
            Evidence::Chained => "chain + periodic checkpoints only",
            Evidence::Off => "no chain (baseline)",
        }
    }

    fn config(self) -> &'static str {
        match self {
            Evidence::Merkle => "[[destinations]]\ntype = \"store\"\npath = \"store\"\n",
            Evidence::Sealed => {
                "[[destinations]]\ntype = \"store\"\npath = \"store\"\nmerkle = false\n"
            }
            Evidence::Chained => {
                "[checkpoints]\nseal_every_batch = false\n\
                 [[destinations]]\ntype = \"store\"\npath = \"store\"\nmerkle = false\n"
            }
            Evidence::Off => {
                "[[destinations]]\ntype = \"store\"\npath = \"store\"\nchain = false\n"
            }
        }
    }
}

/// Builds the release binaries, then runs the rounds and prints the ratios.
pub(crate) fn run() -> Result<(), String> {
    let release = crate::serve::build_release(&["auditrail-loadgen"])?;
    let mut results: Vec<(Evidence, f64)> = Vec::new();
    for round in 0..ROUNDS {
        for evidence in Evidence::ALL {
            let events = one_run(&release, evidence)?;
            eprintln!(
                "xtask: round {} {}: {events:.0} events/s",
                round + 1,
                evidence.name()
            );
            results.push((evidence, events));
        }
    }
    let mean = |e: Evidence| {
        let v: Vec<f64> = results.iter().filter(|r| r.0 == e).map(|r| r.1).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let off = mean(Evidence::Off);
    println!("| store | durable events/s (mean of {ROUNDS} rounds of {SECONDS} s) | vs no chain |");
    println!("|---|---|---|");
    for e in Evidence::ALL {
        let m = mean(e);
        println!(
            "| {} | {m:.0} | {:.3} ({:+.1} %) |",
            e.name(),
            m / off,
            (m / off - 1.0) * 100.0
        );
    }
    let (merkle, sealed, chained) = (
        mean(Evidence::Merkle),
        mean(Evidence::Sealed),
        mean(Evidence::Chained),
    );
    println!(
        "\nMerkle heads vs seals without them: {:.3} ({:+.1} %)",
        merkle / sealed,
        (merkle / sealed - 1.0) * 100.0
    );
    println!(
        "\nseals vs periodic checkpoints only: {:.3} ({:+.1} %)",
        sealed / chained,
        (sealed / chained - 1.0) * 100.0
    );
    Ok(())
}

fn one_run(release: &std::path::Path, evidence: Evidence) -> Result<f64, String> {
    let dir = std::env::temp_dir().join(format!(
        "auditrail-chain-bench-{}-{}",
        std::process::id(),
        evidence as u8
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("server.toml");
    std::fs::write(&config, evidence.config()).map_err(|e| e.to_string())?;
    let server = crate::serve::start(release, Some(&config), &dir.join("data"), &[])?;
    let out = Command::new(release.join("examples/auditrail-loadgen"))
        .args([
            "--url",
            &server.url,
            "--connections",
            "8",
            "--seconds",
            SECONDS,
            // As nodes do: the server signs every answer for its nonce.
            "--nonce",
        ])
        .output()
        .map_err(|e| format!("cannot run the load generator: {e}"))?;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    crate::serve::loadgen_events_per_s(&text)
        .ok_or_else(|| format!("no result in the load generator's output:\n{text}"))
}
