//! Where in a batch the events routed to one store are: what a refusal of the batch for
//! that store (`503 disk_full`, `503 store_held`) says, in the same words and with the
//! same `line`/`index`, so that a node reads both alike. `store_held` named only the
//! store once, with no position, while `disk_full` gave both.

use auditrail_core::Routed;

use super::error::Position;

/// The events of a batch routed to one destination: how many, and the first one's
/// position in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RoutedTo {
    pub(super) count: usize,
    pub(super) first: Position,
}

impl RoutedTo {
    /// The first event of `events` routed to one of `routes` (route indexes), the
    /// route it goes to and how many events go there: `None` when none is.
    /// `positions` is parallel to `events` (an index is given where it is not).
    pub(super) fn first_of(
        events: &[Routed],
        positions: &[Position],
        routes: &[usize],
    ) -> Option<(usize, RoutedTo)> {
        let (i, route) = events.iter().enumerate().find_map(|(i, e)| {
            routes
                .iter()
                .find(|r| e.routes().contains(**r))
                .map(|r| (i, *r))
        })?;
        let count = events.iter().filter(|e| e.routes().contains(route)).count();
        let first = positions.get(i).cloned().unwrap_or(Position::Index(i));
        Some((route, RoutedTo { count, first }))
    }

    /// The first of `refusing` (stores that refuse batches now, each with its route
    /// index `route`) that an event of the batch goes to, and where its events are:
    /// what a refusal of the batch for it says. `None` when none is.
    pub(super) fn first_refusing<'a, T>(
        events: &[Routed],
        positions: &[Position],
        refusing: &'a [T],
        route: impl Fn(&T) -> usize,
    ) -> Option<(&'a T, RoutedTo)> {
        if refusing.is_empty() {
            return None;
        }
        let routes: Vec<usize> = refusing.iter().map(&route).collect();
        let (first, routed) = RoutedTo::first_of(events, positions, &routes)?;
        let store = refusing.iter().find(|s| route(s) == first)?;
        Some((store, routed))
    }

    /// `N event(s) of the batch go to it, the first at line L` (or `index I`).
    pub(super) fn said(&self) -> String {
        let at = match &self.first {
            Position::Line(n) => format!("line {n}"),
            Position::Index(n) => format!("index {n}"),
        };
        format!(
            "{} event(s) of the batch go to it, the first at {at}",
            self.count
        )
    }
}
