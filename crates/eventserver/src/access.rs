//! Who may do what, as one value that a reload (SIGHUP) replaces whole: the event keys,
//! the stats keys and the read endpoints' policy. Requests take the current value once
//! ([`AccessCell::current`]) and keep it to their end, so a reload never changes the
//! rules under a request in progress; the exception is a `/v1/stream`, which never
//! ends: it checks its credentials again at each reload ([`AccessCell::watch`]).

use std::sync::Arc;

use tokio::sync::watch;

use crate::auth::KeyRing;
use crate::config::ServerConfig;
use crate::http::host_check::AllowedHosts;

/// The access rules of one configuration.
#[derive(Debug)]
pub(crate) struct Access {
    /// Event keys (empty: authentication off).
    pub(crate) keys: KeyRing,
    /// Stats keys.
    pub(crate) stats_keys: KeyRing,
    /// `/v1/stats` and `/metrics` need a stats key.
    pub(crate) require_auth_for_stats: bool,
    /// `/v1/recent` (stored events: user names, client addresses) needs a stats key:
    /// whenever the server has `[[keys]]`, unless `allow_unauthenticated_recent`, and
    /// always with `require_auth_for_stats`.
    pub(crate) recent_needs_key: bool,
    /// The host names answered for, where the server answers without a key
    /// (DNS rebinding: [`crate::http::host_check`]); `None`: every name.
    pub(crate) allowed_hosts: Option<AllowedHosts>,
}

impl Access {
    /// The rules of a checked config.
    pub(crate) fn from_config(config: &ServerConfig) -> Access {
        let keys = KeyRing::new(&config.keys);
        let recent_needs_key = config.require_auth_for_stats
            || (!keys.is_empty() && !config.allow_unauthenticated_recent);
        // Open: a request without a key stores events, reads them, or reads the stats
        // (`/v1/stats` names nodes, routing keys and clients: a rebound page must not
        // read them either).
        let open = keys.is_empty() || !recent_needs_key || !config.require_auth_for_stats;
        let allowed_hosts = AllowedHosts::of(
            &config.allowed_hosts,
            config.listen.ip().is_loopback(),
            open,
        );
        Access {
            allowed_hosts,
            keys,
            stats_keys: KeyRing::new(&config.stats_keys),
            require_auth_for_stats: config.require_auth_for_stats,
            recent_needs_key,
        }
    }
}

/// The current rules; a reload swaps them for every later request at once.
#[derive(Debug)]
pub(crate) struct AccessCell(watch::Sender<Arc<Access>>);

impl AccessCell {
    pub(crate) fn new(access: Access) -> AccessCell {
        AccessCell(watch::Sender::new(Arc::new(access)))
    }

    /// The rules in force now.
    pub(crate) fn current(&self) -> Arc<Access> {
        self.0.borrow().clone()
    }

    /// Told of each later reload: what stays open across reloads (a `/v1/stream`)
    /// checks its credentials again with it.
    pub(crate) fn watch(&self) -> watch::Receiver<Arc<Access>> {
        self.0.subscribe()
    }

    /// Replaces the rules (requests already running keep theirs).
    pub(crate) fn replace(&self, access: Access) {
        self.0.send_replace(Arc::new(access));
    }
}
