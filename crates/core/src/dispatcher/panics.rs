//! A target that panics: caught by its worker and retried like a retryable error, and
//! reported once per place it panics at, not once per retry.
//!
//! `catch_unwind` keeps a panic from ending the worker, but the process's panic hook
//! runs before the unwinding: the default hook prints the message (and, with
//! `RUST_BACKTRACE`, a whole backtrace) to stderr each time. A target that panics on
//! every call, retried with backoff, then filled stderr with one backtrace per retry.
//! So the dispatcher wraps the hook once per process ([`install_hook`]): while a worker
//! polls one of its target's calls, the thread says so ([`Watched`]), and the wrapped
//! hook lets a panic through to the previous hook (the program's, or the default one)
//! only the first time its target panics at that place; later ones are recorded for the
//! worker, which counts them (`TargetStats::panicked`) and names the target, the call,
//! the message and the place in its log. Panics anywhere else reach the previous hook
//! untouched. A program that sets a hook of its own after building a dispatcher
//! replaces this one, and then decides alone what is printed.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::task::{Context, Poll};

/// How many places of one target's panics are told apart; past that, panics at a new
/// place are counted and logged by the worker but no longer printed by the hook (a
/// message built into the location cannot flood stderr either).
const PLACES_KEPT: usize = 16;

/// One target's panics, shared by its worker and the panic hook.
#[derive(Debug, Default)]
pub(crate) struct PanicLog {
    /// Places (`file:line:column`) the target panicked at before.
    seen: Mutex<HashSet<String>>,
    /// The last panic the hook saw in one of the target's calls, for the worker.
    last: Mutex<Option<Caught>>,
}

/// What the hook learnt of one panic.
#[derive(Debug, Clone)]
pub(crate) struct Caught {
    /// `file:line:column`, when the panic has one.
    pub location: Option<String>,
    /// The first panic of the target at that place (the hook let it through).
    pub first: bool,
}

impl PanicLog {
    /// The hook saw a panic at `location` in one of this target's calls: whether it is
    /// the first there (then the previous hook prints it).
    fn record(&self, location: Option<String>) -> bool {
        let first = {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            let key = location.clone().unwrap_or_default();
            !seen.contains(&key) && seen.len() < PLACES_KEPT && seen.insert(key)
        };
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Caught { location, first });
        first
    }

    /// What the hook recorded of the panic the worker just caught (`None` when no hook
    /// of ours saw it: a program's own hook replaced it).
    pub(crate) fn take(&self) -> Option<Caught> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

thread_local! {
    /// The panic log of the target whose call this thread polls right now.
    static POLLING: RefCell<Option<Arc<PanicLog>>> = const { RefCell::new(None) };
}

/// Wraps the process's panic hook, once (see the module docs).
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let log = POLLING.with(|p| p.borrow().clone());
            let Some(log) = log else {
                return previous(info);
            };
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            if log.record(location) {
                previous(info);
            }
        }));
    });
}

/// A target call whose panics are recorded in `log` (see the module docs).
pub(crate) struct Watched<F> {
    log: Arc<PanicLog>,
    call: Pin<Box<F>>,
}

impl<F: Future> Watched<F> {
    pub(crate) fn new(log: Arc<PanicLog>, call: F) -> Watched<F> {
        Watched {
            log,
            call: Box::pin(call),
        }
    }
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Put back what was there, also when the call unwinds (the caller catches it).
        struct Restore(Option<Arc<PanicLog>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let outer = self.0.take();
                POLLING.with(|p| *p.borrow_mut() = outer);
            }
        }
        let this = &mut *self;
        let _restore = Restore(POLLING.with(|p| p.borrow_mut().replace(this.log.clone())));
        this.call.as_mut().poll(cx)
    }
}

/// A panic's message, from its payload (`panic!` with a text gives a `&str` or a
/// `String`; anything else has none to show).
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic payload that is not text)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_first_once_and_places_are_bounded() {
        let log = PanicLog::default();
        assert!(log.record(Some("a.rs:1:1".into())));
        assert!(!log.record(Some("a.rs:1:1".into())));
        assert!(log.take().is_some_and(|c| !c.first));
        assert!(log.take().is_none());
        for i in 0..PLACES_KEPT * 2 {
            log.record(Some(format!("b.rs:{i}:1")));
        }
        assert!(
            !log.record(Some("c.rs:1:1".into())),
            "past the bound: not printed"
        );
    }

    #[test]
    fn message_of_text_payloads() {
        let caught = std::panic::catch_unwind(|| std::panic::panic_any(String::from("x 1")));
        assert_eq!(message(caught.unwrap_err().as_ref()), "x 1");
        let caught = std::panic::catch_unwind(|| std::panic::panic_any(7u8));
        assert!(message(caught.unwrap_err().as_ref()).contains("not text"));
    }
}
