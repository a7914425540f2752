//! `GET /metrics`: the server's own counters (requests, rejections, ingest latency)
//! plus everything `/v1/stats` shows, encoded by prometheus-client.
//!
//! The library, not hand-written text: the node's endpoint already uses it
//! (`crates/auditrail/src/metrics`), it owns the escaping, the `_total` and unit
//! suffixes and both text formats, and its [`Collector`] reads values at scrape time,
//! so the numbers kept elsewhere (dispatcher, de-duplication, stores) are not copied
//! into a second set of counters. A scrape builds a small registry over one
//! [`Snapshot`](crate::snapshot::Snapshot), the same document `/v1/stats` answers with,
//! so the two endpoints cannot disagree on what they both show.
//!
//! Names follow <https://prometheus.io/docs/practices/naming/>: the `auditrail_server_`
//! prefix, base units in the name (`_seconds`, `_bytes`), `_total` only on counters.
//! `docs/protocol.md` lists every family.
//!
//! [`Collector`]: prometheus_client::collector::Collector

mod collector;

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

pub(crate) use collector::{Gauges, ServerCollector};

/// `path` and `status` of an answered request.
type RequestLabels = [(&'static str, String); 2];
/// `reason` of a refused request (the `error` code of the answer).
type ReasonLabels = [(&'static str, &'static str); 1];
/// `destination`: a `[[destinations]]` entry's name (a bounded set: the config's).
type DestinationLabels = [(&'static str, String); 1];

/// Upper bounds of the ingest latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The server's own counters (atomics inside; any thread). Clones share the values.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    /// Requests by path and status.
    requests: Family<RequestLabels, Counter>,
    /// Events newly stored.
    pub(crate) accepted: Counter,
    /// Events answered as duplicates.
    pub(crate) duplicates: Counter,
    /// Events refused because no destination takes them.
    pub(crate) unrouted: Counter,
    /// Retried events (duplicates) sent again to a destination that could not show it
    /// holds them, by the destination that took them (`http/sent_again.rs`).
    sent_again: Family<DestinationLabels, Counter>,
    /// Requests rejected, by reason.
    rejected: Family<ReasonLabels, Counter>,
    /// Ingest latency of successful batches, request to durable answer.
    latency: Histogram,
    /// Connections closed at once after `accept`, by reason (a bound of the config's:
    /// `max_connections_per_client`). Not by client: an address per series would grow
    /// with every client (or scanner) that ever hit the bound; the log names them.
    connections_refused: Family<ReasonLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::default(),
            accepted: Counter::default(),
            duplicates: Counter::default(),
            unrouted: Counter::default(),
            sent_again: Family::default(),
            rejected: Family::default(),
            latency: Histogram::new(LATENCY_BUCKETS),
            connections_refused: Family::default(),
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub(crate) fn request(&self, path: &'static str, status: u16) {
        self.requests
            .get_or_create(&[("path", path.to_owned()), ("status", status.to_string())])
            .inc();
    }

    /// Counts `n` retried events that `destination` took again (sent again).
    pub(crate) fn sent_again(&self, destination: &str, n: u64) {
        self.sent_again
            .get_or_create(&[("destination", destination.to_owned())])
            .inc_by(n);
    }

    /// Counts one rejected request.
    pub(crate) fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&[("reason", reason)]).inc();
    }

    /// The counter of connections closed at once for `reason` (the config key whose
    /// bound closed them), for the accept loop to count each in.
    pub(crate) fn connections_refused(&self, reason: &'static str) -> Counter {
        self.connections_refused
            .get_or_create(&[("reason", reason)])
            .clone()
    }

    /// Records the latency of one successful ingest request.
    pub(crate) fn ingest_latency(&self, d: Duration) {
        self.latency.observe(d.as_secs_f64());
    }

    /// A registry for one scrape: these counters, then `collector`'s families.
    pub(crate) fn registry(&self, collector: ServerCollector) -> Registry {
        let mut r = Registry::default();
        // `register` appends the `_total` suffix of counters and a final period to
        // the help text.
        r.register(
            "auditrail_server_requests",
            "HTTP requests answered, by path and status",
            self.requests.clone(),
        );
        r.register(
            "auditrail_server_events_accepted",
            "Events newly stored (acknowledged by every destination that takes them); \
             /v1/stats accepted",
            self.accepted.clone(),
        );
        r.register(
            "auditrail_server_events_duplicate",
            "Events received again after they were stored; /v1/stats duplicates",
            self.duplicates.clone(),
        );
        r.register(
            "auditrail_server_events_unrouted",
            "Events refused because no destination's filter takes them (422 unrouted); \
             /v1/stats unrouted",
            self.unrouted.clone(),
        );
        r.register(
            "auditrail_server_events_sent_again",
            "Retried events (answered accepted, counted among duplicates in /v1/stats) sent \
             again to a destination that could not show it holds them: a file, kafka or \
             forwarding eventserver destination, or a required_key store without their \
             record; by the destination that took them",
            self.sent_again.clone(),
        );
        r.register(
            "auditrail_server_requests_rejected",
            "Ingest requests refused, by reason (the error code of the answer)",
            self.rejected.clone(),
        );
        r.register(
            "auditrail_server_connections_refused",
            "Connections closed at once after accept, before anything of them was read, by \
             reason: max_connections_per_client (the client's address held that many \
             already; the log names the address)",
            self.connections_refused.clone(),
        );
        r.register_with_unit(
            "auditrail_server_ingest",
            "Time from request to durable answer, successful batches",
            Unit::Seconds,
            self.latency.clone(),
        );
        r.register_collector(Box::new(collector));
        r
    }
}
