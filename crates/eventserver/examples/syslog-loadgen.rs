//! Plain-TCP syslog load generator: the rsyslog side of `cargo xtask bench peers`.
//!
//! Sends exactly `--events` RFC 5424 messages of about `--event-bytes` bytes each (the
//! same event JSON as `auditrail-loadgen`, as the message's MSG part) over
//! `--connections` TCP connections, each on its own thread, then half-closes every
//! connection and waits until the server closes it too (so the server has read
//! everything). Framing per RFC 6587: octet counting (3.4.1, `--framing octet-counting`,
//! the default) or a trailing LF (3.4.2, `--framing lf`).
//!
//! Syslog over plain TCP has no acknowledgement: "sent" here means handed to the kernel
//! and read by the server, not stored. The bench counts what the server wrote to disk.
//!
//! ```text
//! cargo run --release -p auditrail-eventserver --example syslog-loadgen -- \
//!     --addr 127.0.0.1:5514 --connections 8 --events 2000000 --event-bytes 300
//! ```
//!
//! Std threads and blocking sockets on purpose: there is one stream per connection and
//! nothing to wait for but the socket, so an async runtime would add nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};

#[path = "common/event.rs"]
mod event;

/// PRI of every message: facility 13 ("log audit", RFC 5424 table 1) × 8 + severity 6
/// (informational).
const PRI: u8 = 13 * 8 + 6;

#[derive(Clone, Copy, ValueEnum)]
enum Framing {
    /// `MSG-LEN SP SYSLOG-MSG` (RFC 6587 3.4.1).
    OctetCounting,
    /// `SYSLOG-MSG LF` (RFC 6587 3.4.2).
    Lf,
}

#[derive(Parser)]
#[command(about = "plain-TCP syslog load generator (RFC 5424 messages, RFC 6587 framing)")]
struct Args {
    /// Server address (host:port).
    #[arg(long)]
    addr: SocketAddr,
    /// Concurrent connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Messages to send in all, split over the connections.
    #[arg(long)]
    events: u64,
    /// Approximate size of one syslog message (header and MSG, without framing).
    #[arg(long, default_value_t = 300)]
    event_bytes: usize,
    /// Message framing.
    #[arg(long, value_enum, default_value = "octet-counting")]
    framing: Framing,
}

fn main() {
    let args = Args::parse();
    let started = Instant::now();
    let threads: Vec<_> = (0..args.connections)
        .map(|c| {
            let n = args.connections as u64;
            let share = args.events / n + u64::from((c as u64) < args.events % n);
            let (addr, size, framing) = (args.addr, args.event_bytes, args.framing);
            std::thread::spawn(move || send(addr, c as u64, share, size, framing))
        })
        .collect();
    let bytes: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let secs = started.elapsed().as_secs_f64();
    println!("| connections | events | bytes | seconds | events/s sent | MB/s sent |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {bytes} | {secs:.2} | {:.0} | {:.1} |",
        args.connections,
        args.events,
        args.events as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}

/// Sends `events` messages on one connection; returns the bytes sent.
fn send(addr: SocketAddr, conn: u64, events: u64, size: usize, framing: Framing) -> u64 {
    let stream =
        TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    let mut out = BufWriter::with_capacity(256 * 1024, &stream);
    let node = format!("syslog-loadgen-{}-{conn}", std::process::id());
    let header = format!("<{PRI}>1 2026-11-25T16:55:49.123Z {node} auditrail-bench - audit - ");
    let mut msg = Vec::with_capacity(size + 16);
    let mut sent = 0u64;
    for seq in 1..=events {
        msg.clear();
        msg.extend_from_slice(header.as_bytes());
        event::write_event_json(
            &mut msg,
            &node,
            conn,
            seq,
            size.saturating_sub(header.len()),
        );
        let written = match framing {
            Framing::OctetCounting => {
                write!(out, "{} ", msg.len()).unwrap();
                out.write_all(&msg).unwrap();
                let digits = msg.len().checked_ilog10().unwrap_or(0) as usize + 1;
                digits + 1 + msg.len()
            }
            Framing::Lf => {
                out.write_all(&msg).unwrap();
                out.write_all(b"\n").unwrap();
                msg.len() + 1
            }
        };
        sent += written as u64;
    }
    out.flush()
        .unwrap_or_else(|e| panic!("sending to {addr}: {e}"));
    drop(out);
    // Half-close, then wait for the server's close: it has read everything by then.
    stream.shutdown(Shutdown::Write).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let _ = (&stream).read_to_end(&mut Vec::new());
    sent
}
