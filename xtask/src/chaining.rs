//! `cargo xtask bench chaining`: what the hash chain costs on durable ingest, measured
//! through the real `auditrail serve` with one durable store destination, chain on and
//! chain off, in alternating rounds of the same script (so drift in the machine's load
//! hits both sides alike), driven by the load generator over loopback.

use std::process::Command;

const ROUNDS: usize = 3;
const SECONDS: &str = "8";

/// Builds the release binaries, then runs the rounds and prints the ratio.
pub(crate) fn run() -> Result<(), String> {
    let release = crate::serve::build_release(&["auditrail-loadgen"])?;
    let mut results: Vec<(bool, f64)> = Vec::new();
    for round in 0..ROUNDS {
        for chain in [true, false] {
            let events = one_run(&release, chain)?;
            eprintln!(
                "xtask: round {} chain {}: {events:.0} events/s",
                round + 1,
                if chain { "on" } else { "off" }
            );
            results.push((chain, events));
        }
    }
    let mean = |on: bool| {
        let v: Vec<f64> = results.iter().filter(|r| r.0 == on).map(|r| r.1).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (on, off) = (mean(true), mean(false));
    println!("| store | durable events/s (mean of {ROUNDS} rounds of {SECONDS} s) |");
    println!("|---|---|");
    println!("| chain on | {on:.0} |");
    println!("| chain off (baseline) | {off:.0} |");
    println!(
        "| chain on / off | {:.3} (chaining costs {:.1} %) |",
        on / off,
        (1.0 - on / off) * 100.0
    );
    Ok(())
}

fn one_run(release: &std::path::Path, chain: bool) -> Result<f64, String> {
    let dir = std::env::temp_dir().join(format!(
        "auditrail-chain-bench-{}-{chain}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!("[[destinations]]\ntype = \"store\"\npath = \"store\"\nchain = {chain}\n"),
    )
    .map_err(|e| e.to_string())?;
    let server = crate::serve::start(release, Some(&config), &dir.join("data"), &[])?;
    let out = Command::new(release.join("examples/auditrail-loadgen"))
        .args([
            "--url",
            &server.url,
            "--connections",
            "8",
            "--seconds",
            SECONDS,
        ])
        .output()
        .map_err(|e| format!("cannot run the load generator: {e}"))?;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    crate::serve::loadgen_events_per_s(&text)
        .ok_or_else(|| format!("no result in the load generator's output:\n{text}"))
}
