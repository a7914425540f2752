//! The HTTP side: one `POST /v1/events` per batch, and what each answer means.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde::Deserialize;
use thiserror::Error;

use crate::answer_sig::AnswerSigProblem;
use crate::config::{Compression, EventServerConfig};
use crate::error::{PemProblem, SetupError};
use crate::receipt_check::ReceiptProblem;
use crate::receipts::ReceiptLog;
use crate::refusal_sig::{RefusalProblem, SentRequest};
use crate::server_key::ServerKey;

/// How a request failed.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum PostError {
    /// Send again later: connection errors, timeouts, 408, 429, 5xx.
    #[error("{message}")]
    Retryable {
        /// What happened.
        message: String,
        /// The server's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The server will never take this request as it is.
    #[error("{message}")]
    Permanent {
        /// Status and the server's explanation.
        message: String,
        /// Whether a smaller part of the batch might be taken (400, 403, 413: the
        /// cause is some of the events, or the size); false when every event would
        /// meet the same answer (401, 415, ...).
        split: bool,
        /// The line of the request's body (1-based; one event per line) of the event
        /// the server names as the cause (docs/protocol.md: `line` of a `400` or `403`
        /// error body), when it names one: that event alone is refused, without
        /// sending the batch in halves to find it.
        line: Option<u64>,
        /// Every event the server lists as refused (`events` of a refusal,
        /// docs/protocol.md), by its line in the request's body (1-based), each with
        /// the server's reason for it: all of them are given up at once and the rest
        /// of the batch is sent again once. Empty when the refusal lists none, or
        /// (with `server_keys`) when its signature does not cover the list.
        listed: Vec<(u64, String)>,
    },
    /// A success status whose body is not the event server's answer to this request:
    /// something else answers at `url` (a reverse proxy's default page, a maintenance
    /// page, a wrong port); with `server_keys`, also a refusal the configured server did
    /// not sign for this request ([`ForeignAnswer::BadRefusal`]). Nothing is known stored, so this is retryable: the events
    /// stay spooled (or go back to the dispatcher) and are sent again until the event
    /// server itself answers.
    #[error(transparent)]
    NotTheServersAnswer(#[from] ForeignAnswer),
}

/// An answer to `POST /v1/events` that is not the event server's answer to the batch
/// posted (docs/protocol.md: a `200` carries `accepted` and `duplicates`, which add up
/// to the events of the batch): a `2xx` of another shape, or a redirect. Either means
/// that `url` is not the event server's address, which the config must fix: nothing
/// is stored, nothing is refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ForeignAnswer {
    /// A redirect (`3xx`) that the client does not follow: every one but a `307` or
    /// `308` to the same origin.
    #[error(
        "HTTP {status} from {url}: a redirect to {location}, not followed: {why}; the events \
         are kept and sent again: set `url` to the event server's own address"
    )]
    Redirect {
        /// The url that answered (the configured one, or where a followed `307`/`308`
        /// led).
        url: String,
        /// The status and its reason phrase (`301 Moved Permanently`).
        status: String,
        /// The `Location` header: at most 200 characters, quoted, escaped; `(no
        /// Location)` when there is none.
        location: String,
        /// Why following it is not safe.
        why: &'static str,
    },
    /// The body is not JSON of the answer's shape.
    #[error(
        "HTTP {status} from {url} is not an auditrail event server's answer \
         (expected JSON with `accepted` and `duplicates` counts: {reason}); \
         the body starts {body}"
    )]
    NotTheAnswer {
        /// Where the batch was posted.
        url: String,
        /// The status (a success).
        status: u16,
        /// Why the body is not the answer (the JSON parser's message).
        reason: String,
        /// The start of the body: at most 200 characters, quoted, escaped.
        body: String,
    },
    /// An answer of the right shape that does not count the events posted: not the
    /// answer to this request (a stand-in answering a fixed text, or a server that
    /// did not read the batch).
    #[error(
        "HTTP {status} from {url} counts {accepted} accepted + {duplicates} duplicates \
         for a batch of {posted} events: not the event server's answer to this batch; \
         the body starts {body}"
    )]
    Miscounted {
        /// Where the batch was posted.
        url: String,
        /// The status (a success).
        status: u16,
        /// Events in the request.
        posted: u64,
        /// The answer's `accepted`.
        accepted: u64,
        /// The answer's `duplicates`.
        duplicates: u64,
        /// The start of the body: at most 200 characters, quoted, escaped.
        body: String,
    },
    /// Counts that are right, with a receipt that is not one the event server signed
    /// (a signature that does not verify under the key it names, a range that covers
    /// no records, unsigned, not a receipt at all) or, with `server_keys`, not one
    /// signed by one of those keys: the server signs every receipt it gives, so this
    /// answer is a stand-in's, or was changed on its way.
    #[error(
        "HTTP {status} from {url} is not an auditrail event server's answer: {why}; \
         the body starts {body}"
    )]
    BadReceipt {
        /// Where the batch was posted.
        url: String,
        /// The status (a success).
        status: u16,
        /// What is wrong with the receipt (`its receipt has a signature that ...`).
        #[source]
        why: ReceiptProblem,
        /// The start of the body: at most 200 characters, quoted, escaped.
        body: String,
    },
    /// Counts and receipts that are right, with an `answerSig` that does not make the
    /// answer the event server's answer to this request (see answer_sig.rs): one
    /// signed for another request (played back) or changed on its way, one signed by
    /// a key not in `server_keys`, or none at all with `server_keys` set (a server
    /// older than the node, or a stand-in).
    #[error(
        "HTTP {status} from {url} is not the auditrail event server's answer to this \
         request: {why}; the body starts {body}"
    )]
    BadAnswerSig {
        /// Where the batch was posted.
        url: String,
        /// The status (a success).
        status: u16,
        /// What is wrong with the answer's signature.
        #[source]
        why: AnswerSigProblem,
        /// The start of the body: at most 200 characters, quoted, escaped.
        body: String,
    },
    /// With `server_keys`, a final refusal (as `classify` takes them) that is not the configured
    /// event server's refusal of this request (refusal_sig.rs): unsigned (a stand-in
    /// answering `403` to everything), signed by another key, or signed for another
    /// request, body or credential (a relay that strips the node's `Authorization`, or
    /// passes on the server's refusal of other events). Taken at face value it would
    /// move the events to the dead-letter file, out of delivery: so nothing is given
    /// up, and the events are sent again until the server itself answers.
    #[error(
        "HTTP {status} from {url} is not the configured event server's refusal of this \
         request: {why}; the events are kept and sent again; the body starts {body}"
    )]
    BadRefusal {
        /// Where the batch was posted.
        url: String,
        /// The status (a final refusal's).
        status: u16,
        /// Why the refusal does not count.
        #[source]
        why: RefusalProblem,
        /// The start of the body: at most 200 characters, quoted, escaped.
        body: String,
    },
    /// A body longer than any event server's answer can be (see [`ANSWER_MAX_BYTES`]):
    /// a file, a page or a stream served at `url`. Only its first `limit` bytes were
    /// read; the rest is left unread and the connection closed.
    #[error(
        "HTTP {status} from {url} is not an auditrail event server's answer: its body is \
         longer than {limit} bytes, the most an event server's answer can be (the rest \
         was not read); the body starts {body}"
    )]
    TooLarge {
        /// Where the batch was posted.
        url: String,
        /// The status (a success).
        status: u16,
        /// The bound, in bytes ([`ANSWER_MAX_BYTES`]).
        limit: usize,
        /// The start of the body: at most 200 characters, quoted, escaped.
        body: String,
    },
}

