//! logrotate's `copytruncate` copies the active file and truncates it to zero under the
//! running target. The target notices that the file shrank (an error-level log naming
//! the file and both sizes: lines written between the copy and the truncation are lost,
//! as logrotate documents) and keeps writing whole lines at the new end: the file is
//! opened `O_APPEND`, so there is no hole of NUL bytes where the old content was.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/recorder.rs"]
mod recorder;

use std::sync::OnceLock;
use std::time::Duration;

use recorder::Recorder;
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

/// The writes happen on the dispatcher's blocking threads: record globally.
fn recorder() -> &'static Recorder {
    static R: OnceLock<Recorder> = OnceLock::new();
    R.get_or_init(|| {
        let r = Recorder::default();
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(r.clone()))
            .unwrap();
        r
    })
}

async fn truncated_file_gets_whole_lines_from_its_start(rotation: &str) {
    let recorder = recorder();
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        "node-truncated",
        json!({ "dir": dir.path(), "rotation": rotation }),
    );
    let mut earlier = Vec::new();
    for i in 0..5 {
        earlier.push(d.emit_acked(common::sample(i)).await.unwrap().id);
    }
    let active = auditrail_target_file::audit_files(dir.path(), "audit.log").unwrap();
    assert_eq!(active.len(), 1, "{rotation}: {active:?}");
    let active = active[0].clone();
    let copy = dir.path().join("copied-by-logrotate");
    std::fs::copy(&active, &copy).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&active)
        .unwrap()
        .set_len(0)
        .unwrap();
    let mut later = Vec::new();
    for i in 5..10 {
        later.push(d.emit_acked(common::sample(i)).await.unwrap().id);
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let bytes = std::fs::read(&active).unwrap();
    assert!(!bytes.contains(&0), "{rotation}: a hole of NUL bytes");
    assert!(bytes.starts_with(b"{\"severity\":"), "{rotation}");
    let read = auditrail_target_file::read_audit_file(&active).unwrap();
    let ids: Vec<_> = read.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, later, "{rotation}");
    assert!(read.torn.is_empty());
    let copied = auditrail_target_file::read_audit_file(&copy).unwrap();
    let ids: Vec<_> = copied.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, earlier, "{rotation}");

    let path = active.display().to_string();
    let reported = recorder.events().into_iter().any(|e| {
        e.level == tracing::Level::ERROR
            && e.fields.get("path") == Some(&path)
            && e.fields["message"].contains("truncated")
            && e.fields.get("size_now").map(String::as_str) == Some("0")
    });
    assert!(reported, "{rotation}: no error naming {path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_daily_rotation() {
    truncated_file_gets_whole_lines_from_its_start("size").await;
    truncated_file_gets_whole_lines_from_its_start("daily").await;
}
