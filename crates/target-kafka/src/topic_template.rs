//! The `topic` setting: a fixed Kafka topic name, or a template such as
//! `audit-{topic}` rendered for every event.
//!
//! Kafka topic names are 1 to 249 characters of `[a-zA-Z0-9._-]`, and neither `.` nor
//! `..`. The literal parts of a template are checked when the config is loaded; a
//! rendered name is checked for every event, and an event whose name is not a valid
//! Kafka topic is rejected (dead-lettered) with the reason rather than sent.

use std::fmt;

use auditrail_core::Event;
use thiserror::Error;

/// Longest Kafka topic name.
pub const KAFKA_TOPIC_MAX_LEN: usize = 249;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["{topic}", "{routing_key}", "{node}"];

/// Why a template or a rendered topic name is not usable.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum TopicError {
    /// The template text itself is malformed.
    #[error("`topic` template {template:?}: {reason}")]
    Template {
        /// The template as configured.
        template: String,
        /// What is wrong.
        reason: String,
    },
    /// A rendered name is not a valid Kafka topic.
    #[error(
        "Kafka topic {name:?} (from template {template:?}) is not a valid topic name: {reason}"
    )]
    InvalidName {
        /// The rendered name (shortened when very long).
        name: String,
        /// The template.
        template: String,
        /// What is wrong.
        reason: String,
    },
    /// The template uses `{routing_key}` and the event has none.
    #[error("the Kafka topic template {template:?} uses {{routing_key}} but the event has no routing key")]
    NoRoutingKey {
        /// The template.
        template: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Topic,
    RoutingKey,
    Node,
}

/// A parsed `topic` setting (parsed once, when the config is read).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct TopicTemplate {
    source: String,
    parts: Vec<Part>,
}

impl TryFrom<String> for TopicTemplate {
    type Error = TopicError;

    fn try_from(template: String) -> Result<TopicTemplate, TopicError> {
        TopicTemplate::parse(&template)
    }
}

impl TopicTemplate {
    /// Parses and checks a template (or a fixed name).
    pub fn parse(template: &str) -> Result<TopicTemplate, TopicError> {
        let err = |reason: String| TopicError::Template {
            template: template.to_owned(),
            reason,
        };
        if template.is_empty() {
            return Err(err("must not be empty".into()));
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let Some(end) = after.find('}') else {
                    return Err(err("a `{` is not closed by `}`".into()));
                };
                let name = &after[..end];
                parts.push(match name {
                    "topic" => Part::Topic,
                    "routing_key" => Part::RoutingKey,
                    "node" => Part::Node,
                    other => {
                        return Err(err(format!(
                            "unknown placeholder {{{other}}}; use one of {}",
                            PLACEHOLDERS.join(", ")
                        )))
                    }
                });
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let literal = &rest[..end];
                if let Some(bad) = literal.chars().find(|c| !is_topic_char(*c)) {
                    return Err(err(format!(
                        "character {bad:?} is not allowed in a Kafka topic name; use \
                         [a-zA-Z0-9._-] and the placeholders {}",
                        PLACEHOLDERS.join(", ")
                    )));
                }
                parts.push(Part::Literal(literal.to_owned()));
                rest = &rest[end..];
            }
        }
        let parsed = TopicTemplate {
            source: template.to_owned(),
            parts,
        };
        let literal_len: usize = parsed
            .parts
            .iter()
            .map(|p| match p {
                Part::Literal(s) => s.len(),
                _ => 1,
            })
            .sum();
        if literal_len > KAFKA_TOPIC_MAX_LEN {
            return Err(err(format!(
                "longer than the {KAFKA_TOPIC_MAX_LEN} characters a Kafka topic may have"
            )));
        }
        if let Some(fixed) = parsed.fixed() {
            check_name(fixed).map_err(err)?;
        }
        Ok(parsed)
    }

    /// The topic name when the template has no placeholder.
    pub fn fixed(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Literal(s)] => Some(s),
            _ => None,
        }
    }

    /// The template as configured.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The Kafka topic for `event`, into `out` (cleared first).
    pub fn render_into(&self, event: &Event, out: &mut String) -> Result<(), TopicError> {
        out.clear();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Topic => out.push_str(event.topic.as_str()),
                Part::Node => out.push_str(event.node.as_str()),
                Part::RoutingKey => match &event.routing_key {
                    Some(k) => out.push_str(k.as_str()),
                    None => {
                        return Err(TopicError::NoRoutingKey {
                            template: self.source.clone(),
                        })
                    }
                },
            }
        }
        if self.fixed().is_none() {
            check_name(out).map_err(|reason| TopicError::InvalidName {
                name: shorten(out),
                template: self.source.clone(),
                reason,
            })?;
        }
        Ok(())
    }
}