/// The most bytes of an answer's body the client reads. The event server's answer to a
/// batch (docs/protocol.md) is `{"accepted":N,"duplicates":N,"durable":B}` (at most
/// about 80 bytes), its `answerSig` (about 230 bytes: key and signature), a `note` of
/// about 150 bytes when it is not durable, and with chained
/// stores one signed receipt per chained store destination (about 420 bytes each: store
/// id, two sequence numbers, chain hash, key, signature). Its size does not grow with
/// the batch (a receipt covers a range of records, not each event), so 1 MiB holds the
/// answer of a server with more than 2000 chained store destinations, far more than any
/// config has, while a node holds at most this much per request in flight, whatever
/// answers at `url`. A success answer longer than this is not the server's
/// ([`ForeignAnswer::TooLarge`]).
pub const ANSWER_MAX_BYTES: usize = 1024 * 1024;

/// Bytes of a retryable error answer's body kept for its message (the rest is not
/// read): [`classify`] shows at most 1000 characters of it, up to 4 bytes each, after
/// leading white space. A final refusal is read up to [`ANSWER_MAX_BYTES`]: it lists
/// the events at fault.
const ERROR_BODY_KEPT_BYTES: usize = 8 * 1024;

/// The server's 200 answer (fields we use; others ignored). `accepted` and
/// `duplicates` are required: without them an answer is not the server's.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct Accepted {
    /// Events newly stored.
    pub accepted: u64,
    /// Events already stored before.
    pub duplicates: u64,
    /// `false` when the server runs a flush policy and did not fsync before answering.
    #[serde(default)]
    pub durable: Option<bool>,
    /// How many events of the batch are not on the server's stable storage (with
    /// `durable: false`; absent from a server before it, and when all are). Taken only
    /// when vouched for: at face value without `server_keys`, else only when the
    /// answer's `answerSig` covers it (`auditrail-answer-v4`); otherwise `None` here.
    #[serde(default, rename = "notDurable")]
    pub not_durable: Option<u64>,
}

impl Accepted {
    /// How many of the `posted` events the answer says are not on the server's stable
    /// storage: its `notDurable`; without it, all of them when it says `durable: false`
    /// (a server before the count, or a count not vouched for), none otherwise.
    pub fn not_durable_of(&self, posted: u64) -> u64 {
        match (self.not_durable, self.durable) {
            (Some(n), _) => n.min(posted),
            (None, Some(false)) => posted,
            (None, _) => 0,
        }
    }
}

/// Bodies up to this size are hashed for the answer's signature on the async worker
/// (tens of microseconds); larger ones on a blocking thread.
const DIGEST_INLINE_BYTES: usize = 64 * 1024;

/// Characters of a foreign answer's body shown in errors and logs: enough to
/// recognise a proxy's or a maintenance page, not a whole page per retry.
const BODY_SHOWN_CHARS: usize = 200;

