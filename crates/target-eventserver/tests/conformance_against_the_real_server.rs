//! The core conformance suite, against a real `auditrail serve` process per target
//! instance, reading back from the server's store files (and, in spool mode, from the
//! spool files, which are part of this target's durable medium: an `Ok` from `send`
//! means "fsynced in the spool").

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use auditrail_core::testing::conformance::{run, Harness, ReadBackError};
use auditrail_core::{async_trait, Event, TargetRegistration};
use auditrail_target_eventserver::spool::record;
use common::server::ServerProcess;
use serde_json::{json, Value};

struct EventServerHarness {
    spool: bool,
    servers: Mutex<HashMap<PathBuf, ServerProcess>>,
}

#[async_trait]
impl Harness for EventServerHarness {
    fn registration(&self) -> &'static TargetRegistration {
        &auditrail_target_eventserver::REGISTRATION
    }

    fn config(&self, scratch: &Path) -> Value {
        let server = ServerProcess::start(&scratch.join("server"), None);
        let url = server.url.clone();
        self.servers
            .lock()
            .unwrap()
            .insert(scratch.to_owned(), server);
        json!({
            "url": url,
            "spool": self.spool,
            "spool_dir": scratch.join("spool"),
            "backoff_initial_ms": 10,
        })
    }

    async fn read_back(&self, scratch: &Path) -> Result<Vec<Event>, ReadBackError> {
        let mut by_id = BTreeMap::new();
        for (_, e) in common::server::stored_in(&scratch.join("server/store")) {
            by_id.insert(e.id, e);
        }
        if self.spool {
            for e in spooled(&scratch.join("spool"))? {
                by_id.entry(e.id).or_insert(e);
            }
        }
        Ok(by_id.into_values().collect())
    }
}

/// Events in the spool's segment files, decoded read-only (no repair).
fn spooled(dir: &Path) -> Result<Vec<Event>, ReadBackError> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for e in entries.flatten() {
        let p = e.path();
        if !p.to_string_lossy().ends_with(".seg") {
            continue;
        }
        let buf = std::fs::read(&p).map_err(ReadBackError::read)?;
        let mut at = 0;
        while let record::Decoded::Record { payload, next } = record::decode(&buf, at) {
            out.push(Event::from_json_slice(payload).map_err(ReadBackError::read)?);
            at = next;
        }
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spooled_target_conforms() {
    let h = EventServerHarness {
        spool: true,
        servers: Mutex::default(),
    };
    run(&h).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_target_conforms() {
    let h = EventServerHarness {
        spool: false,
        servers: Mutex::default(),
    };
    run(&h).await.unwrap();
}
