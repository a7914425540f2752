//! A store's record files, as the store's walker lists them.

use std::path::{Path, PathBuf};

use auditrail_store::{FileKind, SegmentReader, StoreError, StoreFile, StoreFiles};

/// One record file of a store.
#[derive(Debug, Clone)]
pub(crate) struct RecordFile {
    /// Absolute (or as given) path.
    pub path: PathBuf,
    /// Path relative to the store, with `/` separators, for reports.
    pub rel: String,
    /// Size in bytes.
    pub len: u64,
    /// chainSeq of its first record: of the first parseable line among the first few
    /// KiB, or a segment's name when that is lower (0 when none).
    pub first_seq: u64,
    /// A segment whose name is the chainSeq of its first record, as the store names
    /// every segment it writes: of two exact copies of a record in one folder, the one
    /// in such a file is the original (a copy saved under another name is not).
    pub named_by_first: bool,
}

/// Every record file of the store at `store`, sorted by path: its segments and any
/// other `*.jsonl` file in its partition folders (a renamed segment still holds
/// records of the chain), hidden files (`.name`) excluded. Other files there (set
/// aside by the store's recovery) are returned second.
pub(crate) fn record_files(store: &Path) -> Result<(Vec<RecordFile>, Vec<String>), StoreError> {
    let walked = StoreFiles::walk(store)?;
    let mut out = Vec::new();
    let mut aside = Vec::new();
    for f in walked.files {
        match f.kind {
            FileKind::Segment { first_record } => {
                // A record moved in front of a segment's own first one (from another
                // file, intact) is merged where its chainSeq is, not as out of order
                // and missing: the file takes part from its lowest first chainSeq.
                let found = first_seq(&f.path);
                let first = match found {
                    0 => first_record,
                    found => found.min(first_record),
                };
                out.push(record_file(f, first, found == first_record));
            }
            FileKind::Other if f.name().starts_with('.') => {}
            FileKind::Other if f.name().ends_with(".jsonl") => {
                let first = first_seq(&f.path);
                out.push(record_file(f, first, false));
            }
            // `.jsonl.cut` / `.jsonl.corrupt`: bytes the store's recovery set aside on
            // start; not part of the chain.
            FileKind::SetAside | FileKind::Other => aside.push(f.rel),
        }
    }
    Ok((out, aside))
}

fn record_file(f: StoreFile, first_seq: u64, named_by_first: bool) -> RecordFile {
    RecordFile {
        path: f.path,
        rel: f.rel,
        len: f.len,
        first_seq,
        named_by_first,
    }
}

/// The chainSeq of the first parseable line within the first 64 KiB.
fn first_seq(path: &Path) -> u64 {
    let Ok(reader) = SegmentReader::open(path) else {
        return 0;
    };
    let mut reader = reader.chunk_bytes(64 * 1024);
    match reader.next_chunk() {
        Ok(true) => reader
            .chunk()
            .lines()
            .find_map(|l| l.sealed().ok())
            .map_or(0, |l| l.link.seq),
        _ => 0,
    }
}
