//! The HTTP side of the metrics endpoint: `GET /metrics` (and `HEAD`), encoded by
//! prometheus-client in the format the scraper asks for.

use std::sync::Arc;

use auditrail_core::metrics_format::{self, MetricsFormat};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;
use tokio::sync::oneshot;

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
    // The event server's `/metrics` chooses with the same function.
    let format = metrics_format::negotiate(
        headers
            .get_all(header::ACCEPT)
            .iter()
            .map(HeaderValue::as_bytes),
    );
    let mut body = String::new();
    let (encoded, content_type) = match format {
        MetricsFormat::OpenMetrics => (
            text::encode(&mut body, &registry),
            metrics_format::OPENMETRICS_CONTENT_TYPE,
        ),
        MetricsFormat::PrometheusText => (
            prometheus_text::encode(&mut body, &registry),
            prometheus_text::CONTENT_TYPE,
        ),
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
