//! The target's own config fields (the `[[targets]]` entry minus `type` and the
//! dispatcher's keys).

use std::time::Duration;

use auditrail_core::config::ConfigPath;
use auditrail_core::{Backoff, InvalidConfig, RoutingKey};
use serde::Deserialize;

use crate::server_key::ServerKey;

/// Config of an `eventserver` target. Unknown keys are errors; its path keys are
/// [`ConfigPath`]s (never empty).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventServerConfig {
    /// Base URL of the event server, e.g. `https://audit.example.org:9980`. Events are
    /// posted to `<url>/v1/events`.
    pub url: String,
    /// Bearer key sent as `Authorization: Bearer <key>`; empty when the server needs none.
    #[serde(default)]
    pub auth_key: String,
    /// Accept any server certificate (the reference's `trustAllSSLCertificates`).
    /// Dangerous: logged as an error at start. Prefer `ca_file`.
    #[serde(default)]
    pub trust_all_certificates: bool,
    /// PEM file with the CA certificate(s) to trust in addition to the built-in roots
    /// (for a server with a private or self-signed certificate).
    #[serde(default)]
    pub ca_file: Option<ConfigPath>,
    /// PEM file of this node's client certificate (chain) for mutual TLS: the server
    /// (`[tls] client_ca`) maps it to a key by its subjectAltName. With `client_key`.
    #[serde(default)]
    pub client_cert: Option<ConfigPath>,
    /// PEM file of the private key of `client_cert` (PKCS#8, PKCS#1 or SEC1).
    #[serde(default)]
    pub client_key: Option<ConfigPath>,
    /// How the routing key sent with each event is chosen. Default `static_if_missing`.
    #[serde(default)]
    pub routing_key_mode: RoutingKeyMode,
    /// The static routing key for `static` and `static_if_missing`.
    #[serde(default)]
    pub routing_key: Option<String>,
    /// Most events per HTTP request. Default 1000.
    #[serde(default = "defaults::send_batch_max_events")]
    pub send_batch_max_events: usize,
    /// Most bytes of events (uncompressed) per HTTP request. Default 4 MiB.
    #[serde(default = "defaults::send_batch_max_bytes")]
    pub send_batch_max_bytes: usize,
    /// How long the spool sender waits for more events before sending a partial batch.
    /// Default 0: send what is there at once (batches grow by themselves under load).
    /// Answers are handled meanwhile, and a flush, the shutdown drain or a `send`
    /// waiting for room in the spool ends the wait at once.
    #[serde(default)]
    pub send_max_wait_ms: u64,
    /// Timeout of one HTTP request (connect + send + answer). Default 10 000 ms.
    #[serde(default = "defaults::request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Request body compression. Default `none`.
    #[serde(default)]
    pub compression: Compression,
    /// HTTP requests in flight at once. Default 4.
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight: usize,
    /// First delay before resending after a retryable failure; doubles, with jitter.
    /// Default 100 ms. `Retry-After` from the server wins when longer, up to
    /// `backoff_max_ms`.
    #[serde(default = "defaults::backoff_initial_ms")]
    pub backoff_initial_ms: u64,
    /// Longest delay between resends, also of a server's `Retry-After` (a longer one is
    /// capped here). Default 10 000 ms.
    #[serde(default = "defaults::backoff_max_ms")]
    pub backoff_max_ms: u64,
    /// Crash-safe spool (default on). Off: `send` posts directly and the dispatcher
    /// retries and dead-letters.
    #[serde(default = "defaults::yes")]
    pub spool: bool,
    /// Spool folder. Default `<run_dir>/spool/<target name>`.
    #[serde(default)]
    pub spool_dir: Option<ConfigPath>,
    /// Bound on the spool's size on disk. Default 1 GiB.
    #[serde(default = "defaults::spool_max_bytes")]
    pub spool_max_bytes: u64,
    /// Size at which a spool segment file is closed and a new one started. Default 16 MiB.
    #[serde(default = "defaults::spool_segment_bytes")]
    pub spool_segment_bytes: u64,
    /// When the spool fsyncs. Default `always`.
    #[serde(default)]
    pub spool_fsync: SpoolFsync,
    /// What `send` does when the spool is full. Default `backpressure`.
    #[serde(default)]
    pub on_spool_full: OnSpoolFull,
    /// How long `shutdown` keeps sending what the spool holds before it stops (what is
    /// left stays on disk and is sent at the next start). Default 5000 ms.
    #[serde(default = "defaults::shutdown_drain_ms")]
    pub shutdown_drain_ms: u64,
    /// How long `flush` waits for the spool to be emptied. Default 10 000 ms.
    #[serde(default = "defaults::flush_timeout_ms")]
    pub flush_timeout_ms: u64,
    /// Keep the receipt of every acknowledged batch (default on): one JSON line per
    /// `200` answer that carries one, in `receipts_dir`. `auditrail verify --receipt
    /// <folder>` checks a store against them.
    #[serde(default = "defaults::yes")]
    pub keep_receipts: bool,
    /// Folder of the kept receipts. Default `<run_dir>/receipts/<target name>`.
    #[serde(default)]
    pub receipts_dir: Option<ConfigPath>,
    /// The event server's public keys (`ed25519:<64 hex>`, as `auditrail keys export`
    /// prints it on the server). When set, every `200` answer must be signed by one of
    /// these keys for the request it answers (its `answerSig`), and each of its
    /// receipts too; otherwise nothing is taken as delivered. Several during a key
    /// rotation (the old and the new). Empty (the default): a receipt or an
    /// `answerSig` is only checked against the key it names itself, and an answer
    /// without them is taken (a warning at start says so).
    #[serde(default, deserialize_with = "crate::server_key::deserialize_list")]
    pub server_keys: Vec<ServerKey>,
    /// With `server_keys`: also take a `200` whose `answerSig` is signed over the older
    /// `auditrail-answer-v2` text, which does not bind this node's credential (its
    /// `Authorization` or client certificate). An event server older than this node
    /// signs only that; so does a newer one when a proxy in between drops the
    /// `Auditrail-Answer-Version` header. Default `false`: such an answer is not taken
    /// as delivery (the events are kept and sent again), because a relay at the url
    /// that posts the events on with a credential of its own that may write them would
    /// have them stored under its key, and its answer reads the same. Set it only until
    /// the server is upgraded.
    #[serde(default)]
    pub accept_unbound_answers: bool,
    /// Dead-letter file for events the server refuses for good (spool mode).
    /// Default `<dead_letter_dir>/<target name>.jsonl`: the dispatcher's own file for this target.
    #[serde(default)]
    pub dead_letter_file: Option<ConfigPath>,
}

