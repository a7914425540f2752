//! Reloading what can change safely while the server runs (SIGHUP): the event keys,
//! the stats keys, the read endpoints' policy and the TLS certificate and key. Every
//! new part is built and checked first and then swapped in at once; on any error
//! nothing changes and the running configuration stays. Everything else in the
//! config (address, data folder, destinations, limits) is read at start only:
//! [`RELOADED_SETTINGS`] names what a reload applies.
//!
//! A SIGHUP also checks the stores held at start again and takes back those that pass
//! ([`Reloader::recheck_held`], `destinations/resume.rs`), whatever the config file.

/// The top-level settings a reload applies (docs/eventserver.md, "Reload"; `log_level`
/// by the program that runs the server, as `auditrail serve` does); every other one is
/// read at start only.
pub const RELOADED_SETTINGS: &[&str] = &[
    "keys",
    "stats_keys",
    "require_auth_for_stats",
    "allow_unauthenticated_recent",
    "allowed_hosts",
    "tls",
    "log_level",
];

use std::net::SocketAddr;
use std::sync::Arc;

use thiserror::Error;
use tokio::sync::watch;

use super::RunningServer;
use crate::access::Access;
use crate::config::ServerConfig;
use crate::destinations::Rechecked;

/// Why a reload was refused (the running configuration is kept).
#[derive(Debug, Error)]
pub enum ReloadError {
    /// A value is out of range or a key entry is invalid (names the key).
    #[error("{file}: {source}")]
    Config {
        /// The config file.
        file: String,
        /// What is wrong.
        #[source]
        source: Box<crate::config::ConfigCheckError>,
    },
    /// The new keys would leave a non-loopback server without authentication.
    #[error(transparent)]
    Exposure(Box<crate::config::ConfigCheckError>),
    /// The new `[[keys]]` have no key a running destination requires: destinations
    /// change at the next start only, so until then it would take no event and its
    /// events would go to the other destinations alone, answered `200`. Checked beside
    /// the file's own destinations, which name the keys of the next start.
    #[error(
        "{file}: the running destination {name:?} requires key {key:?}, which the new \
         [[keys]] no longer have ({}): destinations change at the next start only, so \
         until then it would accept no event and its events would go to the other \
         destinations alone; keep the [[keys]] entry {key:?} (and the destination's \
         required_key {key:?}) until the restart, or restart the server to apply the new \
         keys and destinations together",
        crate::config::known_ids(known)
    )]
    RunningRequiredKeyRemoved {
        /// The config file.
        file: String,
        /// The running destination's name.
        name: String,
        /// The key it requires.
        key: String,
        /// The ids of the new `[[keys]]`, in config order.
        known: Vec<String>,
    },
    /// HTTPS cannot be turned on or off without a restart (the address's scheme changes).
    #[error("{file}: [tls] was {was} and is {now} in the new config: turning HTTPS on or off needs a restart")]
    TlsSwitch {
        /// The config file.
        file: String,
        /// `present` or `absent` at start.
        was: &'static str,
        /// `present` or `absent` now.
        now: &'static str,
    },
    /// The certificate or key files cannot be used (names the file).
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The new certificate is expired or not valid yet while the running one is valid:
    /// put in place, every client would refuse the TLS handshake (a renewal that went
    /// wrong, a backup put back). The running certificate stays.
    #[error(
        "tls.cert {}: the new certificate {state} (valid from {} to {}, now {}), \
         while the running one is valid until {}: put in place, every client \
         would refuse the TLS handshake, so the running certificate is kept; put a valid \
         certificate there, then SIGHUP",
        path.display(),
        crate::tls::said(*from),
        crate::tls::said(*to),
        crate::tls::said(*now),
        crate::tls::said(*running_to)
    )]
    CertOutsideValidity {
        /// `tls.cert`.
        path: std::path::PathBuf,
        /// `has expired` or `is not valid yet`.
        state: &'static str,
        /// The new certificate's `notBefore`.
        from: chrono::DateTime<chrono::Utc>,
        /// The new certificate's `notAfter`.
        to: chrono::DateTime<chrono::Utc>,
        /// The time of the reload.
        now: chrono::DateTime<chrono::Utc>,
        /// The running certificate's `notAfter`.
        running_to: chrono::DateTime<chrono::Utc>,
    },
}

/// What a reload changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// Event keys now in force.
    pub keys: usize,
    /// Stats keys now in force.
    pub stats_keys: usize,
    /// Whether the TLS certificate and key were read again (new connections use them).
    pub tls: bool,
    /// Whether `/v1/recent` now needs a stats key.
    pub recent_needs_key: bool,
}

impl RunningServer {
    /// Applies the reloadable parts of `config`: keys, stats keys, read policy, TLS
    /// files. All or nothing: on an error the running configuration stays.
    /// Requests already in progress finish under the rules they started with.
    pub fn reload(&self, config: &ServerConfig) -> Result<Reloaded, ReloadError> {
        self.reloader().reload(config)
    }

    /// What reloads this server, to be moved to another thread: a reload reads files
    /// (the TLS certificate and key), and a file that blocks (a hung network mount)
    /// must not hold the task that watches SIGTERM. A reload applied after the server
    /// stopped changes nothing that matters.
    pub fn reloader(&self) -> Reloader {
        Reloader {
            local_addr: self.local_addr,
            allow_unauthenticated: self.allow_unauthenticated,
            tls: self.tls.clone(),
            state: Arc::clone(&self.state),
            rechecks: self.rechecks.clone(),
        }
    }

