//! The console's files are revalidated with `If-None-Match`, which RFC 9110 §13.1.2
//! compares weakly: `W/"tag"` (as a browser or a compressing proxy sends the tag back)
//! matches the file's `"tag"`. It was answered `200` with the whole file.

use crate::server_support;

use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_etag_alone_or_in_a_list_is_answered_not_modified() {
    let s = start(STORE).await;
    let first = s.client.get(s.url("/")).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let ask = |value: String| {
        let request = s.client.get(s.url("/")).header("if-none-match", value);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // Without the fix: 200.
    assert_eq!(ask(format!("W/{etag}")).await, 304);
    assert_eq!(ask(format!("\"other\", W/{etag}")).await, 304);
    assert_eq!(ask(etag.clone()).await, 304);
    assert_eq!(ask("*".to_owned()).await, 304);
    assert_eq!(ask("W/\"other\"".to_owned()).await, 200);
}
