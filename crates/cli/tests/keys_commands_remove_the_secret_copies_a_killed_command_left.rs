//! A `keys` command killed while writing the next key's secret leaves a copy of it
//! beside the key file: `.signing.key.next.<pid>.tmp` (killed between linking it into
//! place and removing it: a second name of `signing.key.next`; or before the link: a
//! key nothing ever trusted). Every later `keys` command removes such copies, naming
//! each on standard error, so that `--discard-staged` (and the next rotation) leave no
//! copy of the secret they make unusable; `keys export` still prints only the key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::keys;

fn leftovers(data: &std::path::Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".signing.key.next"))
        .collect();
    n.sort();
    n
}

#[test]
fn later_keys_commands_remove_the_copies_and_discard_leaves_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let staged = common::stopped_server_with_a_staged_key(&data);
    let next = data.join("signing.key.next");
    // As the kills leave them: a second link of the staged secret, and a secret
    // written aside but never linked.
    let linked = data.join(".signing.key.next.4242.tmp");
    std::fs::hard_link(&next, &linked).unwrap();
    let unlinked = data.join(".signing.key.next.4343.tmp");
    std::fs::copy(data.join("signing.key"), &unlinked).unwrap();

    let (code, out, err) = keys(&data, &["export", "--next"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.trim(), staged, "only the key on standard output");
    assert!(
        err.contains(&format!("removed {}", linked.display()))
            && err.contains(&format!("a second name of {}", next.display()))
            && err.contains(&format!("removed {}", unlinked.display())),
        "{err}"
    );
    assert_eq!(leftovers(&data), Vec::<String>::new());

    std::fs::hard_link(&next, &linked).unwrap();
    let (code, out, err) = keys(&data, &["rotate", "--discard-staged"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("discarded the staged key {staged}")),
        "{out}"
    );
    assert!(
        err.contains(&format!("removed {}", linked.display())),
        "{err}"
    );
    assert!(!next.exists());
    assert_eq!(
        leftovers(&data),
        Vec::<String>::new(),
        "a copy of the secret survives"
    );
}
