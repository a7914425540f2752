//! Retry delays: exponential backoff with jitter that honours the other side's
//! `Retry-After` up to the maximum backoff. Shared by the dispatcher's workers and by
//! targets that retry on their own (the event-server target's sender).
//!
//! Why `Retry-After` is bounded: it is whatever the answering side sent, and that is not
//! always the destination (a reverse proxy's maintenance page, a load balancer). RFC 9110
//! §10.2.3 says what the header means ("how long the user agent ought to wait"), not
//! that a client must wait that long; one `503` with `Retry-After: 86400` used to stop a
//! node's delivery for a day although the server answered again at once. The node's own
//! delays are bounded by the maximum backoff, so the other side's are too (as
//! go-retryablehttp's `RetryWaitMax` and the Smithy SDKs' `max_delay` do).
//!
//! Written here rather than taken from a crate: the maintained ones (`backon`,
//! `backoff`) drive the retry loop themselves, while the dispatcher's worker and the
//! sender need the delay alone (their sleeps are bounded by a shutdown deadline or a
//! stop signal), and this is a few lines of arithmetic.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// Delays between retries: the first retry waits about `initial`, each further one
/// about twice as long, up to `max`, with "equal jitter" (half of the delay fixed, half
/// random) so that many nodes that failed together do not retry in lockstep. A delay
/// the other side asked for (HTTP `Retry-After`, RFC 9110 §10.2.3, given as a
/// [`Duration`]) wins when it is longer, up to `max`: a longer one is capped there.
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
/// let day = Some(Duration::from_secs(86_400));
/// assert_eq!(backoff.delay_after(1, day), Duration::from_secs(30));
/// assert_eq!(backoff.capped(day), Some(Duration::from_secs(86_400)));
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

    /// The longest delay: the cap of the exponential delays and of `Retry-After`.
    pub fn max(&self) -> Duration {
        Duration::from_millis(self.max_ms)
    }

    /// [`Backoff::delay`], or `retry_after` when the other side asked for longer, but
    /// never more than [`Backoff::max`].
    pub fn delay_after(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let asked = retry_after.unwrap_or_default().min(self.max());
        self.delay(attempt).max(asked)
    }

    /// `retry_after` when it is longer than [`Backoff::max`] (and so not honoured in
    /// full by [`Backoff::delay_after`]), for the caller to say so.
    pub fn capped(&self, retry_after: Option<Duration>) -> Option<Duration> {
        retry_after.filter(|asked| *asked > self.max())
    }
}

/// Logs, once per retrying loop (a target's worker, a sender), that a `Retry-After`
/// was longer than the maximum backoff and capped: an operator who sees retries
/// sooner than the server asked learns why, without a line per retry.
#[derive(Debug, Default)]
pub struct RetryAfterCapLog {
    logged: AtomicBool,
}

impl RetryAfterCapLog {
    /// Logs at WARN the first time `retry_after` is capped by `backoff` (naming the value
    /// and the cap, and `key`, the setting that sets the cap), at DEBUG after that.
    pub fn note(
        &self,
        backoff: &Backoff,
        retry_after: Option<Duration>,
        target_name: &str,
        key: &str,
    ) {
        let Some(asked) = backoff.capped(retry_after) else {
            return;
        };
        let cap = backoff.max();
        if self.logged.swap(true, Relaxed) {
            tracing::debug!(target_name, retry_after = ?asked, cap = ?cap, "Retry-After capped");
        } else {
            tracing::warn!(target_name, retry_after = ?asked, cap = ?cap, key, "the other side asked to wait {asked:?} (Retry-After) before a retry: waiting at most {cap:?}, the maximum backoff (`{key}`); later caps are logged at debug level");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_jitter_and_cap_and_a_longer_retry_after_wins() {
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
            let asked = Duration::from_millis(700);
            assert_eq!(b.delay_after(1, Some(asked)), asked);
            let short = b.delay_after(3, Some(Duration::from_millis(1))).as_millis();
            assert!((200..=400).contains(&short), "{short}");
        }
        assert_eq!(b.capped(Some(Duration::from_millis(700))), None);
        // Out-of-range settings are raised to 1 ms rather than panicking on an empty range.
        let odd = Backoff::new(Duration::ZERO, Duration::ZERO);
        for attempt in 0..40 {
            assert!(odd.delay(attempt) <= Duration::from_millis(1));
        }
    }

    #[test]
    fn a_retry_after_longer_than_the_maximum_backoff_waits_the_maximum() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
        let cap = Duration::from_secs(30);
        for asked in [
            Duration::from_secs(31),
            Duration::from_secs(86_400),
            Duration::from_secs(u64::MAX),
            Duration::MAX,
        ] {
            for attempt in [1, 5, 40] {
                assert_eq!(b.delay_after(attempt, Some(asked)), cap, "{asked:?}");
            }
            assert_eq!(b.capped(Some(asked)), Some(asked));
        }
        // At the cap exactly it is honoured, not capped.
        assert_eq!(b.delay_after(1, Some(cap)), cap);
        assert_eq!(b.capped(Some(cap)), None);
        assert_eq!(b.capped(None), None);
    }
}