    /// Checks the stores held at start again and attaches those that pass
    /// ([`Reloader::recheck_held`]). Blocks: call it off the runtime's workers.
    pub fn recheck_held(&self) -> Vec<Rechecked> {
        self.reloader().recheck_held()
    }
}

/// What re-checking the held stores needs beside the server's state.
#[derive(Clone)]
pub(crate) struct Rechecks {
    /// The high-water marks the start checked the stores against.
    pub(crate) marks: Arc<auditrail_integrity::HighWaterMarks>,
    /// `[checkpoints]` of the start.
    pub(crate) policy: auditrail_integrity::CheckpointPolicy,
    /// The server's runtime (a checkpoint task runs there).
    pub(crate) runtime: tokio::runtime::Handle,
}

/// Reloads a running server ([`RunningServer::reloader`]); `Send`, `'static`.
#[derive(Clone)]
pub struct Reloader {
    local_addr: SocketAddr,
    allow_unauthenticated: bool,
    tls: Option<watch::Sender<crate::tls::Served>>,
    state: Arc<crate::http::AppState>,
    rechecks: Rechecks,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Reloader {
    /// Checks each store held at start (its checks failed) again, as the start does,
    /// and attaches each one that passes: its records read into de-duplication and
    /// the per-node statistics as at start, its checkpoint task started, then its hold
    /// lifted (it answers `200` again; `/readyz` no longer names it). A store that
    /// fails again stays held and unchanged; so does a store that could not be opened
    /// at start (only a restart opens it). Each outcome is logged (WARN). Blocks
    /// while it reads a store taken back (ingest waits for its de-duplication
    /// meanwhile): call it off the runtime's workers.
    pub fn recheck_held(&self) -> Vec<Rechecked> {
        let s = &self.state;
        s.destinations.recheck_held(&crate::destinations::Resume {
            signer: &s.signer,
            policy: self.rechecks.policy,
            marks: &self.rechecks.marks,
            witnesses: s.witnesses.as_deref(),
            dedup: &s.dedup,
            runtime: &self.rechecks.runtime,
        })
    }

    /// [`RunningServer::reload`].
    pub fn reload(&self, config: &ServerConfig) -> Result<Reloaded, ReloadError> {
        config.check().map_err(|source| ReloadError::Config {
            file: config.source.clone(),
            source: Box::new(source),
        })?;
        // The file's destinations were checked against its keys above; the running
        // ones (those of the start) must find theirs too, as the new keys apply now
        // and the destinations only at the next start.
        if let Some((name, key)) = self
            .state
            .destinations
            .required_keys()
            .find(|(_, key)| !config.keys.iter().any(|k| k.id == *key))
        {
            return Err(ReloadError::RunningRequiredKeyRemoved {
                file: config.source.clone(),
                name: name.to_owned(),
                key: key.to_owned(),
                known: config.keys.iter().map(|k| k.id.clone()).collect(),
            });
        }
        // The keys are checked against, and the access rules built for, the address
        // the server listens on and the start's `allow_unauthenticated`: a reload
        // applies neither. Taken from the new file, a file rewritten for a loopback
        // address without keys (for the next start, behind a proxy) dropped
        // authentication on a server still listening on the network.
        let mut config = config.clone();
        config.listen = self.local_addr;
        config.allow_unauthenticated = self.allow_unauthenticated;
        let config = &config;
        config
            .check_exposure()
            .map_err(|e| ReloadError::Exposure(Box::new(e)))?;
        let presence = |b: bool| if b { "present" } else { "absent" };
        let acceptor = match (&self.tls, &config.tls) {
            (Some(running), Some(files)) => {
                let served = crate::tls::acceptor(files).map_err(ReloadError::Tls)?;
                keeps_a_valid_certificate(&running.borrow(), &served, files)?;
                Some(served)
            }
            (None, None) => None,
            (was, now) => {
                return Err(ReloadError::TlsSwitch {
                    file: config.source.clone(),
                    was: presence(was.is_some()),
                    now: presence(now.is_some()),
                })
            }
        };
        let access = Access::from_config(config);
        let report = Reloaded {
            keys: config.keys.len(),
            stats_keys: config.stats_keys.len(),
            tls: acceptor.is_some(),
            recent_needs_key: access.recent_needs_key,
        };
        // Everything is built: swap.
        self.state.access.replace(access);
        if let (Some(cell), Some(acceptor)) = (&self.tls, acceptor) {
            cell.send_replace(acceptor);
        }
        // Said again, as at start: an operator reading the log of a reload (a new
        // config checked in) sees what its answers' `durable: false` comes from.
        self.state
            .destinations
            .warn_not_durable(&self.state.dispatcher, Some("reload"));
        Ok(report)
    }
}

/// Refuses a new certificate outside its validity in place of a running one within its
/// own: the server would go from serving every client to none (the start only warns of
/// such a certificate, as a reload does when the running one is no better).
fn keeps_a_valid_certificate(
    running: &crate::tls::Served,
    new: &crate::tls::Served,
    files: &crate::config::TlsConfig,
) -> Result<(), ReloadError> {
    let now = chrono::Utc::now();
    let (Some(running), Some(new)) = (running.validity, new.validity) else {
        return Ok(());
    };
    match (running.outside(now), new.outside(now)) {
        (None, Some(state)) => Err(ReloadError::CertOutsideValidity {
            path: files.cert.to_path_buf(),
            state,
            from: new.from,
            to: new.to,
            now,
            running_to: running.to,
        }),
        _ => Ok(()),
    }
}
