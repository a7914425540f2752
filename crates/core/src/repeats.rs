//! Errors a client library reports again and again while one state lasts (librdkafka's
//! "All broker connections are down" every few tens of milliseconds while a broker is
//! unreachable), logged as a state: once when it starts, then at most once per
//! interval with the count of its repeats, and once more when it ends.
//!
//! Why not every repeat: one outage of a night would write ~140 000 identical lines,
//! and journald's rate limit would then drop the process's other messages with them.
//! Why not only the first: an operator reading the log later must see that the state
//! lasted, how often it was reported, and when it ended.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a repeated line is left out before it is said again (with its count).
pub const REPEAT_INTERVAL: Duration = Duration::from_secs(60);

/// Distinct lines remembered at once (a client alternates a few: "1/1 brokers are
/// down", "0/1 brokers are down", the connection refused); the oldest is forgotten
/// past this, and said again as new if it comes back.
const REMEMBERED: usize = 8;

/// One line being repeated.
#[derive(Debug)]
struct Repeated<K> {
    line: String,
    kind: K,
    /// When the state began (its first line).
    since: Instant,
    /// When the line was last written.
    said_at: Instant,
    /// Times it came since it was last written (the ones left out).
    left_out: u64,
    /// Times it came in all.
    times: u64,
}

/// The lines of the states in progress, each tagged with a kind `K` the caller chooses
/// (which signal ends it: a broker reachable again, a record read...).
///
/// ```
/// use std::time::{Duration, Instant};
/// use auditrail_core::repeats::RepeatedLines;
///
/// let mut lines = RepeatedLines::new(Duration::from_secs(60));
/// let t0 = Instant::now();
/// assert_eq!(lines.note("brokers down", (), t0).as_deref(), Some("brokers down"));
/// assert_eq!(lines.note("brokers down", (), t0 + Duration::from_secs(1)), None);
/// assert_eq!(
///     lines.note("brokers down", (), t0 + Duration::from_secs(60)).as_deref(),
///     Some("still: brokers down (2 times in the last 60 s)")
/// );
/// let ended = lines.ended(|_| true, t0 + Duration::from_secs(90));
/// assert_eq!(ended, vec!["ended after 90 s (3 times in all): brokers down".to_owned()]);
/// ```
#[derive(Debug)]
pub struct RepeatedLines<K> {
    interval: Duration,
    states: VecDeque<Repeated<K>>,
}

impl<K> RepeatedLines<K> {
    /// Lines repeated within `interval` are counted instead of written.
    pub fn new(interval: Duration) -> RepeatedLines<K> {
        RepeatedLines {
            interval,
            states: VecDeque::new(),
        }
    }

    /// `line` came (at `now`): returns what to log, `None` for a repeat to leave out.
    /// The first time: the line itself; a repeat an interval or more after the line was
    /// last written: `still: LINE (N times in the last S s)`, N counting this one.
    pub fn note(&mut self, line: &str, kind: K, now: Instant) -> Option<String> {
        if let Some(s) = self.states.iter_mut().find(|s| s.line == line) {
            s.times = s.times.saturating_add(1);
            s.left_out = s.left_out.saturating_add(1);
            let quiet = now.saturating_duration_since(s.said_at);
            if quiet < self.interval {
                return None;
            }
            let said = format!(
                "still: {line} ({} times in the last {} s)",
                s.left_out,
                quiet.as_secs()
            );
            s.said_at = now;
            s.left_out = 0;
            return Some(said);
        }
        if self.states.len() >= REMEMBERED {
            self.states.pop_front();
        }
        self.states.push_back(Repeated {
            line: line.to_owned(),
            kind,
            since: now,
            said_at: now,
            left_out: 0,
            times: 1,
        });
        Some(line.to_owned())
    }

    /// The states whose kind `ends` ended (at `now`): forgets them and returns one line
    /// for each, `ended after S s (N times in all): LINE`. A later repeat is said again
    /// as new.
    pub fn ended(&mut self, ends: impl Fn(&K) -> bool, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        self.states.retain(|s| {
            if !ends(&s.kind) {
                return true;
            }
            out.push(format!(
                "ended after {} s ({} times in all): {}",
                now.saturating_duration_since(s.since).as_secs(),
                s.times,
                s.line
            ));
            false
        });
        out
    }

    /// Whether a state of a kind `ends` is in progress.
    pub fn any(&self, ends: impl Fn(&K) -> bool) -> bool {
        self.states.iter().any(|s| ends(&s.kind))
    }
}

/// `line` without the count of repeats a library adds itself (librdkafka's "N identical
/// error(s) suppressed", which it says every 30 s with another N): with it, each
/// report would be a new line and never a repeat.
pub fn without_repeat_count(line: &str) -> Cow<'_, str> {
    const TAIL: &str = " identical error(s) suppressed";
    let Some(at) = line.find(TAIL) else {
        return Cow::Borrowed(line);
    };
    let digits = line[..at]
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .len();
    if digits == at {
        return Cow::Borrowed(line);
    }
    let (before, after) = (&line[..digits], &line[at + TAIL.len()..]);
    if let Some(b) = before.strip_suffix(", ") {
        return Cow::Owned(format!("{b}{after}"));
    }
    match (before.strip_suffix('('), after.strip_prefix(')')) {
        (Some(b), Some(a)) => Cow::Owned(format!("{}{a}", b.trim_end())),
        _ => Cow::Borrowed(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_repeated_is_said_once_per_interval_with_its_count_then_its_end() {
        let mut r = RepeatedLines::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_millis(s);
        let mut said = Vec::new();
        // Every 50 ms for 200 s, as librdkafka with its broker down.
        for i in 0..4000 {
            said.extend(r.note("down", (), at(i * 50)));
        }
        assert_eq!(
            said,
            vec![
                "down".to_owned(),
                "still: down (1200 times in the last 60 s)".to_owned(),
                "still: down (1200 times in the last 60 s)".to_owned(),
                "still: down (1200 times in the last 60 s)".to_owned(),
            ]
        );
        assert_eq!(
            r.ended(|_| true, at(200_000)),
            vec!["ended after 200 s (4000 times in all): down".to_owned()]
        );
        assert_eq!(r.note("down", (), at(200_050)).as_deref(), Some("down"));
    }

    #[test]
    fn only_the_states_of_the_kind_that_ended_end() {
        let mut r = RepeatedLines::new(Duration::from_secs(60));
        let t0 = Instant::now();
        r.note("brokers down", true, t0);
        r.note("topic unknown", false, t0);
        assert!(r.any(|k| *k));
        assert_eq!(r.ended(|k| *k, t0).len(), 1);
        assert!(!r.any(|k| *k));
        assert_eq!(r.note("topic unknown", false, t0), None);
    }

    #[test]
    fn a_librdkafka_count_of_repeats_is_left_out_of_the_line() {
        let refused =
            "Connect to ipv4#127.0.0.1:9 failed: Connection refused (after 0ms in state CONNECT";
        assert_eq!(
            without_repeat_count(&format!("{refused}, 582 identical error(s) suppressed)")),
            format!("{refused})")
        );
        assert_eq!(
            without_repeat_count("down (3 identical error(s) suppressed): x"),
            "down: x"
        );
        assert_eq!(without_repeat_count("no count here"), "no count here");
    }

    #[test]
    fn distinct_lines_are_each_said() {
        let mut r = RepeatedLines::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(r.note("1/1 brokers are down", (), t0).is_some());
        assert!(r.note("0/1 brokers are down", (), t0).is_some());
        assert!(r.note("1/1 brokers are down", (), t0).is_none());
    }
}
