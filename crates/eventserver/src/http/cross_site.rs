//! Refuses requests that a browser marks as coming from a page of another site: the
//! Fetch Metadata resource isolation policy (<https://web.dev/articles/fetch-metadata>,
//! W3C "Fetch Metadata Request Headers", <https://www.w3.org/TR/fetch-metadata/>).
//!
//! Why: a keyless server on loopback trusts whoever can reach it, but a browser on that
//! host reaches it for any page it shows. A page of another origin can POST a
//! `no-cors` body without a `Content-Type` (read as JSON lines) and so write audit
//! events, or make the server run queries. Browsers say where such a request comes
//! from (`Sec-Fetch-Site`, and `Origin` on a POST and on a cross-origin fetch);
//! programs that are not browsers (nodes, `auditrail tail`, curl) send neither and are
//! not affected.
//!
//! Refused, with `403 cross_site`: `Sec-Fetch-Site: cross-site` or `same-site` (another
//! port or subdomain is another program), and an `Origin` that is not the server's own
//! origin as the request reached it (`null` included: a sandboxed or `file:` page).
//! Allowed: no such header, `Sec-Fetch-Site: same-origin` or `none` (the user typed
//! the address), and a top-level navigation to the console page (`GET /` with
//! `Sec-Fetch-Mode: navigate`: a link to the console from elsewhere still opens it;
//! what the page then asks is same-origin).
//!
//! Why not `tower-sec-fetch`: it allows `same-site` requests and every cross-site
//! navigation, does not look at `Origin` (browsers without Fetch Metadata), and answers
//! without the error body of docs/protocol.md.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use super::{intake, AppState};

/// The layer's state: the server's scheme (its origin's first part) and the state the
/// refusal is counted and drained with.
#[derive(Clone)]
pub(crate) struct SameOrigin {
    pub(crate) state: Arc<AppState>,
    /// `https` when the server has `[tls]`, else `http`.
    pub(crate) scheme: &'static str,
}

/// The middleware: answers `403 cross_site` or passes the request on.
pub(crate) async fn refuse_cross_site(
    State(guard): State<SameOrigin>,
    request: Request,
    next: Next,
) -> Response {
    let Some(why) = cross_site(guard.scheme, &request) else {
        return next.run(request).await;
    };
    let refused = ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_site",
        format!(
            "refused: {why}, so a web page of another site sent it through the browser; \
             this server answers its own console and programs that are not browsers \
             (Fetch Metadata resource isolation policy, docs/protocol.md)"
        ),
    );
    intake::refuse_request(&guard.state, request, refused).await
}

/// Why `request` comes from another site, or `None` when it may be answered.
fn cross_site(scheme: &str, request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        let navigates_to_console = request.method() == Method::GET
            && request.uri().path() == "/"
            && headers
                .get("sec-fetch-mode")
                .is_some_and(|m| m.as_bytes() == b"navigate");
        match site {
            "same-origin" | "none" => {}
            _ if navigates_to_console => {}
            other => return Some(format!("its Sec-Fetch-Site header is {other:?}")),
        }
    }
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("");
    match own_origin(scheme, request) {
        Some(own) if same_origin(origin, &own) => None,
        Some(own) => Some(format!(
            "its Origin header is {origin:?}, not this server's origin {own:?}"
        )),
        None => Some(format!(
            "its Origin header is {origin:?} and the request names no host to compare it with"
        )),
    }
}

/// `scheme://host[:port]` as the request reached the server: its URI's authority
/// (HTTP/2) or its `Host` header.
fn own_origin(scheme: &str, request: &Request) -> Option<String> {
    let host = match request.uri().authority() {
        Some(a) => a.as_str().to_owned(),
        None => host_header(request.headers())?,
    };
    Some(format!("{scheme}://{host}"))
}

fn host_header(headers: &HeaderMap) -> Option<String> {
    headers.get(header::HOST)?.to_str().ok().map(str::to_owned)
}

/// Whether two serialized origins are the same: scheme and host compared without case,
/// a default port (80, 443) the same as none.
fn same_origin(a: &str, b: &str) -> bool {
    fn normal(o: &str) -> Option<(String, String)> {
        let (scheme, rest) = o.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let rest = rest.trim_end_matches('/').to_ascii_lowercase();
        let default = match scheme.as_str() {
            "http" => ":80",
            "https" => ":443",
            _ => "",
        };
        let host = match rest.strip_suffix(default) {
            Some(h) if !default.is_empty() => h.to_owned(),
            _ => rest,
        };
        Some((scheme, host))
    }
    matches!((normal(a), normal(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_without_case_and_default_ports() {
        assert!(same_origin(
            "http://127.0.0.1:9980",
            "http://127.0.0.1:9980"
        ));
        assert!(same_origin("HTTP://LocalHost", "http://localhost:80"));
        assert!(same_origin("https://a.example", "https://a.example:443"));
        assert!(!same_origin(
            "http://localhost:8000",
            "http://localhost:9980"
        ));
        assert!(!same_origin("https://a.example", "http://a.example"));
        assert!(!same_origin("null", "http://127.0.0.1:9980"));
    }
}
