//! What a settled batch shows: its stored events in the live view (`/v1/recent`,
//! `/v1/stream`), and its stored and duplicate events in the counters of `/v1/stats`
//! (per topic, with their last-seen time, and in total). One path for every outcome:
//! a batch stored whole, one all duplicates, and one stored in part (answered `422
//! unstorable`, `503 refused_for_now` or `503 destination_failed`), so that every
//! event that was stored is shown and counted once, and none that was not.

use std::ops::Range;
use std::sync::Arc;

use auditrail_core::{Event, Received, Routed};

use super::AppState;
use crate::recent::{self, Entry, RECENT_CAPACITY};
use crate::stats::TopicTally;

/// Prepared before the batch's new events go to the destinations (which take them):
/// the tally per topic and the live view's copies of the last new events. Published
/// once the destinations answered, with which new events were stored; dropped
/// unpublished when nothing is known to be stored (the batch is released and a retry
/// stores it).
#[derive(Debug)]
pub(super) struct Publication {
    tally: TopicTally,
    /// The live view's entries of the new events from the `tail_from`-th on (the new
    /// events counted in batch order).
    tail: Vec<Entry>,
    tail_from: usize,
}

impl Publication {
    /// `is_new[i]`: event `i` of the batch is new (to be stored now), the others are
    /// duplicates; `ranges[i]` is where event `i` is in `body`.
    pub(super) fn prepare(
        state: &AppState,
        events: &[Routed],
        is_new: &[bool],
        ranges: Vec<Range<usize>>,
        body: &[u8],
        received: &Arc<Received>,
    ) -> Publication {
        let tally = TopicTally::of(events.iter().map(Routed::event), is_new);
        let new = is_new.iter().filter(|&&n| n).count();
        // The live view keeps the last events as sent (a copy of their bytes only); the
        // stream's followers get every one.
        //
        // Without followers only the last RECENT_CAPACITY new events are copied: a
        // batch of more new events than that, some of whose last ones are then not
        // stored, leaves fewer of its events in the view than it could hold (never
        // one that was not stored, never one twice).
        let live = if state.recent.followed() {
            usize::MAX
        } else {
            RECENT_CAPACITY
        };
        // Sized once (a filtered `collect` grows by doubling, copying as it goes).
        let mut kept: Vec<(Range<usize>, &Event)> = Vec::with_capacity(new.min(live));
        kept.extend(
            ranges
                .into_iter()
                .zip(events.iter().map(Routed::event))
                .zip(is_new)
                .rev()
                .filter(|(_, &n)| n)
                .take(live)
                .map(|(r, _)| r),
        );
        kept.reverse();
        let tail = recent::copy_out(body, &kept, received);
        Publication {
            tally,
            tail_from: new.saturating_sub(tail.len()),
            tail,
        }
    }

    /// Shows and counts what was stored: `stored(k)` tells whether the `k`-th new event
    /// (in batch order, as [`crate::dedup::Admission::new`] and the dispatcher's answer
    /// count them) was stored. The batch's duplicates are counted as such.
    pub(super) fn publish(self, state: &AppState, stored: impl Fn(usize) -> bool) {
        let Publication {
            mut tally,
            tail,
            tail_from,
        } = self;
        tally.keep_stored(&stored);
        crate::shown::show(
            &state.recent,
            &state.stats,
            &state.metrics,
            tally,
            tail.into_iter()
                .enumerate()
                .filter(|(j, _)| stored(tail_from + j))
                .map(|(_, e)| e),
        );
    }
}
