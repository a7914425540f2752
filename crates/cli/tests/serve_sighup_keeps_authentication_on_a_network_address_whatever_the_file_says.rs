//! A reload applies neither `listen` nor `allow_unauthenticated` (both are read at start
//! only), so its check that a server on a network address keeps its keys is made
//! against the address the server listens on and the start's `allow_unauthenticated`.
//! It was made against the new file's: a file rewritten for a loopback address without
//! `[[keys]]` (for a restart behind a proxy), reloaded by a `systemctl reload` or a log
//! rotation before that restart, emptied the key ring of a server still listening on
//! every interface, which then stored and served events for anyone. Now the reload is
//! refused and the running keys stay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

const STORE: &str = "[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[test]
fn a_reload_cannot_drop_the_keys_of_a_server_on_a_network_address() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.toml");
    std::fs::write(
        &file,
        format!("listen = \"0.0.0.0:0\"\ndata_dir = \"data\"\n[[keys]]\nid = \"node\"\nsecret = \"s3cret-node-key\"\n{STORE}"),
    )
    .unwrap();
    let server = start_with_env(dir.path(), &["--config", "server.toml"], &[]);
    // Over loopback: the server listens on every interface, port as printed.
    let port = server
        .addr
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/');
    let addr = format!("127.0.0.1:{port}");
    let line = |n: u64| event_line(&new_id(n, 31), "node-auth", n) + "\n";
    assert_eq!(post_events(&addr, &line(1), None).unwrap().0, 401);
    assert_eq!(
        post_events(&addr, &line(2), Some("s3cret-node-key"))
            .unwrap()
            .0,
        200
    );

    std::fs::write(
        &file,
        format!("listen = \"127.0.0.1:9980\"\ndata_dir = \"data\"\n{STORE}"),
    )
    .unwrap();
    hangup(&server);
    wait_for_log(&server, "not reloaded");
    let (status, answer) = post_events(&addr, &line(3), None).unwrap();
    assert_eq!(status, 401, "{answer}\n{}", server.stderr());
    assert_eq!(
        post_events(&addr, &line(4), Some("s3cret-node-key"))
            .unwrap()
            .0,
        200
    );
    assert_eq!(server.terminate(), 0);
}
