//! `auditrail targets` lists the linked target types, one `name<TAB>description` line
//! each, sorted; `--example NAME` prints a config that parses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

use std::process::Command;

fn auditrail(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn lists_linked_targets_sorted_with_descriptions() {
    let out = auditrail(&["targets"]);
    assert!(out.status.success(), "{:?}", common::text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_once('\t').expect("name<TAB>description").0)
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert!(
        names.contains(&"file") && names.contains(&"eventserver"),
        "{stdout}"
    );
    assert_eq!(
        names.contains(&"kafka"),
        cfg!(feature = "kafka"),
        "{stdout}"
    );
    assert!(stdout
        .lines()
        .all(|l| !l.split_once('\t').unwrap().1.trim().is_empty()));
}

#[test]
fn example_configs_are_complete_target_entries() {
    for name in ["file", "eventserver"] {
        let out = auditrail(&["targets", "--example", name]);
        assert!(out.status.success(), "{name}: {:?}", common::text(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(&format!("type = \"{name}\"")), "{text}");
    }
}

#[test]
fn unknown_type_lists_the_known_ones() {
    let out = auditrail(&["targets", "--example", "carrier-pigeon"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("carrier-pigeon") && stderr.contains("eventserver, file"),
        "{stderr}"
    );
}

#[cfg(not(feature = "kafka"))]
#[test]
fn kafka_without_its_feature_names_the_feature() {
    let out = auditrail(&["targets", "--example", "kafka"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("feature `kafka`"), "{stderr}");
}
