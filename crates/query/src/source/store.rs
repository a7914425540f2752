//! The segment files of a store and their partition values, through the store's own
//! walker ([`StoreFiles`]) and layout rules ([`Layout`]).
//!
//! Which folder levels a store uses is its configuration, not written in the store, so
//! the layout is learnt from the store itself: the first record of a segment must lie
//! in exactly the folder that layout would file it under ([`Layout::partition_for`]).
//! Usually one file settles it; a few more are read while several layouts fit (a
//! routing key spelled like its topic). When the samples cannot tell, nothing is pruned
//! by folder (every file is read: slower, never wrong).

use std::path::{Path, PathBuf};

use auditrail_store::{KeyFolder, Layout, Partitioning, SegmentReader, StoreFiles, TopicFolder};

use super::{DataFile, LineFormat, Listing, Partition};
use crate::error::QueryError;

/// Most files read to learn a store's layout.
const MAX_SAMPLES: usize = 16;

/// Every layout a store can have.
fn layouts() -> Vec<Layout> {
    let mut out = Vec::with_capacity(12);
    for by_topic in [true, false] {
        for by_routing_key in [true, false] {
            for partitioning in [Partitioning::Hour, Partitioning::Day, Partitioning::Month] {
                out.push(Layout {
                    by_topic,
                    by_routing_key,
                    partitioning,
                });
            }
        }
    }
    out
}

/// Adds the segment files of the store at `root` to `out`.
pub(super) fn list(root: &Path, out: &mut Listing) -> Result<(), QueryError> {
    if !root.is_dir() {
        return Err(QueryError::not_a_folder(root, "a store"));
    }
    let files = StoreFiles::walk(root).map_err(QueryError::Store)?;
    let layout = learn_layout(&files, &mut out.sampled);
    for segment in files.segments() {
        let partition = layout
            .and_then(|l| segment.partition(&l))
            .map(|p| Partition {
                // A hashed folder name (see `auditrail_store::folder_name`) is not the
                // name itself: it says nothing usable for pruning.
                topic: p.topic.and_then(|t| match t {
                    TopicFolder::Topic(t) => Some(t.as_str().to_owned()),
                    TopicFolder::Hashed(_) => None,
                }),
                routing_key: p.routing_key.and_then(|k| match k {
                    KeyFolder::NoKey => Some(Partition::NO_KEY_FOLDER.to_owned()),
                    KeyFolder::Key(k) => Some(k.as_str().to_owned()),
                    KeyFolder::Hashed(_) => None,
                }),
                time: Some((p.time.start().unix_millis(), p.time.end().unix_millis())),
            })
            .unwrap_or_default();
        out.files.push(DataFile {
            path: segment.path.clone(),
            format: LineFormat::StoreRecord,
            size: segment.len,
            partition,
        });
    }
    Ok(())
}

/// The one layout that files the first record of each sampled segment where it is.
fn learn_layout(files: &StoreFiles, sampled: &mut u64) -> Option<Layout> {
    let mut candidates = layouts();
    for segment in files.segments().filter(|s| s.len > 0).take(MAX_SAMPLES) {
        let Some(folders) = first_event_folders(&segment.path, &candidates) else {
            continue;
        };
        *sampled += 1;
        let mut folders = folders.into_iter();
        candidates.retain(|_| folders.next().is_some_and(|f| f == segment.dir));
        if candidates.len() <= 1 {
            break;
        }
    }
    match candidates.as_slice() {
        [one] => Some(*one),
        _ => {
            tracing::debug!(
                root = %files.root.display(),
                layouts = candidates.len(),
                "cannot tell the store's folder layout from its records: no folder pruning"
            );
            None
        }
    }
}

/// The partition folder (relative to the store) each layout files the first record of
/// a segment in, when the segment has one: the first line that is a readable stored
/// event (a line queries leave out says nothing of where events are filed).
fn first_event_folders(path: &Path, layouts: &[Layout]) -> Option<Vec<PathBuf>> {
    let mut reader = SegmentReader::open(path).ok()?.chunk_bytes(64 * 1024);
    while reader.next_chunk().ok()? {
        if let Some(folders) = reader.chunk().lines().find_map(|line| {
            let e = line.stored_event().ok()?.event;
            Some(
                layouts
                    .iter()
                    .map(|l| l.partition_for(&e.topic, e.routing_key.as_deref(), &e.timestamp))
                    .collect(),
            )
        }) {
            return Some(folders);
        }
    }
    None
}
