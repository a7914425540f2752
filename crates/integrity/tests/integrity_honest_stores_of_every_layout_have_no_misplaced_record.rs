//! No false alarm from the placement check (`misplaced-record`): stores written by the
//! real `store` destination under every layout (topic and routing-key levels on and
//! off, hour, day and month partitions), with routing keys and topics whose folder
//! names are hashed, leap seconds at the end of a day, month and year, and records an
//! older version filed under verbatim names, all verify clean, with the layout
//! inferred from the folders and with the layout of the store's config.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::integrity_support;

use std::sync::Arc;

use auditrail_core::{Event, RoutingKey, Topic};
use auditrail_integrity::verify::VerifyOptions;
use auditrail_store::{folder_name, Layout, Partitioning};
use integrity_support::{build_configured, event, show, Fixture};

/// Keys that are their own folder name and keys that are not (hashed), a key spelled
/// like the no-key folder, a key needing JSON escapes, and no key.
const KEYS: [Option<&str>; 10] = [
    None,
    Some("svc-a"),
    Some("_none"),
    Some("Deployment 42"),
    Some(".hidden"),
    Some("-rf"),
    Some("a~b"),
    Some("q\"uote"),
    Some("é€😀 \u{202e}rtl"),
    Some("abc~0123456789abcdef0123456789abcdef"),
];

const TIMES: [&str; 5] = [
    "2016-12-31T23:59:60.500Z",
    "2026-11-30T23:59:60Z",
    "2026-11-29T22:00:00.000Z",
    "2026-11-29T13:59:59.999+02:00",
    "0001-01-01T00:00:00.000Z",
];

fn varied(n: u64) -> Arc<Event> {
    let mut e = (*event(n)).clone();
    e.routing_key = KEYS[(n % KEYS.len() as u64) as usize].map(|k| RoutingKey::new(k).unwrap());
    e.timestamp = TIMES[(n / 3 % TIMES.len() as u64) as usize]
        .parse()
        .unwrap();
    if n.is_multiple_of(7) {
        e.topic = Topic::new(".dot-topic").unwrap();
    }
    Arc::new(e)
}

fn partitioning_name(p: Partitioning) -> &'static str {
    match p {
        Partitioning::Hour => "hour",
        Partitioning::Day => "day",
        Partitioning::Month => "month",
    }
}

fn store_of(layout: Layout) -> Fixture {
    build_configured(
        serde_json::json!({
            "folder_by_topic": layout.by_topic,
            "folder_by_routing_key": layout.by_routing_key,
            "partitioning": partitioning_name(layout.partitioning),
        }),
        300,
        varied,
    )
}

fn assert_clean(fx: &Fixture, layout: Layout, what: &str) {
    let inferred = fx.verify();
    assert!(
        inferred.ok,
        "{what} {layout}, inferred:\n{}",
        show(&inferred)
    );
    let given = fx.verify_with(VerifyOptions {
        public_key: Some(fx.public_key),
        layouts: [(fx.store.clone(), layout)].into(),
        ..VerifyOptions::default()
    });
    assert!(given.ok, "{what} {layout}, given:\n{}", show(&given));
    assert_eq!(inferred.stores[0].records, 300);
}

#[test]
fn stores_of_every_layout_verify_clean() {
    for layout in Layout::all() {
        let fx = store_of(layout);
        assert_clean(&fx, layout, "written under");
    }
}

#[test]
fn records_an_older_version_filed_under_verbatim_names_verify_clean() {
    // Before hashed folder names, a topic or routing key was its own folder name: move
    // every hashed folder of the default layout to its verbatim name, as such a store
    // holds them (readers still find them there: the folder names the values).
    let layout = Layout::default();
    let fx = store_of(layout);
    let dot = folder_name(".dot-topic");
    let mut moved = 0;
    for topic in ["generic", "authfail", "apicalls", &*dot] {
        for key in KEYS.into_iter().flatten() {
            let hashed = folder_name(key);
            let from = fx.store.join(topic).join(&*hashed);
            if hashed != key && from.is_dir() {
                std::fs::rename(&from, fx.store.join(topic).join(key)).unwrap();
                moved += 1;
            }
        }
    }
    std::fs::rename(fx.store.join(&*dot), fx.store.join(".dot-topic")).unwrap();
    assert!(moved >= 6, "{moved}");
    assert_clean(&fx, layout, "verbatim names under");
}
