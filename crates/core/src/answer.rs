//! The event server's signed answer to one request: the nonce a node sends with each
//! `POST /v1/events` and the text the server's `answerSig` covers.
//!
//! A receipt proves where a store put a batch, but not every `200` carries one (no
//! chained store, none of them took the batch, duplicates older than a store
//! remembers), and a receipt alone is not bound to the request it answers: a genuine
//! answer captured once could be played back to acknowledge another batch. So a node
//! sends a fresh random nonce with each request, and the server signs its answer's
//! counts and receipt together with that nonce and the digest of the batch it received
//! (docs/protocol.md, "`answerSig`"). The server signs this text and a node checks it:
//! both build it here.
//!
//! The digest binds the answer to the events: without it, a stand-in at the node's url
//! (which gets the node's key and nonce with each request) could post other events of
//! the same number to the server with the node's nonce, and hand the server's
//! genuinely signed answer back as the acknowledgement of the node's events, which no
//! server has.
//!
//! The `v3` text ([`BOUND_VERSION`], asked for with [`VERSION_HEADER`]) binds the
//! request's credential too, as a refusal's text does: without it, a relay at the
//! node's url that posts the node's events on with a credential of its own that may
//! write them gets them stored under its own key id, and the node took the signed
//! answer as its acknowledgement (the recorded submitter was the relay's).

/// The request header that carries the nonce (HTTP field names are case-insensitive;
/// written in lower case, as HTTP/2 sends them).
pub const NONCE_HEADER: &str = "auditrail-request-nonce";

/// Hex digits of a nonce: 16 random bytes, 128 bits, never repeated by chance.
pub const NONCE_HEX_LEN: usize = 32;

/// The request header in which a node asks for the answer text that binds its
/// credential ([`BOUND_VERSION`]): `Auditrail-Answer-Version: 3`. A request without it
/// (a node older than this) gets the `v2` text, which does not bind the credential, so
/// that nodes and servers can be upgraded apart (servers first).
pub const VERSION_HEADER: &str = "auditrail-answer-version";

/// The answer text version a node asks for in [`VERSION_HEADER`], and that the server
/// writes in the answer's `answerSig.version` when it signed that text:
/// `auditrail-answer-v3`, which binds the request's credential.
pub const BOUND_VERSION: u32 = 3;

/// The answer text version a node asks for in [`VERSION_HEADER`] to learn how many events
/// of its batch are not on the server's stable storage (the answer's `notDurable`), and
/// that the server writes in `answerSig.version` when it signed that text:
/// `auditrail-answer-v4` ([`counted_text`]), the [`BOUND_VERSION`] text with that count.
/// A server before it signs the `v3` text for this request (it signs `v3` for any
/// version from 3 on); the node then counts every event of a `durable: false` answer as
/// not durable, as before.
pub const COUNTED_VERSION: u32 = 4;

/// The domain line of the text that covers the answer's `notDurable` ([`COUNTED_VERSION`]).
pub const COUNTED_DOMAIN: &str = "auditrail-answer-v4\n";

/// What the signature covers before the answer's fields: a signature made by the same
/// key for another purpose (a receipt, a checkpoint) is never an answer's. The `v2`
/// text, which does not bind the request's credential (servers before
/// [`BOUND_VERSION`], and requests that do not ask for it).
pub const DOMAIN: &str = "auditrail-answer-v2\n";

/// The domain line of the text that binds the request's credential ([`BOUND_VERSION`]).
pub const BOUND_DOMAIN: &str = "auditrail-answer-v3\n";

/// Whether `text` is a nonce as the server takes it: exactly [`NONCE_HEX_LEN`] hex
/// digits (either case). Nothing else may enter the signed text: a nonce with a line
/// break could pass itself off as the fields after it.
pub fn is_nonce(text: &str) -> bool {
    text.len() == NONCE_HEX_LEN && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The SHA-256 of a request's body (its events' NDJSON, as posted before any
/// `Content-Encoding`, as the server reads it after decoding), 64 lower-case hex
/// digits: what [`signed_text`] takes as `body_digest`.
pub fn body_digest(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body))
}

/// The credential a request was sent with, as the server received it: what the
/// [`BOUND_VERSION`] answer text binds. Only digests: a signed text never holds a
/// secret (and is never sent: only its signature is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'a> {
    /// [`authorization_digest`] of the request's `Authorization` lines (`-`: none).
    pub authorization: &'a str,
    /// SHA-256 (64 lower-case hex) of the DER of the connection's client certificate
    /// (mutual TLS), `None` without one.
    pub client_cert: Option<&'a str>,
}

