//! The web console (`GET /`, see docs/console.md): one HTML page, its script and its
//! style sheet, embedded in the binary (no build step, nothing fetched from elsewhere).
//! The page holds no data: its script reads the JSON endpoints (`/v1/stream`,
//! `/v1/query`, `/v1/stats`, `/v1/checkpoints`) with the stats key the operator types,
//! so serving it needs no key.
//!
//! Event fields are written by nodes, so they are attacker-controlled text: the script
//! only ever puts them in the page as text nodes, and the Content-Security-Policy below
//! allows no inline script and no script from anywhere but this server, so even a
//! mistake there would not run injected code.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file.
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    /// A strong validator of `body`, computed at compile time.
    etag: &'static str,
}

/// Builds an [`Asset`] from a file of `crates/eventserver/console/`.
macro_rules! asset {
    ($file:literal, $content_type:literal) => {{
        const BODY: &[u8] = include_bytes!(concat!("../../console/", $file));
        const HASH: [u8; 18] = etag_of(BODY);
        Asset {
            body: BODY,
            content_type: $content_type,
            etag: match std::str::from_utf8(&HASH) {
                Ok(s) => s,
                Err(_) => "\"\"",
            },
        }
    }};
}

const INDEX: Asset = asset!("index.html", "text/html; charset=utf-8");
const SCRIPT: Asset = asset!("console.js", "text/javascript; charset=utf-8");
const STYLE: Asset = asset!("console.css", "text/css; charset=utf-8");

/// Only this server's own script and style sheet; data only from this server; no
/// frames, no plugins, no inline script or style, no `<base>` rewriting, no form posts
/// (the key form is handled by the script).
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// `GET /`
pub(super) async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
}

/// `GET /console/console.js`
pub(super) async fn script(headers: HeaderMap) -> Response {
    serve(&SCRIPT, &headers)
}

/// `GET /console/console.css`
pub(super) async fn style(headers: HeaderMap) -> Response {
    serve(&STYLE, &headers)
}

fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    // `no-cache`: browsers keep the files but ask again each time (a 304 when the
    // ETag still matches), so a new binary's console is used at once.
    let unchanged =
        super::if_none_match::matches(request.get_all(header::IF_NONE_MATCH), asset.etag);
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, HeaderValue::from_static(asset.etag)),
    ];
    if unchanged {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    } else {
        (headers, asset.body).into_response()
    }
}

/// `"` + 16 hex digits of the FNV-1a hash of `body` + `"` (an ETag).
const fn etag_of(body: &[u8]) -> [u8; 18] {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < body.len() {
        hash ^= body[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'"'; 18];
    let mut k = 0;
    while k < 16 {
        out[1 + k] = HEX[((hash >> (60 - 4 * k)) & 0xf) as usize];
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_hex_and_differ_per_file() {
        for a in [&INDEX, &SCRIPT, &STYLE] {
            assert_eq!(a.etag.len(), 18);
            assert!(a.etag.starts_with('"') && a.etag.ends_with('"'));
            assert!(a.etag[1..17].bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(INDEX.etag, SCRIPT.etag);
        assert_ne!(SCRIPT.etag, STYLE.etag);
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let page = std::str::from_utf8(INDEX.body).unwrap_or_default();
        // Every <script> has a src; no on...= handler attributes; no style attributes
        // (the policy would block them, and they would hide a design error).
        assert_eq!(
            page.matches("<script").count(),
            page.matches("<script src=\"/console/console.js\"").count()
        );
        assert!(!page.contains(" onclick=") && !page.contains(" onload="));
        assert!(!page.contains(" style="));
    }
}
