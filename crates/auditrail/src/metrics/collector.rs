//! The node's counters as Prometheus metric families, read from the dispatcher at
//! scrape time.
//!
//! A [`Collector`] rather than registered counters: the dispatcher already keeps its
//! counters (atomics in core, which has no metrics dependency), so copying them into a
//! second set of counters would only add a place where the two can disagree.
//!
//! Names follow the Prometheus naming guideline
//! (<https://prometheus.io/docs/practices/naming/>): the `auditrail_node_` prefix, base
//! units in the name (`_seconds`, `_bytes`), `_total` on counters (added by the
//! encoder). `docs/configuration.md` lists every family.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

use auditrail_core::{ForwardingStats, StatsReader, TargetStats};

/// Encodes a [`StatsReader`]'s counters on every scrape.
#[derive(Debug)]
pub(crate) struct NodeCollector {
    reader: StatsReader,
}

impl NodeCollector {
    pub(crate) fn new(reader: StatsReader) -> NodeCollector {
        NodeCollector { reader }
    }
}

/// How a family reads its value from one target's counters.
enum Value {
    Counter(fn(&TargetStats) -> u64),
    Gauge(fn(&TargetStats) -> u64),
    GaugeSeconds(fn(&TargetStats) -> f64),
}

/// One per-target family: name (without `_total` or the unit), help, unit, value.
struct Family {
    name: &'static str,
    help: &'static str,
    unit: Option<Unit>,
    value: Value,
}

/// Families every target has.
fn target_families() -> [Family; 9] {
    [
        Family {
            name: "auditrail_node_target_events_accepted",
            help:
                "Events this target's filter accepted (queued, or dropped by on_full = \"drop\").",
            unit: None,
            value: Value::Counter(|t| t.accepted),
        },
        Family {
            name: "auditrail_node_target_events_delivered",
            help: "Events the target took durably (for a forwarding target: into its spool).",
            unit: None,
            value: Value::Counter(|t| t.delivered),
        },
        Family {
            name: "auditrail_node_target_events_not_durable",
            help: "Of delivered, the events the target's destination answered taken but not on \
                   its stable storage (an event server's durable: false to a target with \
                   spool = false).",
            unit: None,
            value: Value::Counter(|t| t.not_durable),
        },
        Family {
            name: "auditrail_node_target_events_retried",
            help:
                "Events sent to the target again after a retryable error (one per event per retry).",
            unit: None,
            value: Value::Counter(|t| t.retried),
        },
        Family {
            name: "auditrail_node_target_panics",
            help: "Calls of the target (send, flush, shutdown) that panicked (caught; a send is \
                   retried with backoff).",
            unit: None,
            value: Value::Counter(|t| t.panicked),
        },
        Family {
            name: "auditrail_node_target_events_dead_lettered",
            help: "Events written to the target's dead-letter file.",
            unit: None,
            value: Value::Counter(|t| t.dead_lettered),
        },
        Family {
            name: "auditrail_node_target_events_handed_back",
            help: "Events the target could not take now (a cause an operator can fix), handed \
                   back to the acknowledged emit waiting for them instead of dead-lettered.",
            unit: None,
            value: Value::Counter(|t| t.handed_back),
        },
        Family {
            name: "auditrail_node_target_queue_depth",
            help: "Events accepted and not yet delivered or dead-lettered.",
            unit: None,
            value: Value::Gauge(|t| t.queue_depth),
        },
        Family {
            name: "auditrail_node_target_oldest_undelivered_age",
            help: "Age of the oldest event the target's worker holds undelivered (0 when idle).",
            unit: Some(Unit::Seconds),
            value: Value::GaugeSeconds(|t| {
                t.oldest_undelivered_age.map_or(0.0, |d| d.as_secs_f64())
            }),
        },
    ]
}

