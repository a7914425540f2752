//! A keyless server on loopback (the default) refuses, with `403 cross_site`, what a
//! browser sends for a page of another site: `Sec-Fetch-Site: cross-site` or
//! `same-site`, or an `Origin` other than the server's own (`null` too). Such a page
//! could otherwise write audit events (a `no-cors` POST without a `Content-Type`) or
//! read them. The console's own same-origin requests, a navigation to the console, and
//! programs that send none of these headers are answered as before.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

/// What headless Chromium sent for `fetch(url, {method: "POST", mode: "no-cors", body:
/// new Blob([event])})` from a page of `http://localhost:8000`: no `Content-Type`.
const BROWSER: [(&str, &str); 3] = [
    ("Sec-Fetch-Mode", "no-cors"),
    ("Sec-Fetch-Dest", "empty"),
    ("User-Agent", "Mozilla/5.0 Chrome/131"),
];

fn post(addr: &str, node: &str, seq: u64, marks: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let body = event_line(&new_id(seq, 7), node, seq) + "\n";
    let mut headers = BROWSER.to_vec();
    headers.extend_from_slice(marks);
    let (status, text) = request(addr, "POST", "/v1/events", &headers, body.as_bytes()).unwrap();
    (status, serde_json::from_str(&text).unwrap_or(text.into()))
}

fn stored_count(addr: &str, node: &str) -> u64 {
    let (status, text) =
        request(addr, "GET", &format!("/v1/recent?node={node}"), &[], b"").unwrap();
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["count"].as_u64().unwrap()
}

#[test]
fn cross_site_writes_and_reads_are_refused_and_same_origin_ones_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let addr = server.addr.as_str();
    let own = format!("http://{addr}");

    let other_site = [
        ("Origin", "http://localhost:8000"),
        ("Sec-Fetch-Site", "cross-site"),
    ];
    let same_site = [("Sec-Fetch-Site", "same-site")];
    let other_origin_only = [("Origin", "http://127.0.0.1:1")];
    let null_origin = [("Origin", "null")];
    for (n, marks) in [
        &other_site[..],
        &same_site[..],
        &other_origin_only[..],
        &null_origin[..],
    ]
    .into_iter()
    .enumerate()
    {
        let (status, answer) = post(addr, "forged-by-browser", n as u64 + 1, marks);
        assert_eq!(status, 403, "{marks:?}: {answer}");
        assert_eq!(answer["error"], "cross_site", "{marks:?}: {answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("Fetch Metadata"),
            "{answer}"
        );
    }
    assert_eq!(stored_count(addr, "forged-by-browser"), 0);

    for path in [
        "/v1/recent",
        "/v1/stream",
        "/v1/query?sql=SELECT%201",
        "/v1/stats",
        "/v1/checkpoints",
        "/metrics",
        "/console/console.js",
    ] {
        let (status, body) = request(addr, "GET", path, &other_site, b"").unwrap();
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("cross_site"), "{path}: {body}");
    }

    // The console's own requests, and programs that are not browsers.
    let same_origin = [("Origin", own.as_str()), ("Sec-Fetch-Site", "same-origin")];
    let (status, answer) = post(addr, "console-page", 1, &same_origin);
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post(addr, "no-browser", 1, &[]);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stored_count(addr, "console-page"), 1);
    assert_eq!(stored_count(addr, "no-browser"), 1);
    let (status, body) = request(
        addr,
        "GET",
        "/v1/query?sql=SELECT%201%20AS%20one",
        &[("Sec-Fetch-Site", "same-origin")],
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    // A link to the console from elsewhere opens it.
    let navigate = [
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "navigate"),
        ("Sec-Fetch-Dest", "document"),
    ];
    let (status, body) = request(addr, "GET", "/", &navigate, b"").unwrap();
    assert_eq!(status, 200, "{body}");
    server.kill9();
}