/// A configured HTTP client for one server.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    url: String,
    auth: Option<HeaderValue>,
    compression: Compression,
    /// Where the receipts of `200` answers are kept (`keep_receipts`).
    receipts: Option<Arc<ReceiptLog>>,
    /// `server_keys`: the keys a receipt and the answer must be signed by (none: any
    /// key, see receipt_check.rs and answer_sig.rs), and, set, a refusal too
    /// (refusal_sig.rs).
    server_keys: Arc<[ServerKey]>,
    /// SHA-256 (hex) of `client_cert`'s certificate (DER): what a signed answer or
    /// refusal binds of it.
    client_cert_sha256: Option<String>,
    /// `auditrail_core::answer::authorization_digest` of the `Authorization` sent
    /// (`auth`; `-` without one): what a signed answer binds of it.
    auth_digest: String,
    /// `accept_unbound_answers`: with `server_keys`, a `200` signed over the `v2` text
    /// (which does not bind this node's credential) is taken too.
    accept_unbound: bool,
}

impl Client {
    /// Builds the client: TLS roots, timeouts, auth header.
    pub(crate) fn new(
        config: &EventServerConfig,
        receipts: Option<ReceiptLog>,
    ) -> Result<Client, SetupError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(redirect_policy())
            .timeout(config.request_timeout())
            .connect_timeout(config.request_timeout().min(Duration::from_secs(5)))
            .pool_max_idle_per_host(config.max_in_flight.max(1))
            .user_agent(concat!(
                "auditrail-target-eventserver/",
                env!("CARGO_PKG_VERSION")
            ));
        if let Some(path) = &config.ca_file {
            let pem = read_pem_file(path).map_err(|source| SetupError::CaFile {
                path: path.to_path_buf(),
                message: source.to_string(),
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| SetupError::CaFile {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(SetupError::CaFile {
                    path: path.to_path_buf(),
                    message: "no PEM certificate in the file".into(),
                });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let mut client_cert_sha256 = None;
        if let (Some(cert), Some(key)) = (&config.client_cert, &config.client_key) {
            let (id, sha256) = identity(cert, key)?;
            builder = builder.identity(id);
            client_cert_sha256 = Some(sha256);
        }
        if config.trust_all_certificates {
            tracing::error!(
                url = %config.url,
                "trust_all_certificates = true: the server's TLS certificate is NOT checked; \
                 anyone on the network path can read and forge this node's audit traffic. \
                 Use ca_file instead."
            );
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(SetupError::Http)?;
        let auth = if config.auth_key.is_empty() {
            None
        } else {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", config.auth_key))
                .map_err(SetupError::AuthKey)?;
            v.set_sensitive(true);
            Some(v)
        };
        let auth_digest =
            auditrail_core::answer::authorization_digest(auth.as_ref().map(HeaderValue::as_bytes));
        Ok(Client {
            http,
            url: config.events_url(),
            auth,
            auth_digest,
            accept_unbound: config.accept_unbound_answers,
            compression: config.compression,
            receipts: receipts.map(Arc::new),
            server_keys: config.server_keys.as_slice().into(),
            client_cert_sha256,
        })
    }

    /// Posts events (each payload one event's JSON wire form) as NDJSON.
    pub(crate) async fn post(&self, payloads: &[&[u8]]) -> Result<Accepted, PostError> {
        let size: usize = payloads.iter().map(|p| p.len() + 1).sum();
        let mut body = Vec::with_capacity(size);
        for p in payloads {
            body.extend_from_slice(p);
            body.push(b'\n');
        }
        let compression = self.compression;
        let plain_len = body.len();
        // The digest of the events as posted (before compression): the server's
        // `answerSig` covers it, so that an answer counts only for these events.
        let (body, body_digest) =
            if compression == Compression::None && body.len() <= DIGEST_INLINE_BYTES {
                let digest = auditrail_core::answer::body_digest(&body);
                (body, digest)
            } else {
                // Off the async workers: compressing or hashing megabytes takes milliseconds.
                tokio::task::spawn_blocking(move || {
                    let digest = auditrail_core::answer::body_digest(&body);
                    match compression {
                        Compression::None => Ok((body, digest)),
                        _ => compress(compression, &body).map(|c| (c, digest)),
                    }
                })
                .await
                .map_err(|e| PostError::Retryable {
                    message: format!("compression task failed: {e}"),
                    retry_after: None,
                })?
                .map_err(|e| PostError::Retryable {
                    message: format!("compression failed: {e}"),
                    retry_after: None,
                })?
            };
        // Kept (shared, not copied) for a refusal's check of what the server saw.
        let body = bytes::Bytes::from(body);
        let mut req = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, CONTENT_TYPE_SENT);
        let content_encoding = match compression {
            Compression::None => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zstd => Some("zstd"),
        };
        if let Some(coding) = content_encoding {
            req = req.header(CONTENT_ENCODING, coding);
        }
        if let Some(auth) = &self.auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        // New for each request, retries included: an answer counts only for the request
        // it answers, and the server's answer to an earlier attempt, if it was lost, is
        // not one this node saw (the retry gets its own, as duplicates).
        let nonce = crate::answer_sig::new_nonce().map_err(|e| PostError::Retryable {
            message: format!("no random nonce for the request: {e}"),
            retry_after: None,
        })?;
        req = req.header(auditrail_core::answer::NONCE_HEADER, &nonce);
        // With `server_keys`, asks for the answer text that binds this node's credential
        // (`auditrail-answer-v3`): a server before it ignores the header and signs `v2`.
        // Not without them, nor with `accept_unbound_answers`: such a node takes `v2`
        // anyway, and a front that terminates the node's TLS and connects on with its
        // own client certificate (or swaps the key) would get a `v3` bound to ITS
        // credential, which this node cannot check and would retry for ever.
        // Version 4 (`auditrail-answer-v4`) covers the answer's `notDurable` too: a
        // server that knows only `v3` signs that, and this node then counts a whole
        // `durable: false` request as not durable.
        if !self.server_keys.is_empty() && !self.accept_unbound {
            req = req.header(
                auditrail_core::answer::VERSION_HEADER,
                auditrail_core::answer::COUNTED_VERSION,
            );
        }
        // With `server_keys`, asks for refusals signed over their list of events at
        // fault (`auditrail-refusal-v2`), which this node then gives up together; a
        // server before it ignores the header and signs `v1`, which covers `line`
        // alone. (Without `server_keys` the list is taken as the rest of the refusal
        // is: at face value.)
        if !self.server_keys.is_empty() {
            req = req.header(
                auditrail_core::answer::REFUSAL_VERSION_HEADER,
                auditrail_core::answer::LISTED_REFUSAL_VERSION,
            );
        }
        let resp = req
            .body(body.clone())
            .send()
            .await
            .map_err(|e| PostError::Retryable {
                message: format!(
                    "POST {}: {}{}",
                    self.url,
                    crate::error::with_causes(&e),
                    scheme_hint(
                        &e,
                        self.url
                            .get(..6)
                            .is_some_and(|p| p.eq_ignore_ascii_case("https:"))
                    )
                    .unwrap_or_default()
                ),
                retry_after: None,
            })?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(redirect(&resp).into());
        }
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        // Never the whole body of whatever answers: the server's answer is small (see
        // ANSWER_MAX_BYTES); an error answer's start is all its message shows.
        // A final refusal is read as far as a success answer: it lists each event at
        // fault (at most `MAX_LISTED_BYTES` of them), and its `answerSig` comes after
        // the list.
        let checked_refusal = is_final(status) && !self.server_keys.is_empty();
        let limit = if status.is_success() || is_final(status) {
            ANSWER_MAX_BYTES
        } else {
            ERROR_BODY_KEPT_BYTES
        };
        let (bytes, cut) = read_start(resp, limit)
            .await
            .map_err(|e| PostError::Retryable {
                message: format!(
                    "POST {}: reading the answer: {}",
                    self.url,
                    crate::error::with_causes(&e)
                ),
                retry_after: None,
            })?;
        let text = String::from_utf8_lossy(&bytes);
        if status.is_success() && cut {
            return Err(ForeignAnswer::TooLarge {
                url: self.url.clone(),
                status: status.as_u16(),
                limit,
                body: body_start(&text),
            }
            .into());
        }
        if status.is_success() {
            let mut accepted = check_answer(status, &self.url, &text, payloads.len())?;
            // Before anything is taken as stored, or the receipt kept as the node's
            // proof of it.
            crate::receipt_check::check(&text, &self.server_keys).map_err(|why| {
                ForeignAnswer::BadReceipt {
                    url: self.url.clone(),
                    status: status.as_u16(),
                    why,
                    body: body_start(&text),
                }
            })?;
            let answered = crate::answer_sig::AnsweredRequest {
                nonce: &nonce,
                body_digest: &body_digest,
                credential: auditrail_core::answer::Credential {
                    authorization: &self.auth_digest,
                    client_cert: self.client_cert_sha256.as_deref(),
                },
                accept_unbound: self.accept_unbound,
            };
            let covered = crate::answer_sig::check(&text, &answered, &accepted, &self.server_keys)
                .map_err(|why| ForeignAnswer::BadAnswerSig {
                    url: self.url.clone(),
                    status: status.as_u16(),
                    why,
                    body: body_start(&text),
                })?;
            if !covered.not_durable {
                // Not signed for: a count lowered on the way must not make events pass
                // for durable; the whole request counts as `durable` says.
                accepted.not_durable = None;
            }
            if let Some(receipts) = &self.receipts {
                // A small append to the page cache (no fsync): no need to leave the
                // runtime for it.
                receipts.keep(&text);
            }
            return Ok(accepted);
        }
        if checked_refusal {
            let sent = SentRequest {
                nonce: &nonce,
                authorization: self.auth.as_ref().map(HeaderValue::as_bytes),
                client_cert: self.client_cert_sha256.as_deref(),
                content_type: CONTENT_TYPE_SENT,
                content_encoding,
                body_digest: &body_digest,
                plain_len,
                sent: &body,
            };
            let checked = if cut {
                Err(RefusalProblem::TooLong { limit })
            } else {
                crate::refusal_sig::check(status.as_u16(), &text, &sent, &self.server_keys)
            };
            let covered = checked.map_err(|why| ForeignAnswer::BadRefusal {
                url: self.url.clone(),
                status: status.as_u16(),
                why,
                body: body_start(&text),
            })?;
            // A `v1` signature covers `line` alone: a list beside it may be a relay's.
            let trust = match covered {
                crate::refusal_sig::Covered::List => List::Trusted,
                crate::refusal_sig::Covered::Named => List::Ignored,
            };
            return Err(classify(status, retry_after, &self.url, &text, trust));
        }
        Err(classify(
            status,
            retry_after,
            &self.url,
            &text,
            List::Trusted,
        ))
    }
}

/// The most `307`/`308` redirects within one origin followed for one request.
const MAX_REDIRECTS: usize = 5;

/// Which redirects the client follows: only a `307` or `308` to the same origin
/// (scheme, host and port) as the url that answered. RFC 9110 §15.4: a user agent may
/// follow `301`, `302` and `303` with a `GET` (and HTTP clients do, reqwest among
/// them): the batch would be sent again as a `GET` without its events, answered
/// `405` or, worse, by a page taken for an answer. `307` and `308` keep the method and
/// the body (§15.4.8, §15.4.9), but to another origin reqwest drops the
/// `Authorization` header (the server then refuses every batch with `401`, dead-lettered
/// as the configured url's refusal), and such a redirect can take the events from
/// https to http or to another server. Within the origin, method, body, key and TLS are
/// all kept: following it is safe. Every redirect not followed is answered to `post`
/// ([`redirect`]).
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let keeps_method = matches!(
            attempt.status(),
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
        );
        let same_origin = attempt
            .previous()
            .last()
            .is_some_and(|from| from.origin() == attempt.url().origin());
        if keeps_method && same_origin && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// The error for a redirect the client did not follow.
fn redirect(resp: &reqwest::Response) -> ForeignAnswer {
    let status = resp.status();
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let target = location.as_deref().and_then(|l| resp.url().join(l).ok());
    let why = match status.as_u16() {
        301..=303 => {
            "a client following it sends the batch again as a GET, without its events \
             (RFC 9110 §15.4)"
        }
        307 | 308
            if target
                .as_ref()
                .is_some_and(|t| t.origin() == resp.url().origin()) =>
        {
            "too many redirects"
        }
        307 | 308 => {
            "it leads to another origin (scheme, host or port), where the Authorization \
             header is not sent and the events would leave the configured server"
        }
        _ => "the event server never redirects a batch",
    };
    ForeignAnswer::Redirect {
        url: resp.url().to_string(),
        status: status.to_string(),
        location: location.map_or_else(|| "(no Location)".to_owned(), |l| body_start(&l)),
        why,
    }
}

/// The first `limit` bytes of `resp`'s body, and whether the body goes on past them.
/// Reads chunk by chunk and stops at `limit`: the rest is never read (dropping the
/// response closes the connection), so a body of any size, or one that never ends,
/// costs at most `limit` bytes and no wait for its end.
async fn read_start(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let expected = resp
        .content_length()
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut body = Vec::with_capacity(expected.min(limit));
    while let Some(chunk) = resp.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// The event server's answer to a batch of `posted` events, or why the success
/// answer `text` is not it. A batch is stored all or nothing, and every event of a
/// stored batch is counted once, as accepted or as a duplicate (docs/protocol.md), so
/// the two add up to `posted`. Anything else (an HTML page, `{}`, the counts of some
/// other batch) acknowledges nothing: taking it as "stored" would forget events that
/// no server has.
pub(crate) fn check_answer(
    status: StatusCode,
    url: &str,
    text: &str,
    posted: usize,
) -> Result<Accepted, ForeignAnswer> {
    let a: Accepted = serde_json::from_str(text).map_err(|e| ForeignAnswer::NotTheAnswer {
        url: url.to_owned(),
        status: status.as_u16(),
        reason: e.to_string(),
        body: body_start(text),
    })?;
    let posted = posted as u64;
    if let Some(n) = a.not_durable.filter(|&n| n > posted) {
        return Err(ForeignAnswer::NotTheAnswer {
            url: url.to_owned(),
            status: status.as_u16(),
            reason: format!("`notDurable` is {n}, more than the {posted} events posted"),
            body: body_start(text),
        });
    }
    if a.accepted.checked_add(a.duplicates) != Some(posted) {
        return Err(ForeignAnswer::Miscounted {
            url: url.to_owned(),
            status: status.as_u16(),
            posted,
            accepted: a.accepted,
            duplicates: a.duplicates,
            body: body_start(text),
        });
    }
    Ok(a)
}

/// The start of a body for an error message: at most [`BODY_SHOWN_CHARS`] characters,
/// quoted, with control characters, quotes and backslashes escaped (a body is
/// whatever answered; it must not break or forge log lines), `...` when cut.
pub(crate) fn body_start(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(no body)".into();
    }
    let mut shown = String::with_capacity(BODY_SHOWN_CHARS + 8);
    shown.push('"');
    let mut chars = text.chars();
    for c in chars.by_ref().take(BODY_SHOWN_CHARS) {
        shown.extend(c.escape_debug());
    }
    shown.push('"');
    if chars.next().is_some() {
        shown.push_str("...");
    }
    shown
}

/// The `Content-Type` of every batch.
const CONTENT_TYPE_SENT: &str = "application/x-ndjson";

/// Whether [`classify`] takes an error answer of this status as final (a refusal: the
/// events are given up), not retryable (`408`, `429`, `5xx`). Redirects and successes
/// are read before.
fn is_final(status: StatusCode) -> bool {
    !status.is_success()
        && !status.is_redirection()
        && !matches!(status.as_u16(), 408 | 429)
        && status.as_u16() < 500
}

/// Whether [`classify`] reads a refusal's list of events at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum List {
    /// Read it: the refusal is taken at face value (no `server_keys`), or its
    /// signature covers the list.
    Trusted,
    /// Leave it: its signature does not cover it (`v1`, an older server's).
    Ignored,
}

/// Maps an HTTP error status to retryable or permanent.
pub(crate) fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    url: &str,
    body: &str,
    list: List,
) -> PostError {
    let mut shown: String = body.trim().chars().take(1000).collect();
    if shown.is_empty() {
        shown = "(no body)".into();
    }
    let message = format!("HTTP {status} from {url}: {shown}");
    match status.as_u16() {
        408 | 429 => PostError::Retryable {
            message,
            retry_after,
        },
        s if s >= 500 => PostError::Retryable {
            message,
            retry_after,
        },
        // The event the server names as the cause of a refusal of the whole batch, and
        // every event it lists.
        400 | 403 | 422 => PostError::Permanent {
            split: true,
            line: serde_json::from_str::<NamedEvent>(body)
                .ok()
                .and_then(|b| b.line)
                .filter(|&l| l >= 1),
            listed: match list {
                List::Trusted => listed(status, url, body),
                List::Ignored => Vec::new(),
            },
            message,
        },
        // 413: the size, not an event; split.
        413 => PostError::Permanent {
            message,
            split: true,
            line: None,
            listed: Vec::new(),
        },
        _ => PostError::Permanent {
            message,
            split: false,
            line: None,
            listed: Vec::new(),
        },
    }
}

