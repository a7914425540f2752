//! Tidy checks (rust-analyzer's style): tests over the source tree that keep the
//! documentation and a few structural rules true. They run with `cargo test -p xtask`
//! (and so in `cargo xtask ci`).
//!
//! - Every file and folder `ARCHITECTURE.md`'s code map names exists.
//! - The event server never runs a destination filter itself (the dispatcher routes
//!   each event once), routes in one place and emits only routed events, and never
//!   tells a destination by its type name after parsing.
//! - The store keeps no process-wide registry of open stores.
//! - Every integration test file is built: a module of its crate's `tests/main.rs`, or a
//!   `[[test]]` of its own (with `autotests = false` cargo no longer finds them itself).

#![cfg(test)]

use std::path::{Path, PathBuf};

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The `## Code map` section of ARCHITECTURE.md.
fn code_map(text: &str) -> &str {
    let start = text.find("## Code map").unwrap_or(text.len());
    let rest = &text[start..];
    let end = rest[2..].find("\n## ").map_or(rest.len(), |i| i + 2);
    &rest[..end]
}

/// The `backticked` spans of a text.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Whether a backticked span names a file or folder: a path ending in `/` or in a
/// source or document extension, without spaces or Rust paths.
fn is_path(span: &str) -> bool {
    !span.contains(' ')
        && !span.contains("::")
        && (span.ends_with('/')
            || [".rs", ".md", ".toml"]
                .iter()
                .any(|ext| span.ends_with(ext)))
}

/// Whether `name` (a relative path, maybe ending in `/`) exists somewhere below `dir`.
fn exists_below(dir: &Path, name: &str) -> bool {
    let want_dir = name.ends_with('/');
    let name = name.trim_end_matches('/');
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let candidate = d.join(name);
        if (want_dir && candidate.is_dir()) || (!want_dir && candidate.is_file()) {
            return true;
        }
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let skip = p
                .file_name()
                .is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.'));
            if p.is_dir() && !skip {
                stack.push(p);
            }
        }
    }
    false
}

/// The paths a code map names that do not exist: each top-level entry starts with the
/// path of a crate or folder (from the workspace root); the files and folders named in
/// it and its sub-entries are looked for below that path.
fn missing_paths(map: &str, root: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    let mut base: Option<PathBuf> = None;
    for line in map.lines() {
        let spans = backticked(line);
        let mut rest = &spans[..];
        if line.starts_with("- ") {
            base = None;
            if let Some((first, tail)) = spans.split_first() {
                let p = root.join(first.trim_end_matches('/'));
                if p.exists() {
                    base = Some(p);
                } else {
                    missing.push((*first).to_owned());
                }
                rest = tail;
            }
        }
        let Some(dir) = &base else { continue };
        for span in rest.iter().filter(|s| is_path(s)) {
            if !exists_below(dir, span) {
                missing.push(format!("{} (under {})", span, dir.display()));
            }
        }
    }
    missing
}

#[test]
fn every_path_in_the_architecture_code_map_exists() {
    let root = root();
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    let map = code_map(&text);
    assert!(map.lines().count() > 10, "ARCHITECTURE.md has no code map");
    let missing = missing_paths(map, &root);
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map names paths that do not exist: {missing:#?}"
    );
}

#[test]
fn the_check_finds_a_renamed_file() {
    let root = root();
    let map = "## Code map\n\n- `crates/store` (**auditrail-store**)\n  - `walk.rs`, `no_such_file.rs`, `read.rs`\n- `no-such-crate`\n";
    let missing = missing_paths(map, &root);
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing[0].starts_with("no_such_file.rs"));
    assert_eq!(missing[1], "no-such-crate");
}

/// Lines of the Rust files below `dir` (relative to the root) that contain `needle`,
/// outside comments.
fn code_lines_with(dir: &str, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                for (i, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    if code.contains(needle) {
                        hits.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                    }
                }
            }
        }
    }
    hits
}

#[test]
fn the_event_server_runs_no_filter_itself() {
    // Each destination's filter runs once per event, in `Dispatcher::route`; the server
    // works from that answer (receipts, durability, reserved names).
    for call in [".accepts(", ".accepts_draft(", ".accepts_parts("] {
        let hits = code_lines_with("crates/eventserver/src", call);
        assert!(
            hits.is_empty(),
            "the server runs a filter itself: {hits:#?}"
        );
    }
}

