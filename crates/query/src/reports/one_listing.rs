//! A report's statements read one listing of the files, taken as the report starts.
//!
//! A report is several statements (node usage: its totals, then its events per topic).
//! Each used to list the store's files afresh, so files that retention removed after
//! one statement had read them and before the next listed them were counted in one
//! part of the answer and not in the other (`events: 10000`, topics adding up to
//! 8500), and nothing said so: no statement had listed a file it then missed. Listed
//! once, such a file is one the later statement finds removed, which the engine counts
//! and names ([`Engine::files_removed`]) for the CLI and the server to say.

use datafusion::dataframe::DataFrame;

use super::values::Rows;
use crate::error::QueryError;
use crate::Engine;

/// The engine a report's statements run on.
pub(super) struct ReportEngine(Engine);

impl ReportEngine {
    /// Lists `engine`'s files, for every statement of one report.
    pub(super) async fn of(engine: &Engine) -> Result<ReportEngine, QueryError> {
        let engine = engine.snapshot().await?;
        // On the snapshot's own session: the SQL users write does not see it.
        engine.ctx.register_udf(super::exact_number::udf());
        Ok(ReportEngine(engine))
    }

    /// Plans one statement of the report.
    pub(super) async fn sql(&self, sql: &str) -> Result<DataFrame, QueryError> {
        #[cfg(test)]
        tests::before_statement();
        self.0.sql(sql).await
    }

    /// Runs one statement of the report and reads its rows.
    pub(super) async fn query(&self, sql: &str) -> Result<Rows, QueryError> {
        Rows::from_batches(&crate::collect(self.sql(sql).await?).await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

    use std::cell::RefCell;
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use crate::reports::{last_activity, node_usage};
    use crate::{Engine, Window};

    thread_local! {
        /// Run before each statement of a report on this thread (`#[tokio::test]`
        /// runs the report on the test's own thread): a retention pass between them.
        static BEFORE: RefCell<Option<Box<dyn FnMut()>>> = RefCell::new(None);
    }

    pub(super) fn before_statement() {
        BEFORE.with(|b| {
            if let Some(f) = b.borrow_mut().as_mut() {
                f();
            }
        });
    }

    /// After the report's first statement (before its second), `files` are removed.
    fn remove_after_first_statement(files: Vec<PathBuf>) {
        let mut statements = 0;
        let f: Box<dyn FnMut()> = Box::new(move || {
            statements += 1;
            if statements == 2 {
                for f in &files {
                    std::fs::remove_file(f).unwrap();
                }
            }
        });
        BEFORE.with(|b| *b.borrow_mut() = Some(f));
    }

    /// A store with `events` per hour: (hour, topic, authUser).
    fn store(root: &Path, events: &[(u32, &str, &str)]) -> Vec<PathBuf> {
        let events: Vec<_> = events
            .iter()
            .enumerate()
            .map(|(seq, (hour, topic, user))| {
                std::sync::Arc::new(
                    auditrail_core::Event::from_json(
                        &json!({
                            "id": uuid_for(seq),
                            "timestamp": format!("2026-12-05T{hour:02}:00:00.000Z"),
                            "topic": topic, "node": "n1", "seq": seq,
                            "message": {"msgType": "login", "authUser": user}
                        })
                        .to_string(),
                    )
                    .unwrap(),
                )
            })
            .collect();
        auditrail_testkit::store::open(root, json!({}))
            .send_blocking(&events)
            .unwrap();
        let mut segments = auditrail_testkit::store::segments(root);
        segments.sort();
        segments
    }

    fn uuid_for(seq: usize) -> String {
        format!("01936f6e-1b2c-7d3e-8f40-{seq:012x}")
    }

    fn everything() -> Window {
        Window {
            since: None,
            until: None,
        }
    }

    #[tokio::test]
    async fn node_usage_parts_read_one_listing_and_say_what_was_removed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let segments = store(
            dir.path(),
            &[
                (10, "generic", "a"),
                (10, "generic", "b"),
                (11, "generic", "c"),
            ],
        );
        let oldest = segments
            .iter()
            .find(|p| p.to_string_lossy().contains("/05/10/"))
            .expect("the 10:00 segment")
            .clone();
        let engine = Engine::builder().store(dir.path()).build().unwrap();
        remove_after_first_statement(vec![oldest.clone()]);
        let nodes = node_usage(&engine, everything()).await.unwrap();
        let topics: u64 = nodes[0].topics.values().sum();
        assert_eq!((nodes[0].events, topics), (3, 1));
        // The topics lack the 10:00 events, and the answer says why: that file was
        // listed for the report and found removed (before: not counted at all).
        assert_eq!(engine.files_removed(), vec![oldest]);
        assert_eq!(engine.stats().files_removed, 1);
    }

    #[tokio::test]
    async fn last_activity_parts_read_one_listing_and_say_what_was_removed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let segments = store(
            dir.path(),
            &[
                (10, "authfail", "a"),
                (10, "generic", "a"),
                (11, "generic", "b"),
            ],
        );
        let oldest: Vec<PathBuf> = segments
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("/05/10/"))
            .collect();
        let engine = Engine::builder().store(dir.path()).build().unwrap();
        remove_after_first_statement(oldest.clone());
        let r = last_activity(&engine, everything()).await.unwrap();
        assert_eq!(r.failed_logins.len(), 1);
        assert_eq!(
            r.users.iter().map(|u| u.user.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        let mut removed = engine.files_removed();
        removed.sort();
        let generic: Vec<PathBuf> = oldest
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("generic"))
            .collect();
        assert_eq!(removed, generic);
    }
}
