//! The partitions a prune's passes left out of their signed deletion lines because
//! their files cannot be removed ([`auditrail_store::Unremovable`]): each said once
//! when a pass meets it (a later pass of the same prune meets it again), and the
//! prune then ends with [`IntegrityError::PruneUnremovable`], once every partition
//! that could go went, so that the failure is counted and logged as one.

use std::path::Path;

use auditrail_store::Unremovable;

use crate::IntegrityError;

/// What a prune's passes left out so far.
#[derive(Debug, Default)]
pub(crate) struct LeftOut {
    partitions: Vec<Unremovable>,
}

impl LeftOut {
    /// `partitions`, not logged (an error told elsewhere).
    pub(crate) fn of(partitions: Vec<Unremovable>) -> LeftOut {
        LeftOut { partitions }
    }

    /// Takes the partitions a pass of the store at `root` left out, each logged the
    /// first time.
    pub(crate) fn add(&mut self, root: &Path, found: &[Unremovable]) {
        for u in found {
            if self.partitions.iter().any(|p| p.folder == u.folder) {
                continue;
            }
            tracing::warn!(
                store = %root.display(),
                partition = %u.folder,
                path = %u.path.display(),
                error = %u,
                "a partition due for deletion cannot be removed: not deleted, and left out of the signed deletion line; the next prune tries it again"
            );
            self.partitions.push(u.clone());
        }
    }

    /// How many partitions were left out.
    pub(crate) fn len(&self) -> usize {
        self.partitions.len()
    }

    /// The prune's error for what was left out (`None`: nothing was).
    pub(crate) fn error(&self, root: &Path) -> Option<IntegrityError> {
        let first = self.partitions.first()?;
        Some(IntegrityError::PruneUnremovable {
            path: root.to_path_buf(),
            partitions: self.partitions.len(),
            first: first.folder.clone(),
            at: first.path.clone(),
            source: match first.attribute {
                Some(a) => std::io::Error::new(
                    first.error().kind(),
                    format!("{} (it is {a}: `lsattr` shows it)", first.error()),
                ),
                None => first.error(),
            },
        })
    }
}
