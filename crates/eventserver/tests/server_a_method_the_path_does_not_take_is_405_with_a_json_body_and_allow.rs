//! A method a path does not take (`TRACE /v1/events`, `PUT /v1/query`,
//! `DELETE /healthz`) is answered `405` with the JSON error body every answer has
//! (`{"error": "method_not_allowed", "message": ...}`) and the `Allow` header listing
//! the methods the path takes (RFC 9110, 15.5.6), over a real socket. (The body was
//! empty.)

use crate::server_support;

use reqwest::Method;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_the_path_does_not_take_is_405_with_a_json_body_and_allow() {
    let s = start(STORE).await;
    for (method, path, allowed) in [
        ("TRACE", "/v1/events", &["POST"][..]),
        ("PUT", "/v1/query", &["GET", "POST"][..]),
        ("DELETE", "/healthz", &["GET"][..]),
    ] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let resp = s
            .client
            .request(method.clone(), s.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        let allow = resp
            .headers()
            .get("allow")
            .unwrap_or_else(|| panic!("{method} {path}: no Allow header"))
            .to_str()
            .unwrap()
            .to_owned();
        for m in allowed {
            assert!(
                allow.split(',').any(|a| a.trim() == *m),
                "{method} {path}: Allow {allow:?} lacks {m}"
            );
        }
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{method} {path}: {content_type}"
        );
        let text = resp.text().await.unwrap();
        let body: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: body {text:?} is not JSON: {e}"));
        assert_eq!(body["error"], "method_not_allowed", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(path) && message.contains(method.as_str()),
            "says what and where: {message}"
        );
    }
}
