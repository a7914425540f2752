//! Query parameters, read one way by every endpoint that takes them: [`Params`].
//!
//! axum's `Query` decodes with `form_urlencoded`, which turns a percent-encoded byte
//! sequence that is not UTF-8 into U+FFFD without a word: `?user=%FF` would be a query
//! for the user "\u{FFFD}", another text than the one sent, answered `200`. [`Params`]
//! refuses such a query first, naming the parameter, then parses it as axum's `Query`
//! does (serde_urlencoded), the same for a query string and a form body, with the
//! parameter named in every refusal of a value (`query parameter limit: invalid digit
//! found in string`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The query parameters of a request, deserialized into `T` by axum's `Query` once
/// every key and value is UTF-8 after percent-decoding.
#[derive(Debug)]
pub(super) struct Params<T>(pub(super) T);

/// Why a request's query parameters were refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum ParamsRejection {
    /// A key or value is not UTF-8 after percent-decoding.
    #[error("query parameter {name}: its {part} is not UTF-8 after percent-decoding")]
    NotUtf8 {
        /// The parameter: its key as decoded, or as sent when the key itself is not
        /// UTF-8 once decoded.
        name: String,
        /// `key` or `value`.
        part: &'static str,
    },
    /// A form body (`application/x-www-form-urlencoded`) has bytes that are not
    /// UTF-8 text (a form body is ASCII: everything else is percent-encoded).
    #[error("the form body is not UTF-8 text (at byte {at})")]
    FormNotText {
        /// Where the first invalid byte is.
        at: usize,
    },
    /// A parameter's value is not of its type (`limit=-1`), named.
    #[error("query parameter {name}: {source}")]
    Value {
        /// The parameter.
        name: String,
        /// Why its value was refused.
        #[source]
        source: serde_urlencoded::de::Error,
    },
    /// The parameters were refused as a whole (an unknown or repeated parameter; the
    /// message names it).
    #[error(transparent)]
    Parameters(serde_urlencoded::de::Error),
    /// A parameter is given both in the URL and in the form body of a `POST`.
    #[error("query parameter {name} is given both in the URL and in the form body: give it once")]
    InUrlAndForm {
        /// The parameter, as decoded.
        name: String,
    },
}

impl<T: DeserializeOwned> Params<T> {
    /// The parameters of a `POST` whose URL has a query string (`query`, empty for none)
    /// and whose body is an `application/x-www-form-urlencoded` form (`POST /v1/query`
    /// takes a statement too long for a URL this way), each read as a query string is
    /// (the same checks, the same parser), and read together, as Prometheus's `POST /api/v1/query`
    /// does (Go's `Request.ParseForm`), so that `?limit=1` is not ignored in silence. A
    /// parameter given in both is refused, naming it, where Go keeps the body's value
    /// and drops the URL's without a word; a parameter repeated in a query string is
    /// refused too.
    pub(super) fn from_query_and_form(
        query: &str,
        body: &[u8],
    ) -> Result<Params<T>, ParamsRejection> {
        check_utf8(query)?;
        let form = std::str::from_utf8(body).map_err(|e| ParamsRejection::FormNotText {
            at: e.valid_up_to(),
        })?;
        check_utf8(form)?;
        if query.is_empty() {
            return Params::deserialize(form);
        }
        if form.is_empty() {
            return Params::deserialize(query);
        }
        let in_url: std::collections::HashSet<_> = form_urlencoded::parse(query.as_bytes())
            .map(|(key, _)| key)
            .collect();
        if let Some((name, _)) =
            form_urlencoded::parse(form.as_bytes()).find(|(key, _)| in_url.contains(key))
        {
            return Err(ParamsRejection::InUrlAndForm {
                name: name.into_owned(),
            });
        }
        Params::deserialize(&format!("{query}&{form}"))
    }

    /// `text` (`application/x-www-form-urlencoded`) as `T`, each key and value checked
    /// to be UTF-8 first.
    fn parse(text: &str) -> Result<Params<T>, ParamsRejection> {
        check_utf8(text)?;
        Params::deserialize(text)
    }

    /// `text`, whose keys and values are UTF-8 once decoded, as `T`.
    fn deserialize(text: &str) -> Result<Params<T>, ParamsRejection> {
        let parts = serde_urlencoded::Deserializer::new(form_urlencoded::parse(text.as_bytes()));
        serde_path_to_error::deserialize(parts)
            .map(Params)
            .map_err(|e| {
                let name = e.path().to_string();
                let source = e.into_inner();
                // `.`: the error is of the parameters as a whole (unknown, repeated).
                if name == "." {
                    ParamsRejection::Parameters(source)
                } else {
                    ParamsRejection::Value { name, source }
                }
            })
    }
}

impl IntoResponse for ParamsRejection {
    /// Only for a handler that takes `Params` without its `Result`: the handlers answer
    /// with their own message, listing their parameters.
    fn into_response(self) -> Response {
        ApiError::bad_request("bad_query", self.to_string()).into_response()
    }
}

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ParamsRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Params::parse(parts.uri.query().unwrap_or_default())
    }
}

/// Checks that each key and value of `query` (`application/x-www-form-urlencoded`, as
/// `form_urlencoded` splits it: pairs by `&`, key from value by the first `=`) is UTF-8
/// after percent-decoding. (`+` decodes to a space, which is UTF-8 either way.)
fn check_utf8(query: &str) -> Result<(), ParamsRejection> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded_key = percent_decode(key.as_bytes()).decode_utf8();
        let Ok(name) = decoded_key else {
            // Named as sent: the URL's own text is ASCII, so this names it exactly.
            return Err(ParamsRejection::NotUtf8 {
                name: format!("{key:?}"),
                part: "key",
            });
        };
        if percent_decode(value.as_bytes()).decode_utf8().is_err() {
            return Err(ParamsRejection::NotUtf8 {
                name: name.into_owned(),
                part: "value",
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(query: &str) -> Option<(String, &'static str)> {
        match check_utf8(query) {
            Ok(()) => None,
            Err(ParamsRejection::NotUtf8 { name, part }) => Some((name, part)),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn only_keys_and_values_that_are_not_utf8_are_refused() {
        for ok in [
            "",
            "user=alice",
            "user=%C3%A9lodie&topic=authfail",
            "user=\u{e9}",
            "user=a+b&&limit=5&flag",
            "user=%EF%BF%BD",
            "user=100%",
        ] {
            assert_eq!(refused(ok), None, "{ok}");
        }
        assert_eq!(refused("user=%FF"), Some(("user".into(), "value")));
        assert_eq!(
            refused("topic=generic&user=al%C3ice"),
            Some(("user".into(), "value"))
        );
        assert_eq!(
            refused("topic=generic&us%E9r=alice"),
            Some(("\"us%E9r\"".into(), "key"))
        );
        assert_eq!(refused("%FF"), Some(("\"%FF\"".into(), "key")));
    }
}
