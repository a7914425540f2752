//! Finding stores and their record files.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::integrity::chain::parse_line;
use crate::integrity::checkpoint::{CHECKPOINT_LOG, STORE_ID_FILE};

/// One record file of a store.
#[derive(Debug, Clone)]
pub(crate) struct RecordFile {
    /// Absolute (or as given) path.
    pub path: PathBuf,
    /// Path relative to the store, with `/` separators, for reports.
    pub rel: String,
    /// Size in bytes.
    pub len: u64,
    /// chainSeq of the first parseable line among the first few KiB (0 when none).
    pub first_seq: u64,
}

/// Whether `dir` looks like one store (it has a checkpoint log or a store id).
pub(crate) fn is_store(dir: &Path) -> bool {
    dir.join(CHECKPOINT_LOG).is_file() || dir.join(STORE_ID_FILE).is_file()
}

/// The stores at or under `dir`: `dir` itself when it is a store, else every folder
/// down to three levels that is one (a data dir holds its stores below it).
pub(crate) fn find_stores(dir: &Path) -> Vec<PathBuf> {
    if is_store(dir) {
        return vec![dir.to_path_buf()];
    }
    let mut found = Vec::new();
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..3 {
        let mut next = Vec::new();
        for d in level {
            let Ok(entries) = fs::read_dir(&d) else {
                continue;
            };
            let mut subdirs: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .map(|e| e.path())
                .collect();
            subdirs.sort();
            for s in subdirs {
                if is_store(&s) {
                    found.push(s);
                } else {
                    next.push(s);
                }
            }
        }
        level = next;
    }
    found.sort();
    found
}

/// Every record file of the store at `store`, sorted by path: the `*.jsonl` files in
/// its sub-folders (the partition layout puts no record file at the top level), hidden
/// files (`.name`, e.g. temporary files) excluded. Other files there (set aside by the
/// store's recovery) are returned second.
pub(crate) fn record_files(store: &Path) -> std::io::Result<(Vec<RecordFile>, Vec<String>)> {
    let mut out = Vec::new();
    let mut aside = Vec::new();
    let mut stack: Vec<(PathBuf, String)> = Vec::new();
    for e in fs::read_dir(store)? {
        let e = e?;
        if e.file_type()?.is_dir() && !hidden(&e.file_name()) {
            stack.push((e.path(), e.file_name().to_string_lossy().into_owned()));
        }
    }
    while let Some((dir, rel)) = stack.pop() {
        for e in fs::read_dir(&dir)? {
            let e = e?;
            if hidden(&e.file_name()) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let t = e.file_type()?;
            if t.is_dir() {
                stack.push((e.path(), format!("{rel}/{name}")));
            } else if t.is_file() {
                let len = e.metadata()?.len();
                let rel = format!("{rel}/{name}");
                if !name.ends_with(".jsonl") {
                    // `.jsonl.cut` / `.jsonl.corrupt`: bytes the store's recovery set
                    // aside on start; not part of the chain.
                    aside.push(rel);
                    continue;
                }
                out.push(RecordFile {
                    first_seq: segment_first_seq(&name).unwrap_or_else(|| first_seq(&e.path())),
                    path: e.path(),
                    rel,
                    len,
                });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    aside.sort();
    Ok((out, aside))
}

/// The first record number a segment file name carries (`<20 digits>.jsonl`).
fn segment_first_seq(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".jsonl")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// The chainSeq of the first parseable line within the first 64 KiB.
fn first_seq(path: &Path) -> u64 {
    let mut buf = vec![0u8; 64 * 1024];
    let Ok(mut f) = fs::File::open(path) else {
        return 0;
    };
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    buf[..n]
        .split(|&b| b == b'\n')
        .filter_map(|l| parse_line(l).ok())
        .map(|l| l.link.seq)
        .next()
        .unwrap_or(0)
}
