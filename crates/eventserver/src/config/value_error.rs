//! Why the typed parse of the server config refuses a key: serde's own error (an
//! unknown key, a missing one, a value of the wrong type or form), kept as the source,
//! with the key path `serde_path_to_error` found it at. The message starts with that
//! path, as every config message does: an environment override is blamed by it
//! (`EnvOverride::blamed_by`).

use thiserror::Error;

/// A key the typed parse of the server config refuses.
#[derive(Debug, Error)]
#[error("{}{source}", at(key))]
#[non_exhaustive]
pub struct ValueError {
    /// The key path (`listen`, `tls.cert`, `keys[2].secret`); empty when the error is
    /// about the document as a whole (a missing or unknown key, named by `source`).
    pub key: String,
    /// serde's error.
    #[source]
    pub source: serde_json::Error,
}

impl ValueError {
    /// From a serde error located by `serde_path_to_error`.
    pub(crate) fn from_serde(e: serde_path_to_error::Error<serde_json::Error>) -> ValueError {
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        ValueError {
            key,
            source: e.into_inner(),
        }
    }
}

/// `key: `, or nothing for no key.
fn at(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{key}: ")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::error::Error as _;

    use super::super::{EnvError, EnvValueError, ServerConfig, ServerConfigError};
    use auditrail_core::config::ConfigTextError;

    const STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"s\"\n";

    fn parse(text: &str, json: bool, env: &[(&str, &str)]) -> ServerConfigError {
        let registry = crate::registry(&[]).unwrap();
        ServerConfig::parse_with_env(text, "s.toml", json, &registry, env.iter().copied())
            .unwrap_err()
    }

    #[test]
    fn text_that_is_no_toml_keeps_the_parse_error_as_its_source() {
        let err = parse("listen = \n", false, &[]);
        let ServerConfigError::Syntax { file, source } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(file, "s.toml");
        assert!(matches!(source, ConfigTextError::Toml(_)), "{source:?}");
        assert!(
            err.to_string().starts_with("s.toml: invalid TOML: "),
            "{err}"
        );
    }

    #[test]
    fn a_document_that_is_no_table_is_refused_as_such() {
        let err = parse("[1, 2]", true, &[]);
        assert!(
            matches!(err, ServerConfigError::NotATable { .. }),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "s.toml: must be a table/object");
    }

    #[test]
    fn a_value_of_the_wrong_type_keeps_serdes_error_with_its_key() {
        let err = parse(&format!("max_body_bytes = \"many\"\n{STORE}"), false, &[]);
        let ServerConfigError::Value { source, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(source.key, "max_body_bytes");
        assert!(
            err.source()
                .and_then(|s| s.source())
                .is_some_and(|s| s.is::<serde_json::Error>()),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("s.toml: max_body_bytes: invalid type: string \"many\""),
            "{err}"
        );
        // An unknown key: serde's error names it.
        let err = parse(&format!("lisen = \"x\"\n{STORE}"), false, &[]);
        assert!(matches!(err, ServerConfigError::Value { .. }), "{err:?}");
        assert!(err.to_string().contains("unknown field `lisen`"), "{err}");
    }

    #[test]
    fn a_value_of_the_wrong_type_from_the_environment_keeps_serdes_error() {
        let err = parse(STORE, false, &[("AUDITRAIL_MAX_BODY_BYTES", "-1")]);
        let ServerConfigError::Environment(EnvError::Invalid {
            reason: EnvValueError::Value(value),
            ..
        }) = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(value.key, "max_body_bytes");
        assert!(
            err.to_string().starts_with(
                "environment AUDITRAIL_MAX_BODY_BYTES: invalid value \"-1\": max_body_bytes: "
            ),
            "{err}"
        );
    }
}
