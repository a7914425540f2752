//! Where the archives of one config's stores may be, checked when the config is read
//! (`auditrail serve`) and by `auditrail store prune --archive`.
//!
//! An archive prefix holds the archive of one store: segment files are named by chain
//! number, which starts at 1 in every store, so two stores archiving under one prefix
//! (or under prefixes one inside the other) would replace each other's objects. And a
//! local archive must stay out of every store folder and of the data dir: inside a
//! store, a prune would archive the store's files onto themselves (or into the store)
//! and then delete them; inside the data dir, the archive (laid out as a store) would
//! be one of the stores that `store prune` and `verify` find there, and could be
//! pruned itself.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::config::{ArchiveConfig, ArchiveConfigError, ArchiveLocation};

/// One store of a config, for [`check_archive_places`].
#[derive(Debug, Clone, Copy)]
pub struct ArchivePlace<'a> {
    /// How messages name the store (`destination "audit"`, or `store /srv/store`).
    pub name: &'a str,
    /// The store's folder.
    pub root: &'a Path,
    /// Its archive, if it has one.
    pub archive: Option<&'a ArchiveConfig>,
}

/// Refuses a local archive that is inside a store folder or the data dir `data_dir`
/// (or holds one), and two stores whose archives are one prefix (or one inside the
/// other). The message names the archive and what it collides with (both stores).
pub fn check_archive_places(
    data_dir: &Path,
    stores: &[ArchivePlace<'_>],
) -> Result<(), ArchivePlaceError> {
    let data_dir_at = resolved(data_dir);
    let roots: Vec<PathBuf> = stores.iter().map(|s| resolved(s.root)).collect();
    let mut earlier: Vec<(&ArchivePlace<'_>, &ArchiveConfig, Place)> = Vec::new();
    for store in stores {
        let Some(archive) = store.archive else {
            continue;
        };
        let place = match archive.location()? {
            ArchiveLocation::File { root } => Place::Folder(resolved(&root)),
            ArchiveLocation::S3 { bucket, prefix } => Place::Bucket {
                endpoint: archive.endpoint.clone(),
                bucket,
                prefix: prefix
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect(),
            },
        };
        if let Place::Folder(folder) = &place {
            for (other, other_root) in stores.iter().zip(&roots) {
                if let Some(how) = nesting(folder, other_root) {
                    return Err(ArchivePlaceError::InStore {
                        store: store.name.to_owned(),
                        url: archive.url.clone(),
                        how,
                        root: other.root.to_path_buf(),
                        other: (!std::ptr::eq(other, store)).then(|| other.name.to_owned()),
                    });
                }
            }
            if let Some(how) = nesting(folder, &data_dir_at) {
                return Err(ArchivePlaceError::InDataDir {
                    store: store.name.to_owned(),
                    url: archive.url.clone(),
                    how,
                    data_dir: data_dir.to_path_buf(),
                });
            }
        }
        for (other, other_archive, other_place) in &earlier {
            if place.overlaps(other_place) {
                return Err(ArchivePlaceError::OnePrefix {
                    store: store.name.to_owned(),
                    url: archive.url.clone(),
                    other: other.name.to_owned(),
                    other_url: other_archive.url.clone(),
                });
            }
        }
        earlier.push((store, archive, place));
    }
    Ok(())
}

/// Why [`check_archive_places`] refuses the archives of a config's stores. Each names
/// the store (as [`ArchivePlace::name`] does) and its `archive` URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchivePlaceError {
    /// An archive's setting is refused.
    #[error(transparent)]
    Setting(#[from] ArchiveConfigError),
    /// A local archive is, is inside or holds a store folder.
    #[error(
        "{store}: `archive` = {url:?} {how} the store folder {} ({}): a prune would archive \
         the store's files onto themselves (or into a store), then delete them; put the \
         archive outside every store folder and the data dir",
        root.display(),
        other.as_ref().map_or_else(|| "its own folder".to_owned(), |o| format!("the folder of {o}"))
    )]
    InStore {
        /// The store whose archive it is.
        store: String,
        /// Its `archive` URL.
        url: String,
        /// `is`, `is inside` or `holds`.
        how: &'static str,
        /// The store folder.
        root: PathBuf,
        /// The store that folder is of, when another one.
        other: Option<String>,
    },
    /// A local archive is, is inside or holds the data dir.
    #[error(
        "{store}: `archive` = {url:?} {how} the data dir {}: the stores found under the data \
         dir (`auditrail store prune`, `verify`) would include the archive, which is laid out \
         as a store; put the archive outside the data dir",
        data_dir.display()
    )]
    InDataDir {
        /// The store whose archive it is.
        store: String,
        /// Its `archive` URL.
        url: String,
        /// `is`, `is inside` or `holds`.
        how: &'static str,
        /// The data dir.
        data_dir: PathBuf,
    },
    /// Two stores' archives are one prefix, or one is inside the other.
    #[error(
        "{store}: `archive` = {url:?} and the `archive` = {other_url:?} of {other} are one \
         prefix (or one is inside the other): a prefix holds the archive of one store (the \
         segments of two stores have the same names and would replace each other); give each \
         store its own archive"
    )]
    OnePrefix {
        /// The store whose archive it is.
        store: String,
        /// Its `archive` URL.
        url: String,
        /// The store checked before it.
        other: String,
        /// That store's `archive` URL.
        other_url: String,
    },
}

