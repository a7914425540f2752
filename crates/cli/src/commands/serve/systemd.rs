//! systemd's service notifications (sd_notify(3)) for `auditrail serve` as a
//! `Type=notify` unit (`packaging/auditrail.service`): `READY=1` once the listener is
//! bound and every store is open (so dependent units start against a server that takes
//! events), `EXTEND_TIMEOUT_USEC=` while a long start makes progress (below),
//! `RELOADING=1` then `READY=1` around a SIGHUP reload, `STOPPING=1` when a
//! shutdown starts, and `WATCHDOG=1` pings while the server is healthy when the unit
//! sets `WatchdogSec`. Without `NOTIFY_SOCKET` (not under systemd) every call does
//! nothing.

use std::thread::JoinHandle as ThreadHandle;
use std::time::{Duration, Instant};

use auditrail_eventserver::server::{HealthProbe, StartNews, StartProgress};
use auditrail_store::ReadCounts;
use sd_notify::NotifyState;
use tokio::task::JoinHandle;

/// Sends `states`; a failure is logged, never fatal (the server works without systemd).
fn notify(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify systemd (NOTIFY_SOCKET)");
    }
}

/// How often a start in progress tells systemd it goes on.
const START_TICK: Duration = Duration::from_secs(10);
/// How long each message extends the start by: several ticks, so one late tick (a
/// busy machine) is no reason to be killed.
const START_EXTENSION: Duration = Duration::from_secs(60);

/// Keeps extending systemd's start timeout while the start makes progress: a start
/// walks and reads every store to open it, then reads every stored record once more
/// (see `StartProgress`), minutes on a large store, and `TimeoutStartSec=` would
/// otherwise kill the server in the middle of it at every restart. The first message
/// goes at once; then one at the end of each phase (a store opened, de-duplication
/// rebuilt: what it read), and one every [`START_TICK`] as long as anything more was
/// read since the last one (a folder walked, a file or a record read), each with a
/// `STATUS=` naming the phase and how far it got. A start that stops reading (a hung
/// disk) stops being extended, and systemd's own timeout applies again (sd_notify(3):
/// a missing extension times out only past `TimeoutStartSec=`).
/// `None` when not under systemd. Stop it with [`StartWatch::done`].
pub(super) fn starting(progress: StartProgress) -> Option<StartWatch> {
    std::env::var_os("NOTIFY_SOCKET")?;
    let watched = progress.clone();
    let thread = std::thread::Builder::new()
        .name("auditrail-start-notify".into())
        .spawn(move || {
            let extend = |status: &str| {
                notify(&[
                    NotifyState::ExtendTimeoutUsec(START_EXTENSION.as_micros() as u32),
                    NotifyState::Status(status),
                ]);
            };
            let mut last = None;
            loop {
                let counts = progress.counts();
                if progressed(last, counts) {
                    extend(&progress.status());
                } else {
                    tracing::warn!(
                        phase = %progress.phase(),
                        records_read = counts.records,
                        files_read = counts.files,
                        "the start read nothing for {} s (no folder walked, no file or record read): not extending systemd's start timeout",
                        START_TICK.as_secs()
                    );
                }
                last = Some(counts);
                let tick = Instant::now() + START_TICK;
                loop {
                    match progress.wait(tick.saturating_duration_since(Instant::now())) {
                        StartNews::Ended(lines) => {
                            for line in &lines {
                                extend(line);
                            }
                        }
                        StartNews::Nothing => break,
                        StartNews::Closed => return,
                    }
                }
            }
        })
        .ok()?;
    Some(StartWatch {
        progress: watched,
        thread,
    })
}

/// Whether to extend: at first always, then only when anything more was read than at
/// the last tick.
fn progressed(last: Option<ReadCounts>, now: ReadCounts) -> bool {
    last.is_none_or(|before| now.advanced_since(&before))
}

/// The thread of [`starting`].
pub(super) struct StartWatch {
    progress: StartProgress,
    thread: ThreadHandle<()>,
}

