//! `auditrail serve`: run the event server until SIGTERM or SIGINT; SIGHUP reloads the
//! config file's keys, TLS files and log level (`reload.rs`). Under systemd it tells
//! the service manager where it stands and pings its watchdog (`systemd.rs`).

use crate::outln;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use auditrail_eventserver::config::{Reading, ServerConfig};

use super::hangup_held::HangupHeld;
use super::LogFilter;

mod reload;
mod systemd;

/// Arguments of `auditrail serve`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Server config file (TOML, or JSON). Without it: 127.0.0.1:9980, data under
    /// ./auditrail-data, one durable store destination, authentication off. With or
    /// without it, `AUDITRAIL_<KEY>` environment variables override its keys
    /// (`AUDITRAIL_LISTEN`, `AUDITRAIL_TLS__CERT`; docs/configuration.md).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen address (overrides the config); port 0 picks a free port.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// Data folder (overrides the config).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Run without keys on a non-loopback address (anyone who reaches it can write).
    #[arg(long)]
    allow_unauthenticated: bool,
}

impl Args {
    /// The config file (or the defaults), with the environment's `AUDITRAIL_` overrides,
    /// then the command line's: what the server starts with ([`Reading::Start`]), and
    /// what a SIGHUP reads again ([`Reading::Again`]: a pipe is then refused at once).
    fn config(
        &self,
        registry: &auditrail::Registry,
        reading: Reading,
    ) -> anyhow::Result<ServerConfig> {
        let mut config = ServerConfig::load_with_data_dir(
            self.config.as_deref(),
            registry,
            std::env::vars_os(),
            self.data_dir.as_deref(),
            reading,
        )?;
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if self.allow_unauthenticated {
            config.allow_unauthenticated = true;
        }
        Ok(config)
    }
}

/// `/v1/query` runs each query in a process of this program (`auditrail __query-worker`),
/// bounded in memory and killed at the time limit, so that no query can take the
/// server's memory. `/proc/self/exe` on Linux: this very program even after a package
/// upgrade replaced the file (whose old path then names another version, or nothing).
fn query_worker() -> anyhow::Result<auditrail_eventserver::config::QueryWorker> {
    let own = std::path::Path::new("/proc/self/exe");
    let program = if own.exists() {
        own.to_path_buf()
    } else {
        std::env::current_exe().context("finding this program, to run queries with it")?
    };
    Ok(auditrail_eventserver::config::QueryWorker {
        program,
        args: vec!["__query-worker".into()],
    })
}

