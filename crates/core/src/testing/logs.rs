//! What code under test logs, captured as text, for tests that check a line names what
//! it should.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tracing::subscriber::NoSubscriber;
use tracing::Dispatch;

/// A log writer that keeps what it is given.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Runs `f` with a subscriber of its own (this thread only) and returns its result and
/// everything it logged, as text (no colours, no times; levels and fields as
/// `tracing_subscriber::fmt` writes them).
///
/// Safe among tests running in parallel in one process. `tracing` decides once per
/// process whether a log line's callsite is wanted, and while a single subscriber is
/// registered it asks only the subscriber of the thread that reaches the line first: a
/// test thread without one caches "never", and the line is lost for every thread,
/// this one included (tracing-core's `Rebuilder::JustOne`; a CI run saw a capture come
/// back empty). An inert second dispatcher, kept for the whole process, makes tracing
/// ask every live subscriber instead; rebuilding the cache once this subscriber is in
/// place mends what was cached before.
pub fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    static ANCHOR: OnceLock<Dispatch> = OnceLock::new();
    ANCHOR.get_or_init(|| Dispatch::new(NoSubscriber::default()));
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .finish();
    let out = tracing::subscriber::with_default(subscriber, || {
        tracing::callsite::rebuild_interest_cache();
        f()
    });
    let text =
        String::from_utf8_lossy(&log.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
    (out, text)
}

#[cfg(test)]
mod tests {
    /// A line whose callsite another thread, one without a subscriber, reaches first
    /// while the capture is on is still captured.
    #[test]
    fn a_line_first_reached_on_a_thread_without_a_subscriber_is_captured() {
        fn line(from: &str) {
            tracing::warn!(from, "the line under test");
        }
        let ((), text) = super::logged(|| {
            std::thread::spawn(|| line("other thread"))
                .join()
                .unwrap_or_else(|_| panic!("the other thread panicked"));
            line("this thread");
        });
        assert!(text.contains("from=\"this thread\""), "{text:?}");
        assert!(!text.contains("other thread"), "{text:?}");
    }
}
