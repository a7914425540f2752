//! Refuses requests for a host name the server does not answer for, where the server
//! answers without a key: the usual defence of a local HTTP service against DNS
//! rebinding.
//!
//! Why: a page of `http://rebind.attacker.example:9980` whose name is then re-pointed
//! to 127.0.0.1 is, for the browser, same-origin with that name, so the Fetch Metadata
//! check ([`super::cross_site`]) lets its requests through; a keyless server on
//! loopback (the default) would store its events and answer its queries. The request
//! still names the attacker's host in `Host`, which no program that means this server
//! sends.
//!
//! Checked when the server listens on a loopback address and leaves ingest, the event
//! reads or the stats (`/v1/stats`, `/metrics`: node names, routing keys, clients)
//! open without a key, and always when `allowed_hosts` is set. Answered: an IP
//! address (a page cannot rebind an address), `localhost` and names under
//! `.localhost` (RFC 6761 §6.3: they are loopback names), and the names in
//! `allowed_hosts` (a reverse proxy's, an `/etc/hosts` alias). A request without `Host`
//! (HTTP/1.0; browsers always send it) is answered. Others get `403 host_not_allowed`.
//! Only requests a browser marks (`Sec-Fetch-Site`, `Sec-Fetch-Mode` or `Origin`, which
//! every current browser sends on such requests) are checked: nodes and other
//! programs send none, and are never refused for the name they use. Browsers without
//! Fetch Metadata (before Chrome 76, Firefox 90, Safari 16.4) are not covered on reads.
//! Peers do the same: Jupyter's `local_hostnames`, webpack-dev-server's
//! `allowedHosts`, Django's `ALLOWED_HOSTS`.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::{intake, AppState};

/// The host names a server answers for besides addresses and loopback names, or `None`
/// where every name is answered (the server asks keys of everyone, or listens beyond
/// loopback without `allowed_hosts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// The check of a config: `allowed_hosts` (lower case, as checked by the config),
    /// whether it listens on loopback, and whether a request without a key is served
    /// events (ingest or the event reads) or the stats.
    pub(crate) fn of(names: &[String], loopback: bool, open: bool) -> Option<AllowedHosts> {
        (!names.is_empty() || (loopback && open)).then(|| AllowedHosts(names.to_vec()))
    }

    /// Whether a request whose `Host` header is `host` is answered.
    fn allows(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        let name = name.strip_suffix('.').unwrap_or(&name);
        name.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.0.iter().any(|allowed| allowed == name)
    }
}

impl AllowedHosts {
    /// Why names are checked at all, for the refusal: `allowed_hosts` is set (then every
    /// other name is refused, key or not), or else the server answers without a key on
    /// loopback ([`AllowedHosts::of`]).
    fn why(&self) -> &'static str {
        if self.0.is_empty() {
            "it answers without a key on a loopback address (events, or its stats)"
        } else {
            "allowed_hosts is set"
        }
    }
}

/// The name of a `Host` value, without its port; an IPv6 address without brackets.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether `name` can be an `allowed_hosts` entry: a host name (letters, digits, `-`,
/// `_` as in docker compose's service names, `.`), without scheme, port, path or a
/// trailing dot.
pub(crate) fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        && !name.starts_with('.')
        && !name.ends_with('.')
}

/// The middleware: answers `403 host_not_allowed` or passes the request on.
pub(crate) async fn refuse_other_hosts(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    // Only what a browser sends: a rebound page's requests always carry Fetch Metadata
    // or an `Origin`; a node, `auditrail tail` or curl sends neither, so a node behind
    // a proxy or an `/etc/hosts` alias is never refused (it would set every event
    // aside: a 403 is final for a node).
    let headers = request.headers();
    let from_a_browser = headers.contains_key("sec-fetch-site")
        || headers.contains_key("sec-fetch-mode")
        || headers.contains_key(header::ORIGIN);
    if !from_a_browser {
        return next.run(request).await;
    }
    let access = state.access.current();
    let host = request.uri().host().map(str::to_owned).or_else(|| {
        let h = request.headers().get(header::HOST)?;
        Some(String::from_utf8_lossy(h.as_bytes()).into_owned())
    });
    let (allowed, refused) = match (&access.allowed_hosts, host) {
        (Some(allowed), Some(host)) if !allowed.allows(&host) => (allowed, host),
        _ => return next.run(request).await,
    };
    let refused = ApiError::new(
        StatusCode::FORBIDDEN,
        "host_not_allowed",
        format!(
            "refused: the request is for host {refused:?}, which this server does not answer \
             for: {why}, so it answers only its addresses, localhost and the names in \
             allowed_hosts (a name re-pointed to this machine by a web page is DNS \
             rebinding); add the name to allowed_hosts if clients use it \
             (docs/eventserver.md)",
            why = allowed.why()
        ),
    );
    intake::refuse_request(&state, request, refused).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_loopback_names_and_allowed_names_are_answered() {
        let allowed = AllowedHosts(vec!["audit.example.com".into()]);
        for host in [
            "127.0.0.1:9980",
            "127.0.0.1",
            "[::1]:9980",
            "10.1.2.3",
            "localhost:9980",
            "LocalHost.",
            "console.localhost:9980",
            "audit.example.com",
            "AUDIT.example.com:443",
        ] {
            assert!(allowed.allows(host), "{host}");
        }
        for host in [
            "rebind.attacker.example:9980",
            "localhost.attacker.example",
            "example.com",
            "audit.example.com.attacker.example",
            "",
        ] {
            assert!(!allowed.allows(host), "{host}");
        }
    }

    #[test]
    fn checked_on_open_loopback_servers_and_wherever_names_are_set() {
        assert!(AllowedHosts::of(&[], true, true).is_some());
        assert!(AllowedHosts::of(&[], true, false).is_none());
        assert!(AllowedHosts::of(&[], false, true).is_none());
        assert!(AllowedHosts::of(&["a.example".into()], false, false).is_some());
    }

    #[test]
    fn allowed_host_entries_are_bare_names() {
        assert!(is_host_name("audit.example.com"));
        assert!(is_host_name("audit_server"));
        for bad in [
            "",
            "http://a.example",
            "a.example:9980",
            "a.example/x",
            ".a.example",
            "a.example.",
            "*.a",
        ] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }
}