#[test]
fn the_event_server_routes_each_event_once_and_emits_it_routed() {
    // `Dispatcher::route` runs every destination's filter once (its unit test in
    // crates/core/src/dispatcher/tests.rs counts the calls) and `emit_routed_acked` runs
    // none. The server keeps that only if it routes in one place per way in (HTTP
    // ingest, a Kafka source's partition store, whose hand-overs to the destinations
    // are `source/handed.rs`) and never hands events to an emit path that filters again.
    // One exception, rare by nature: a partition store asks whether an event its own
    // retention would delete at once is kept by another destination
    // (`source/partition.rs`, `past_retention`), which routes that event once more
    // before it is handed over; every other event is routed once.
    let routes = code_lines_with("crates/eventserver/src", "dispatcher.route(");
    let places: Vec<&str> = routes
        .iter()
        .filter_map(|hit| hit.split(':').next())
        .collect();
    assert!(
        routes.len() == 3
            && places.iter().any(|p| p.ends_with("http/ingest.rs"))
            && places.iter().any(|p| p.ends_with("source/handed.rs"))
            && places.iter().any(|p| p.ends_with("source/partition.rs")),
        "the server routes events in one place per way in (http/ingest.rs, \
         source/handed.rs; and source/partition.rs for events past retention): {routes:#?}"
    );
    for call in [
        ".emit(",
        ".emit_async(",
        ".emit_acked(",
        ".emit_events_acked(",
        ".emit_batch_acked(",
    ] {
        let hits = code_lines_with("crates/eventserver/src", call);
        assert!(
            hits.is_empty(),
            "the server emits through a path that filters again: {hits:#?}"
        );
    }
}

#[test]
fn stores_are_not_recognised_by_type_name_or_kept_in_a_global_map() {
    for dir in ["crates/eventserver/src", "crates/store/src"] {
        for needle in ["== \"store\"", "\"store\" ==", "OnceLock<Mutex<HashMap"] {
            let hits = code_lines_with(dir, needle);
            assert!(hits.is_empty(), "{needle} in {dir}: {hits:#?}");
        }
    }
}

#[test]
fn the_event_server_reads_query_parameters_through_one_extractor() {
    // axum's `Query` reads a percent-encoded byte that is not UTF-8 as U+FFFD, without a
    // word; `http/params.rs`'s `Params` refuses it first, naming the parameter. An
    // endpoint that took `Query` itself would answer a query about another text.
    let hits: Vec<String> = code_lines_with("crates/eventserver/src", "Query<")
        .into_iter()
        .filter(|hit| !hit.contains("http/params.rs:"))
        .collect();
    assert!(
        hits.is_empty(),
        "an endpoint reads query parameters without `Params` (http/params.rs): {hits:#?}"
    );
}

/// `(name, path)` of each `[[test]]` table of a manifest (`path` when given).
fn test_tables(manifest: &str) -> Vec<(String, Option<String>)> {
    let value = |line: &str, key: &str| -> Option<String> {
        let rest = line
            .trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?;
        Some(rest.trim().trim_matches('"').to_owned())
    };
    manifest
        .split("\n[")
        .filter_map(|table| table.strip_prefix("[test]]"))
        .map(|table| {
            let mut name = String::new();
            let mut path = None;
            for line in table.lines() {
                if let Some(v) = value(line, "name") {
                    name = v;
                } else if let Some(v) = value(line, "path") {
                    path = Some(v);
                }
            }
            (name, path)
        })
        .collect()
}

/// The files a test binary whose root is `root` declares as modules (`mod NAME;`, with
/// or without attributes before it): `NAME.rs` or `NAME/mod.rs` next to the root.
fn modules_of(root: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(root).unwrap_or_default();
    let dir = root.parent().unwrap_or(root);
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';')
        })
        .map(|name| {
            let file = dir.join(format!("{name}.rs"));
            if file.exists() {
                file
            } else {
                dir.join(name).join("mod.rs")
            }
        })
        .collect()
}

