//! Transfer codings other than `chunked`. hyper takes `chunked` off a request body and
//! passes any other coding (`Transfer-Encoding: gzip, chunked`) through: the body then
//! reaches the endpoints still coded, as if it were not, and a gzip-coded batch was
//! refused as `invalid_event` at line 1 (an uncoded body so labelled was stored as if
//! the label were not there). RFC 9112 §6.1: a server that receives a transfer coding
//! it does not understand should answer `501`. So such a request is refused, naming the
//! coding, before anything is read or stored; `Content-Encoding` is the way to send a
//! compressed body (docs/protocol.md).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::{intake, AppState};

/// The codings of `headers`' `Transfer-Encoding` (all its lines, one list) other than
/// `chunked`, as sent; empty when there are none.
fn foreign_codings(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("chunked"))
        .collect()
}

/// The middleware: answers `501 unsupported_transfer_coding` or passes the request on.
pub(super) async fn refuse_other_transfer_codings(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let codings = foreign_codings(request.headers());
    if codings.is_empty() {
        return next.run(request).await;
    }
    let refused = ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "unsupported_transfer_coding",
        format!(
            "Transfer-Encoding {:?} is not supported: only chunked (RFC 9112 section 6.1); \
             send a compressed body with Content-Encoding: gzip or zstd",
            codings.join(", ")
        ),
    );
    intake::refuse_request(&state, request, refused).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codings(lines: &[&str]) -> Vec<String> {
        let mut h = HeaderMap::new();
        for v in lines {
            h.append(header::TRANSFER_ENCODING, v.parse().unwrap());
        }
        foreign_codings(&h)
    }

    #[test]
    fn codings_other_than_chunked_are_found_on_every_line() {
        assert!(codings(&[]).is_empty());
        assert!(codings(&["chunked"]).is_empty());
        assert!(codings(&["Chunked"]).is_empty());
        assert_eq!(codings(&["gzip, chunked"]), ["gzip"]);
        assert_eq!(codings(&["deflate", "chunked"]), ["deflate"]);
    }
}
