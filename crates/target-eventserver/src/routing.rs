//! The routing key sent with each event (`routing_key_mode`).

use std::sync::Arc;

use auditrail_core::{Event, RoutingKey};

use crate::config::RoutingKeyMode;

/// `event` as it is sent: with the routing key the mode picks. Shares the event when
/// nothing changes.
pub(crate) fn apply(
    mode: RoutingKeyMode,
    key: Option<&RoutingKey>,
    event: &Arc<Event>,
) -> Arc<Event> {
    let wanted = match (mode, key) {
        (RoutingKeyMode::FromMessage, _) | (_, None) => return event.clone(),
        (RoutingKeyMode::Static, Some(k)) => k,
        (RoutingKeyMode::StaticIfMissing, Some(k)) => match &event.routing_key {
            Some(_) => return event.clone(),
            None => k,
        },
    };
    if event.routing_key.as_ref() == Some(wanted) {
        return event.clone();
    }
    let mut e = (**event).clone();
    e.routing_key = Some(wanted.clone());
    Arc::new(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrail_core::{topics, EventDraft, NodeId};

    fn event(key: Option<&str>) -> Arc<Event> {
        let mut d = EventDraft::new(topics::GENERIC, "t");
        if let Some(k) = key {
            d = d.routing_key(k);
        }
        let node = NodeId::new("n").unwrap();
        Arc::new(d.complete(&node, || 1).unwrap())
    }

    fn key_after(mode: RoutingKeyMode, conf: Option<&str>, own: Option<&str>) -> Option<String> {
        let conf = conf.map(|k| RoutingKey::new(k).unwrap());
        apply(mode, conf.as_ref(), &event(own))
            .routing_key
            .as_ref()
            .map(|k| k.as_str().to_owned())
    }

    #[test]
    fn each_mode_picks_the_documented_key() {
        use RoutingKeyMode::*;
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(key_after(FromMessage, Some("cfg"), Some("own")), s("own"));
        assert_eq!(key_after(FromMessage, Some("cfg"), None), None);
        assert_eq!(key_after(Static, Some("cfg"), Some("own")), s("cfg"));
        assert_eq!(key_after(Static, Some("cfg"), None), s("cfg"));
        assert_eq!(
            key_after(StaticIfMissing, Some("cfg"), Some("own")),
            s("own")
        );
        assert_eq!(key_after(StaticIfMissing, Some("cfg"), None), s("cfg"));
        assert_eq!(key_after(StaticIfMissing, None, None), None);
    }

    #[test]
    fn only_the_routing_key_changes() {
        let e = event(None);
        let k = RoutingKey::new("cfg").unwrap();
        let out = apply(RoutingKeyMode::Static, Some(&k), &e);
        assert_eq!((out.id, out.seq, &out.message), (e.id, e.seq, &e.message));
    }
}
