//! A `keys rotate` that fails after a store's checkpoint log already hands signing
//! over to the new key (here: its high-water marks cannot be rewritten, a folder in
//! the way of their temporary file; a full disk does the same) has left a rotation
//! half done: the server refuses to start until it is finished. The error says so,
//! names the store once (not `store X: store X:`), and says to run `keys rotate` again
//! once the cause is fixed; doing so finishes the rotation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::keys;

#[test]
fn the_error_says_the_rotation_is_unfinished_and_running_it_again_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let staged = common::stopped_server_with_a_staged_key(&data);

    let obstacle = data.join("high-water.jsonl.tmp");
    std::fs::create_dir(&obstacle).unwrap();
    let (code, out, err) = keys(&data, &["rotate"]);
    assert_ne!(code, 0, "{out}{err}");
    let log = std::fs::read_to_string(data.join("store/checkpoints.jsonl")).unwrap();
    assert!(
        log.contains("nextKey"),
        "the store was handed over before the failure: {log}"
    );
    let store = data.join("store");
    assert!(
        err.contains(&format!(
            "keys rotate did not finish: the checkpoint log of store {} already hands \
             signing over to {staged}",
            store.display()
        )) && err.contains(&format!(
            "Run `auditrail keys rotate --data-dir {}` again once the cause is fixed",
            data.display()
        )),
        "{err}"
    );
    let named = format!("store {}:", store.display());
    assert!(err.matches(&named).count() <= 1, "store named twice: {err}");

    std::fs::remove_dir(&obstacle).unwrap();
    let (code, out, err) = keys(&data, &["rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, now, _) = keys(&data, &["export"]);
    assert_eq!(now.trim(), staged);
}