/// Runs the command.
/// `hangup`: SIGHUP held since `main` started, released once it is watched here.
pub(crate) fn run(
    args: Args,
    log_filter: Option<LogFilter>,
    hangup: Option<HangupHeld>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("auditrail-server")
        .build()
        .context("starting the runtime")?;
    // Before anything else, the config's reading included (seconds with many keys or
    // a slow mount): from here on a SIGHUP (log rotation, `systemctl reload`) reloads
    // instead of killing the process with its default action, silently, an exit
    // systemd counts as clean (no restart). One that comes during the start is kept:
    // the reload runs once the server serves, so an edit made meanwhile is applied.
    // One that came before (since `main` started, held blocked) is handed over now.
    let mut hangups = {
        let _runtime = runtime.enter();
        reload::Hangups::listen()
    };
    if let Some(held) = hangup {
        held.release();
    }
    let registry = super::server_config::registry()?;
    let mut config = args.config(&registry, Reading::Start)?;
    config.queries.worker = Some(query_worker()?);
    let log = reload::LogLevel::new(log_filter);
    log.apply(config.log_level.as_deref())
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.origin("log_level")))?;
    for o in &config.env_overrides {
        // `shown_value` hides the values of secrets and key files.
        tracing::info!(
            variable = %o.variable,
            key = %o.key,
            value = %o.shown_value,
            "config key set by the environment"
        );
    }
    // A socket passed by the service manager replaces `listen`: the address checks
    // (exposure without keys) and the printed address are the socket's.
    let passed = systemd::passed_listener()?;
    if let Some(l) = &passed {
        config.listen = l
            .local_addr()
            .context("LISTEN_FDS: reading the passed socket's address")?;
        tracing::info!(address = %config.listen, "listening on the socket passed by the service manager (LISTEN_FDS); `listen` is not used");
    }
    let start_settings = config.settings.clone();
    runtime.block_on(async move {
        // SIGTERM and SIGINT too, before the address is printed and systemd is told we
        // are ready: a stop sent right after readiness must finish cleanly (final
        // checkpoint), not kill the process with the signal's default action.
        let signal = auditrail_eventserver::shutdown::signal();
        // A start on a large store takes minutes (every store is walked and read to
        // open it, then every stored record is read once more): systemd is told it
        // progresses, so that its start timeout does not kill it.
        let progress = auditrail_eventserver::server::StartProgress::new();
        // Watched on the runtime's workers, while the start reads on this thread: a
        // stop during the start is logged at once (the signal's own line) and ends
        // the start at its next safe point (`StartProgress::stop`), instead of being
        // seen only once the server listens, minutes later, after systemd's stop
        // timeout killed it.
        let mut stop = {
            let progress = progress.clone();
            tokio::spawn(async move {
                signal.await;
                progress.stop();
            })
        };
        let watch = systemd::starting(progress.clone());
        let started = match passed {
            None => auditrail_eventserver::server::start_with_progress(config, &progress).await,
            Some(l) => auditrail_eventserver::server::start_on_listener(config, &progress, l).await,
        };
        if let Some(w) = watch {
            w.done();
        }
        let running = match started {
            Ok(running) => running,
            Err(e) if e.is_stopped() => {
                // Asked for: a stop, not a failure (systemd sees a clean exit).
                systemd::stopping();
                tracing::info!("{e}: stopped");
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => return Err(e.into()),
        };
        // The server keeps serving when nobody reads its stdout any more (`serve | head
        // -1` to learn the address): these lines are information, not its work.
        let _ = outln!("listening on {}", running.url());
        let _ = outln!("data in {}", running.data_dir().display());
        for p in running.store_paths() {
            let _ = outln!("storing in {}", p.display());
        }
        // Listening and every store open: systemd may start what depends on us.
        systemd::ready(&running.url());
        let watchdog = systemd::watchdog(running.health_probe());
        // A reload reads files (the config, the TLS certificate and key): it runs on a
        // thread of its own, so that a file that blocks (a hung network mount) never
        // holds this loop, which watches SIGTERM and SIGINT.
        let reloads = reload::Reloads::new(args, registry, log, start_settings, &running);
        let mut in_progress: Option<tokio::sync::oneshot::Receiver<()>> = None;
        // A SIGHUP during a reload is kept (one, however many came), not dropped: the
        // file may have changed after the running reload read it, and the operator's
        // last edit must be the one applied. At most one reload runs and one waits, so a
        // file that blocks never piles threads up.
        let mut again = false;
        loop {
            let done = async {
                match &mut in_progress {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut stop => {
                    if in_progress.is_some() {
                        tracing::warn!("the reload still in progress is abandoned: it waits on a file (see the SIGHUP lines above)");
                    }
                    break;
                }
                () = done => {
                    if std::mem::take(&mut again) {
                        // systemd's notify-reload waits for a RELOADING=1 stamped after
                        // its signal: the next reload says it again, READY=1 comes once
                        // the last one ended.
                        systemd::reloading();
                        in_progress = Some(reloads.start());
                    } else {
                        in_progress = None;
                        systemd::reloaded();
                    }
                }
                () = hangups.next() => {
                    if in_progress.is_some() {
                        if !again {
                            tracing::info!("SIGHUP: the previous reload is still in progress; the file is read again once it ended");
                        }
                        again = true;
                        continue;
                    }
                    systemd::reloading();
                    in_progress = Some(reloads.start());
                }
            }
        }
        systemd::stopping();
        // From here on, only the log (stderr, in the chosen log format): stdout holds
        // the start lines that scripts read (the address), and a process still stopping
        // must not write into a file that a script already truncated for the next start
        // (it would leave a hole of NULs before the next server's address).
        tracing::info!("shutting down: finishing in-flight batches");
        let report = running.shutdown().await;
        if let Some(w) = watchdog {
            w.abort();
        }
        if report.connections_cut {
            // Open connections, not necessarily requests: a client that neither asks nor
            // closes (a slow upload, a half-open connection) holds the stop up as well.
            tracing::warn!(
                "connections were still open at the shutdown deadline (shutdown_timeout_s): \
                 requests still running, or clients that did not close; they were cut, and \
                 a request cut before its answer was not acknowledged (its node sends it again)"
            );
        }
        let mut checkpoints_ok = true;
        for (store, outcome) in &report.checkpoints {
            if let Err(e) = outcome {
                tracing::error!(%store, error = %e, "the final checkpoint could not be written");
                checkpoints_ok = false;
            }
        }
        if report.destinations.is_clean() && !report.connections_cut && checkpoints_ok {
            tracing::info!("stopped cleanly");
            Ok(ExitCode::SUCCESS)
        } else {
            tracing::error!(
                report = %serde_json::to_string(&report.destinations).unwrap_or_default(),
                "the shutdown was not clean"
            );
            Ok(ExitCode::FAILURE)
        }
    })
}
