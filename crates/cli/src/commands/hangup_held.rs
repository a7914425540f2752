//! SIGHUP held back from the first line of `main` until `serve` watches it.
//!
//! SIGHUP's default action ends the process at once, silently, an exit systemd counts
//! as clean. `serve` takes it over (`serve/reload.rs`) once its runtime is built, a
//! few milliseconds after `main` starts (the arguments, the log, the runtime's
//! threads): a `systemctl reload` or a config-management tool's SIGHUP right after a
//! start killed it there (exit 129). So `main` blocks SIGHUP on its thread, the only
//! one yet (threads started later inherit the mask), before anything else: a SIGHUP
//! that comes meanwhile stays pending in the kernel, and is handed to `serve`'s
//! handler the moment it is released ([`HangupHeld::release`]), a reload queued for
//! once the server serves. Every other command releases it right after reading its
//! arguments: for them SIGHUP keeps its default action.
//!
//! What no process can close: the time before `main` (the dynamic loader, the
//! standard library's start), where the default action still applies.

use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow, Signal};

/// SIGHUP blocked on the calling thread, until released (or dropped).
#[must_use = "dropping it releases SIGHUP at once"]
pub(crate) struct HangupHeld {
    /// Whether this blocked it: one blocked already by whoever started the process
    /// stays blocked, as it was.
    blocked_here: bool,
    /// Not `Send`: a signal mask is a thread's, so it is released on the thread that
    /// blocked it.
    _thread: std::marker::PhantomData<*const ()>,
}

impl HangupHeld {
    /// Blocks SIGHUP on this thread. Call it first, before any thread is started.
    pub(crate) fn hold() -> HangupHeld {
        let mut hangup = SigSet::empty();
        hangup.add(Signal::SIGHUP);
        let mut before = SigSet::empty();
        // Fails only for an invalid `how`: then nothing is held, as before this existed.
        let blocked_here = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&hangup), Some(&mut before))
            .is_ok()
            && !before.contains(Signal::SIGHUP);
        HangupHeld {
            blocked_here,
            _thread: std::marker::PhantomData,
        }
    }

    /// Unblocks SIGHUP: one that came while it was held is delivered now, to the
    /// handler installed meanwhile, or with its default action.
    pub(crate) fn release(self) {
        drop(self);
    }
}

impl Drop for HangupHeld {
    fn drop(&mut self) {
        if self.blocked_here {
            let mut hangup = SigSet::empty();
            hangup.add(Signal::SIGHUP);
            let _ = pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&hangup), None);
        }
    }
}