/// The part of an error body that names the event at fault (docs/protocol.md,
/// "Errors": `line`, 1-based, of a JSON-lines body; the target sends no other kind).
#[derive(Deserialize)]
struct NamedEvent {
    line: Option<u64>,
}

/// A refusal's list of events at fault (docs/protocol.md, "Errors": `events`).
#[derive(Deserialize)]
struct Listing<'a> {
    #[serde(default)]
    error: Option<String>,
    #[serde(borrow, default)]
    events: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// What this node reads of one listed event: its line and its code.
#[derive(Deserialize)]
struct ListedEvent {
    line: u64,
    #[serde(default)]
    error: Option<String>,
}

/// Every event the refusal `body` lists, by line, each with its reason: the status,
/// the url, the event's code and its entry as the server wrote it (its own `message`,
/// `field`, `id`). Empty when the body lists none, or when any entry does not name a
/// line of the request (not this node's request's list: nothing is taken from it).
fn listed(status: StatusCode, url: &str, body: &str) -> Vec<(u64, String)> {
    let Ok(Listing {
        error,
        events: Some(events),
    }) = serde_json::from_str::<Listing<'_>>(body)
    else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(events.len());
    for raw in events {
        let Ok(e) = serde_json::from_str::<ListedEvent>(raw.get()) else {
            return Vec::new();
        };
        if e.line == 0 {
            return Vec::new();
        }
        let code = e.error.as_deref().or(error.as_deref()).unwrap_or("refused");
        out.push((
            e.line,
            format!("HTTP {status} from {url}: {code}: {}", raw.get()),
        ));
    }
    out
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3). A date in the past
/// is no wait; anything else (`soon`, `-5`) is ignored (`None`: the usual backoff).
/// The wait is capped later, by `Backoff::delay_after`; delay-seconds too large for a
/// `u64` are a very long wait to cap, not a value to ignore.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

