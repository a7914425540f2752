//! The HTTP side of the metrics endpoint: `GET /metrics` (and `HEAD`), encoded by
//! prometheus-client in the format the scraper asks for.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;
use tokio::sync::oneshot;

/// The OpenMetrics text `Content-Type` (OpenMetrics 1.0, "Exposition format").
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves until `stop` fires (or its sender is dropped), then ends once the scrapes in
/// progress are answered.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    registry: Registry,
    stop: oneshot::Receiver<()>,
) {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(Arc::new(registry));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stop.await;
        })
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "metrics endpoint stopped");
    }
}

async fn scrape(State(registry): State<Arc<Registry>>, headers: HeaderMap) -> Response {
    // Prometheus asks for OpenMetrics first in its Accept header when it can read it;
    // anything else (curl, older scrapers) gets the classic text format.
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let mut body = String::new();
    let (encoded, content_type) = if openmetrics {
        (text::encode(&mut body, &registry), OPENMETRICS)
    } else {
        (
            prometheus_text::encode(&mut body, &registry),
            prometheus_text::CONTENT_TYPE,
        )
    };
    match encoded {
        Ok(()) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the metrics could not be encoded\n",
        )
            .into_response(),
    }
}