/// Where an archive's objects go.
enum Place {
    /// A local folder (resolved).
    Folder(PathBuf),
    /// A bucket of an S3 endpoint, and the key prefix's parts.
    Bucket {
        endpoint: Option<String>,
        bucket: String,
        prefix: Vec<String>,
    },
}

impl Place {
    fn overlaps(&self, other: &Place) -> bool {
        match (self, other) {
            (Place::Folder(a), Place::Folder(b)) => nesting(a, b).is_some(),
            (
                Place::Bucket {
                    endpoint,
                    bucket,
                    prefix,
                },
                Place::Bucket {
                    endpoint: other_endpoint,
                    bucket: other_bucket,
                    prefix: other_prefix,
                },
            ) => {
                endpoint == other_endpoint
                    && bucket == other_bucket
                    && (prefix.starts_with(other_prefix) || other_prefix.starts_with(prefix))
            }
            _ => false,
        }
    }
}

/// How the folder `a` sits against the folder `b`: `is` (the same), `is inside`, or
/// `holds`; `None` when neither is inside the other.
fn nesting(a: &Path, b: &Path) -> Option<&'static str> {
    if a == b {
        Some("is")
    } else if a.starts_with(b) {
        Some("is inside")
    } else if b.starts_with(a) {
        Some("holds")
    } else {
        None
    }
}

/// `path` as an absolute path without `.` and `..`, with the symbolic links of its
/// longest existing part resolved (the rest may not exist yet: a store's folder is
/// created at its first start), so that two spellings of one folder compare equal.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut plain = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                plain.pop();
            }
            other => plain.push(other),
        }
    }
    let mut existing = plain.as_path();
    let mut rest: Vec<OsString> = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |p, part| p.join(part));
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place<'a>(
        name: &'a str,
        root: &'a Path,
        archive: Option<&'a ArchiveConfig>,
    ) -> ArchivePlace<'a> {
        ArchivePlace {
            name,
            root,
            archive,
        }
    }

    #[test]
    fn a_local_archive_inside_a_store_or_the_data_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = data.join("store");
        let other = dir.path().join("elsewhere/store");
        let inside = ArchiveConfig::url(format!("file://{}/archive", store.display()));
        let err = check_archive_places(&data, &[place("destination \"a\"", &store, Some(&inside))])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("destination \"a\": `archive` = ")
                && err.contains("is inside the store folder")
                && err.contains("(its own folder)"),
            "{err}"
        );
        // The store itself, spelled with `..`.
        let itself = ArchiveConfig::url(format!("file://{}/../store", store.display()));
        let err = check_archive_places(&data, &[place("a", &store, Some(&itself))])
            .unwrap_err()
            .to_string();
        assert!(err.contains(" is the store folder"), "{err}");
        // Another store's folder: both named.
        let err = check_archive_places(
            &data,
            &[
                place("destination \"a\"", &other, Some(&inside)),
                place("destination \"b\"", &store, None),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("the folder of destination \"b\""), "{err}");
        // The data dir.
        let in_data = ArchiveConfig::url(format!("file://{}/archive", data.display()));
        let err = check_archive_places(&data, &[place("a", &other, Some(&in_data))])
            .unwrap_err()
            .to_string();
        assert!(err.contains("is inside the data dir"), "{err}");
        // Outside both: fine.
        let apart = ArchiveConfig::url(format!("file://{}/archive", dir.path().display()));
        check_archive_places(&data, &[place("a", &store, Some(&apart))]).unwrap();
    }

    #[test]
    fn two_stores_sharing_an_archive_are_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let (a, b) = (data.join("a"), data.join("b"));
        let shared = ArchiveConfig::url(format!("file://{}/archive", dir.path().display()));
        let nested = ArchiveConfig::url(format!("file://{}/archive/b", dir.path().display()));
        for second in [&shared, &nested] {
            let err = check_archive_places(
                &data,
                &[
                    place("destination \"a\"", &a, Some(&shared)),
                    place("destination \"b\"", &b, Some(second)),
                ],
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.starts_with("destination \"b\": `archive` = ")
                    && err.contains("of destination \"a\" are one prefix"),
                "{err}"
            );
        }
        let s3 = |url: &str| ArchiveConfig::url(url);
        let (x, y) = (s3("s3://audit/eu-1/"), s3("s3://audit/eu-1"));
        assert!(
            check_archive_places(&data, &[place("a", &a, Some(&x)), place("b", &b, Some(&y))])
                .is_err()
        );
        let (x, y) = (s3("s3://audit/eu-1"), s3("s3://audit/eu-10"));
        check_archive_places(&data, &[place("a", &a, Some(&x)), place("b", &b, Some(&y))]).unwrap();
        let other = ArchiveConfig::url(format!("file://{}/archive-b", dir.path().display()));
        check_archive_places(
            &data,
            &[place("a", &a, Some(&shared)), place("b", &b, Some(&other))],
        )
        .unwrap();
    }
}
