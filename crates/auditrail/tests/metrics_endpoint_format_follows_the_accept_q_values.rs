//! A node's `[metrics] listen` endpoint, scraped over real HTTP, answers in the format
//! the scraper's `Accept` prefers by `q` (RFC 9110 §12.5.1): `q=0` refuses OpenMetrics,
//! media types match in any case, a higher `q` for `text/plain` wins, a `version` not
//! served covers nothing, every `Accept` line counts; anything else gets the text
//! format. Before, any `Accept` holding the exact text `application/openmetrics-text`
//! got OpenMetrics and any other got text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use auditrail::metrics::MetricsServer;

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `Content-Type` of a scrape sending each of `accept` as an `Accept` line of its
/// own, after checking that the body is in that format (OpenMetrics ends with `# EOF`).
async fn served(addr: std::net::SocketAddr, accept: &[&str]) -> String {
    let mut req = reqwest::Client::new().get(format!("http://{addr}/metrics"));
    for line in accept {
        // `header` appends: each value is a line of its own.
        req = req.header("Accept", *line);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{accept:?}");
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let body = res.text().await.unwrap();
    assert_eq!(
        body.ends_with("# EOF\n"),
        content_type == OPENMETRICS,
        "{accept:?}: {content_type}\n{body}"
    );
    content_type
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_format_is_the_one_the_accept_header_prefers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.toml");
    let config = format!(
        "node = \"accept-node\"\nrun_dir = \"{}\"\n\n[metrics]\nlisten = \"127.0.0.1:0\"\n",
        dir.path().join("run").display()
    );
    std::fs::write(&path, config).unwrap();
    let (config, builder) = auditrail::dispatcher_builder_from_file(&path).unwrap();
    let dispatcher = builder.build().unwrap();
    let server = MetricsServer::start_from_config(&config.metrics, &dispatcher)
        .await
        .unwrap()
        .unwrap();
    let addr = server.local_addr();

    for (accept, expected) in [
        (&[][..], TEXT),
        (&["*/*"][..], TEXT),
        // Prometheus 2.x's default.
        (
            &["application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"][..],
            OPENMETRICS,
        ),
        // q=0: not acceptable.
        (&["application/openmetrics-text;q=0, text/plain"][..], TEXT),
        // Media types are case-insensitive.
        (&["Application/OpenMetrics-Text"][..], OPENMETRICS),
        // The higher q wins.
        (
            &["application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.5"][..],
            TEXT,
        ),
        // OpenMetrics 0.0.1 is not what is written.
        (&["application/openmetrics-text;version=0.0.1"][..], TEXT),
        // `application/*` covers OpenMetrics alone.
        (&["application/*"][..], OPENMETRICS),
        // Two lines are one list: the refusal on the second line counts.
        (
            &[
                "application/openmetrics-text",
                "application/openmetrics-text;version=1.0.0;q=0",
            ][..],
            TEXT,
        ),
        (&["text/plain;q=0.3", "application/*;q=0.5"][..], OPENMETRICS),
        // Malformed: the text format, never 406.
        (&["garbage;q=x"][..], TEXT),
    ] {
        assert_eq!(served(addr, accept).await, expected, "{accept:?}");
    }

    server.shutdown().await;
    dispatcher.shutdown(Duration::from_millis(200)).await;
}
