//! Request bodies: content type and encoding, size limits (before and after
//! decompression), and parsing into events with the position of any invalid one.

use std::io::Read;

use auditrail_core::answer::BodySeen;
use auditrail_core::{Event, EventError};
use axum::http::{header, HeaderMap, StatusCode};

use super::error::{ApiError, Position};
use super::faults::Faults;
use super::media_type::MediaType;

/// How the events are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One JSON event per line (`application/x-ndjson`).
    Lines,
    /// One JSON array of events (`application/json`).
    Array,
    /// No content type: a body starting with `[` is an array, anything else lines.
    Sniff,
}

/// How the body is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Not compressed.
    Identity,
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: zstd`.
    Zstd,
}

fn unsupported(message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        message,
    )
}

/// Reads `Content-Type` and `Content-Encoding`; 415 for anything else.
pub(crate) fn negotiate(headers: &HeaderMap) -> Result<(Framing, Encoding), ApiError> {
    let framing = match headers.get(header::CONTENT_TYPE) {
        None => Framing::Sniff,
        Some(v) => {
            let v = v.to_str().unwrap_or("");
            let media =
                MediaType::parse(v).map_err(|e| unsupported(format!("Content-Type {v:?}: {e}")))?;
            // JSON is UTF-8 (RFC 8259 section 8.1) and the body is read as UTF-8: a body
            // declared in another charset would be read as other text (Latin-1 `Ã©`
            // stored as `é`), so it is refused rather than reinterpreted. US-ASCII is
            // taken: its text is UTF-8 byte for byte (RFC 3629 section 1), and clients
            // that label JSON `charset=us-ascii` escape everything else. Every `charset`
            // is checked: a header that repeats it is refused if any one is foreign.
            if let Some(value) = media.foreign_charset() {
                return Err(unsupported(format!(
                    "Content-Type {v:?}: charset {value:?} is not accepted: events are \
                     JSON, sent as UTF-8 (charset=utf-8, us-ascii, or no charset)"
                )));
            }
            match media.essence.as_str() {
                "application/x-ndjson"
                | "application/ndjson"
                | "application/jsonl"
                | "application/x-jsonlines"
                | "application/jsonlines" => Framing::Lines,
                "application/json" => Framing::Array,
                _ => {
                    return Err(unsupported(format!(
                        "Content-Type {v:?} is not accepted: use application/x-ndjson (JSON \
                         lines) or application/json (an array of events)"
                    )))
                }
            }
        }
    };
    let encoding = match content_encoding(headers) {
        None => Encoding::Identity,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Encoding::Identity,
            "gzip" | "x-gzip" => Encoding::Gzip,
            "zstd" => Encoding::Zstd,
            other => {
                return Err(unsupported(format!(
                    "Content-Encoding {other:?} is not accepted: use gzip, zstd or none"
                )))
            }
        },
    };
    Ok((framing, encoding))
}

/// The `Content-Encoding` of a request, all its lines together: the field is a list
/// (RFC 9110 §8.4), and two lines `gzip` and `gzip` say what one line `gzip, gzip`
/// says (a body compressed twice). Read from the first line alone, such a body was
/// decoded once and refused as invalid JSON at line 1; `identity` then `gzip` was not
/// decoded at all. A line that is not visible ASCII is kept as its bytes, lossily, so
/// that it is refused by name rather than read as no encoding.
pub(crate) fn content_encoding(headers: &HeaderMap) -> Option<String> {
    let mut lines = headers.get_all(header::CONTENT_ENCODING).iter().peekable();
    lines.peek()?;
    let texts: Vec<String> = lines
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    Some(texts.join(", "))
}

/// `413 payload_too_large`, saying what was over the limit: the declared length, the
/// body as sent, or the body once decompressed (only then "decompressed": a body sent
/// plain, or refused from its Content-Length alone, was never decompressed).
/// Whatever was over the limit, the body seen is `over <limit>`: only a body of more
/// than `limit` bytes meets this refusal (auditrail_core::answer::BodySeen).
fn too_large(what: String, limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("{what} exceeds the limit of {limit} bytes (max_body_bytes); send smaller batches"),
    )
    .seen(BodySeen::Over(limit as u64))
}

/// The body's `Content-Length` is over the limit (nothing of it read).
pub(crate) fn declared_too_large(declared: u64, limit: usize) -> ApiError {
    too_large(
        format!("the body's Content-Length ({declared} bytes)"),
        limit,
    )
}

/// Largest zstd window accepted: RFC 9659 §3 bounds the window of the `zstd`
/// Content-Encoding to 8 MB ("Window_Size" of 8 MiB at most), and a decoder allocates
/// the window a frame asks for (up to 128 MiB by zstd's own default) before any byte
/// is counted.
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

/// Decompresses with at most `limit` output bytes (a zip bomb stops at the limit),
/// calling `count` with each growth of the output before it is made (the memory
/// budget: a decoded body takes its memory as it is decoded, and was counted only
/// after it was whole, so that 64 bombs of 530 bytes, each 16 MiB once decoded, took
/// 1.7 GB against a budget of 512 MiB; tryout hostile/02).
pub(crate) fn decode(
    raw: bytes::Bytes,
    encoding: Encoding,
    limit: usize,
    count: &mut dyn FnMut(usize) -> Result<(), ApiError>,
) -> Result<bytes::Bytes, ApiError> {
    let mut reader: Box<dyn Read> = match encoding {
        Encoding::Identity => return Ok(raw),
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&raw[..])),
        Encoding::Zstd => {
            let window = |e: std::io::Error| {
                ApiError::bad_request("bad_encoding", format!("the zstd body cannot be read: {e}"))
                    .seen(undecodable(&raw, encoding))
            };
            let mut d = zstd::stream::read::Decoder::with_buffer(&raw[..]).map_err(window)?;
            d.window_log_max(ZSTD_WINDOW_LOG_MAX).map_err(window)?;
            Box::new(d)
        }
    };
    let name = if encoding == Encoding::Gzip {
        "gzip"
    } else {
        "zstd"
    };
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let hint = if encoding == Encoding::Zstd && e.to_string().contains("memory") {
                    " (a zstd frame may ask for a window of at most 8 MiB, RFC 9659: \
                     compress without --long or with --long=23 at most)"
                } else {
                    ""
                };
                return Err(ApiError::bad_request(
                    "bad_encoding",
                    format!("the compressed body cannot be read: {e}{hint}"),
                )
                .seen(undecodable(&raw, encoding)));
            }
        };
        if out.len() + n > limit {
            return Err(too_large(
                format!("the body once decompressed ({name}: more than {limit} bytes)"),
                limit,
            ));
        }
        if out.len() + n > out.capacity() {
            let to = (out.len() + n)
                .max(out.capacity().saturating_mul(2))
                .min(limit);
            count(to - out.capacity())?;
            out.reserve_exact(to - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(out.into())
}

/// What the server saw of a body it could not decode: the bytes as received (their
/// digest) and the encoding it read them with. Only the client's own bytes, sent with
/// its own encoding, match: a relay that relabels the client's gzip body as zstd gets
/// a refusal of another encoding.
fn undecodable(raw: &[u8], encoding: Encoding) -> BodySeen {
    BodySeen::Undecodable {
        encoding: match encoding {
            Encoding::Zstd => "zstd",
            Encoding::Gzip | Encoding::Identity => "gzip",
        },
        digest: auditrail_core::answer::body_digest(raw),
    }
}

/// The body size error for a body over the limit as sent (`received`: its bytes read
/// so far, at least).
pub(crate) fn raw_too_large(received: usize, limit: usize) -> ApiError {
    too_large(
        format!("the body as sent ({received} bytes or more)"),
        limit,
    )
}

/// The field an event error is about, when it names one.
fn field_of(e: &EventError) -> Option<String> {
    match e {
        EventError::InvalidField { field, .. } => Some((*field).to_owned()),
        EventError::MissingField(f) => Some((*f).to_owned()),
        EventError::InvalidMessage(_) => Some("message".to_owned()),
        EventError::InvalidMessageValue { path, .. } => Some(path.clone()),
        EventError::Json(text) => {
            // serde_path_to_error prefixes the path: "message.msgType: ...".
            if let Some((path, _)) = text.split_once(": ") {
                if !path.is_empty()
                    && path
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '[' | ']'))
                {
                    return Some(path.to_owned());
                }
            }
            if let Some(rest) = text.split_once("field `") {
                return rest.1.split('`').next().map(str::to_owned);
            }
            None
        }
        _ => None,
    }
}

