//! A hash of an event's identity fields, kept with the event once computed, so that the
//! server hashes each event's identity once: its de-duplication fingerprints the event
//! with the same function and key as the store's receipt lookup (`auditrail_store`'s
//! `ReceiptKey`), and the store's writer took the value again for each record
//! (docs/benchmarks.md, "stop 60").

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The value one function of an event's identity fields gave (the store's receipt
/// tag), once asked for: [`IdentityTag::get_or_init`] computes it the first time and
/// hands out the same value after.
///
/// It is a cache, never part of what an event is: two events compare equal whatever
/// their tags hold, it is not serialized, and a clone starts empty (a copy may be
/// changed before it is used). Asked for while the event is shared (in an `Arc`, as
/// the dispatcher and its targets hold it), when its fields no longer change; an event
/// changed after its tag was taken keeps a stale tag, so code that changes an event's
/// fields changes a clone.
///
/// Two atomics rather than a `OnceLock`: the value is a pure function of the event, so
/// two threads taking it at once may both compute it and store the same value; and
/// `OnceLock`'s one-time initialization took back about a fifth of what keeping the
/// tag saves (docs/benchmarks.md, stop 60).
#[derive(Default)]
pub struct IdentityTag {
    tag: AtomicU64,
    /// Set after `tag` holds the value (release), read before reading it (acquire).
    taken: AtomicBool,
}

impl IdentityTag {
    /// The tag: `compute()` the first time, the value it gave after. Every caller must
    /// compute the same function (there is one: the store's receipt tag).
    pub fn get_or_init(&self, compute: impl FnOnce() -> u64) -> u64 {
        if self.taken.load(Ordering::Acquire) {
            return self.tag.load(Ordering::Relaxed);
        }
        let tag = compute();
        self.tag.store(tag, Ordering::Relaxed);
        self.taken.store(true, Ordering::Release);
        tag
    }
}

impl Clone for IdentityTag {
    /// Empty: see the type's docs.
    fn clone(&self) -> IdentityTag {
        IdentityTag::default()
    }
}

impl PartialEq for IdentityTag {
    /// Always: a cache of what the event's fields already say.
    fn eq(&self, _: &IdentityTag) -> bool {
        true
    }
}

impl fmt::Debug for IdentityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.taken.load(Ordering::Acquire) {
            write!(f, "IdentityTag({:#018x})", self.tag.load(Ordering::Relaxed))
        } else {
            f.write_str("IdentityTag(not taken)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_once_and_not_cloned_or_compared() {
        let tag = IdentityTag::default();
        assert_eq!(tag.get_or_init(|| 7), 7);
        assert_eq!(tag.get_or_init(|| unreachable!("computed once")), 7);
        let copy = tag.clone();
        assert_eq!(copy.get_or_init(|| 9), 9, "a clone starts empty");
        assert_eq!(tag, copy);
    }
}
