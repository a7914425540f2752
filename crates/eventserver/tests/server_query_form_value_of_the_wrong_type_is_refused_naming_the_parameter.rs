//! `POST /v1/query` with a form whose value is not of its parameter's type (`limit=-1`)
//! is refused with `400 bad_query` naming the parameter, as the same parameters in a
//! `GET` query string are: before, the form's refusal said only "invalid digit found in
//! string", without saying which of the parameters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_that_is_not_a_count_is_named_in_a_form_as_in_a_query_string() {
    let s = start(STORE).await;
    for limit in ["-1", "1e3", "99999999999999999999999"] {
        let form = s
            .client
            .post(s.url("/v1/query"))
            .form(&[("sql", "SELECT 1"), ("limit", limit)])
            .send()
            .await
            .unwrap();
        assert_eq!(form.status().as_u16(), 400, "limit={limit}");
        let form: Value = form.json().await.unwrap();
        let get = s
            .client
            .get(s.url("/v1/query"))
            .query(&[("sql", "SELECT 1"), ("limit", limit)])
            .send()
            .await
            .unwrap();
        assert_eq!(get.status().as_u16(), 400, "limit={limit}");
        let get: Value = get.json().await.unwrap();
        for answer in [&form, &get] {
            assert_eq!(answer["error"], "bad_query", "limit={limit}: {answer}");
            assert!(
                answer["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("query parameter limit: "),
                "limit={limit}: {answer}"
            );
        }
        assert_eq!(form["message"], get["message"], "limit={limit}");
    }
}