/// The request an answer is to, as the server received it: what its signature binds
/// besides the answer's own fields.
#[derive(Debug, Clone, Copy)]
pub struct AnsweredRequest<'a> {
    /// The request's `Auditrail-Request-Nonce`.
    pub nonce: &'a str,
    /// [`body_digest`] of its decoded body.
    pub body_digest: &'a str,
    /// Its credential, for the [`BOUND_VERSION`] text (`auditrail-answer-v3`), which
    /// the request asked for with [`VERSION_HEADER`]; `None`: the `v2` text, which does
    /// not bind it.
    pub credential: Option<Credential<'a>>,
}

/// The signed text of the answer to `request`:
/// `"auditrail-answer-v3\n<nonce>\n<body digest>\n<authorization>\n<client cert>\n<accepted>\n<duplicates>\n<durable>\n<receipt>"`
/// when it binds the request's credential (`<authorization>` and `<client cert>` as in
/// [`refusal_text`]: digests, `-` for none), else the older
/// `"auditrail-answer-v2\n<nonce>\n<body digest>\n<accepted>\n<duplicates>\n<durable>\n<receipt>"`;
/// `durable` is `true` or `false` and `receipt` is the answer's `receipt` value exactly
/// as written in the answer's body (its JSON text: an object, or an array), or nothing
/// when the answer has no `receipt` or it is `null`. The receipt's text comes last, so
/// that whatever it holds cannot be read as another field.
///
/// The credential is bound so that a relay at a node's url that posts the node's nonce
/// and body on with a credential of its own (a bearer key or client certificate that
/// may write those events) gets an answer signed for its own credential, which does
/// not verify for the node's: the events are stored under the relay's key id, and the
/// node must not take that answer as the acknowledgement of its own delivery.
pub fn signed_text(
    request: &AnsweredRequest<'_>,
    accepted: u64,
    duplicates: u64,
    durable: bool,
    receipt: Option<&str>,
) -> String {
    let receipt = receipt.unwrap_or_default();
    let AnsweredRequest {
        nonce, body_digest, ..
    } = request;
    match request.credential {
        Some(c) => format!(
            "{BOUND_DOMAIN}{nonce}\n{body_digest}\n{}\n{}\n{accepted}\n{duplicates}\n{durable}\n{receipt}",
            c.authorization,
            c.client_cert.unwrap_or("-"),
        ),
        None => format!(
            "{DOMAIN}{nonce}\n{body_digest}\n{accepted}\n{duplicates}\n{durable}\n{receipt}"
        ),
    }
}

/// The signed text of the answer to `request` that covers its `notDurable` too
/// ([`COUNTED_VERSION`]):
/// `"auditrail-answer-v4\n<nonce>\n<body digest>\n<authorization>\n<client cert>\n<accepted>\n<duplicates>\n<durable>\n<not durable>\n<receipt>"`:
/// the [`BOUND_VERSION`] text of [`signed_text`] with `not_durable` (decimal: how many
/// events of the batch are not on stable storage in every destination that took them or
/// holds their stored originals; 0 when `durable`) after `durable`. It always binds the
/// request's credential: `request.credential` `None` is written as a request without
/// one (`-`, `-`).
///
/// Without it, a node with `server_keys` could not tell a count the server signed from
/// one changed on the way: a `notDurable` lowered to 0 would make events a power loss of
/// the server may lose pass for durable.
pub fn counted_text(
    request: &AnsweredRequest<'_>,
    accepted: u64,
    duplicates: u64,
    durable: bool,
    not_durable: u64,
    receipt: Option<&str>,
) -> String {
    let receipt = receipt.unwrap_or_default();
    let AnsweredRequest {
        nonce, body_digest, ..
    } = request;
    let c = request.credential.unwrap_or(Credential {
        authorization: "-",
        client_cert: None,
    });
    format!(
        "{COUNTED_DOMAIN}{nonce}\n{body_digest}\n{}\n{}\n{accepted}\n{duplicates}\n{durable}\n{not_durable}\n{receipt}",
        c.authorization,
        c.client_cert.unwrap_or("-"),
    )
}

/// What the signature of a refusal covers before its fields: never an answer's, a
/// receipt's or a checkpoint's text, whatever the fields.
pub const REFUSAL_DOMAIN: &str = "auditrail-refusal-v1\n";

