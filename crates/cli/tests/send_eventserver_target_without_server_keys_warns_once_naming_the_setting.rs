//! Without `server_keys`, an `eventserver` target can check a receipt only against the
//! key the receipt names itself: anything answering at the url with receipts of its own
//! key, or none, is taken as the event server. The node says so once at start, naming
//! the setting and how to get the key; with the server's key set (as `auditrail keys
//! export` prints it) it says nothing of the kind and the events are delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_testkit::server::ServerProcess;

const WARNING: &str = "`server_keys` is not set";

#[test]
fn the_warning_comes_once_without_the_setting_and_never_with_it() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), None);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(["keys", "export", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap();
    for (setting, warnings) in [
        (String::new(), 1),
        (format!("server_keys = [\"{}\"]\n", key.trim()), 0),
    ] {
        let node = common::Node::with_eventserver_target("node-warn", &server.url, &setting);
        let out = node.send_login("20");
        let (stdout, stderr) = common::text(&out);
        assert_eq!(out.status.code(), Some(0), "{setting}: {stdout}\n{stderr}");
        assert_eq!(
            stderr.matches(WARNING).count(),
            warnings,
            "{setting}: {stderr}"
        );
        if warnings > 0 {
            assert!(stderr.contains("auditrail keys export"), "{stderr}");
        }
    }
    assert_eq!(server.stored().len(), 2, "both events delivered");
}
