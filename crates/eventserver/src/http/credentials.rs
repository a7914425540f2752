//! The credentials of a request as an axum extractor: the bearer secret of its
//! `Authorization` header and the client certificate of its connection (put into the
//! request's extensions by `conn.rs`). Which key they are is `KeyRing::identify`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::auth::{bearer, ClientCert, Credentials};

impl<S: Send + Sync> FromRequestParts<S> for Credentials {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Credentials {
            bearer: parts
                .headers
                .get(header::AUTHORIZATION)
                // UTF-8, not only visible ASCII (`to_str`): a secret with other
                // characters (`pässwort-...`, which the config takes and a node's
                // `auth_key` sends as its UTF-8 bytes) was read as no header at all, and
                // answered "missing `Authorization`".
                .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
                .and_then(bearer)
                .map(str::to_owned),
            cert: parts.extensions.get::<ClientCert>().cloned(),
        })
    }
}