fn compress(c: Compression, body: &[u8]) -> std::io::Result<Vec<u8>> {
    match c {
        Compression::None => Ok(body.to_vec()),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            enc.write_all(body)?;
            enc.finish()
        }
        Compression::Zstd => zstd::bulk::compress(body, 3),
    }
}

/// What a failed request says of the url's scheme when the server speaks the other
/// one: an http:// url to a TLS server reads the server's TLS alert as an answer that
/// is not HTTP (hyper: "invalid HTTP version parsed"); an https:// url to a plain HTTP
/// server reads its HTTP answer as a TLS record of no known type (rustls:
/// `InvalidContentType`). Either alone names no cause a person can act on (nginx
/// answers the first case with "The plain HTTP request was sent to HTTPS port").
/// Also what to do about a server certificate refused (`cert_hint`).
fn scheme_hint(e: &(dyn std::error::Error + 'static), https: bool) -> Option<&'static str> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if !https
            && c.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_parse)
        {
            return Some(
                " (the server's answer is not HTTP: if it speaks HTTPS, the url must start \
                 with https://)",
            );
        }
        // rustls's error reaches here inside `io::Error`s (one in another), whose
        // `source` skips the error they wrap.
        let mut inner: &(dyn std::error::Error + 'static) = c;
        while let Some(wrapped) = inner
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            inner = wrapped;
        }
        let tls = inner.downcast_ref::<rustls::Error>();
        if let Some(hint) = tls
            .filter(|_| https)
            .and_then(crate::cert_hint::certificate_hint)
        {
            return Some(hint);
        }
        if https
            && matches!(
                tls,
                Some(rustls::Error::InvalidMessage(
                    rustls::InvalidMessage::InvalidContentType
                ))
            )
        {
            return Some(
                " (the server does not speak TLS: if it is a plain HTTP server, the url must \
                 start with http://)",
            );
        }
        cause = c.source();
    }
    None
}