/// The integration test files of a crate that no test binary builds (neither the root
/// of a `[[test]]` or of a binary cargo finds by itself, nor a module of one), files
/// that two binaries build, and crates whose test files cargo builds as one binary each
/// (`autotests` on: a binary per file took about 60 GB of disk). Test files are the
/// `tests/*.rs` files and `tests/*/main.rs` (cargo's two layouts); a `[[test]]`'s root
/// is its `path`, by default `tests/NAME.rs` or `tests/NAME/main.rs`.
fn unbuilt_test_files(crate_dir: &Path) -> Vec<String> {
    let tests = crate_dir.join("tests");
    if !tests.is_dir() {
        return Vec::new();
    }
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap_or_default();
    let autotests = !manifest.lines().any(|l| l.trim() == "autotests = false");
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(&tests)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            if p.extension().is_some_and(|e| e == "rs") {
                Some(p)
            } else if p.is_dir() && p.join("main.rs").is_file() {
                Some(p.join("main.rs"))
            } else {
                None
            }
        })
        .collect();
    candidates.sort();
    let mut problems = Vec::new();
    let mut roots: Vec<PathBuf> = Vec::new();
    for (name, path) in test_tables(&manifest) {
        let root = match path {
            Some(p) => crate_dir.join(p),
            None if tests.join(format!("{name}.rs")).exists() => tests.join(format!("{name}.rs")),
            None => tests.join(&name).join("main.rs"),
        };
        if !root.is_file() {
            problems.push(format!(
                "[[test]] {name}: {} does not exist",
                root.display()
            ));
        }
        roots.push(root);
    }
    if autotests {
        let found: Vec<&PathBuf> = candidates.iter().filter(|c| !roots.contains(c)).collect();
        if found.len() > 1 {
            problems.push(format!(
                "{}: autotests is on, each of its {} test files is a binary of its own (set \
                 `autotests = false` and make them modules of tests/main.rs)",
                crate_dir.join("Cargo.toml").display(),
                found.len()
            ));
        }
        roots.extend(found.into_iter().cloned());
    }
    // Which roots build each file.
    let mut built_by: std::collections::BTreeMap<PathBuf, Vec<&Path>> = Default::default();
    for root in &roots {
        built_by.entry(root.clone()).or_default().push(root);
        for m in modules_of(root) {
            built_by.entry(m).or_default().push(root);
        }
    }
    for file in &candidates {
        match built_by.get(file).map(Vec::len) {
            None => problems.push(file.display().to_string()),
            // A file both a module of a shared binary and a `[[test]]` of its own would
            // also run in the process it was moved out of.
            Some(n) if n > 1 => problems.push(format!(
                "{}: both a module of tests/main.rs and a [[test]]",
                file.display()
            )),
            Some(_) => {}
        }
    }
    problems.sort();
    problems
}

