//! [`SeqRange`]: a range of a node's sequence numbers (`abandonedSeqs` on the wire).

use serde::{Deserialize, Serialize};

/// Sequence numbers `first..=last` of one node.
///
/// On an event, as `abandonedSeqs`: the numbers a run of the event's node reserved and
/// that ended without a clean shutdown (a crash, `kill -9`). The node announces them with
/// the first event of its next run, so that an event server can tell numbers that were
/// never assigned from events that are missing (see `docs/protocol.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Raw")]
pub struct SeqRange {
    /// First number of the range.
    pub first: u64,
    /// Last number of the range (inclusive).
    pub last: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(deserialize_with = "super::text_de::seq")]
    first: u64,
    #[serde(deserialize_with = "super::text_de::seq")]
    last: u64,
}

impl TryFrom<Raw> for SeqRange {
    type Error = String;

    fn try_from(r: Raw) -> Result<SeqRange, String> {
        if r.first == 0 || r.first > r.last {
            return Err(format!(
                "first ({}) must be at least 1 and at most last ({})",
                r.first, r.last
            ));
        }
        Ok(SeqRange {
            first: r.first,
            last: r.last,
        })
    }
}

impl SeqRange {
    /// How many numbers it holds.
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    /// Never empty (`first <= last`); here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }
}
