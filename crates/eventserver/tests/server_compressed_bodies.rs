//! gzip and zstd bodies, and JSON arrays, are stored like plain JSON lines.

use crate::server_support;

use std::io::Write;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_zstd_and_array_bodies_are_accepted() {
    let s = start(STORE).await;
    let a: Vec<_> = (1..=5).map(|i| event("n1", i)).collect();
    let b: Vec<_> = (6..=10).map(|i| event("n1", i)).collect();
    let c: Vec<_> = (11..=15).map(|i| event("n1", i)).collect();

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(ndjson(&a).as_bytes()).unwrap();
    let zs = zstd::encode_all(ndjson(&b).as_bytes(), 3).unwrap();
    for (encoding, body, ctype) in [
        ("gzip", gz.finish().unwrap(), "application/x-ndjson"),
        ("zstd", zs, "application/x-ndjson"),
        (
            "identity",
            serde_json::to_vec(&c).unwrap(),
            "application/json",
        ),
    ] {
        let resp = s
            .client
            .post(s.url("/v1/events"))
            .header("content-type", ctype)
            .header("content-encoding", encoding)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{encoding}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["accepted"], 5, "{encoding}: {body}");
        assert_eq!(body["durable"], true);
    }
    let ids = stored_ids(&s.store());
    assert_eq!(ids.len(), 15);
    for e in a.iter().chain(&b).chain(&c) {
        assert_eq!(ids[e["id"].as_str().unwrap()], 1);
    }
}