/// Whether a client takes an error answer of this status as final: the event server
/// refused the request for good, and sending it again unchanged will meet the same
/// answer (every `4xx` but `408` and `429`; a `5xx`, `408` or `429` is retryable). The
/// server signs exactly these refusals of a request that sends a nonce, and a node with
/// `server_keys` takes exactly these only when signed (docs/protocol.md, "Signed
/// refusals").
pub fn is_final_refusal(status: u16) -> bool {
    (400..500).contains(&status) && status != 408 && status != 429
}

/// Whether `text` may be a refusal's `error` code in the signed text: lower-case ASCII
/// letters, digits and `_`, as every code the server answers. Nothing else may enter
/// the text (a code with a line break could pass itself off as the fields after it).
pub fn is_error_code(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The SHA-256 of each `Authorization` line of a request, as sent (all its bytes, the
/// scheme included), comma-separated in their order; `-` when there is none. What a
/// refusal's signature covers of the credential: a relay that strips or swaps the
/// header gets a refusal signed for another credential. Only digests: a signed text
/// never holds a secret (and is never sent: only its signature is).
pub fn authorization_digest<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> String {
    let digests: Vec<String> = lines.into_iter().map(body_digest).collect();
    if digests.is_empty() {
        "-".to_owned()
    } else {
        digests.join(",")
    }
}

/// Where a refusal names the event at fault: what the node reads to give that event up
/// alone, so the signature covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// `line` of a JSON-lines body (1-based).
    Line(u64),
    /// `index` of a JSON array body (0-based).
    Index(u64),
}

/// The request a refusal is of, as the server saw it: what its signature binds besides
/// the refusal's own status, code, named event and [`BodySeen`].
#[derive(Debug, Clone, Copy)]
pub struct RefusedRequest<'a> {
    /// The request's `Auditrail-Request-Nonce`.
    pub nonce: &'a str,
    /// [`authorization_digest`] of its `Authorization` lines.
    pub authorization: &'a str,
    /// SHA-256 (64 lower-case hex) of the DER of the connection's client certificate
    /// (mutual TLS), `None` without one.
    pub client_cert: Option<&'a str>,
}

/// What of a request's body the server saw when it refused it. Each kind is written so
/// that a client can check it against its own request, and so that a genuine refusal of
/// ANOTHER request (whose nonce and credential a relay copied from the client's) never
/// reads as one of the client's:
///
/// - [`BodySeen::Unread`]: refused on its credential alone (`401`), before any byte of
///   the body was read. The body plays no part in the refusal and the credential is
///   bound on a line of its own: a relay can only get this refusal for the client's
///   nonce by sending the client's credential, which the server refuses.
/// - [`BodySeen::Media`]: refused for its `Content-Type` or `Content-Encoding` (`415`),
///   before reading: both values as received. A relay that changes either to make the
///   server refuse gets a refusal of values the client did not send.
/// - [`BodySeen::Over`]: more than `limit` bytes (`413`: declared, received, or once
///   decoded). Only a body of more than `limit` bytes (as sent, or decoded) gets it for
///   good: a client whose own body is not over the limit takes it as another body's (a
///   relay that padded the client's), one whose body is over it would meet the same
///   refusal from the server itself.
/// - [`BodySeen::Cut`]: the body broke off after `received` bytes (`400 bad_body`): not
///   the client's whole body, never the client's refusal (the client sent it whole).
/// - [`BodySeen::Undecodable`]: received whole and not decodable with `encoding` (`400
///   bad_encoding`): the encoding as the server read it and the SHA-256 of the bytes as
///   received. Only the client's own bytes, sent with its own encoding, match.
/// - [`BodySeen::Events`]: decoded whole and refused for its events (invalid, not the
///   key's, ahead in time, stored nowhere, unstorable): how it was framed (`lines` or
///   `array`: the same bytes read the other way are another request) and the SHA-256
///   of the decoded body ([`body_digest`]). Only the client's own events match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodySeen {
    /// `unread`.
    Unread,
    /// `media <Content-Type> <Content-Encoding>`, each a JSON string or `null`.
    Media {
        /// `Content-Type` as received.
        content_type: Option<String>,
        /// `Content-Encoding` as received (its lines joined with `, `).
        content_encoding: Option<String>,
    },
    /// `over <limit>`.
    Over(u64),
    /// `cut <received>`.
    Cut(u64),
    /// `undecodable <encoding> sha256:<hex>`.
    Undecodable {
        /// `gzip` or `zstd`.
        encoding: &'static str,
        /// [`body_digest`] of the body as received.
        digest: String,
    },
    /// `events <lines|array> sha256:<hex>`.
    Events {
        /// Read as one JSON array (else as JSON lines).
        array: bool,
        /// [`body_digest`] of the decoded body.
        digest: String,
    },
}

