//! Every error status of `POST /v1/events`, each with a JSON body that says what and
//! where, over a real socket. Bad input never yields a 500.

use crate::server_support;

use std::io::Write;

use server_support::*;

const KEYS: &str = r#"
[[keys]]
id = "svc-a"
secret = "secret-of-a"
routing_keys = ["svc-a"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400_with_the_line() {
    let s = start(STORE).await;
    let body = format!("{}\n{{not json\n", event("n1", 1));
    let (status, _, body) = post(&s, body, None).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_event");
    assert_eq!(body["line"], 2);
    assert!(stored_ids(&s.store()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_field_is_400_naming_line_and_field() {
    let s = start(STORE).await;
    let mut bad = event("n1", 2);
    bad["routingKey"] = "../etc".into();
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1), bad]), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["line"], 2);
    assert_eq!(body["field"], "routingKey");
    assert!(body["message"].as_str().unwrap().contains("routingKey"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_event_in_an_array_is_400_naming_the_index() {
    let s = start(STORE).await;
    let mut bad = event("n1", 2);
    bad["message"] = serde_json::json!({"authUser": "x"});
    let body = serde_json::json!([event("n1", 1), bad]).to_string();
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["index"], 1, "{body}");
    assert!(
        body["field"].as_str().unwrap().starts_with("message"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_is_400() {
    let s = start(STORE).await;
    let (status, _, body) = post(&s, "\n\n", None).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "empty_batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_unknown_keys_are_401() {
    let s = start(&format!("{STORE}{KEYS}")).await;
    let (status, headers, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");
    assert!(headers.get("www-authenticate").is_some());
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1)]), Some("wrong-secret")).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "unknown key");
    assert!(stored_ids(&s.store()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routing_key_the_key_does_not_own_is_403() {
    let s = start(&format!("{STORE}{KEYS}")).await;
    let events = [
        event_with("n1", 1, "apinode-query", Some("svc-a")),
        event_with("n1", 2, "apinode-query", Some("svc-b")),
    ];
    let (status, _, body) = post(&s, ndjson(&events), Some("secret-of-a")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    assert_eq!(body["line"], 2);
    assert_eq!(body["field"], "routingKey");
    assert!(
        stored_ids(&s.store()).is_empty(),
        "nothing of a refused batch is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413() {
    let s = start(&format!("max_body_bytes = 2000\n{STORE}")).await;
    let events: Vec<_> = (1..=20).map(|i| event("n1", i)).collect();
    let (status, _, body) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"], "payload_too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_body_over_the_limit_once_decompressed_is_413() {
    // A small gzip body that expands past the limit (a zip bomb) stops at the limit.
    let s = start(&format!("max_body_bytes = 100000\n{STORE}")).await;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![b'\n'; 5_000_000]).unwrap();
    let gz = enc.finish().unwrap();
    assert!(gz.len() < 100_000);
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", "application/x-ndjson")
        .header("content-encoding", "gzip")
        .body(gz)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_content_type_or_encoding_is_415() {
    let s = start(STORE).await;
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", "text/plain")
        .body(ndjson(&[event("n1", 1)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("text/plain"));
    let resp = s
        .client
        .post(s.url("/v1/events"))
        .header("content-type", "application/x-ndjson")
        .header("content-encoding", "br")
        .body(ndjson(&[event("n1", 1)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_compressed_body_is_400_not_500() {
    let s = start(STORE).await;
    for encoding in ["gzip", "zstd"] {
        let resp = s
            .client
            .post(s.url("/v1/events"))
            .header("content-type", "application/x-ndjson")
            .header("content-encoding", encoding)
            .body(b"this is not compressed".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{encoding}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "bad_encoding");
    }
}
