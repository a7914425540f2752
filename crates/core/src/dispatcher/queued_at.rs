//! When an event was queued, for the `oldest_undelivered_age` stat.
//!
//! Read on every emit, so from the kernel's coarse monotonic clock
//! (`CLOCK_MONOTONIC_COARSE`, the time of the last timer tick: a few nanoseconds to
//! read, where the precise clock behind `Instant::now` was 8 % of `emit` on this
//! project's virtual machines, docs/benchmarks/core.md). Its resolution, a tick of 1 to
//! 4 ms, is plenty for an age reported in seconds. Elsewhere than Linux, `Instant`.

use std::time::Duration;

/// A reading of the coarse monotonic clock, in nanoseconds from an arbitrary origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct QueuedAt(u64);

impl QueuedAt {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn now() -> QueuedAt {
        // Through the C library's `clock_gettime` (nix), not rustix's: rustix finds the
        // vDSO itself, reading the auxiliary vector, which segfaults under valgrind
        // (rustix issue #1559), so no program that emits could be counted by callgrind
        // or checked by memcheck. glibc's call goes to the same vDSO, as fast. The clock
        // is always there on Linux: a failure is impossible, and reads as time 0.
        let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC_COARSE)
            .unwrap_or_else(|_| nix::sys::time::TimeSpec::new(0, 0));
        QueuedAt((t.tv_sec() as u64).saturating_mul(1_000_000_000) + t.tv_nsec() as u64)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(crate) fn now() -> QueuedAt {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let origin = *ORIGIN.get_or_init(std::time::Instant::now);
        QueuedAt(origin.elapsed().as_nanos() as u64)
    }

    /// The reading as a number, never 0 (0 stands for "none" in the counters).
    pub(crate) fn as_nonzero_nanos(self) -> u64 {
        self.0.max(1)
    }

    /// Time since the reading `nanos` (from [`QueuedAt::as_nonzero_nanos`]).
    pub(crate) fn age_of(nanos: u64) -> Duration {
        Duration::from_nanos(QueuedAt::now().0.saturating_sub(nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarse_clock_goes_forward_with_time() {
        let first = QueuedAt::now();
        std::thread::sleep(Duration::from_millis(30));
        let age = QueuedAt::age_of(first.as_nonzero_nanos());
        // At least the sleep, less a tick of the coarse clock (at most 10 ms at HZ=100).
        assert!(age >= Duration::from_millis(20), "{age:?}");
        assert!(QueuedAt::now() >= first);
    }

    /// The clock is read on every emit, so it must work where profilers run programs:
    /// under valgrind, rustix's own vDSO lookup segfaulted on the first emit, and
    /// neither callgrind nor memcheck could run a program that emits. Runs the test
    /// above in this test binary under `valgrind --tool=none`; where valgrind is not
    /// installed, says so and checks nothing.
    #[test]
    fn the_clock_reads_under_valgrind() {
        let exe = std::env::current_exe().expect("the test binary");
        let run = std::process::Command::new("valgrind")
            .args(["--tool=none", "-q", "--error-exitcode=3"])
            .arg(&exe)
            .args([
                "--exact",
                "dispatcher::queued_at::tests::the_coarse_clock_goes_forward_with_time",
                "--test-threads=1",
            ])
            .output();
        let out = match run {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("skipped: valgrind is not installed");
                return;
            }
            Err(e) => panic!("valgrind: {e}"),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "under valgrind: {:?}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
