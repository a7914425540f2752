//! Unit tests of the dispatcher's routing: each route's filter runs exactly once per
//! event, whichever emit path carries it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Dispatcher, Routed};
use crate::event::{Event, EventDraft, NodeId, Received, RoutingKey, Timestamp};
use crate::filter::Filter;
use crate::filter::{calls, Selection};
use crate::target::{Target, TargetError};
use crate::topics;

/// Takes everything (the medium does not matter here).
struct Sink;

#[async_trait]
impl Target for Sink {
    async fn send(&mut self, _batch: &[Arc<Event>]) -> Result<(), TargetError> {
        Ok(())
    }
}

const ROUTES: usize = 3;

/// Three routes: everything; `authfail` only; routing key `svc-a` only.
fn dispatcher() -> Dispatcher {
    let only = |topics: Selection<crate::Topic>, keys: Selection<RoutingKey>| Filter {
        topics,
        routing_keys: keys,
        required_key: None,
    };
    Dispatcher::builder(NodeId::new("server").unwrap())
        .target(
            "all",
            "sink",
            Filter::all(),
            Default::default(),
            Box::new(Sink),
        )
        .target(
            "failures",
            "sink",
            only(Selection::Only(vec![topics::AUTHFAIL]), Selection::All),
            Default::default(),
            Box::new(Sink),
        )
        .target(
            "svc-a",
            "sink",
            only(
                Selection::All,
                Selection::Only(vec![RoutingKey::new("svc-a").unwrap()]),
            ),
            Default::default(),
            Box::new(Sink),
        )
        .build()
        .unwrap()
}

/// Complete events of another node, as a server receives them.
fn events(n: u64) -> Vec<Event> {
    let node = NodeId::new("node-7").unwrap();
    let received = Arc::new(Received {
        orig_address: None,
        key_id: None,
        server_timestamp: Timestamp::now(),
        kafka: None,
    });
    (0..n)
        .map(|i| {
            let topic = if i % 2 == 0 {
                topics::AUTHFAIL
            } else {
                topics::GENERIC
            };
            let mut draft = EventDraft::new(topic, "t");
            if i % 3 == 0 {
                draft = draft.routing_key("svc-a");
            }
            draft.node = Some(node.clone());
            draft.seq = Some(100 + i);
            draft.received = Some(received.clone());
            draft.complete(&node, unreachable_seq).unwrap()
        })
        .collect()
}

fn unreachable_seq() -> u64 {
    panic!("a complete event must keep its own seq")
}

#[tokio::test]
async fn each_filter_runs_once_per_event_on_every_acked_batch_path() {
    let d = dispatcher();
    const N: u64 = 12;

    calls::take();
    let ack = d.emit_events_acked(events(N)).await.unwrap();
    assert_eq!(calls::take(), N as usize * ROUTES, "emit_events_acked");
    assert!(ack.is_delivered());

    let routed: Vec<Routed> = events(N).into_iter().map(|e| d.route(e)).collect();
    assert_eq!(calls::take(), N as usize * ROUTES, "route");
    d.emit_routed_acked(routed).await.unwrap();
    assert_eq!(calls::take(), 0, "emit_routed_acked must not filter again");

    let drafts = events(N).into_iter().map(EventDraft::from);
    d.emit_batch_acked(drafts).await.unwrap();
    assert_eq!(calls::take(), N as usize * ROUTES, "emit_batch_acked");

    d.emit_acked(EventDraft::new(topics::GENERIC, "one"))
        .await
        .unwrap();
    assert_eq!(calls::take(), ROUTES, "emit_acked");

    d.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn the_answer_names_the_routes_of_each_event_and_keeps_its_identity() {
    let d = dispatcher();
    let sent = events(6);
    let ack = d.emit_events_acked(sent.clone()).await.unwrap();
    let names: Vec<&str> = d.routes().map(|r| r.name).collect();
    assert_eq!(names, ["all", "failures", "svc-a"]);
    assert_eq!(d.route_index("svc-a"), Some(2));
    for (i, (e, a)) in sent.iter().zip(ack.events()).enumerate() {
        assert_eq!(
            (a.id, a.seq),
            (e.id, e.seq),
            "event {i} kept its id and seq"
        );
        let mut expected = vec![0];
        if e.topic == topics::AUTHFAIL {
            expected.push(1);
        }
        if e.routing_key.as_ref().map(RoutingKey::as_str) == Some("svc-a") {
            expected.push(2);
        }
        assert_eq!(a.routes.iter().collect::<Vec<_>>(), expected, "event {i}");
        assert_eq!(a.taken(), a.routes);
        assert_eq!(a.outcome(0), Some(Ok(())));
    }
    assert_eq!(d.unrouted(), 0);
    d.shutdown(Duration::from_secs(10)).await;
}
