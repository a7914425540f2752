//! `max_connections_per_client`: connections one client address may hold open at once.
//!
//! `max_connections` bounds every connection together; beyond it new ones wait in the
//! listen backlog. One client holding idle connections up to that bound (no key is
//! needed to open one) kept every node's connection waiting there until one of them
//! timed out (`header_read_timeout_ms`). With this bound a client's connection beyond
//! its share is closed at once after `accept`, before anything of it is read, so the
//! others still get a place. Unset by default: clients behind a reverse proxy or a NAT
//! share one address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

/// The open connections of each client address, bounded.
#[derive(Debug)]
pub(crate) struct PerClient {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
    /// Connections closed for the bound since the last warning.
    closed: AtomicU64,
    /// When the last warning was logged.
    warned: Mutex<Option<Instant>>,
    /// `auditrail_server_connections_refused_total{reason="max_connections_per_client"}`:
    /// every connection closed for the bound (the warning says them only every 10 s).
    refusals: Counter,
}

/// A warning at most this often: a client retrying in a loop must not flood the log.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// One connection's place in its address's count, given back when dropped.
#[derive(Debug)]
pub(crate) struct ClientSlot {
    of: Arc<PerClient>,
    addr: IpAddr,
}

impl PerClient {
    /// At most `max` connections per client address; each connection closed for it
    /// counted in `refusals`.
    pub(crate) fn new(max: usize, refusals: Counter) -> Arc<PerClient> {
        Arc::new(PerClient {
            max,
            open: Mutex::new(HashMap::new()),
            closed: AtomicU64::new(0),
            warned: Mutex::new(None),
            refusals,
        })
    }

    /// The metric's `reason` for connections this bound closes.
    pub(crate) const REASON: &'static str = "max_connections_per_client";

    /// A place for a connection from `addr`, or `None` when it holds `max` already
    /// (the connection is then closed; said in a warning at most every 10 s).
    pub(crate) fn take(self: &Arc<Self>, addr: IpAddr) -> Option<ClientSlot> {
        // An IPv4 client reaching an IPv6 listener is the same client.
        let addr = addr.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(addr).or_insert(0);
        if *n >= self.max {
            drop(open);
            self.refused(addr);
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            of: self.clone(),
            addr,
        })
    }

    fn refused(&self, addr: IpAddr) {
        self.refusals.inc();
        let closed = self.closed.fetch_add(1, Ordering::Relaxed) + 1;
        let mut warned = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if warned.is_some_and(|at| now.duration_since(at) < WARN_EVERY) {
            return;
        }
        *warned = Some(now);
        self.closed.store(0, Ordering::Relaxed);
        tracing::warn!(
            client = %addr,
            max_connections_per_client = self.max,
            closed,
            "a client holding max_connections_per_client connections opened another: closed at once ({closed} such connection(s) closed since the last warning, from any client)"
        );
    }

    /// Connections open from `addr` now.
    #[cfg(test)]
    fn open_from(&self, addr: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&addr.to_canonical()).copied().unwrap_or(0)
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.of.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                // Forgotten: the table holds only addresses with a connection open.
                open.remove(&self.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_max_and_gets_a_place_back_when_one_closes() {
        let refusals = Counter::default();
        let per = PerClient::new(2, refusals.clone());
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let one = per.take(a).unwrap();
        let _two = per.take(a).unwrap();
        assert!(per.take(a).is_none());
        // As an IPv6-mapped address: the same client.
        assert!(per.take("::ffff:127.0.0.1".parse().unwrap()).is_none());
        assert!(per.take(b).is_some());
        assert_eq!(refusals.get(), 2);
        drop(one);
        assert_eq!(per.open_from(a), 1);
        assert!(per.take(a).is_some());
    }
}