/// Families of a target that forwards from a store of its own (the eventserver
/// target's spool); only such targets get a sample.
fn forwarding_families() -> [Family; 11] {
    fn f(t: &TargetStats) -> ForwardingStats {
        t.forwarding.clone().unwrap_or_default()
    }
    [
        Family {
            name: "auditrail_node_target_spool_pending_events",
            help: "Events in the target's spool that the final destination has not confirmed.",
            unit: None,
            value: Value::Gauge(|t| f(t).pending_events),
        },
        Family {
            name: "auditrail_node_target_spool",
            help: "Size of the target's spool files.",
            unit: Some(Unit::Bytes),
            value: Value::Gauge(|t| f(t).pending_bytes),
        },
        Family {
            name: "auditrail_node_target_events_forwarded",
            help: "Events the final destination confirmed (stored or already stored).",
            unit: None,
            value: Value::Counter(|t| f(t).forwarded),
        },
        Family {
            name: "auditrail_node_target_events_forwarded_not_durable",
            help: "Events the final destination confirmed without having them on its stable storage yet (an event server's durable: false).",
            unit: None,
            value: Value::Counter(|t| f(t).not_durable),
        },
        Family {
            name: "auditrail_node_target_forward_events_dead_lettered",
            help: "Events the final destination refused for good, written to the target's own dead-letter file.",
            unit: None,
            value: Value::Counter(|t| f(t).dead_lettered),
        },
        Family {
            name: "auditrail_node_target_forward_retries",
            help: "Forwarding requests that failed retryably and were made again.",
            unit: None,
            value: Value::Counter(|t| f(t).retries),
        },
        Family {
            name: "auditrail_node_target_spool_damaged_ranges",
            help: "Damaged byte ranges found in the spool (skipped; kept in side files).",
            unit: None,
            value: Value::Counter(|t| f(t).damaged_ranges),
        },
        Family {
            name: "auditrail_node_target_spool_damaged",
            help: "Bytes of the damaged ranges found in the spool.",
            unit: Some(Unit::Bytes),
            value: Value::Counter(|t| f(t).damaged_bytes),
        },
        Family {
            name: "auditrail_node_target_spool_lost_segments",
            help: "Spool segment files found deleted, moved, replaced or cut (truncated) by hand while holding events the final destination had not confirmed: those events are lost (see lost.jsonl, auditrail spool inspect).",
            unit: None,
            value: Value::Counter(|t| f(t).lost_segments),
        },
        Family {
            name: "auditrail_node_target_spool_lost_events",
            help: "Events lost with those segments, where known (a segment found missing at start counts in auditrail_node_target_spool_lost_segments_total only).",
            unit: None,
            value: Value::Counter(|t| f(t).lost_events),
        },
        Family {
            name: "auditrail_node_target_spool_lost",
            help: "Bytes of the events lost with those segments, where known.",
            unit: Some(Unit::Bytes),
            value: Value::Counter(|t| f(t).lost_bytes),
        },
    ]
}

impl Collector for NodeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        let stats = self.reader.snapshot();

        let info = ConstGauge::new(1i64);
        let mut m = encoder.encode_descriptor(
            "auditrail_node_info",
            "The node id (value always 1).",
            None,
            info.metric_type(),
        )?;
        info.encode(m.encode_family(&[("node", stats.node.as_str())])?)?;

        let unrouted = ConstCounter::new(stats.unrouted);
        let m = encoder.encode_descriptor(
            "auditrail_node_events_unrouted",
            "Events that no target's filter accepted.",
            None,
            unrouted.metric_type(),
        )?;
        unrouted.encode(m)?;

        let all: Vec<&TargetStats> = stats.targets.iter().collect();
        for family in target_families() {
            encode_family(&mut encoder, &family, &all)?;
        }

        let dropped = ConstCounter::new(0u64);
        let mut m = encoder.encode_descriptor(
            "auditrail_node_target_events_dropped",
            "Events given up without a dead-letter line, by reason: queue_full (on_full = \
             \"drop\" and the queue was full), dead_letter_failed (the dead-letter file could \
             not be written; their ids are logged at error level).",
            None,
            dropped.metric_type(),
        )?;
        for t in &stats.targets {
            for (reason, n) in [
                ("queue_full", t.dropped_queue_full),
                ("dead_letter_failed", t.lost),
            ] {
                let labels = [
                    ("target", t.name.as_str()),
                    ("target_type", t.type_name.as_str()),
                    ("reason", reason),
                ];
                ConstCounter::new(n).encode(m.encode_family(&labels)?)?;
            }
        }

        let forwarding: Vec<&TargetStats> = stats
            .targets
            .iter()
            .filter(|t| t.forwarding.is_some())
            .collect();
        if !forwarding.is_empty() {
            for family in forwarding_families() {
                encode_family(&mut encoder, &family, &forwarding)?;
            }
        }
        Ok(())
    }
}

/// One family with a sample per target, labelled `target` and `target_type`.
fn encode_family(
    encoder: &mut DescriptorEncoder<'_>,
    family: &Family,
    targets: &[&TargetStats],
) -> std::fmt::Result {
    let metric_type = match family.value {
        Value::Counter(_) => ConstCounter::new(0u64).metric_type(),
        Value::Gauge(_) | Value::GaugeSeconds(_) => ConstGauge::new(0i64).metric_type(),
    };
    let mut m =
        encoder.encode_descriptor(family.name, family.help, family.unit.as_ref(), metric_type)?;
    for t in targets {
        let labels = [
            ("target", t.name.as_str()),
            ("target_type", t.type_name.as_str()),
        ];
        let sample = m.encode_family(&labels)?;
        match family.value {
            Value::Counter(read) => ConstCounter::new(read(t)).encode(sample)?,
            Value::Gauge(read) => ConstGauge::new(read(t)).encode(sample)?,
            Value::GaugeSeconds(read) => ConstGauge::new(read(t)).encode(sample)?,
        }
    }
    Ok(())
}
