//! Retry delays: exponential backoff with jitter that honours the other side's
//! `Retry-After`. Shared by the dispatcher's workers and by targets that retry on their
//! own (the event-server target's sender).
//!
//! Written here rather than taken from a crate: the maintained ones (`backon`,
//! `backoff`) drive the retry loop themselves, while the dispatcher's worker and the
//! sender need the delay alone (their sleeps are bounded by a shutdown deadline or a
//! stop signal), and this is a few lines of arithmetic.

use std::time::Duration;

/// Delays between retries: the first retry waits about `initial`, each further one
/// about twice as long, up to `max`, with "equal jitter" (half of the delay fixed, half
/// random) so that many nodes that failed together do not retry in lockstep. A delay
/// the other side asked for (HTTP `Retry-After`, RFC 9110 §10.2.3, given as a
/// [`Duration`]) wins when it is longer.
///
/// ```
/// use std::time::Duration;
/// use auditrail_core::Backoff;
///
/// let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
/// let third = backoff.delay(3); // 200 ms to 400 ms
/// assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
/// let asked = backoff.delay_after(1, Some(Duration::from_secs(5)));
/// assert_eq!(asked, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial_ms: u64,
    max_ms: u64,
}

impl Backoff {
    /// Delays from `initial` up to `max`, in whole milliseconds. `initial` is at least
    /// 1 ms, and `max` at least `initial` (config checks refuse other values with the
    /// key's name before a `Backoff` is made).
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        let initial_ms = u64::try_from(initial.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
        Backoff {
            initial_ms,
            max_ms: max_ms.max(initial_ms),
        }
    }

    /// The delay before retry number `attempt` (1-based; 0 counts as 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(30))
            .min(self.max_ms);
        let half = exp / 2;
        Duration::from_millis(half + fastrand::u64(0..=exp - half))
    }

    /// [`Backoff::delay`], or `retry_after` when the other side asked for longer.
    pub fn delay_after(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        self.delay(attempt).max(retry_after.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_jitter_and_cap_and_retry_after_wins() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        for _ in 0..100 {
            let b1 = b.delay(1).as_millis();
            let b3 = b.delay(3).as_millis();
            let b9 = b.delay(9).as_millis();
            let b20 = b.delay(20).as_millis();
            assert!((50..=100).contains(&b1), "{b1}");
            assert!((200..=400).contains(&b3), "{b3}");
            assert!((500..=1000).contains(&b9), "{b9}");
            assert!((500..=1000).contains(&b20), "{b20}");
            let asked = Duration::from_secs(7);
            assert_eq!(b.delay_after(1, Some(asked)), asked);
            let short = b.delay_after(3, Some(Duration::from_millis(1))).as_millis();
            assert!((200..=400).contains(&short), "{short}");
        }
        // Out-of-range settings are raised to 1 ms rather than panicking on an empty range.
        let odd = Backoff::new(Duration::ZERO, Duration::ZERO);
        for attempt in 0..40 {
            assert!(odd.delay(attempt) <= Duration::from_millis(1));
        }
    }
}
