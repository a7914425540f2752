//! Request bodies that no endpoint reads. Only `POST /v1/events` and `POST /v1/query`
//! take a body; any other request that comes with one (a `GET /v1/query` from a client
//! that puts JSON in its GETs, a `PUT` answered `405`, a path answered `404`) was
//! answered without reading it, and a client sending its whole body before reading
//! saw a reset connection instead of the answer. Here such a body is read and dropped
//! first, bounded as a refused body is (`intake::discard`: up to 4 times
//! `max_body_bytes`, under the rate rule), and the request goes on without it.

use std::sync::Arc;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use super::{intake, AppState};

/// The endpoints that read their bodies themselves.
fn reads_its_body(method: &Method, path: &str) -> bool {
    method == Method::POST && matches!(path, "/v1/events" | "/v1/query")
}

/// Middleware: drains the body of a request whose endpoint reads none.
pub(super) async fn discard_unread_body(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if request.body().is_end_stream() || reads_its_body(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    intake::discard(body, &parts.headers, state.max_body_bytes).await;
    next.run(Request::from_parts(parts, Body::empty())).await
}