impl fmt::Display for TopicTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn is_topic_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Kafka's own rule for topic names.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > KAFKA_TOPIC_MAX_LEN {
        return Err(format!(
            "must be 1 to {KAFKA_TOPIC_MAX_LEN} characters long (got {})",
            name.chars().count()
        ));
    }
    if name == "." || name == ".." {
        return Err("`.` and `..` are not topic names".into());
    }
    if let Some(bad) = name.chars().find(|c| !is_topic_char(*c)) {
        return Err(format!(
            "character {bad:?} is not allowed; Kafka topic names use [a-zA-Z0-9._-]"
        ));
    }
    Ok(())
}

fn shorten(name: &str) -> String {
    const MAX: usize = 80;
    if name.chars().count() <= MAX {
        name.to_owned()
    } else {
        let mut s: String = name.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(routing_key: Option<&str>) -> Event {
        let mut json = serde_json::json!({
            "id": "01936f6e-1b2c-7d3e-8f40-123456789abc",
            "timestamp": "2026-11-25T16:55:49.123Z",
            "topic": "authfail",
            "node": "node-1",
            "seq": 1,
            "message": {"msgType": "login-failed"}
        });
        if let Some(k) = routing_key {
            json["routingKey"] = k.into();
        }
        Event::from_json(&json.to_string()).unwrap()
    }

    fn render(t: &str, e: &Event) -> Result<String, TopicError> {
        let mut out = String::new();
        TopicTemplate::parse(t)?.render_into(e, &mut out)?;
        Ok(out)
    }

    #[test]
    fn fixed_names_and_placeholders_render() {
        let e = event(Some("svc-a"));
        assert_eq!(render("audit", &e).unwrap(), "audit");
        assert_eq!(render("audit-{topic}", &e).unwrap(), "audit-authfail");
        assert_eq!(
            render("{node}.{topic}.{routing_key}", &e).unwrap(),
            "node-1.authfail.svc-a"
        );
        assert_eq!(
            TopicTemplate::parse("audit").unwrap().fixed(),
            Some("audit")
        );
        assert_eq!(TopicTemplate::parse("a-{topic}").unwrap().fixed(), None);
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        for (t, needle) in [
            ("", "empty"),
            ("audit/{topic}", "'/'"),
            ("audit {topic}", "' '"),
            ("audit-{topik}", "unknown placeholder {topik}"),
            ("audit-{topic", "not closed"),
            ("..", "`.` and `..`"),
        ] {
            let e = TopicTemplate::parse(t).unwrap_err().to_string();
            assert!(e.contains(needle), "{t:?}: {e}");
        }
        let long = "a".repeat(250);
        assert!(TopicTemplate::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("249"));
    }

    #[test]
    fn routing_keys_that_are_not_kafka_names_are_per_event_errors() {
        let e = event(Some("svc a:b"));
        let err = render("audit-{routing_key}", &e).unwrap_err();
        assert!(matches!(err, TopicError::InvalidName { .. }), "{err}");
        assert!(err.to_string().contains("audit-svc a:b"), "{err}");
        let err = render("audit-{routing_key}", &event(None)).unwrap_err();
        assert_eq!(
            err,
            TopicError::NoRoutingKey {
                template: "audit-{routing_key}".into()
            }
        );
        let long_key = "k".repeat(250);
        let err = render("{routing_key}", &event(Some(&long_key))).unwrap_err();
        assert!(err.to_string().contains("249"), "{err}");
    }
}
