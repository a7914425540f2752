//! What a retry of a batch that was not acknowledged in time does, destination by
//! destination, for the `503 ack_timeout` answer.
//!
//! The answer said "already stored events are counted as duplicates", which holds for
//! `store` destinations only: a store reads the record back before it calls an event
//! its duplicate, while a `file` destination, a forward, Kafka or a user's target
//! cannot be read back, so a retry sends them again the events they already took
//! (at-least-once there: docs/eventserver.md, "Guarantees").

use auditrail_core::RouteSet;

use crate::destinations::Destinations;

/// The sentence for the destinations of `routes` (route indices of `destinations`),
/// each kind said once: `store destination "a" answers ...; destination "f" (file) ...`.
pub(super) fn after_a_time_out(destinations: &Destinations, routes: &RouteSet) -> String {
    let (mut shown, mut unshown) = (Vec::new(), Vec::new());
    for (name, type_name, shows) in routes.iter().filter_map(|r| destinations.kind_of(r)) {
        if shows {
            shown.push(format!("{name:?}"));
        } else {
            unshown.push(format!("{name:?} ({type_name})"));
        }
    }
    let mut parts = Vec::new();
    if !shown.is_empty() {
        parts.push(format!(
            "{} {} answers the events {} already stored as duplicates, stored once",
            noun(&shown, "store destination", "store destinations"),
            shown.join(", "),
            if shown.len() == 1 { "it" } else { "each" },
        ));
    }
    if !unshown.is_empty() {
        parts.push(format!(
            "{} {} cannot be read back: {} sent again the events {} already took, a second \
             copy there with the same id (at-least-once)",
            noun(&unshown, "destination", "destinations"),
            unshown.join(", "),
            if unshown.len() == 1 {
                "it is"
            } else {
                "each is"
            },
            if unshown.len() == 1 { "it" } else { "each" },
        ));
    }
    parts.join("; ")
}

fn noun<'a>(list: &[String], one: &'a str, many: &'a str) -> &'a str {
    if list.len() == 1 {
        one
    } else {
        many
    }
}
