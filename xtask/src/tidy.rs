//! Tidy checks (rust-analyzer's style): tests over the source tree that keep the
//! documentation and a few structural rules true. They run with `cargo test -p xtask`
//! (and so in `cargo xtask ci`).
//!
//! - Every file and folder `ARCHITECTURE.md`'s code map names exists.
//! - The event server never runs a destination filter itself (the dispatcher routes
//!   each event once), routes in one place and emits only routed events, and never
//!   tells a destination by its type name after parsing.
//! - The store keeps no process-wide registry of open stores.

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
    // ingest, a Kafka source's partition store) and never hands events to an emit path
    // that filters again.
    let routes = code_lines_with("crates/eventserver/src", "dispatcher.route(");
    let places: Vec<&str> = routes
        .iter()
        .filter_map(|hit| hit.split(':').next())
        .collect();
    assert!(
        routes.len() == 2
            && places.iter().any(|p| p.ends_with("http/ingest.rs"))
            && places.iter().any(|p| p.ends_with("source/partition.rs")),
        "the server routes events in one place per way in (http/ingest.rs, \
         source/partition.rs): {routes:#?}"
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