impl std::fmt::Display for BodySeen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A JSON string escapes line breaks: nothing of a header value can become a
        // line of its own.
        let json = |v: &Option<String>| serde_json::to_string(v).unwrap_or_default();
        match self {
            BodySeen::Unread => f.write_str("unread"),
            BodySeen::Media {
                content_type,
                content_encoding,
            } => write!(f, "media {} {}", json(content_type), json(content_encoding)),
            BodySeen::Over(limit) => write!(f, "over {limit}"),
            BodySeen::Cut(received) => write!(f, "cut {received}"),
            BodySeen::Undecodable { encoding, digest } => {
                write!(f, "undecodable {encoding} sha256:{digest}")
            }
            BodySeen::Events { array, digest } => write!(
                f,
                "events {} sha256:{digest}",
                if *array { "array" } else { "lines" }
            ),
        }
    }
}

impl BodySeen {
    /// The limit of a [`BodySeen::Over`] written as `text`, if it is one.
    pub fn over_limit(text: &str) -> Option<u64> {
        let digits = text.strip_prefix("over ")?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

/// The signed text of the server's refusal (`status`, `error` code, the event it names)
/// of `request` (docs/protocol.md, "Signed refusals"):
/// `"auditrail-refusal-v1\n<nonce>\n<status>\n<error>\n<named>\n<authorization>\n<client cert>\n<seen>"`,
/// where `<named>` is `line <n>`, `index <n>` or `-`, `<client cert>` its digest or
/// `-`, and `<seen>` the [`BodySeen`] as written in the answer (`seen_text`: the
/// client passes the text it read, the server the one it wrote). `seen` comes last: a
/// JSON string in it cannot be read as another field.
pub fn refusal_text(
    status: u16,
    error: &str,
    named: Option<Named>,
    request: &RefusedRequest<'_>,
    seen_text: &str,
) -> String {
    refusal_text_of(
        REFUSAL_DOMAIN,
        status,
        error,
        named,
        request,
        None,
        seen_text,
    )
}

/// The request header in which a node asks for refusals signed over the text that
/// covers the list of events at fault ([`LISTED_REFUSAL_VERSION`]):
/// `Auditrail-Refusal-Version: 2`. A request without it (a node older than this) gets
/// refusals signed over the `v1` text ([`refusal_text`]), which covers `line`/`index`
/// alone, so that servers can be upgraded before their nodes.
pub const REFUSAL_VERSION_HEADER: &str = "auditrail-refusal-version";

/// The refusal text version a node asks for in [`REFUSAL_VERSION_HEADER`], and that
/// the server writes in the refusal's `answerSig.version` when it signed that text:
/// `auditrail-refusal-v2`, which covers the refusal's `events` list ([`Listed`]).
pub const LISTED_REFUSAL_VERSION: u32 = 2;

/// The domain line of the refusal text that covers the list of events at fault
/// ([`LISTED_REFUSAL_VERSION`]).
pub const LISTED_REFUSAL_DOMAIN: &str = "auditrail-refusal-v2\n";

/// At most this many events are listed in one refusal's `events`; the others at fault
/// are counted in `eventsMore` (docs/protocol.md, "Errors"). A node gives the listed
/// ones up and sends the rest again, which is refused again listing the next ones: a
/// hostile or broken body costs the server a bounded answer, and a node still makes
/// progress by this many events a request.
pub const MAX_LISTED_EVENTS: usize = 1000;

/// At most this many bytes of the `events` list as written, whatever the number of
/// entries: the list stays well inside the 1 MiB a node reads of a refusal.
pub const MAX_LISTED_BYTES: usize = 512 * 1024;

/// What a `v2` refusal says of the events at fault, as its signature covers it: the
/// refusal's `events` value exactly as written in the answer's body (its JSON text,
/// `None` when the refusal has no list) and `eventsMore` (events at fault not listed,
/// 0 when absent). The node gives up exactly the events listed: a relay that moved an
/// entry to another line, added or dropped one, or changed an entry's reason, changes
/// the digest, and the signature no longer verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed<'a> {
    /// The `events` value as written (`None`: no list).
    pub events: Option<&'a str>,
    /// `eventsMore`.
    pub more: u64,
}

/// The `v2` signed text of a refusal ([`LISTED_REFUSAL_VERSION`], docs/protocol.md,
/// "Signed refusals"):
/// `"auditrail-refusal-v2\n<nonce>\n<status>\n<error>\n<named>\n<authorization>\n<client cert>\n<listed>\n<seen>"`,
/// the fields of [`refusal_text`] with `<listed>` before `<seen>`:
/// `events sha256:<SHA-256 of the events value as written> more <eventsMore>`, or
/// `events - more <eventsMore>` without a list. Only a digest of the list enters the
/// text: whatever the list holds, it cannot be read as another field.
pub fn listed_refusal_text(
    status: u16,
    error: &str,
    named: Option<Named>,
    request: &RefusedRequest<'_>,
    listed: &Listed<'_>,
    seen_text: &str,
) -> String {
    refusal_text_of(
        LISTED_REFUSAL_DOMAIN,
        status,
        error,
        named,
        request,
        Some(listed),
        seen_text,
    )
}

/// The one builder of both refusal texts.
fn refusal_text_of(
    domain: &str,
    status: u16,
    error: &str,
    named: Option<Named>,
    request: &RefusedRequest<'_>,
    listed: Option<&Listed<'_>>,
    seen_text: &str,
) -> String {
    let named = match named {
        None => "-".to_owned(),
        Some(Named::Line(l)) => format!("line {l}"),
        Some(Named::Index(i)) => format!("index {i}"),
    };
    let listed = match listed {
        None => String::new(),
        Some(Listed { events, more }) => {
            let digest = events.map_or_else(
                || "-".to_owned(),
                |e| format!("sha256:{}", body_digest(e.as_bytes())),
            );
            format!("events {digest} more {more}\n")
        }
    };
    format!(
        "{domain}{}\n{status}\n{error}\n{named}\n{}\n{}\n{listed}{seen_text}",
        request.nonce,
        request.authorization,
        request.client_cert.unwrap_or("-"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "0123456789abcdef0123456789abcdef";

    fn unbound(body_digest: &str) -> AnsweredRequest<'_> {
        AnsweredRequest {
            nonce: NONCE,
            body_digest,
            credential: None,
        }
    }

    #[test]
    fn the_signed_text_is_the_documented_one() {
        let d = body_digest(b"");
        assert_eq!(
            d,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let r = unbound(&d);
        assert_eq!(
            signed_text(&r, 998, 2, true, Some(r#"{"storeId":"s"}"#)),
            format!("auditrail-answer-v2\n0123456789abcdef0123456789abcdef\n{d}\n998\n2\ntrue\n{{\"storeId\":\"s\"}}")
        );
        assert_eq!(
            signed_text(&r, 0, 3, false, None),
            format!("auditrail-answer-v2\n0123456789abcdef0123456789abcdef\n{d}\n0\n3\nfalse\n")
        );
        assert_eq!(
            signed_text(&r, 0, 3, false, Some("[]")),
            format!("auditrail-answer-v2\n0123456789abcdef0123456789abcdef\n{d}\n0\n3\nfalse\n[]")
        );
    }

    #[test]
    fn the_bound_text_is_the_documented_one() {
        let d = body_digest(b"{}\n");
        let auth = authorization_digest([b"Bearer s".as_slice()]);
        let cert = body_digest(b"der");
        let with_key = AnsweredRequest {
            credential: Some(Credential {
                authorization: &auth,
                client_cert: None,
            }),
            ..unbound(&d)
        };
        assert_eq!(
            signed_text(&with_key, 998, 2, true, Some(r#"{"storeId":"s"}"#)),
            format!(
                "auditrail-answer-v3\n{NONCE}\n{d}\n{auth}\n-\n998\n2\ntrue\n{{\"storeId\":\"s\"}}"
            )
        );
        let with_cert = AnsweredRequest {
            credential: Some(Credential {
                authorization: "-",
                client_cert: Some(&cert),
            }),
            ..unbound(&d)
        };
        assert_eq!(
            signed_text(&with_cert, 0, 3, false, None),
            format!("auditrail-answer-v3\n{NONCE}\n{d}\n-\n{cert}\n0\n3\nfalse\n")
        );
        // No credential at all is still bound: `-` on both lines, never the v2 text.
        let none = AnsweredRequest {
            credential: Some(Credential {
                authorization: "-",
                client_cert: None,
            }),
            ..unbound(&d)
        };
        assert_eq!(
            signed_text(&none, 1, 0, true, Some("[]")),
            format!("auditrail-answer-v3\n{NONCE}\n{d}\n-\n-\n1\n0\ntrue\n[]")
        );
        assert_ne!(
            signed_text(&none, 1, 0, true, None),
            signed_text(&unbound(&d), 1, 0, true, None)
        );
        assert_eq!(BOUND_DOMAIN, format!("auditrail-answer-v{BOUND_VERSION}\n"));
    }

    #[test]
    fn the_counted_text_is_the_bound_one_with_the_not_durable_count() {
        let d = body_digest(b"{}\n");
        let auth = authorization_digest([b"Bearer s".as_slice()]);
        let with_key = AnsweredRequest {
            credential: Some(Credential {
                authorization: &auth,
                client_cert: None,
            }),
            ..unbound(&d)
        };
        assert_eq!(
            counted_text(&with_key, 998, 2, false, 7, Some(r#"{"storeId":"s"}"#)),
            format!(
                "auditrail-answer-v4\n{NONCE}\n{d}\n{auth}\n-\n998\n2\nfalse\n7\n{{\"storeId\":\"s\"}}"
            )
        );
        // Written as a request without a credential, never as the unbound text.
        assert_eq!(
            counted_text(&unbound(&d), 1, 0, true, 0, None),
            format!("auditrail-answer-v4\n{NONCE}\n{d}\n-\n-\n1\n0\ntrue\n0\n")
        );
        let base = counted_text(&with_key, 5, 1, false, 2, Some("{}"));
        for other in [
            counted_text(&with_key, 5, 1, false, 0, Some("{}")),
            counted_text(&with_key, 5, 1, false, 6, Some("{}")),
            counted_text(&with_key, 5, 1, true, 2, Some("{}")),
            counted_text(&with_key, 5, 1, false, 2, None),
            signed_text(&with_key, 5, 1, false, Some("{}")),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(
            COUNTED_DOMAIN,
            format!("auditrail-answer-v{COUNTED_VERSION}\n")
        );
    }

    #[test]
    fn every_field_changes_the_text() {
        let d = body_digest(b"{}\n");
        let other_body = body_digest(b"{} \n");
        let auth = authorization_digest([b"Bearer s".as_slice()]);
        let relay_auth = authorization_digest([b"Bearer relay".as_slice()]);
        let cert = body_digest(b"node der");
        let relay_cert = body_digest(b"relay der");
        let bound = |authorization, client_cert| AnsweredRequest {
            credential: Some(Credential {
                authorization,
                client_cert,
            }),
            ..unbound(&d)
        };
        for r in [unbound(&d), bound(&auth, None), bound(&auth, Some(&cert))] {
            let base = signed_text(&r, 5, 1, true, Some("{}"));
            let mut others = vec![
                signed_text(
                    &AnsweredRequest {
                        nonce: "1123456789abcdef0123456789abcdef",
                        ..r
                    },
                    5,
                    1,
                    true,
                    Some("{}"),
                ),
                signed_text(
                    &AnsweredRequest {
                        body_digest: &other_body,
                        ..r
                    },
                    5,
                    1,
                    true,
                    Some("{}"),
                ),
                signed_text(&r, 6, 1, true, Some("{}")),
                signed_text(&r, 5, 0, true, Some("{}")),
                signed_text(&r, 5, 1, false, Some("{}")),
                signed_text(&r, 5, 1, true, Some("[{}]")),
                signed_text(&r, 5, 1, true, None),
            ];
            // The credential: another key, another certificate, none, or unbound.
            for c in [
                bound(&relay_auth, None),
                bound(&auth, Some(&relay_cert)),
                bound(&relay_auth, Some(&cert)),
                bound("-", None),
                unbound(&d),
            ] {
                if c.credential != r.credential {
                    others.push(signed_text(&c, 5, 1, true, Some("{}")));
                }
            }
            for other in others {
                assert_ne!(base, other);
            }
            // Not a receipt's or a refusal's text, whatever the fields.
            assert!(!base.starts_with(crate::receipt::DOMAIN));
            assert!(!base.starts_with(REFUSAL_DOMAIN));
        }
    }

    #[test]
    fn only_hex_of_the_nonces_length_is_a_nonce() {
        assert!(is_nonce("0123456789abcdef0123456789ABCDEF"));
        assert!(!is_nonce("0123456789abcdef0123456789abcde"));
        assert!(!is_nonce("0123456789abcdef0123456789abcdef0"));
        assert!(!is_nonce("0123456789abcdef0123456789abcde\n"));
        assert!(!is_nonce("0123456789abcdef0123456789abcdeg"));
        assert!(!is_nonce(""));
        // 32 bytes, but not 32 ASCII hex digits.
        assert!(!is_nonce("0123456789abcdef0123456789abcdé"));
    }

    fn request(authorization: &str) -> RefusedRequest<'_> {
        RefusedRequest {
            nonce: "0123456789abcdef0123456789abcdef",
            authorization,
            client_cert: None,
        }
    }

    #[test]
    fn the_refusal_text_is_the_documented_one() {
        let d = body_digest(b"{}\n");
        let seen = BodySeen::Events {
            array: false,
            digest: d.clone(),
        };
        let auth = authorization_digest([b"Bearer s".as_slice()]);
        assert_eq!(auth, body_digest(b"Bearer s"));
        let r = request(&auth);
        assert_eq!(
            refusal_text(403, "forbidden", Some(Named::Line(2)), &r, &seen.to_string()),
            format!(
                "auditrail-refusal-v1\n0123456789abcdef0123456789abcdef\n403\nforbidden\nline 2\n{auth}\n-\nevents lines sha256:{d}"
            )
        );
        assert_eq!(
            refusal_text(401, "unauthorized", None, &request("-"), "unread"),
            "auditrail-refusal-v1\n0123456789abcdef0123456789abcdef\n401\nunauthorized\n-\n-\n-\nunread"
        );
        assert_eq!(authorization_digest(Vec::<&[u8]>::new()), "-");
        assert_eq!(
            authorization_digest([b"a".as_slice(), b"b".as_slice()]),
            format!("{},{}", body_digest(b"a"), body_digest(b"b"))
        );
    }

    #[test]
    fn the_listed_refusal_text_is_the_documented_one() {
        let d = body_digest(b"{}\n");
        let seen = format!("events lines sha256:{d}");
        let auth = authorization_digest([b"Bearer s".as_slice()]);
        let r = request(&auth);
        let list = r#"[{"line":2,"error":"forbidden","field":"routingKey","message":"no"}]"#;
        let listed = Listed {
            events: Some(list),
            more: 0,
        };
        assert_eq!(
            listed_refusal_text(403, "forbidden", Some(Named::Line(2)), &r, &listed, &seen),
            format!(
                "auditrail-refusal-v2\n{NONCE}\n403\nforbidden\nline 2\n{auth}\n-\nevents sha256:{} more 0\n{seen}",
                body_digest(list.as_bytes())
            )
        );
        let none = Listed {
            events: None,
            more: 0,
        };
        assert_eq!(
            listed_refusal_text(401, "unauthorized", None, &request("-"), &none, "unread"),
            format!("auditrail-refusal-v2\n{NONCE}\n401\nunauthorized\n-\n-\n-\nevents - more 0\nunread")
        );
        assert_eq!(
            LISTED_REFUSAL_DOMAIN,
            format!("auditrail-refusal-v{LISTED_REFUSAL_VERSION}\n")
        );
    }

    #[test]
    fn every_entry_of_the_list_changes_the_listed_text() {
        let auth = authorization_digest([b"Bearer s".as_slice()]);
        let r = request(&auth);
        let text = |events: Option<&str>, more: u64| {
            listed_refusal_text(
                400,
                "timestamp_past_retention",
                Some(Named::Line(1)),
                &r,
                &Listed { events, more },
                "unread",
            )
        };
        let list =
            r#"[{"line":1,"error":"timestamp_past_retention"},{"line":3,"error":"invalid_event"}]"#;
        let base = text(Some(list), 0);
        for other in [
            // An entry moved to another line, one added, one dropped, a reason changed.
            text(Some(&list.replace(r#""line":3"#, r#""line":2"#)), 0),
            text(
                Some(&list.replace("]", r#",{"line":2,"error":"invalid_event"}]"#)),
                0,
            ),
            text(
                Some(r#"[{"line":1,"error":"timestamp_past_retention"}]"#),
                0,
            ),
            text(Some(&list.replace("invalid_event", "forbidden")), 0),
            // The count of the events not listed, or no list at all.
            text(Some(list), 1),
            text(None, 0),
            // The v1 text of the same refusal: never the v2 one.
            refusal_text(
                400,
                "timestamp_past_retention",
                Some(Named::Line(1)),
                &r,
                "unread",
            ),
        ] {
            assert_ne!(base, other);
        }
        assert!(!base.starts_with(REFUSAL_DOMAIN));
        assert!(!base.starts_with(DOMAIN) && !base.starts_with(BOUND_DOMAIN));
        // A list holding line breaks enters the text as its digest: one line.
        let broken = text(Some("[\n\"line 9\"\n]"), 0);
        assert_eq!(broken.lines().count(), base.lines().count());
    }

    #[test]
    fn every_kind_of_body_seen_is_written_on_one_line() {
        let d = body_digest(b"");
        for (seen, text) in [
            (BodySeen::Unread, "unread".to_owned()),
            (
                BodySeen::Media {
                    content_type: Some("text/plain\n403".into()),
                    content_encoding: None,
                },
                r#"media "text/plain\n403" null"#.to_owned(),
            ),
            (BodySeen::Over(1000), "over 1000".to_owned()),
            (BodySeen::Cut(7), "cut 7".to_owned()),
            (
                BodySeen::Undecodable {
                    encoding: "gzip",
                    digest: d.clone(),
                },
                format!("undecodable gzip sha256:{d}"),
            ),
            (
                BodySeen::Events {
                    array: true,
                    digest: d.clone(),
                },
                format!("events array sha256:{d}"),
            ),
        ] {
            assert_eq!(seen.to_string(), text);
            assert!(!text.contains('\n'));
        }
        assert_eq!(BodySeen::over_limit("over 1000"), Some(1000));
        for not in [
            "over ",
            "over -1",
            "over 1 ",
            "cut 5",
            "over 99999999999999999999",
        ] {
            assert_eq!(BodySeen::over_limit(not), None, "{not}");
        }
    }

    #[test]
    fn every_field_of_a_refusal_changes_its_text() {
        let d = body_digest(b"{}\n");
        let seen = BodySeen::Events {
            array: false,
            digest: d.clone(),
        };
        let auth = authorization_digest([b"Bearer s".as_slice()]);
        let r = request(&auth);
        let base = refusal_text(
            400,
            "invalid_event",
            Some(Named::Line(1)),
            &r,
            &seen.to_string(),
        );
        let other_nonce = RefusedRequest {
            nonce: "1123456789abcdef0123456789abcdef",
            ..r
        };
        let with_cert = RefusedRequest {
            client_cert: Some(&d),
            ..r
        };
        let array = BodySeen::Events {
            array: true,
            digest: d.clone(),
        };
        for other in [
            refusal_text(
                400,
                "invalid_event",
                Some(Named::Line(1)),
                &other_nonce,
                &seen.to_string(),
            ),
            refusal_text(
                403,
                "invalid_event",
                Some(Named::Line(1)),
                &r,
                &seen.to_string(),
            ),
            refusal_text(
                400,
                "forbidden",
                Some(Named::Line(1)),
                &r,
                &seen.to_string(),
            ),
            refusal_text(
                400,
                "invalid_event",
                Some(Named::Line(2)),
                &r,
                &seen.to_string(),
            ),
            refusal_text(
                400,
                "invalid_event",
                Some(Named::Index(1)),
                &r,
                &seen.to_string(),
            ),
            refusal_text(400, "invalid_event", None, &r, &seen.to_string()),
            refusal_text(
                400,
                "invalid_event",
                Some(Named::Line(1)),
                &request("-"),
                &seen.to_string(),
            ),
            refusal_text(
                400,
                "invalid_event",
                Some(Named::Line(1)),
                &with_cert,
                &seen.to_string(),
            ),
            refusal_text(
                400,
                "invalid_event",
                Some(Named::Line(1)),
                &r,
                &array.to_string(),
            ),
            refusal_text(400, "invalid_event", Some(Named::Line(1)), &r, "unread"),
        ] {
            assert_ne!(base, other);
        }
        assert!(!base.starts_with(DOMAIN) && !base.starts_with(crate::receipt::DOMAIN));
    }

    #[test]
    fn final_refusals_and_error_codes() {
        for s in [400, 401, 403, 404, 413, 415, 422, 451, 499] {
            assert!(is_final_refusal(s), "{s}");
        }
        for s in [200, 307, 408, 429, 500, 503, 399, 500] {
            assert!(!is_final_refusal(s), "{s}");
        }
        assert!(is_error_code("payload_too_large"));
        for not in ["", "Forbidden", "a\nb", "a b", "é"] {
            assert!(!is_error_code(not), "{not}");
        }
    }
}