impl StartWatch {
    /// The start ended (ready, failed or stopped): what its last phases did is sent,
    /// then no more extensions.
    pub(super) fn done(self) {
        self.progress.close();
        let _ = self.thread.join();
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

/// The listening socket passed by a service manager (socket activation, sd_listen_fds(3):
/// `LISTEN_FDS` and `LISTEN_PID` naming this process), if any: the server takes it
/// instead of binding `listen`. Only the first passed socket is used. Marked
/// close-on-exec: the query workers this server starts must not hold it (a worker
/// alive after the server would keep the port accepting connections nobody answers).
pub(super) fn passed_listener() -> anyhow::Result<Option<std::net::TcpListener>> {
    use anyhow::Context as _;
    check_listen_env(
        std::env::var_os("LISTEN_FDS").as_deref(),
        std::env::var_os("LISTEN_PID").as_deref(),
        std::process::id(),
    )?;
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Ok(None);
    }
    let listener = fds
        .take_tcp_listener(0)
        .context("LISTEN_FDS: the first passed file descriptor (3) is not a TCP socket")?
        .context("LISTEN_FDS: the first passed file descriptor (3) was taken already")?;
    // A TCP socket that does not listen (one connection accepted by a `.socket` unit
    // with `Accept=yes`, or a socket bound and never listened on) was taken before:
    // the server said it listened, told systemd it was ready, and then every accept
    // failed (`EINVAL`, twenty times a second) and nothing was ever answered.
    let listening = rustix::net::sockopt::socket_acceptconn(&listener)
        .context("LISTEN_FDS: reading whether the passed socket (fd 3) listens (SO_ACCEPTCONN)")?;
    if !listening {
        // The peer, read through a stream on a copy of the descriptor (a listener has
        // no `peer_addr`): none for a socket that was never connected.
        let peer = listener
            .try_clone()
            .map(|l| std::net::TcpStream::from(std::os::fd::OwnedFd::from(l)))
            .and_then(|s| s.peer_addr());
        return Err(match peer {
            Ok(peer) => anyhow::anyhow!(
                "LISTEN_FDS: the first passed file descriptor (3) is a TCP socket that is not listening: one connection, from {peer} (a systemd .socket unit with `Accept=yes` passes each connection this way; auditrail serve accepts its connections itself: set `Accept=no`)"
            ),
            Err(_) => anyhow::anyhow!(
                "LISTEN_FDS: the first passed file descriptor (3) is a TCP socket that is not listening (bound to {}, never listened on; with a systemd .socket unit, use `ListenStream=` and `Accept=no`)",
                listener.local_addr().map_or_else(|_| "no address".to_string(), |a| a.to_string())
            ),
        });
    }
    rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::CLOEXEC)
        .context("LISTEN_FDS: marking the passed socket close-on-exec")?;
    Ok(Some(listener))
}

/// Refuses socket-activation variables that sd_listen_fds(3) refuses (`-EINVAL`): a
/// `LISTEN_FDS` that is not a number, or a `LISTEN_PID` that is not one, when they are
/// meant for this process (`LISTEN_PID` this pid, or absent as the `listenfd` crate
/// takes it; sd_listen_fds(3) then ignores them, but `listenfd` would take the fds). Read by `listenfd` alone, such a `LISTEN_FDS` was ignored in silence and
/// the server bound its `listen` address instead of the socket it was given.
fn check_listen_env(
    fds: Option<&std::ffi::OsStr>,
    pid: Option<&std::ffi::OsStr>,
    me: u32,
) -> anyhow::Result<()> {
    // Empty: unset (as `LISTEN_PID=` is), a unit's `Environment=LISTEN_FDS=`.
    let Some(fds) = fds.filter(|f| !f.is_empty()) else {
        return Ok(());
    };
    let shown = |v: &std::ffi::OsStr| format!("{:?}", v.to_string_lossy());
    match pid.filter(|p| !p.is_empty()) {
        None => {}
        Some(p) => match p.to_str().and_then(|p| p.parse::<u32>().ok()) {
            Some(p) if p == me => {}
            // Inherited from a parent that was given the sockets: not ours.
            Some(_) => return Ok(()),
            None => anyhow::bail!(
                "LISTEN_PID is {}, not a process id (socket activation, sd_listen_fds(3))",
                shown(p)
            ),
        },
    }
    if fds.to_str().and_then(|n| n.parse::<u32>().ok()).is_none() {
        anyhow::bail!(
            "LISTEN_FDS is {}, not a number of passed file descriptors (socket activation, sd_listen_fds(3)): set it to the number of sockets passed from fd 3 on, or unset it",
            shown(fds)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{check_listen_env, progressed, ReadCounts};
    use std::ffi::OsStr;

    #[test]
    fn listen_fds_meant_for_this_process_must_be_a_number() {
        let ok = |fds: &str, pid: Option<&str>| {
            check_listen_env(Some(OsStr::new(fds)), pid.map(OsStr::new), 42).is_ok()
        };
        assert!(ok("1", Some("42")));
        assert!(ok("0", None));
        assert!(!ok("abc", Some("42")));
        assert!(ok("", None), "empty: unset");
        assert!(!ok("-1", Some("")));
        assert!(
            ok("abc", Some("7")),
            "another process's variables are not ours"
        );
        assert!(!ok("1", Some("x")));
        assert!(check_listen_env(None, Some(OsStr::new("x")), 42).is_ok());
    }

    #[test]
    fn a_start_is_extended_at_once_and_then_only_while_it_reads() {
        let at = |folders, files, bytes, records| ReadCounts {
            folders,
            files,
            bytes,
            records,
        };
        assert!(progressed(None, at(0, 0, 0, 0)));
        assert!(progressed(Some(at(0, 0, 0, 0)), at(5, 0, 0, 0)), "walking");
        assert!(
            progressed(Some(at(5, 0, 0, 0)), at(5, 1, 10, 0)),
            "recovery"
        );
        assert!(progressed(Some(at(5, 1, 10, 0)), at(5, 1, 10, 3)), "scan");
        assert!(!progressed(Some(at(5, 1, 10, 3)), at(5, 1, 10, 3)));
    }
}