/// The most a PEM file of the config (`ca_file`, `client_cert`, `client_key`) may
/// hold, bytes (a whole system CA bundle is some 250 KB).
const MAX_PEM_FILE_BYTES: u64 = 4 << 20;

/// A PEM file the config names: a regular file only, of at most [`MAX_PEM_FILE_BYTES`]
/// (`auditrail_core::regular_file`): a FIFO at the path (a secrets agent's) or a device
/// must not hang the start nor be read for ever.
fn read_pem_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    auditrail_core::regular_file::read_bounded(path, MAX_PEM_FILE_BYTES)
}

/// The node's client certificate and key as one identity (reqwest takes them as one
/// PEM: the certificate chain, then the key).
/// The client certificate and key, each file checked here so that an error names it
/// and says what is wrong: `reqwest::Identity::from_pem` only keeps the bytes, and
/// their errors surface at `build()` as an unexplained "builder error".
/// Also the SHA-256 (hex) of the certificate (the first of the chain, DER), which the
/// server binds into its signed refusals of this node's requests.
fn identity(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<(reqwest::Identity, String), SetupError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let cert_err = |problem| SetupError::ClientCert {
        path: cert.to_path_buf(),
        problem,
    };
    let key_err = |problem| SetupError::ClientKey {
        path: key.to_path_buf(),
        problem,
    };
    let mut pem = read_pem_file(cert).map_err(|e| cert_err(PemProblem::Read(e)))?;
    let key_pem = read_pem_file(key).map_err(|e| key_err(PemProblem::Read(e)))?;

    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(PemProblem::Pem(e)))?;
    let Some(leaf) = certs.first() else {
        return Err(cert_err(PemProblem::NoCertificate));
    };
    let sha256 = auditrail_core::answer::body_digest(leaf.as_ref());
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        key_err(match e {
            rustls::pki_types::pem::Error::NoItemsFound => PemProblem::NoKey,
            e => PemProblem::Pem(e),
        })
    })?;
    // The provider reqwest's rustls uses (ring), so a key accepted here is one the
    // client can sign with.
    let provider = rustls::crypto::ring::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| key_err(PemProblem::UnusableKey(e)))?;
    rustls::sign::CertifiedKey::new(certs, signing_key)
        .keys_match()
        .map_err(|source| SetupError::KeyMismatch {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            source,
        })?;

    if !pem.ends_with(b"\n") {
        pem.push(b'\n');
    }
    pem.extend_from_slice(&key_pem);
    // Both files were parsed above; what reqwest could still refuse is kept as the
    // cause (with its chain), not flattened to text.
    let id = reqwest::Identity::from_pem(&pem).map_err(SetupError::Http)?;
    Ok((id, sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_documented_classes() {
        let c = |s: u16| {
            classify(
                StatusCode::from_u16(s).unwrap(),
                None,
                "u",
                "{\"error\":\"x\"}",
                List::Trusted,
            )
        };
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(matches!(c(s), PostError::Retryable { .. }), "{s}");
        }
        for s in [400, 403, 413, 422] {
            assert!(
                matches!(c(s), PostError::Permanent { split: true, .. }),
                "{s}"
            );
        }
        for s in [401, 404, 415] {
            assert!(
                matches!(c(s), PostError::Permanent { split: false, .. }),
                "{s}"
            );
        }
        let line = |s: u16, body: &str| match classify(
            StatusCode::from_u16(s).unwrap(),
            None,
            "u",
            body,
            List::Trusted,
        ) {
            PostError::Permanent { line, .. } => line,
            other => panic!("{other:?}"),
        };
        assert_eq!(line(400, r#"{"error":"invalid_event","line":7}"#), Some(7));
        assert_eq!(
            line(403, r#"{"error":"forbidden","line":2,"field":"topic"}"#),
            Some(2)
        );
        assert_eq!(line(400, r#"{"error":"invalid_event","line":0}"#), None);
        assert_eq!(line(400, r#"{"error":"invalid_event","line":"7"}"#), None);
        assert_eq!(line(400, "line 7"), None);
        assert_eq!(line(413, r#"{"error":"payload_too_large","line":1}"#), None);
        let PostError::Permanent { message, .. } = c(403) else {
            unreachable!()
        };
        assert!(
            message.contains("403") && message.contains("\"x\""),
            "{message}"
        );
    }

    #[test]
    fn a_refusals_list_names_each_event_by_line_with_its_own_reason() {
        let body = r#"{"error":"invalid_event","line":2,"events":[
            {"line":2,"error":"invalid_event","field":"topic","message":"bad topic"},
            {"line":5,"error":"timestamp_past_retention","field":"timestamp","message":"old"}]}"#;
        let listed =
            |body: &str, list| match classify(StatusCode::BAD_REQUEST, None, "u", body, list) {
                PostError::Permanent { listed, .. } => listed,
                other => panic!("{other:?}"),
            };
        let l = listed(body, List::Trusted);
        assert_eq!(l.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [2, 5]);
        assert!(
            l[1].1.contains("timestamp_past_retention") && l[1].1.contains("old"),
            "{l:?}"
        );
        assert!(
            l[0].1.contains("400") && l[0].1.contains("bad topic"),
            "{l:?}"
        );
        // Not covered by the signature, or not a list of lines: nothing listed.
        assert!(listed(body, List::Ignored).is_empty());
        assert!(listed(r#"{"events":[{"index":2}]}"#, List::Trusted).is_empty());
        assert!(listed(r#"{"events":[{"line":0}]}"#, List::Trusted).is_empty());
        // An older server's 422 list has no `error` per event: the answer's is used.
        let old = listed(
            r#"{"error":"unrouted","events":[{"line":3,"id":"x"}]}"#,
            List::Trusted,
        );
        assert!(old[0].1.contains("unrouted"), "{old:?}");
    }

    #[test]
    fn the_refusals_checked_with_server_keys_are_those_taken_as_final() {
        for s in 100..1000u16 {
            let Ok(status) = StatusCode::from_u16(s) else {
                continue;
            };
            if status.is_success() || status.is_redirection() {
                continue;
            }
            let permanent = matches!(
                classify(status, None, "u", "", List::Trusted),
                PostError::Permanent { .. }
            );
            assert_eq!(is_final(status), permanent, "{s}");
        }
    }

    #[test]
    fn only_the_answer_that_counts_the_batch_is_the_servers() {
        let check = |text: &str, posted| check_answer(StatusCode::OK, "http://u", text, posted);
        let a = check(
            r#"{"accepted":3,"duplicates":1,"durable":false,"receipt":null,"note":"x"}"#,
            4,
        )
        .unwrap();
        assert_eq!((a.accepted, a.duplicates, a.durable), (3, 1, Some(false)));
        assert!(check(r#"{"accepted":0,"duplicates":2}"#, 2).is_ok());
        // Not durable: the count when there is one, else the whole batch.
        assert_eq!(a.not_durable_of(4), 4);
        let counted = r#"{"accepted":3,"duplicates":1,"durable":false,"notDurable":2}"#;
        assert_eq!(check(counted, 4).unwrap().not_durable_of(4), 2);
        assert_eq!(
            check(r#"{"accepted":3,"duplicates":1}"#, 4)
                .unwrap()
                .not_durable_of(4),
            0
        );
        for (text, posted) in [
            ("<html>Welcome to nginx!</html>", 1),
            ("", 1),
            ("{}", 1),
            (r#"{"accepted":"1","duplicates":0}"#, 1),
            (r#"{"accepted":1,"duplicates":0,"durable":"yes"}"#, 1),
            (
                r#"{"accepted":1,"duplicates":0,"durable":false,"notDurable":2}"#,
                1,
            ),
            (
                r#"{"accepted":1,"duplicates":0,"durable":false,"notDurable":-1}"#,
                1,
            ),
            (r#"{"error":"x"}"#, 1),
            ("[1]", 1),
        ] {
            let e = check(text, posted).unwrap_err();
            assert!(
                matches!(e, ForeignAnswer::NotTheAnswer { status: 200, .. }),
                "{text}: {e:?}"
            );
        }
        for (text, posted) in [
            (r#"{"accepted":0,"duplicates":0}"#, 3),
            (r#"{"accepted":2,"duplicates":0}"#, 3),
            (r#"{"accepted":3,"duplicates":1}"#, 3),
            (r#"{"accepted":18446744073709551615,"duplicates":4}"#, 3),
        ] {
            let e = check(text, posted).unwrap_err();
            assert!(matches!(e, ForeignAnswer::Miscounted { .. }), "{text}: {e}");
            assert!(e.to_string().contains("http://u"), "{e}");
        }
    }

    #[test]
    fn a_shown_body_is_escaped_and_bounded() {
        assert_eq!(body_start("  \n"), "(no body)");
        assert_eq!(body_start("<p>\"hi\"</p>\n"), r#""<p>\"hi\"</p>""#);
        let shown = body_start("a\nb\u{1b}[31mc\r\u{202e}");
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(shown.contains("a\\nb"), "{shown}");
        let long = body_start(&"é".repeat(10_000));
        assert_eq!(long.chars().count(), BODY_SHOWN_CHARS + 2 + 3, "{long}");
        assert!(long.ends_with("\"..."));
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        let past = httpdate::fmt_http_date(std::time::SystemTime::UNIX_EPOCH);
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn compressed_bodies_decompress_to_the_original() {
        use std::io::Read;
        let body = b"{\"a\":1}\n{\"b\":2}\n".repeat(100);
        let gz = compress(Compression::Gzip, &body).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, body);
        let zs = compress(Compression::Zstd, &body).unwrap();
        assert_eq!(zstd::decode_all(&zs[..]).unwrap(), body);
    }
}
