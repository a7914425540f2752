use thiserror::Error;

/// Why an event (or one of its fields) is invalid.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// A field has a value outside its allowed form.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidField {
        /// Wire name of the field (`topic`, `routingKey`, `node`, ...).
        field: &'static str,
        /// The offending value, truncated for display.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The message is not a JSON object with a non-empty string `msgType`.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// A mandatory field is absent (for a draft: one the dispatcher cannot fill in).
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// The JSON itself is malformed or has unknown keys; serde's text names the key,
    /// line and column.
    #[error("{0}")]
    Json(String),
}

/// Parses JSON into `T`, naming the path of the offending field in the error
/// (`message.msgType: ...`, `seq: invalid value ...`).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, EventError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            EventError::Json(inner.to_string())
        } else {
            EventError::Json(format!("{path}: {inner}"))
        }
    })?;
    de.end().map_err(|e| EventError::Json(e.to_string()))?;
    Ok(value)
}