/// How the routing key sent to the server is chosen (the reference's `routingKeyMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingKeyMode {
    /// The event's own routing key (possibly none).
    FromMessage,
    /// Always the configured `routing_key`.
    Static,
    /// The event's own routing key, else the configured one. The default.
    #[default]
    StaticIfMissing,
}

/// Request body compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// Plain NDJSON.
    #[default]
    None,
    /// `Content-Encoding: gzip` (level 1).
    Gzip,
    /// `Content-Encoding: zstd` (level 3).
    Zstd,
}

/// When the spool calls fsync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpoolFsync {
    /// Before `send` returns `Ok` (one fsync per batch, and one of the spool folder
    /// when the batch starts a new segment file): survives power loss.
    #[default]
    Always,
    /// Never explicitly: survives a process crash (`kill -9`), not a power loss or
    /// kernel crash. (The spool folder is still fsynced once per new segment file, with
    /// the `newest` mark that tells a segment deleted by hand from one never made.)
    Never,
}

/// What `send` does when the spool has no room for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnSpoolFull {
    /// A retryable error: the dispatcher retries with backoff and its queue fills,
    /// so emitters wait (nothing lost). The default.
    #[default]
    Backpressure,
    /// A permanent error: the dispatcher writes the batch to its dead-letter file and
    /// counts it (explicit, counted drop).
    DeadLetter,
}