/// `400 invalid_event` for the event at `position`, which starts at `start` in the body
/// (its 1-based line, and the bytes before it on that line).
fn invalid(position: Position, start: (usize, usize), e: &EventError) -> ApiError {
    let text = in_the_body(&e.to_string(), start);
    let mut err = ApiError::bad_request("invalid_event", text).at(&position);
    if let Some(f) = field_of(e) {
        err = err.field(f);
    }
    err
}

/// `text` with the position serde_json gives (` at line L column C`, counted in the one
/// event it parsed, so always "line 1" for a line of JSON lines) moved to the body's:
/// ` at line L column C of the body`, so that the message agrees with the answer's
/// `line` (a message saying "line 1" sent people to the first line of the file).
/// `start` is where the event starts: its line, and the bytes before it on that line.
fn in_the_body(text: &str, (line, before): (usize, usize)) -> String {
    let Some(at) = text.rfind(" at line ") else {
        return text.to_owned();
    };
    let rest = &text[at + " at line ".len()..];
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let l_len = digits(rest);
    let Some(after_l) = rest[l_len..].strip_prefix(" column ") else {
        return text.to_owned();
    };
    let c_len = digits(after_l);
    let (Ok(l), Ok(c)) = (
        rest[..l_len].parse::<usize>(),
        after_l[..c_len].parse::<usize>(),
    ) else {
        return text.to_owned();
    };
    let (line, column) = if l <= 1 {
        (line, before + c)
    } else {
        (line + l - 1, c)
    };
    format!(
        "{} at line {line} column {column} of the body{}",
        &text[..at],
        &after_l[c_len..]
    )
}