#[test]
fn every_integration_test_file_is_built() {
    let root = root();
    let mut crates: Vec<PathBuf> = ["crates", "examples"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(root.join(d))
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .collect();
    crates.push(root.join("tests"));
    let mut consolidated = 0;
    let mut unbuilt = Vec::new();
    for dir in &crates {
        if dir.join("tests/main.rs").exists() {
            consolidated += 1;
        }
        unbuilt.extend(unbuilt_test_files(dir));
    }
    assert!(consolidated >= 5, "the walk found the crates' test folders");
    assert!(
        unbuilt.is_empty(),
        "not built (declare `mod NAME;` in tests/main.rs, or a [[test]] saying why it needs \
         a process of its own): {unbuilt:?}"
    );
}

#[test]
fn the_check_finds_a_test_file_left_out() {
    let dir = std::env::temp_dir().join(format!("tidy-tests-{}", std::process::id()));
    let tests = dir.join("tests");
    std::fs::create_dir_all(tests.join("dir_binary")).unwrap_or_default();
    std::fs::create_dir_all(tests.join("forgotten_dir")).unwrap_or_default();
    std::fs::create_dir_all(tests.join("support")).unwrap_or_default();
    let write = |p: &Path, s: &str| std::fs::write(p, s).unwrap_or_default();
    write(
        &dir.join("Cargo.toml"),
        "[package]\nautotests = false\n\n[[test]]\nname = \"integration\"\npath = \"tests/main.rs\"\n\n\
         [[test]]\nname = \"alone\"\n\n[[test]]\nname = \"renamed\"\npath = \"tests/other_name.rs\"\n\n\
         [[test]]\nname = \"dir_binary\"\n\n[[test]]\nname = \"gone\"\npath = \"tests/gone.rs\"\n",
    );
    write(
        &tests.join("main.rs"),
        "mod listed;\nmod alone;\n#[cfg(unix)]\nmod support;\n",
    );
    write(&tests.join("support/mod.rs"), "");
    write(&tests.join("dir_binary/main.rs"), "mod part;\n");
    write(&tests.join("dir_binary/part.rs"), "");
    write(&tests.join("forgotten_dir/main.rs"), "");
    for f in ["listed", "alone", "forgotten", "other_name", "renamed"] {
        write(&tests.join(format!("{f}.rs")), "");
    }
    let unbuilt = unbuilt_test_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap_or_default();
    let ends = |suffix: &str| unbuilt.iter().any(|u| u.ends_with(suffix));
    assert!(
        ends("tests/alone.rs: both a module of tests/main.rs and a [[test]]"),
        "{unbuilt:?}"
    );
    assert!(ends("tests/forgotten.rs"), "{unbuilt:?}");
    // A `tests/<dir>/main.rs` layout nobody builds.
    assert!(ends("tests/forgotten_dir/main.rs"), "{unbuilt:?}");
    // A `[[test]]` named other than its file: the file named like it is not built by it.
    assert!(ends("tests/renamed.rs"), "{unbuilt:?}");
    assert!(ends("tests/gone.rs does not exist"), "{unbuilt:?}");
    assert_eq!(
        unbuilt.len(),
        5,
        "built files are not reported: {unbuilt:?}"
    );
}

#[test]
fn the_check_finds_a_crate_whose_test_files_are_binaries_of_their_own() {
    let dir = std::env::temp_dir().join(format!("tidy-autotests-{}", std::process::id()));
    let tests = dir.join("tests");
    std::fs::create_dir_all(tests.join("common")).unwrap_or_default();
    let write = |p: &Path, s: &str| std::fs::write(p, s).unwrap_or_default();
    write(&dir.join("Cargo.toml"), "[package]\nname = \"x\"\n");
    write(&tests.join("common/mod.rs"), "");
    for f in ["one", "two"] {
        write(&tests.join(format!("{f}.rs")), "mod common;\n");
    }
    let unbuilt = unbuilt_test_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap_or_default();
    assert_eq!(unbuilt.len(), 1, "{unbuilt:?}");
    assert!(
        unbuilt[0].contains("autotests is on, each of its 2 test files is a binary of its own"),
        "{unbuilt:?}"
    );
}

/// The `AUDITRAIL_*` names in `text` (string literals), each once.
fn auditrail_variables(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("\"AUDITRAIL_") {
        let tail = &rest[at + 1..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        if tail[end..].starts_with('"') {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

#[test]
fn variables_the_test_harness_sets_are_reserved_from_the_servers_overrides() {
    // `auditrail serve` takes every `AUDITRAIL_*` variable as a config override and
    // refuses an unknown one; xtask and the testkit set variables for every test
    // process, whose servers inherit them. One such variable not reserved
    // (`AUDITRAIL_REQUIRE_ROOT_TESTS`) kept every server of a CI run from starting.
    let env_rs = std::fs::read_to_string(root().join("crates/eventserver/src/config/env.rs"))
        .unwrap_or_default();
    let list = env_rs
        .split_once("pub const RESERVED_VARIABLES")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map_or("", |(list, _)| list);
    let reserved = auditrail_variables(list);
    assert!(reserved.contains("AUDITRAIL_KAFKA_BROKERS"), "{reserved:?}");
    let mut unreserved = Vec::new();
    for dir in ["xtask/src", "crates/testkit/src"] {
        let mut stack = vec![root().join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tidy.rs") {
                    let text = std::fs::read_to_string(&p).unwrap_or_default();
                    for name in auditrail_variables(&text) {
                        let kept = reserved.contains(&name)
                            || ["AUDITRAIL_TEST_", "AUDITRAIL_BENCH_"]
                                .iter()
                                .any(|prefix| name.starts_with(prefix));
                        if !kept {
                            unreserved.push(format!("{}: {name}", p.display()));
                        }
                    }
                }
            }
        }
    }
    assert!(
        unreserved.is_empty(),
        "variables set for the tests but not in RESERVED_VARIABLES \
         (crates/eventserver/src/config/env.rs), so a server the tests start refuses them: \
         {unreserved:#?}"
    );
}
