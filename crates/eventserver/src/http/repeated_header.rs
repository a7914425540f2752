//! Request header fields that hold one value, sent more than once. hyper keeps every
//! line of a field and `HeaderMap::get` answers the first, so a request with two
//! `Content-Type` lines was read by the first one alone: `Content-Type:
//! application/x-ndjson` then `Content-Type: application/x-ndjson; charset=iso-8859-1`
//! had its Latin-1 body stored as UTF-8 text (the charset check saw only the first
//! line), and two `Authorization` or `Host` lines were taken as the first, whichever
//! the client (or a proxy that added one) meant. RFC 9110 §5.3: a sender must not send
//! such a field twice, and a server must answer `400` to a request with two `Host`
//! lines (RFC 9112 §3.2). So every such request is refused, naming the field, before
//! anything is read or stored.
//!
//! An HTTP/1.1 request without `Host` is refused here too (`400 missing_host`, RFC 9112
//! §3.2); it was answered, and its events stored.
//!
//! `Content-Encoding` is a list (RFC 9110 §8.4): its lines are read together, as one
//! list, where the body is decoded (`body::content_encoding`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::{intake, AppState};

/// The fields that hold one value and that the server reads, with the name the
/// answer spells (as RFC 9110 does; hyper's names are lower case).
const SINGLE: [(HeaderName, &str); 3] = [
    (header::HOST, "Host"),
    (header::CONTENT_TYPE, "Content-Type"),
    (header::AUTHORIZATION, "Authorization"),
];

/// The first field of [`SINGLE`] that `headers` holds more than once, and how often.
fn repeated(headers: &HeaderMap) -> Option<(&'static str, usize)> {
    SINGLE.iter().find_map(|(name, spelled)| {
        let n = headers.get_all(name).iter().count();
        (n > 1).then_some((*spelled, n))
    })
}

/// The middleware: answers `400 repeated_header` or passes the request on.
pub(super) async fn refuse_repeated_headers(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if request.version() == axum::http::Version::HTTP_11
        && !request.headers().contains_key(header::HOST)
    {
        // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to
        // any HTTP/1.1 request message that lacks a Host header field". HTTP/1.0 has no
        // such rule, and HTTP/2 names the host in `:authority`.
        let refused = ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_host",
            "the request is HTTP/1.1 and has no Host header: an HTTP/1.1 request must \
             name the host it is sent to (RFC 9112 section 3.2); send Host: with the \
             server's name or address and port",
        );
        return intake::refuse_request(&state, request, refused).await;
    }
    let Some((name, times)) = repeated(request.headers()) else {
        return next.run(request).await;
    };
    let refused = ApiError::new(
        StatusCode::BAD_REQUEST,
        "repeated_header",
        format!(
            "the header {name} is sent {times} times; it holds one value (RFC 9110 \
             section 5.3), and which one was meant cannot be told: send it once"
        ),
    );
    intake::refuse_request(&state, request, refused).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in lines {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn a_single_field_twice_is_named_and_a_list_field_is_not() {
        assert!(repeated(&headers(&[("host", "a"), ("content-type", "x")])).is_none());
        assert!(repeated(&headers(&[
            ("content-encoding", "gzip"),
            ("content-encoding", "gzip")
        ]))
        .is_none());
        let two_types = headers(&[("content-type", "a"), ("content-type", "a")]);
        assert_eq!(repeated(&two_types), Some(("Content-Type", 2)));
        let three_keys = headers(&[
            ("authorization", "a"),
            ("authorization", "b"),
            ("authorization", "c"),
        ]);
        assert_eq!(repeated(&three_keys), Some(("Authorization", 3)));
    }
}