mod defaults {
    pub(super) fn send_batch_max_events() -> usize {
        1000
    }
    pub(super) fn send_batch_max_bytes() -> usize {
        4 << 20
    }
    pub(super) fn request_timeout_ms() -> u64 {
        10_000
    }
    pub(super) fn max_in_flight() -> usize {
        4
    }
    pub(super) fn backoff_initial_ms() -> u64 {
        100
    }
    pub(super) fn backoff_max_ms() -> u64 {
        10_000
    }
    pub(super) fn yes() -> bool {
        true
    }
    pub(super) fn spool_max_bytes() -> u64 {
        1 << 30
    }
    pub(super) fn spool_segment_bytes() -> u64 {
        16 << 20
    }
    pub(super) fn shutdown_drain_ms() -> u64 {
        5000
    }
    pub(super) fn flush_timeout_ms() -> u64 {
        10_000
    }
}

impl EventServerConfig {
    /// A config with every default and this URL.
    pub fn new(url: impl Into<String>) -> EventServerConfig {
        EventServerConfig {
            url: url.into(),
            auth_key: String::new(),
            trust_all_certificates: false,
            ca_file: None,
            client_cert: None,
            client_key: None,
            routing_key_mode: RoutingKeyMode::default(),
            routing_key: None,
            send_batch_max_events: defaults::send_batch_max_events(),
            send_batch_max_bytes: defaults::send_batch_max_bytes(),
            send_max_wait_ms: 0,
            request_timeout_ms: defaults::request_timeout_ms(),
            compression: Compression::None,
            max_in_flight: defaults::max_in_flight(),
            backoff_initial_ms: defaults::backoff_initial_ms(),
            backoff_max_ms: defaults::backoff_max_ms(),
            spool: true,
            spool_dir: None,
            spool_max_bytes: defaults::spool_max_bytes(),
            spool_segment_bytes: defaults::spool_segment_bytes(),
            spool_fsync: SpoolFsync::Always,
            on_spool_full: OnSpoolFull::Backpressure,
            shutdown_drain_ms: defaults::shutdown_drain_ms(),
            flush_timeout_ms: defaults::flush_timeout_ms(),
            keep_receipts: true,
            receipts_dir: None,
            server_keys: Vec::new(),
            accept_unbound_answers: false,
            dead_letter_file: None,
        }
    }

    /// The parsed static routing key, if configured.
    pub fn static_routing_key(&self) -> Result<Option<RoutingKey>, InvalidConfig> {
        match &self.routing_key {
            None => Ok(None),
            Some(k) => RoutingKey::new(k)
                .map(Some)
                .map_err(|e| InvalidConfig::key("routing_key", e.to_string())),
        }
    }

