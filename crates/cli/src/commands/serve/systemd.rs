//! systemd's service notifications (sd_notify(3)) for `auditrail serve` as a
//! `Type=notify` unit (`packaging/auditrail.service`): `READY=1` once the listener is
//! bound and every store is open (so dependent units start against a server that takes
//! events), `RELOADING=1` then `READY=1` around a SIGHUP reload, `STOPPING=1` when a
//! shutdown starts, and `WATCHDOG=1` pings while the server is healthy when the unit
//! sets `WatchdogSec`. Without `NOTIFY_SOCKET` (not under systemd) every call does
//! nothing.

use std::time::Duration;

use auditrail_eventserver::server::HealthProbe;
use sd_notify::NotifyState;
use tokio::task::JoinHandle;

/// Sends `states`; a failure is logged, never fatal (the server works without systemd).
fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify systemd (NOTIFY_SOCKET)");
    }
}

/// Startup finished: listening at `url`, stores open.
pub(super) fn ready(url: &str) {
    let status = format!("listening on {url}");
    notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
}

/// A SIGHUP reload starts (`ready` again once it ended, applied or refused).
pub(super) fn reloading() {
    // MONOTONIC_USEC lets a `Type=notify-reload` unit tell this reload from an older one.
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(_) => notify(&[NotifyState::Reloading]),
    }
}

/// A reload ended.
pub(super) fn reloaded() {
    notify(&[NotifyState::Ready]);
}

/// A shutdown starts.
pub(super) fn stopping() {
    notify(&[NotifyState::Stopping, NotifyState::Status("shutting down")]);
}

/// With `WatchdogSec` (systemd sets `WATCHDOG_USEC`), pings at half the timeout, as
/// sd_watchdog_enabled(3) advises, but only while `probe` passes; `None` otherwise.
///
/// What stops the pings: the runtime not running this task (every async thread
/// blocked), or a store writer inside one write or fsync for longer than the timeout
/// itself (a hung disk: every later batch waits behind it). Then systemd restarts the
/// service, as the unit asks (`Restart=on-failure`) and logs why. A slow or failing
/// destination is not a reason: it retries, dead-letters and shows on `/metrics`.
pub(super) fn watchdog(probe: HealthProbe) -> Option<JoinHandle<()>> {
    let timeout = sd_notify::watchdog_enabled()?;
    let every = (timeout / 2).max(Duration::from_millis(10));
    tracing::info!(
        timeout_ms = timeout.as_millis() as u64,
        "systemd watchdog enabled: pinging while healthy"
    );
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tick.tick().await;
            match probe.check(timeout) {
                Ok(()) => {
                    if failing {
                        tracing::info!("healthy again: systemd watchdog pings resumed");
                        failing = false;
                    }
                    notify(&[NotifyState::Watchdog]);
                }
                Err(e) => {
                    if !failing {
                        tracing::error!(
                            error = %e,
                            "not pinging the systemd watchdog: systemd restarts the \
                             service unless this clears"
                        );
                        failing = true;
                    }
                }
            }
        }
    }))
}
