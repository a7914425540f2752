//! A storing server's `/metrics`, read with a plain HTTP/1.1 GET over std's TcpStream
//! (xtask stays std only), and the Kafka source's series in it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// What the bench reads from one server's `/metrics`, summed over its sources.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Source {
    /// `auditrail_kafka_source_partitions_assigned`.
    pub assigned: u64,
    /// `auditrail_kafka_source_events_stored_total`.
    pub stored: u64,
    /// `auditrail_kafka_source_events_duplicate_total`.
    pub duplicates: u64,
    /// `auditrail_kafka_source_invalid_total`.
    pub invalid: u64,
    /// `auditrail_kafka_source_fenced_batches_total`.
    pub fenced: u64,
    /// `auditrail_kafka_source_store_failures_total`.
    pub store_failures: u64,
    /// `auditrail_kafka_source_rebalances_total`.
    pub rebalances: u64,
}

/// Scrapes `url` (`http://127.0.0.1:PORT`, as the server printed it).
pub(super) fn scrape(url: &str) -> Result<Source, String> {
    let body = get(url, "/metrics")?;
    Ok(parse(&body))
}

/// `partition=lag` for every partition of the server at `url` whose
/// `auditrail_kafka_consumer_lag` is not 0 (what a stalled round shows).
pub(super) fn lagging(url: &str) -> Result<Vec<String>, String> {
    let body = get(url, "/metrics")?;
    Ok(lags(&body))
}

fn lags(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("auditrail_kafka_consumer_lag{"))
        .filter_map(|l| {
            let (labels, value) = l.rsplit_once(' ')?;
            let partition = labels
                .split(',')
                .find_map(|kv| kv.trim().strip_prefix("partition=\""))?
                .trim_end_matches(['"', '}']);
            (value.trim() != "0").then(|| format!("p{partition}={}", value.trim()))
        })
        .collect()
}

/// The Kafka source's series in a Prometheus text exposition.
pub(super) fn parse(text: &str) -> Source {
    Source {
        assigned: sum(text, "auditrail_kafka_source_partitions_assigned"),
        stored: sum(text, "auditrail_kafka_source_events_stored_total"),
        duplicates: sum(text, "auditrail_kafka_source_events_duplicate_total"),
        invalid: sum(text, "auditrail_kafka_source_invalid_total"),
        fenced: sum(text, "auditrail_kafka_source_fenced_batches_total"),
        store_failures: sum(text, "auditrail_kafka_source_store_failures_total"),
        rebalances: sum(text, "auditrail_kafka_source_rebalances_total"),
    }
}

/// The sum of every sample of the metric `name` (any labels).
fn sum(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v.max(0.0) as u64)
        .sum()
}

/// The body of `GET path` on the server at `url`, which must answer 200.
fn get(url: &str, path: &str) -> Result<String, String> {
    let addr = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: not an http:// URL"))?
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connecting to {addr}: {e}"))?;
    let timeout = Some(Duration::from_secs(10));
    let _ = stream.set_read_timeout(timeout);
    let _ = stream.set_write_timeout(timeout);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("GET {url}{path}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("GET {url}{path}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("GET {url}{path}: no complete answer"))?;
    let status = head.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("GET {url}{path}: {status}"));
    }
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        dechunk(body).ok_or_else(|| format!("GET {url}{path}: bad chunked body"))
    } else {
        Ok(body.to_owned())
    }
}

/// A chunked transfer-coded body, decoded (RFC 9112 7.1; extensions and trailers
/// ignored).
fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size_line, rest) = body.split_once("\r\n")?;
        let size_text = size_line.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_series_are_summed_over_labels_and_other_names_are_ignored() {
        let text = "# HELP auditrail_kafka_source_events_stored Events newly stored\n\
            # TYPE auditrail_kafka_source_events_stored counter\n\
            auditrail_kafka_source_events_stored_total{source=\"kafka\"} 1200\n\
            auditrail_kafka_source_events_stored_total{source=\"kafka-2\"} 34\n\
            auditrail_kafka_source_events_stored_total_bogus{source=\"kafka\"} 5\n\
            auditrail_kafka_source_partitions_assigned{source=\"kafka\"} 3\n\
            auditrail_kafka_source_rebalances_total{source=\"kafka\"} 2\n\
            auditrail_kafka_consumer_lag{source=\"kafka\",topic=\"t\",partition=\"0\"} 99\n";
        let s = parse(text);
        assert_eq!(
            s,
            Source {
                assigned: 3,
                stored: 1234,
                rebalances: 2,
                ..Source::default()
            }
        );
        let lag =
            "auditrail_kafka_consumer_lag{source=\"kafka\",topic=\"t\",partition=\"4\"} 328\n\
            auditrail_kafka_consumer_lag{source=\"kafka\",topic=\"t\",partition=\"5\"} 0\n";
        assert_eq!(lags(&format!("{text}{lag}")), ["p0=99", "p4=328"]);
    }

    #[test]
    fn a_chunked_body_is_joined() {
        let body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
        assert_eq!(dechunk(body).as_deref(), Some("hello, world"));
        assert_eq!(dechunk("5\r\nhel"), None);
    }
}