    /// The events endpoint, `<url>/v1/events`.
    pub fn events_url(&self) -> String {
        format!("{}/v1/events", self.url.trim_end_matches('/'))
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// Checks values serde cannot, naming the key at fault. Run once when the config is
    /// parsed through the registration, and by [`crate::EventServerTarget::new`] for a
    /// config made in code.
    pub fn check(&self) -> Result<(), InvalidConfig> {
        let url = self.url.trim();
        // Checked first: the other messages show the url, and a password in it must not
        // be shown.
        if let Ok(parsed) = reqwest::Url::parse(url) {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                return Err(InvalidConfig::key(
                    "url",
                    "holds a user name or password before its host (`user:password@`, not \
                     shown here): it would be printed with the url in every log line, \
                     error and dead-letter line that names the server, and sent as Basic \
                     authentication, beside `auth_key`'s Bearer key (two Authorization \
                     headers, which the event server refuses: every batch would be \
                     dead-lettered). Remove it from the url; the server's key goes in \
                     `auth_key`",
                ));
            }
        }
        // The scheme is compared as parsed: RFC 3986 §3.1 makes it case-insensitive
        // (`HTTPS://` is `https://`).
        let scheme = reqwest::Url::parse(url).map(|u| u.scheme().to_owned());
        if !matches!(scheme.as_deref(), Ok("http" | "https")) {
            return Err(InvalidConfig::key(
                "url",
                format!("must start with http:// or https://, got {:?}", self.url),
            ));
        }
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| InvalidConfig::key("url", format!("{:?}: {e}", self.url)))?;
        if let Some(why) = not_a_base_address(&parsed) {
            return Err(InvalidConfig::key(
                "url",
                format!(
                    "{:?} {why}: `url` is the event server's base address (scheme, host, \
                     port and, behind a reverse proxy, a path), and the events are posted to \
                     `<url>/v1/events`, here {:?}, where no event server answers: every \
                     event would be refused for good and dead-lettered",
                    self.url,
                    self.events_url()
                ),
            ));
        }
        // TLS settings with a plain-HTTP url would be read and never used: the events
        // would go in clear text to an operator who asked for (mutual) TLS.
        if scheme.as_deref() == Ok("http") {
            let tls: Vec<&str> = [
                ("trust_all_certificates", self.trust_all_certificates),
                ("ca_file", self.ca_file.is_some()),
                ("client_cert", self.client_cert.is_some()),
                ("client_key", self.client_key.is_some()),
            ]
            .into_iter()
            .filter_map(|(key, set)| set.then_some(key))
            .collect();
            if !tls.is_empty() {
                return Err(InvalidConfig::new(format!(
                    "`{}` {} TLS, which the url {:?} (http://) never uses: write an \
                         https:// url, or remove {}",
                    tls.join("`, `"),
                    if tls.len() == 1 { "is for" } else { "are for" },
                    self.url,
                    if tls.len() == 1 { "it" } else { "them" },
                )));
            }
        }
        let key = self.static_routing_key()?;
        if self.routing_key_mode == RoutingKeyMode::Static && key.is_none() {
            return Err(InvalidConfig::key(
                "routing_key",
                "is needed with routing_key_mode = \"static\"",
            ));
        }
        // A key that is never sent is a mistake in the config, not a choice: the
        // operator who wrote it expects events to carry it.
        if self.routing_key_mode == RoutingKeyMode::FromMessage && key.is_some() {
            return Err(InvalidConfig::key(
                "routing_key",
                "is never sent with routing_key_mode = \"from_message\" (each event keeps \
                 its own key, or none): remove routing_key, or set routing_key_mode = \
                 \"static_if_missing\" to give it to events without a key of their own",
            ));
        }
        if self.auth_key.chars().any(|c| c.is_control() || c == ' ') {
            return Err(InvalidConfig::key(
                "auth_key",
                "must not contain spaces or control characters",
            ));
        }
        for (name, v) in [
            ("send_batch_max_events", self.send_batch_max_events as u64),
            ("send_batch_max_bytes", self.send_batch_max_bytes as u64),
            ("request_timeout_ms", self.request_timeout_ms),
            ("max_in_flight", self.max_in_flight as u64),
            ("backoff_initial_ms", self.backoff_initial_ms),
            ("spool_segment_bytes", self.spool_segment_bytes),
        ] {
            if v == 0 {
                return Err(InvalidConfig::key(name, "must be at least 1"));
            }
        }
        if self.backoff_max_ms < self.backoff_initial_ms {
            return Err(InvalidConfig::key(
                "backoff_max_ms",
                "must be at least `backoff_initial_ms`",
            ));
        }
        if self.spool_max_bytes < self.spool_segment_bytes {
            return Err(InvalidConfig::key(
                "spool_max_bytes",
                "must be at least `spool_segment_bytes`",
            ));
        }
        if self.trust_all_certificates && self.ca_file.is_some() {
            return Err(InvalidConfig::new(
                "set either `trust_all_certificates` or `ca_file`, not both",
            ));
        }
        // An answer is checked against the server's key only with `server_keys`: without
        // them the option would be read and never used.
        if self.accept_unbound_answers && self.server_keys.is_empty() {
            return Err(InvalidConfig::key(
                "accept_unbound_answers",
                "is for a node with `server_keys` (it lets such a node take answers that \
                 do not bind its credential); without `server_keys` no answer's signature \
                 is required: remove it, or set `server_keys`",
            ));
        }
        match (&self.client_cert, &self.client_key) {
            (Some(_), None) => {
                return Err(InvalidConfig::key(
                    "client_key",
                    "missing: `client_cert` needs its private key",
                ))
            }
            (None, Some(_)) => {
                return Err(InvalidConfig::key(
                    "client_cert",
                    "missing: `client_key` needs its certificate",
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// The resend delays these settings ask for.
    pub(crate) fn backoff(&self) -> Backoff {
        Backoff::new(
            Duration::from_millis(self.backoff_initial_ms),
            Duration::from_millis(self.backoff_max_ms),
        )
    }
}

/// Why `url` cannot be a base address that `/v1/events` is appended to, if it cannot:
/// a query or fragment would take the appended path into itself (`/?tenant=a/v1/events`
/// is the path `/`), and the events endpoint itself would be doubled.
fn not_a_base_address(url: &reqwest::Url) -> Option<String> {
    if let Some(query) = url.query() {
        return Some(format!("holds a query (`?{query}`)"));
    }
    if let Some(fragment) = url.fragment() {
        return Some(format!("holds a fragment (`#{fragment}`)"));
    }
    let path = url.path().trim_end_matches('/');
    if let Some(base) = path.strip_suffix("/v1/events") {
        let mut fixed = url.clone();
        fixed.set_path(base);
        return Some(format!(
            "is the events endpoint itself, not the base address (write {:?})",
            fixed.as_str().trim_end_matches('/')
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<EventServerConfig, String> {
        let c: EventServerConfig = serde_json::from_value(v).map_err(|e| e.to_string())?;
        c.check().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn a_url_that_cannot_be_the_base_address_is_refused_saying_why() {
        for (url, said) in [
            (
                "http://127.0.0.1:9980/v1/events",
                "write \"http://127.0.0.1:9980\"",
            ),
            ("http://h:1/audit/v1/events/", "write \"http://h:1/audit\""),
            ("http://h:1/?tenant=a", "holds a query (`?tenant=a`)"),
            ("http://h:1#x", "holds a fragment (`#x`)"),
        ] {
            let e = parse(json!({ "url": url })).unwrap_err();
            assert!(e.contains("url") && e.contains(said), "{url}: {e}");
        }
        let e = parse(json!({"url": "https://node:pa55w0rd@h:1"})).unwrap_err();
        assert!(e.contains("user name or password"), "{e}");
        assert!(!e.contains("pa55w0rd"), "the password is shown: {e}");
        parse(json!({"url": "https://h:1/audit/"})).unwrap();
        parse(json!({"url": "https://h:1/v1/eventstore"})).unwrap();
    }

    #[test]
    fn tls_settings_with_an_http_url_are_refused_naming_them() {
        for (extra, named) in [
            (json!({"ca_file": "ca.pem"}), "`ca_file` is for TLS"),
            (
                json!({"client_cert": "c.pem", "client_key": "c.key"}),
                "`client_cert`, `client_key` are for TLS",
            ),
            (
                json!({"trust_all_certificates": true}),
                "`trust_all_certificates` is for TLS",
            ),
        ] {
            let mut v = json!({"url": "http://127.0.0.1:9980"});
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            let err = parse(v.clone()).unwrap_err();
            assert!(
                err.contains(named) && err.contains("https://"),
                "{v}: {err}"
            );
            v["url"] = json!("https://127.0.0.1:9980");
            parse(v.clone()).unwrap();
        }
        // The scheme is case-insensitive.
        parse(json!({"url": "HTTPS://127.0.0.1:9980", "ca_file": "ca.pem"})).unwrap();
        parse(json!({"url": "ftp://127.0.0.1:9980"})).unwrap_err();
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = parse(json!({"url": "http://127.0.0.1:9980"})).unwrap();
        assert!(c.spool);
        assert_eq!(c.routing_key_mode, RoutingKeyMode::StaticIfMissing);
        assert_eq!(c.compression, Compression::None);
        assert_eq!(c.spool_fsync, SpoolFsync::Always);
        assert_eq!(c.max_in_flight, 4);
        assert_eq!(c.events_url(), "http://127.0.0.1:9980/v1/events");
        let n = EventServerConfig::new("https://x:1/");
        assert_eq!(n.events_url(), "https://x:1/v1/events");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = parse(json!({"url": "http://h", "spool_sise": 3})).unwrap_err();
        assert!(e.contains("spool_sise"), "{e}");
        let e = parse(json!({"url": "ftp://h"})).unwrap_err();
        assert!(e.contains("url"), "{e}");
        let e = parse(json!({"url": "http://h", "routing_key_mode": "static"})).unwrap_err();
        assert!(e.contains("routing_key"), "{e}");
        let e = parse(json!({"url": "http://h", "routing_key": "../x"})).unwrap_err();
        assert!(e.contains("routing_key"), "{e}");
        let e = parse(json!({"url": "http://h", "max_in_flight": 0})).unwrap_err();
        assert!(e.contains("max_in_flight"), "{e}");
        let e = parse(json!({"url": "http://h", "compression": "brotli"})).unwrap_err();
        assert!(e.contains("brotli"), "{e}");
    }

    #[test]
    fn a_routing_key_that_from_message_never_sends_is_refused() {
        let e = parse(
            json!({"url": "http://h", "routing_key_mode": "from_message", "routing_key": "svc"}),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("routing_key") && text.contains("never sent"),
            "{text}"
        );
        assert!(parse(json!({"url": "http://h", "routing_key_mode": "from_message"})).is_ok());
    }

    #[test]
    fn server_keys_are_read_and_a_bad_one_is_named_by_its_place() {
        let key = "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        let c = parse(json!({"url": "http://h", "server_keys": [key]})).unwrap();
        assert_eq!(c.server_keys.len(), 1);
        assert_eq!(c.server_keys[0].to_string(), key);
        assert!(parse(json!({"url": "http://h"}))
            .unwrap()
            .server_keys
            .is_empty());

        let table = json!({"url": "http://h", "server_keys": [key, "ed25519:zz"]});
        let e = auditrail_core::parse_config::<EventServerConfig>(table).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("server_keys[1]"), "{e}");
        assert!(e.message.contains("not 64 hex digits"), "{e}");

        // One key as a string: the list to write, not serde's "expected a sequence".
        let table = json!({"url": "http://h", "server_keys": key});
        let e = auditrail_core::parse_config::<EventServerConfig>(table).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("server_keys"), "{e}");
        assert!(e.message.contains("write it as a list"), "{e}");
        assert!(!e.message.contains("d75a98"), "the value is repeated: {e}");
    }

    #[test]
    fn accept_unbound_answers_is_off_by_default_and_only_with_server_keys() {
        let key = "ed25519:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        assert!(
            !parse(json!({"url": "http://h", "server_keys": [key]}))
                .unwrap()
                .accept_unbound_answers
        );
        let c = parse(json!({"url": "http://h", "server_keys": [key],
                             "accept_unbound_answers": true}))
        .unwrap();
        assert!(c.accept_unbound_answers);
        let table = json!({"url": "http://h", "accept_unbound_answers": true});
        let e = auditrail_core::parse_config::<EventServerConfig>(table).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("accept_unbound_answers"), "{e}");
        assert!(
            e.message.contains("is for a node with `server_keys`"),
            "{e}"
        );
    }

    #[test]
    fn a_client_certificate_comes_with_its_key() {
        let e = parse(json!({"url": "https://h", "client_cert": "n.crt"})).unwrap_err();
        assert!(e.contains("client_key"), "{e}");
        let e = parse(json!({"url": "https://h", "client_key": "n.key"})).unwrap_err();
        assert!(e.contains("client_cert"), "{e}");
        let both = json!({"url": "https://h", "client_cert": "n.crt", "client_key": "n.key"});
        assert!(parse(both).is_ok());
    }
}
