//! Following `/v1/stream` (Server-Sent Events) in tests: the messages read off the
//! response, one at a time.

use std::time::Duration;

use serde_json::Value;

use super::TestServer;

/// Reads SSE messages off a response: (event type, data).
pub(crate) struct Messages {
    resp: reqwest::Response,
    buf: String,
}

impl Messages {
    /// The next message, `None` when the stream ended.
    pub(crate) async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut kind = "message".to_owned();
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                    }
                }
                if data.is_empty() {
                    continue; // keep-alive comment
                }
                return Some((kind, data.join("\n")));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), self.resp.chunk())
                .await
                .expect("no message within 30 s")
                .unwrap()?;
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next message, which must be an event (in the envelope of `/v1/recent`).
    pub(crate) async fn next_event(&mut self) -> Value {
        let (kind, data) = self.next().await.expect("the stream ended");
        assert_eq!(kind, "message", "{data}");
        serde_json::from_str(&data).unwrap()
    }
}

/// Follows `/v1/stream?{query}` (with `key` as a bearer token when given).
pub(crate) async fn follow(s: &TestServer, query: &str, key: Option<&str>) -> Messages {
    let mut req = s.client.get(s.url(&format!("/v1/stream?{query}")));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    Messages {
        resp,
        buf: String::new(),
    }
}
