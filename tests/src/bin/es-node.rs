//! `es-node`: a minimal audit-emitting node for the end-to-end tests of the
//! eventserver target. It builds a dispatcher from a node config (through the
//! `auditrail` facade, with the file and eventserver targets), emits `--count` events
//! in acknowledged chunks, and prints `acked <id> <i>` for each event once every
//! target took it (so a test knows exactly what was acknowledged before a `kill -9`).
//!
//! ```text
//! es-node --config node.toml --count 1000 [--start 0] [--chunk 50] [--pause-ms 0]
//!         [--routing-keys a,b] [--payload-bytes 100]
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use auditrail::{topics, EventDraft};

struct Args {
    config: PathBuf,
    count: u64,
    start: u64,
    chunk: u64,
    pause_ms: u64,
    routing_keys: Vec<String>,
    payload_bytes: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        config: PathBuf::new(),
        count: 0,
        start: 0,
        chunk: 50,
        pause_ms: 0,
        routing_keys: Vec::new(),
        payload_bytes: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--config" => a.config = PathBuf::from(&value),
            "--count" => a.count = num()?,
            "--start" => a.start = num()?,
            "--chunk" => a.chunk = num()?.max(1),
            "--pause-ms" => a.pause_ms = num()?,
            "--payload-bytes" => a.payload_bytes = num()? as usize,
            "--routing-keys" => {
                a.routing_keys = value.split(',').map(str::to_owned).collect();
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("es-node: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("es-node: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("es-node: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let (config, builder) =
        auditrail::dispatcher_builder_from_file(&args.config).map_err(|e| e.to_string())?;
    let dispatcher = builder
        .runtime(tokio::runtime::Handle::current())
        .build()
        .map_err(|e| e.to_string())?;
    let payload = "x".repeat(args.payload_bytes);
    let mut stdout = std::io::stdout();
    let mut i = args.start;
    let end = args.start + args.count;
    while i < end {
        let upto = (i + args.chunk).min(end);
        let mut tasks = Vec::new();
        for n in i..upto {
            let mut draft = EventDraft::new(topics::GENERIC, "e2e")
                .field("i", n)
                .field("payload", payload.as_str());
            if !args.routing_keys.is_empty() {
                let k = &args.routing_keys[(n as usize) % args.routing_keys.len()];
                draft = draft.routing_key(k.as_str());
            }
            let d = dispatcher.clone();
            tasks.push((n, tokio::spawn(async move { d.emit_acked(draft).await })));
        }
        let mut out = String::new();
        for (n, t) in tasks {
            match t.await {
                Ok(Ok(e)) => out.push_str(&format!("acked {} {n}\n", e.id)),
                Ok(Err(e)) => out.push_str(&format!("failed {n} {e}\n")),
                Err(e) => out.push_str(&format!("failed {n} {e}\n")),
            }
        }
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
        i = upto;
        if args.pause_ms > 0 {
            tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
        }
    }
    let _ = writeln!(stdout, "emitted");
    let _ = stdout.flush();
    let report = dispatcher
        .shutdown(Duration::from_secs(config.shutdown_timeout_s))
        .await;
    let _ = writeln!(stdout, "done clean={}", report.is_clean());
    Ok(())
}