/// Where `offset` is in `body`: its 1-based line and the bytes before it on that line.
fn line_and_column(body: &[u8], offset: usize) -> (usize, usize) {
    let before = &body[..offset.min(body.len())];
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let column = before.len() - memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    (line, column)
}

/// One parsed event: where it is in the body (for errors) and its bytes there (for
/// the live view, which shows events as sent without copying each one).
#[derive(Debug)]
pub(crate) struct Parsed {
    /// Line or index.
    pub position: Position,
    /// The event.
    pub event: Event,
    /// Its byte range in the (decompressed) body.
    pub range: std::ops::Range<usize>,
}

/// The UTF-8 byte order mark, U+FEFF.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn offset_in(body: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(body.as_ptr() as usize);
    start..start + part.len()
}

/// How `body` is read: as `framing` says, and without a content type (`Sniff`) as an
/// array when its first byte after a byte order mark and blanks is `[`, else as lines.
/// Never `Sniff`.
pub(crate) fn read_as(body: &[u8], framing: Framing) -> Framing {
    match framing {
        Framing::Sniff => {
            let body = body.strip_prefix(BOM).unwrap_or(body);
            let first = body.iter().find(|b| !b.is_ascii_whitespace());
            if first == Some(&b'[') {
                Framing::Array
            } else {
                Framing::Lines
            }
        }
        f => f,
    }
}

/// Parses every event of the body, or says which one is invalid (the first: the
/// refusal [`parse_all`] makes of every invalid event, as it names the first).
#[cfg(test)]
pub(crate) fn parse(body: &[u8], framing: Framing) -> Result<Vec<Parsed>, ApiError> {
    let mut faults = Faults::default();
    let events = parse_all(body, framing, &mut faults)?;
    match faults.into_refusal() {
        Some(refused) => Err(refused),
        None => Ok(events),
    }
}

