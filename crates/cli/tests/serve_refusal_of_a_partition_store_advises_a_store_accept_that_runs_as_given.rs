//! A storing server refuses a partition store rolled back to an older copy of itself,
//! and says how a person accepts its state: `auditrail store accept --data-dir <the
//! partition folder> ...`. Run as given, that command failed: the partition folder
//! holds no signing key ("the server's signing key (<partition folder>/signing.key): No
//! such file or directory"). The advice now names the key the server signs with
//! (`--signing-key`, its config's `signing_key`), and runs as written.
#![cfg(feature = "kafka")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::kafka_support;
use crate::serve_support;

use kafka_support::{rolled_back_partition, run_in};
use serve_support::{start, wait_for_log};

#[test]
fn the_advised_store_accept_runs_as_given() {
    let (source, store) = rolled_back_partition("advice", 64);
    let d = source.dir.path();
    let server = start(d, &["--config", "s.toml"]);
    wait_for_log(&server, "auditrail store accept");
    let log = server.stderr();
    assert_eq!(server.terminate(), 0);
    let from = log.find("auditrail store accept").unwrap();
    let advice = &log[from..];
    let advice = &advice[..advice.find("--reason \"...\"").expect(advice)];
    let mut args: Vec<&str> = advice.split_whitespace().skip(1).collect();
    assert!(
        advice.contains(&store.display().to_string()),
        "names the store: {advice}"
    );
    args.extend(["--reason", "restored from the backup, checked"]);
    let (code, out) = run_in(d, &args);
    assert_eq!(code, 0, "`{advice}` runs as given: {out}");
}
