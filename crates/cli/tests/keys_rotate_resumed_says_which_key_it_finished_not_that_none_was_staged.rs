//! A `keys rotate` to a staged key that stopped after handing a store over, run again,
//! finishes the rotation to that key. What it does not know (whether the key was
//! staged and given to the nodes: no file tells) it does not claim either way: it names
//! the key it finished the rotation to and which nodes take the server's answers, and
//! never says that no key was staged or that every pinned node refuses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::keys;

#[test]
fn the_resumed_rotation_names_its_key_and_says_nothing_it_cannot_know() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let staged = common::stopped_server_with_a_staged_key(&data);

    // Stopped after the store's handover: its marks cannot be rewritten.
    let obstacle = data.join("high-water.jsonl.tmp");
    std::fs::create_dir(&obstacle).unwrap();
    let (code, out, err) = keys(&data, &["rotate"]);
    assert_ne!(code, 0, "{out}{err}");
    std::fs::remove_dir(&obstacle).unwrap();

    let (code, out, err) = keys(&data, &["rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("resuming an interrupted rotation to {staged}"))
            && out.contains(&format!(
                "this run finished a rotation an earlier `keys rotate` began, to {staged}"
            ))
            && out.contains(&format!("lists {staged} keep taking its answers")),
        "{out}"
    );
    assert!(
        !out.contains("No key was staged") && !out.contains("refuse its answers until given"),
        "claims no key was staged: {out}"
    );
}
