//! Which layout a store on disk was written with: checked when a store is opened (a
//! config whose `folder_by_topic`, `folder_by_routing_key` or `partitioning` differs
//! from the folders already there is refused), and found from the folders when a tool
//! opens a store without its config (`auditrail store prune --data-dir`).
//!
//! A store does not record its layout in a file: the folders are the record. Opening a
//! store under another layout would mix two shapes of folders; retention and queries
//! decode folders under one layout, so partitions of the other shape would never be
//! pruned (kept past their retention) nor found by time.

use std::fmt;
use std::path::Path;

use crate::config::Partitioning;
use crate::error::{LayoutMismatch, StoreError};
use crate::layout::Layout;
use crate::walk::StoreFiles;

impl Layout {
    /// Every layout a store can have.
    pub fn all() -> impl Iterator<Item = Layout> {
        [true, false].into_iter().flat_map(|by_topic| {
            [true, false].into_iter().flat_map(move |by_routing_key| {
                [Partitioning::Hour, Partitioning::Day, Partitioning::Month]
                    .into_iter()
                    .map(move |partitioning| Layout {
                        by_topic,
                        by_routing_key,
                        partitioning,
                    })
            })
        })
    }

    /// How many folder levels of names (topic, routing key) come before the time.
    fn key_levels(&self) -> usize {
        usize::from(self.by_topic) + usize::from(self.by_routing_key)
    }

    /// The first partition folder (relative to the store root) holding segments that
    /// this layout cannot decode, if any.
    pub fn misfit<'a>(&self, files: &'a StoreFiles) -> Option<&'a Path> {
        files
            .segments()
            .map(|f| f.dir.as_path())
            .find(|dir| self.decode(dir).is_none())
    }

    /// Checks that every segment of the store at `root` lies in a folder of this
    /// layout ([`StoreError::LayoutMismatch`] names the first that does not).
    pub fn check(&self, root: &Path) -> Result<(), StoreError> {
        self.check_files(&StoreFiles::walk(root)?)
    }

    /// [`Layout::check`] over a walk already made (opening a store walks its folders
    /// once, for this check and for recovery).
    pub(crate) fn check_files(&self, files: &StoreFiles) -> Result<(), StoreError> {
        match self.misfit(files) {
            None => Ok(()),
            Some(folder) => Err(StoreError::LayoutMismatch(Box::new(LayoutMismatch {
                root: files.root.clone(),
                folder: folder.to_path_buf(),
                layout: *self,
                fits: Layout::all()
                    .filter(|l| l.misfit(files).is_none())
                    .collect(),
            }))),
        }
    }

    /// The layout the store at `root` was written with, found from its folders: the
    /// default when it fits (an empty store fits every layout), else the one layout
    /// every segment's folder decodes under (a topic level rather than a routing-key
    /// level when the names cannot tell). Several others, or none:
    /// [`StoreError::LayoutUnknown`].
    pub fn detect(root: &Path) -> Result<Layout, StoreError> {
        let files = StoreFiles::walk(root)?;
        if Layout::default().misfit(&files).is_none() {
            return Ok(Layout::default());
        }
        let fits: Vec<Layout> = Layout::all()
            .filter(|l| l.misfit(&files).is_none())
            .collect();
        match fits.as_slice() {
            [one] => Ok(*one),
            // One folder level of names and the same time levels: a topic folder and a
            // routing-key folder cannot be told apart by their names, and either
            // reading gives every folder the same time range (what retention needs);
            // a topic level is the likelier config.
            [first, rest @ ..]
                if rest.iter().all(|l| {
                    l.partitioning == first.partitioning && l.key_levels() == first.key_levels()
                }) =>
            {
                Ok(*first)
            }
            _ => Err(StoreError::LayoutUnknown {
                root: root.to_path_buf(),
                fits,
            }),
        }
    }
}

impl fmt::Display for Layout {
    /// As the store's config keys say it (to paste into a config).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let partitioning = match self.partitioning {
            Partitioning::Hour => "hour",
            Partitioning::Day => "day",
            Partitioning::Month => "month",
        };
        write!(
            f,
            "folder_by_topic = {}, folder_by_routing_key = {}, partitioning = \"{partitioning}\"",
            self.by_topic, self.by_routing_key
        )
    }
}

/// The layouts of a message, one per line (`  - ...`).
pub(crate) fn list(layouts: &[Layout]) -> String {
    if layouts.is_empty() {
        return " none".into();
    }
    layouts.iter().map(|l| format!("\n  - {l}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(dirs: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for d in dirs {
            let p = dir.path().join(d);
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("00000000000000000001.jsonl"), "x\n").unwrap();
        }
        dir
    }

    #[test]
    fn every_layout_is_found_back_from_its_own_folders() {
        for layout in Layout::all() {
            let mut parts: Vec<&str> = Vec::new();
            if layout.by_topic {
                parts.push("generic");
            }
            if layout.by_routing_key {
                parts.push("svc-a");
            }
            parts.extend(["2026", "11"]);
            if layout.partitioning != Partitioning::Month {
                parts.push("25");
            }
            if layout.partitioning == Partitioning::Hour {
                parts.push("16");
            }
            let store = store_with(&[&parts.join("/")]);
            let found = Layout::detect(store.path()).unwrap();
            if layout.key_levels() == 1 {
                // `generic/2026/...`: a topic or a routing key; the topic is taken.
                assert!(found.by_topic && !found.by_routing_key, "{layout}: {found}");
                assert_eq!(found.partitioning, layout.partitioning, "{layout}: {found}");
            } else {
                assert_eq!(found, layout, "{layout}");
            }
            layout.check(store.path()).unwrap();
        }
    }

    #[test]
    fn a_config_of_another_layout_is_refused_naming_the_folder_and_what_fits() {
        let store = store_with(&["generic/2026/11/25"]);
        let err = Layout::default().check(store.path()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("generic/2026/11/25"), "{msg}");
        assert!(
            msg.contains(
                "folder_by_topic = true, folder_by_routing_key = false, partitioning = \"day\""
            ),
            "{msg}"
        );
    }

    #[test]
    fn an_empty_store_has_the_default_layout() {
        let store = tempfile::tempdir().unwrap();
        assert_eq!(Layout::detect(store.path()).unwrap(), Layout::default());
    }
}