/// Parses every event of the body; each invalid one is added to `faults` (and the
/// others parsed still, so that the refusal lists every invalid event: nothing is
/// stored then, a batch is all or nothing). `Err`: the body as a whole cannot be read
/// (not an array, no event at all).
pub(crate) fn parse_all(
    body: &[u8],
    framing: Framing,
    faults: &mut Faults,
) -> Result<Vec<Parsed>, ApiError> {
    // A byte order mark before the first event is ignored, as RFC 8259 (section 8.1)
    // lets a parser do: editors and Windows tools put one at the start of UTF-8 files,
    // and it is no part of any event. Anywhere else it is named (`starts_with_bom`).
    // Ranges stay offsets into the whole body, which the live view slices.
    let whole = body;
    let framing = read_as(body, framing);
    let body = body.strip_prefix(BOM).unwrap_or(body);
    let events = match framing {
        Framing::Array => {
            let items: Vec<&serde_json::value::RawValue> =
                serde_json::from_slice(body).map_err(|e| {
                    ApiError::bad_request(
                        "malformed_json",
                        format!("the body is not a JSON array of events: {e}"),
                    )
                })?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let event = match Event::from_json(item.get()) {
                    Ok(event) => event,
                    Err(e) => {
                        faults.add(&Position::Index(i), || {
                            let offset = offset_in(body, item.get().as_bytes()).start;
                            invalid(Position::Index(i), line_and_column(body, offset), &e)
                        });
                        continue;
                    }
                };
                out.push(Parsed {
                    position: Position::Index(i),
                    event,
                    range: offset_in(whole, item.get().as_bytes()),
                });
            }
            out
        }
        _ => {
            // memchr finds the line ends many bytes at a time, and counting them first
            // sizes the list once (`body::parse`'s own time, a byte-wise split and the
            // list's regrowth, was a tenth of parsing in the server's profile).
            let mut out = Vec::with_capacity(memchr::memchr_iter(b'\n', body).count() + 1);
            let mut start = 0;
            let ends = memchr::memchr_iter(b'\n', body).chain(std::iter::once(body.len()));
            for (i, end) in ends.enumerate() {
                let line = &body[start..end];
                start = end + 1;
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                if line.starts_with(BOM) {
                    faults.add(&Position::Line(i + 1), || {
                        ApiError::bad_request(
                            "invalid_event",
                            "the line starts with a byte order mark (U+FEFF, bytes EF BB BF): \
                             only the body may start with one; remove it from this line (files \
                             joined together each keep their own)",
                        )
                    });
                    continue;
                }
                let event = match Event::from_json_slice(line) {
                    Ok(event) => event,
                    Err(e) => {
                        faults.add(&Position::Line(i + 1), || {
                            invalid(Position::Line(i + 1), (i + 1, 0), &e)
                        });
                        continue;
                    }
                };
                out.push(Parsed {
                    position: Position::Line(i + 1),
                    event,
                    range: offset_in(whole, line),
                });
            }
            out
        }
    };
    if events.is_empty() && faults.is_empty() {
        return Err(ApiError::bad_request(
            "empty_batch",
            "the body holds no event",
        ));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `data` as one zstd frame whose header asks for a window of 2^`window_log` bytes
    /// (streamed: no content size, so the window is what the decoder allocates).
    fn zstd_frame(data: &[u8], window_log: u32) -> Vec<u8> {
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(false).unwrap();
        enc.long_distance_matching(true).unwrap();
        enc.window_log(window_log).unwrap();
        std::io::Write::write_all(&mut enc, data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn zstd_frames_asking_for_a_window_over_8_mib_are_refused_naming_the_bound() {
        let data = GOOD.repeat(100);
        let ok = decode(
            zstd_frame(data.as_bytes(), 23).into(),
            Encoding::Zstd,
            1 << 20,
            &mut |_| Ok(()),
        )
        .unwrap();
        assert_eq!(&ok[..], data.as_bytes());
        let err = decode(
            zstd_frame(data.as_bytes(), 27).into(),
            Encoding::Zstd,
            1 << 20,
            &mut |_| Ok(()),
        )
        .unwrap_err();
        assert_eq!(err.error, "bad_encoding");
        assert!(
            err.message.contains("at most 8 MiB, RFC 9659"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_decoded_body_is_counted_as_it_grows_and_a_refusal_stops_the_decoding() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &vec![b' '; 8 << 20]).unwrap();
        let gz = gz.finish().unwrap();
        // Counted before each growth, and never more than the output's capacity.
        let mut counted = 0;
        let out = decode(gz.clone().into(), Encoding::Gzip, 16 << 20, &mut |more| {
            counted += more;
            Ok(())
        })
        .unwrap();
        assert_eq!(out.len(), 8 << 20);
        assert!(
            counted >= out.len() && counted <= 2 * out.len(),
            "{counted}"
        );
        // A budget of 1 MiB stops it there: the refusal is the answer.
        let mut counted = 0;
        let err = decode(gz.into(), Encoding::Gzip, 16 << 20, &mut |more| {
            if counted + more > 1 << 20 {
                return Err(ApiError::bad_request("memory_budget", "full"));
            }
            counted += more;
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.error, "memory_budget");
        assert!(counted <= 1 << 20);
    }

    const GOOD: &str = r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n","seq":1,"message":{"msgType":"x"}}"#;

    #[test]
    fn lines_report_the_line_and_field_of_an_invalid_event() {
        let bad = GOOD.replace("\"generic\"", "\"UPPER\"");
        let body = format!("{GOOD}\n\n{bad}\n");
        let err = parse(body.as_bytes(), Framing::Lines).unwrap_err();
        assert_eq!(err.position, Some(Position::Line(3)));
        assert_eq!(err.field.as_deref(), Some("topic"));
    }

    #[test]
    fn lines_split_at_every_newline_with_or_without_cr_and_a_last_newline() {
        for body in [
            format!("{GOOD}\n{GOOD}\n"),
            format!("{GOOD}\r\n\r\n   \n{GOOD}"),
            format!("\n{GOOD}\n{GOOD}\r\n\n"),
        ] {
            let parsed = parse(body.as_bytes(), Framing::Lines).unwrap();
            assert_eq!(parsed.len(), 2, "{body:?}");
            for p in &parsed {
                assert_eq!(&body.as_bytes()[p.range.clone()], GOOD.as_bytes());
            }
        }
        let body = format!("\r\n{GOOD}\r\n\r\n{}", GOOD.replace("\"n\"", "\"\""));
        assert_eq!(
            parse(body.as_bytes(), Framing::Lines).unwrap_err().position,
            Some(Position::Line(4))
        );
    }

    #[test]
    fn the_position_in_a_message_is_the_bodys() {
        assert_eq!(
            in_the_body("bad at line 1 column 7", (3, 0)),
            "bad at line 3 column 7 of the body"
        );
        assert_eq!(
            in_the_body("bad at line 1 column 7", (2, 10)),
            "bad at line 2 column 17 of the body"
        );
        assert_eq!(
            in_the_body("x (bad at line 4 column 2)", (2, 10)),
            "x (bad at line 5 column 2 of the body)"
        );
        assert_eq!(in_the_body("no position", (2, 10)), "no position");
        assert_eq!(line_and_column(b"ab\ncd\nef", 7), (3, 1));
        assert_eq!(line_and_column(b"abc", 2), (1, 2));
    }

    #[test]
    fn arrays_report_the_index() {
        let bad = GOOD.replace("\"msgType\":\"x\"", "\"authUser\":\"x\"");
        let body = format!("[{GOOD},{bad}]");
        let err = parse(body.as_bytes(), Framing::Sniff).unwrap_err();
        assert_eq!(err.position, Some(Position::Index(1)));
        assert!(err.field.as_deref().unwrap().contains("message"), "{err:?}");
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b' '; 10_000_000]).unwrap();
        let gz = enc.finish().unwrap();
        assert!(gz.len() < 100_000);
        let err = decode(gz.into(), Encoding::Gzip, 1_000_000, &mut |_| Ok(())).unwrap_err();
        assert_eq!(err.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
