//! Routes: the dispatcher's targets by index, the set of routes whose filter accepts
//! an event, and an event routed once ahead of an emit.

use std::sync::Arc;

use crate::event::Event;
use crate::filter::Filter;

/// One route of a dispatcher: a target and its filter, at its index in configuration
/// order (the order of [`DispatcherBuilder::target`](super::DispatcherBuilder::target)
/// calls, or of `[[targets]]` in a config file). Indices are what a [`RouteSet`] holds,
/// so a caller can keep its own per-target data in a list of the same order.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo<'a> {
    /// Position among the dispatcher's routes.
    pub index: usize,
    /// The target's instance name.
    pub name: &'a str,
    /// The target's type.
    pub type_name: &'a str,
    /// The target's filter.
    pub filter: &'a Filter,
}

/// A set of route indices (see [`RouteInfo`]): a bitmask for the first 64 routes, so
/// the common case allocates nothing, and a sorted list for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteSet {
    mask: u64,
    rest: Vec<usize>,
}

impl RouteSet {
    /// An empty set.
    pub fn new() -> RouteSet {
        RouteSet::default()
    }

    /// Adds route `i`.
    pub fn insert(&mut self, i: usize) {
        if i < 64 {
            self.mask |= 1 << i;
        } else if let Err(at) = self.rest.binary_search(&i) {
            self.rest.insert(at, i);
        }
    }

    /// Whether route `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        if i < 64 {
            self.mask & (1 << i) != 0
        } else {
            self.rest.binary_search(&i).is_ok()
        }
    }

    /// How many routes are in the set.
    pub fn len(&self) -> usize {
        self.mask.count_ones() as usize + self.rest.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.mask == 0 && self.rest.is_empty()
    }

    /// The route indices, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let mut mask = self.mask;
        std::iter::from_fn(move || {
            (mask != 0).then(|| {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                i
            })
        })
        .chain(self.rest.iter().copied())
    }
}

impl FromIterator<usize> for RouteSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        let mut set = RouteSet::new();
        for i in iter {
            set.insert(i);
        }
        set
    }
}

/// A complete event together with the routes whose filter accepts it, from
/// [`Dispatcher::route`](super::Dispatcher::route). Routing first lets a caller act on
/// the answer (refuse the batch, count, prepare receipts) before emitting with
/// [`Dispatcher::emit_routed_acked`](super::Dispatcher::emit_routed_acked), and every
/// filter still runs once per event. The event cannot be changed once routed, so the
/// routes stay true for it.
///
/// The event is behind an `Arc` from routing on: a batch's events move between the
/// caller's lists and into the targets' queues as pointers, not as ~150-byte values
/// (those copies were a few per cent of the event server's CPU, docs/benchmarks.md).
#[derive(Debug, Clone)]
pub struct Routed {
    pub(super) event: Arc<Event>,
    pub(super) routes: RouteSet,
    /// The dispatcher that routed it (a route index means nothing to another one).
    pub(super) dispatcher: u64,
}

impl Routed {
    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The routes whose filter accepts the event.
    pub fn routes(&self) -> &RouteSet {
        &self.routes
    }

    /// The same event routed to only those of its routes for which `keep` holds (the
    /// filters are not run again: a subset of the routes that accepted it stays true
    /// for it). The event is shared, not copied. The event server sends a retried event
    /// again to the destinations that cannot show they still hold it, and to those
    /// alone.
    pub fn narrowed(&self, mut keep: impl FnMut(usize) -> bool) -> Routed {
        Routed {
            event: self.event.clone(),
            routes: self.routes.iter().filter(|&i| keep(i)).collect(),
            dispatcher: self.dispatcher,
        }
    }

    /// The event, giving up the routing (a copy only if it is still shared).
    pub fn into_event(self) -> Event {
        Arc::unwrap_or_clone(self.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_small_and_large_indices_in_order() {
        let set: RouteSet = [70, 3, 64, 0, 3, 200].into_iter().collect();
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 3, 64, 70, 200]);
        assert_eq!(set.len(), 5);
        assert!(set.contains(64) && set.contains(3) && !set.contains(1) && !set.contains(65));
        assert!(RouteSet::new().is_empty());
    }

    #[test]
    fn narrowed_keeps_the_event_and_only_the_routes_asked_for() {
        let event = Arc::new(
            crate::EventDraft::new("generic", "narrowed")
                .complete(&crate::NodeId::new("n1").unwrap(), || 7)
                .unwrap(),
        );
        let routed = Routed {
            event: event.clone(),
            routes: [0, 2, 5, 70].into_iter().collect(),
            dispatcher: 3,
        };
        let narrowed = routed.narrowed(|r| r != 2 && r != 70);
        assert_eq!(narrowed.routes().iter().collect::<Vec<_>>(), [0, 5]);
        assert!(Arc::ptr_eq(&narrowed.event, &event), "shared, not copied");
        assert_eq!(narrowed.dispatcher, 3);
        assert!(routed.narrowed(|_| false).routes().is_empty());
    }
}
