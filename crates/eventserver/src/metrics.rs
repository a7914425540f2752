//! Counters for `GET /metrics`, rendered in the Prometheus text format.
//!
//! Written by hand on purpose: the exposition format is a few lines of text, and most
//! values are read at scrape time from other parts (dispatcher stats, store, disk), so a
//! metrics registry would only add copies of them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// Server counters (atomics; any thread).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Requests by path and status.
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Events newly stored.
    pub accepted: AtomicU64,
    /// Events answered as duplicates.
    pub duplicates: AtomicU64,
    /// Events refused because no destination takes them.
    pub unrouted: AtomicU64,
    /// Requests rejected, by reason (the `error` code of the answer).
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Ingest latency histogram (seconds): bucket counts, sum, count.
    latency: Mutex<Histogram>,
}

#[derive(Debug)]
struct Histogram {
    buckets: Vec<(f64, u64)>,
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]
            .iter()
            .map(|b| (*b, 0))
            .collect(),
            sum: 0.0,
            count: 0,
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub(crate) fn request(&self, path: &'static str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((path, status)).or_default() += 1;
        }
    }

    /// Counts one rejected request.
    pub(crate) fn rejected(&self, reason: &'static str) {
        if let Ok(mut m) = self.rejected.lock() {
            *m.entry(reason).or_default() += 1;
        }
    }

    /// Records the latency of one successful ingest request.
    pub(crate) fn ingest_latency(&self, d: Duration) {
        if let Ok(mut h) = self.latency.lock() {
            let s = d.as_secs_f64();
            for (bound, n) in h.buckets.iter_mut() {
                if s <= *bound {
                    *n += 1;
                }
            }
            h.sum += s;
            h.count += 1;
        }
    }

    /// Renders the server's own counters.
    pub(crate) fn render(&self, out: &mut String) {
        header(
            out,
            "auditrail_server_requests_total",
            "counter",
            "HTTP requests answered, by path and status.",
        );
        if let Ok(m) = self.requests.lock() {
            for ((path, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "auditrail_server_requests_total{{path=\"{path}\",status=\"{status}\"}} {n}"
                );
            }
        }
        header(
            out,
            "auditrail_server_events_accepted_total",
            "counter",
            "Events newly stored (acknowledged by every destination).",
        );
        let _ = writeln!(
            out,
            "auditrail_server_events_accepted_total {}",
            self.accepted.load(Relaxed)
        );
        header(
            out,
            "auditrail_server_events_duplicate_total",
            "counter",
            "Events received again after they were stored.",
        );
        let _ = writeln!(
            out,
            "auditrail_server_events_duplicate_total {}",
            self.duplicates.load(Relaxed)
        );
        header(
            out,
            "auditrail_server_events_unrouted_total",
            "counter",
            "Events refused because no destination's filter takes them (422 unrouted).",
        );
        let _ = writeln!(
            out,
            "auditrail_server_events_unrouted_total {}",
            self.unrouted.load(Relaxed)
        );
        header(
            out,
            "auditrail_server_requests_rejected_total",
            "counter",
            "Ingest requests refused, by reason.",
        );
        if let Ok(m) = self.rejected.lock() {
            for (reason, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "auditrail_server_requests_rejected_total{{reason=\"{reason}\"}} {n}"
                );
            }
        }
        header(
            out,
            "auditrail_server_ingest_seconds",
            "histogram",
            "Time from request to durable answer, successful batches.",
        );
        if let Ok(h) = self.latency.lock() {
            for (bound, n) in &h.buckets {
                let _ = writeln!(
                    out,
                    "auditrail_server_ingest_seconds_bucket{{le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "auditrail_server_ingest_seconds_bucket{{le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "auditrail_server_ingest_seconds_sum {}", h.sum);
            let _ = writeln!(out, "auditrail_server_ingest_seconds_count {}", h.count);
        }
    }
}

/// Writes `# HELP` and `# TYPE` lines.
pub(crate) fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value.
pub(crate) fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
