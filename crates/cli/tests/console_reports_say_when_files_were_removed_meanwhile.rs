//! The console's reports say when files they listed were removed before they read them
//! (the store's retention ran meanwhile): the report answers carry `filesRemoved`, and
//! `auditrail query` warns, but the page showed the figures as whole.
//!
//! No timing: the kernel holds a query worker's second opening of either of the two
//! segments (fanotify's permission events, `FAN_OPEN_PERM`) until the test removed the
//! other one. A worker opens a file once while it lists the store (it reads one segment
//! to learn the store's folder layout, after the walk listed both files) and again when
//! its report reads it, so a second opening is a report that listed both and is reading
//! them: it finds the other one gone. (On the first opening, the worker could be one
//! whose report reads another topic and never reads the other file, and the reports
//! that read it might list the store only after the removal: then no report had missed
//! anything, and none said so. That failed in CI.) Needs root (fanotify); says so and
//! passes without checking anything otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use nix::sys::fanotify::{
    EventFFlags, Fanotify, FanotifyResponse, InitFlags, MarkFlags, MaskFlags, Response,
};
use serde_json::json;
use serve_support::*;

const HOUR: i64 = 3_600_000;

fn event(n: u64, ms: i64) -> String {
    json!({
        "id": new_id(n, 71), "timestamp": Timestamp::from_unix_millis(ms).unwrap().to_string(),
        "topic": "generic", "node": "node-r", "seq": n,
        "message": {"msgType": "login", "authUser": format!("user-{n}")}
    })
    .to_string()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            found.extend(segments(&path));
        } else if name.ends_with(".jsonl") && name.starts_with('0') {
            found.push(path);
        }
    }
    found
}

/// Whether process `pid` is a query worker (`auditrail __query-worker`, which reads the
/// stores for `/v1/query`): the server opens segments for its own reasons too (sealing,
/// checking a tail), and under load such an opening came first, so the other file was
/// gone before any report listed the files.
fn by_a_query_worker(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmd| cmd.split(|b| *b == 0).any(|arg| arg == b"__query-worker"))
}

/// Holds the second opening of either of `two` by one query worker until the other is
/// removed, then lets every opening through, until finished.
struct RemoveTheOtherOnFirstOpen {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Option<PathBuf>>>,
}

impl RemoveTheOtherOnFirstOpen {
    /// `None` when fanotify cannot be had (not root).
    fn watch(two: [PathBuf; 2]) -> Option<RemoveTheOtherOnFirstOpen> {
        let fan = match Fanotify::init(
            InitFlags::FAN_CLASS_CONTENT | InitFlags::FAN_NONBLOCK,
            EventFFlags::O_RDONLY,
        ) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("skipped: fanotify needs root ({e})");
                return None;
            }
        };
        let root = std::fs::File::open("/").unwrap();
        for path in &two {
            fan.mark(
                MarkFlags::FAN_MARK_ADD,
                MaskFlags::FAN_OPEN_PERM,
                &root,
                Some(path.as_path()),
            )
            .unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut removed = None;
            // The query workers that opened one of the two files once.
            let mut opened_once = std::collections::HashSet::new();
            while !stopping.load(Ordering::Relaxed) {
                let events = match fan.read_events() {
                    Ok(events) => events,
                    Err(nix::errno::Errno::EAGAIN) => {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        continue;
                    }
                    Err(e) => panic!("{e}"),
                };
                for event in events {
                    let Some(fd) = event.fd() else { continue };
                    if removed.is_none()
                        && by_a_query_worker(event.pid())
                        && !opened_once.insert(event.pid())
                    {
                        let opened =
                            std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
                                .unwrap();
                        let other = two.iter().find(|p| **p != opened).unwrap().clone();
                        std::fs::remove_file(&other).unwrap();
                        removed = Some(other);
                    }
                    fan.write_response(FanotifyResponse::new(fd, Response::FAN_ALLOW))
                        .unwrap();
                }
            }
            removed
        });
        Some(RemoveTheOtherOnFirstOpen {
            stop,
            thread: Some(thread),
        })
    }

    /// The file removed, if any opening was seen.
    fn finish(mut self) -> Option<PathBuf> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for RemoveTheOtherOnFirstOpen {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_say_when_files_were_removed_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let now = Timestamp::now().unix_millis();
    // Two events two hours ago, one an hour ago: two segments.
    let body = [
        event(1, now - 2 * HOUR),
        event(2, now - 2 * HOUR),
        event(3, now - HOUR),
    ]
    .join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let mut two = segments(&dir.path().join("data/store"));
    two.sort();
    assert_eq!(two.len(), 2, "{two:?}");
    let Some(watch) = RemoveTheOtherOnFirstOpen::watch([two[0].clone(), two[1].clone()]) else {
        server.kill9();
        return;
    };

    let browser = Browser::start().await;
    browser.open(&server.addr, "/#reports").await;
    browser
        .wait_state("files-removed", "report-status", "loaded")
        .await;
    let removed = watch.finish();
    assert!(removed.is_some(), "no report opened a segment twice");
    let status = browser.texts("#report-status").await.remove(0);
    assert!(
        status.starts_with("window: since ")
            && status.ends_with(
                ". 1 file was removed by retention while these reports read the stores: \
                 their events are not in the figures; refresh for reports of what is stored now"
            ),
        "{status}"
    );
    let red = browser
        .js(
            "return document.getElementById('report-status').classList.contains('error');",
            vec![],
        )
        .await;
    assert_eq!(red, json!(true));
    browser.close().await;
    server.kill9();
}
