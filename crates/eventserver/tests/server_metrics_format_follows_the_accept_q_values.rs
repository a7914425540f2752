//! `GET /metrics` answers in the format the scraper's `Accept` prefers by `q` (RFC 9110
//! §12.5.1), as a node's endpoint does: `q=0` refuses OpenMetrics, media types match in
//! any case, a higher `q` for `text/plain` wins, a `version` not served covers nothing,
//! every `Accept` line counts; anything else gets the text format, never `406`. Before,
//! any `Accept` holding the exact text `application/openmetrics-text` got OpenMetrics
//! and any other got text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use server_support::*;

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `Content-Type` of a scrape sending each of `accept` as an `Accept` line of its
/// own, after checking that the body is in that format (OpenMetrics ends with `# EOF`).
async fn served(s: &TestServer, accept: &[&str]) -> String {
    let mut req = s.client.get(s.url("/metrics"));
    for line in accept {
        // `header` appends: each value is a line of its own.
        req = req.header("accept", *line);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{accept:?}");
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let body = resp.text().await.unwrap();
    assert_eq!(
        body.ends_with("# EOF\n"),
        content_type == OPENMETRICS,
        "{accept:?}: {content_type}\n{body}"
    );
    content_type
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_format_is_the_one_the_accept_header_prefers() {
    let s = start(STORE).await;
    for (accept, expected) in [
        (&[][..], TEXT),
        (&["*/*"][..], TEXT),
        // Prometheus 3.x's default (`escaping` does not change the bytes served).
        (
            &["application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"][..],
            OPENMETRICS,
        ),
        // q=0: not acceptable.
        (&["application/openmetrics-text;q=0, text/plain"][..], TEXT),
        (&["application/openmetrics-text;q=0"][..], TEXT),
        // Media types are case-insensitive.
        (&["Application/OpenMetrics-Text"][..], OPENMETRICS),
        // The higher q wins (Prometheus with `scrape_protocols` text first).
        (
            &["application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"][..],
            TEXT,
        ),
        // OpenMetrics 0.0.1 is not what is written.
        (&["application/openmetrics-text;version=0.0.1"][..], TEXT),
        // `application/*` covers OpenMetrics alone; `*/*` yields to `text/plain;q=0`.
        (&["application/*"][..], OPENMETRICS),
        (&["*/*;q=0.1, text/plain;q=0"][..], OPENMETRICS),
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
        assert_eq!(served(&s, accept).await, expected, "{accept:?}");
    }
}
