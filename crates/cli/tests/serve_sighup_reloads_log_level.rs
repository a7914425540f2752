//! SIGHUP applies the config's `log_level`: under `log_level = "error"` the reload's
//! confirmation (an info line) is not logged; once the file says `info`, a SIGHUP's
//! confirmation is.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

const REST: &str = "data_dir = \"data\"\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";
const CONFIRMED: &str = "reloaded (keys";

#[test]
fn sighup_applies_the_new_log_level() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(&file, format!("log_level = \"error\"\n{REST}")).unwrap();
    let server = start(dir.path(), &["--config", "server.toml"]);
    // A reload under "error": done, not confirmed in the log.
    hangup(&server);
    // A SIGHUP during a reload is kept, not dropped: once the refusal of this broken
    // file (an error line) is logged, a reload read it after the first one. The files
    // are saved as editors do (renamed over), so no reload reads one half written.
    serve_support::replace_file(&file, "[[destinations]\n");
    hangup(&server);
    wait_for_log(&server, "not reloaded");
    assert!(!server.stderr().contains(CONFIRMED), "{}", server.stderr());

    serve_support::replace_file(&file, &format!("log_level = \"info\"\n{REST}"));
    hangup(&server);
    wait_for_log(&server, CONFIRMED);
    assert_eq!(server.terminate(), 0);
}
