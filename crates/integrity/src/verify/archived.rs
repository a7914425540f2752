//! The objects that signed deletion lines record as archived: `verify --archive`
//! checks those of the archive's own log against its downloaded copy (present,
//! size, SHA-256); `verify DIR --archive` and `verify --config` check those of the
//! store's log in the archive itself ([`check_against_store`]), since an archive cut
//! back together with its log is consistent on its own.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::checkpoints::LoggedCheckpoint;
use super::report::{Problem, ProblemKind, StoreReport};
use super::CHECKPOINT_LOG;

/// Checks every archived object named in `logged` against the files under `archive`.
pub(crate) fn check_objects(archive: &Path, logged: &[LoggedCheckpoint], report: &mut StoreReport) {
    let mut named = 0u64;
    for l in logged {
        let Some(archived) = l.cp.deleted.as_ref().and_then(|d| d.archived.as_ref()) else {
            continue;
        };
        for o in &archived.objects {
            named += 1;
            let problem = |found: String| {
                let mut p = Problem::error(
                    ProblemKind::ArchivedObject,
                    format!(
                        "archived object {}: {found}; checkpoint #{} ({CHECKPOINT_LOG} line {}) records {} bytes with SHA-256 {}",
                        o.path, l.cp.index, l.line, o.bytes, o.sha256
                    ),
                )
                .at(&l.file, l.line);
                p.file = Some(o.path.clone());
                p
            };
            // The path comes from a signed line, but never leave the archive's folder.
            if o.path
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
            {
                report.push(problem("not a path inside the archive".into()));
                continue;
            }
            let at = archive.join(&o.path);
            match digest(&at, o.bytes) {
                Ok((sha, bytes)) if sha == o.sha256 && bytes == o.bytes => {}
                Ok((sha, bytes)) => report.push(problem(format!(
                    "the archive has {bytes} bytes with SHA-256 {sha} (changed after it was archived)"
                ))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    report.push(problem("missing from the archive".into()))
                }
                Err(e) => report.push(problem(match larger(&e) {
                    Some(size) => format!(
                        "the archive has {size} bytes or more (changed after it was archived; \
                         not read past the size recorded)"
                    ),
                    // The problem names the object already (relative to the archive).
                    None => format!(
                        "cannot be read: {}",
                        auditrail_core::without_path(&at, &e)
                    ),
                })),
            }
        }
    }
    if named == 0 {
        report.push(Problem::error(
            ProblemKind::ArchivedObject,
            format!("no deletion line of the archive's {CHECKPOINT_LOG} records an archived object: not the archive of a store, or nothing was archived yet"),
        ));
    }
}

/// The archive's `store-id` object must name the store whose deletion lines name
/// the archive (`store`, as the store's signed line at `at` of its log names it): a
/// prune claims the prefix by that object, and refuses every pass once it names
/// another store (so retention is stuck), and `verify --archive` alone reports the
/// archive's log as another store's (`store-id-mismatch`). Reported here as a
/// `store-id-mismatch` error naming the object and both ids.
async fn check_store_id(
    archive: &crate::Archive,
    store: &str,
    (file, at): (&str, u64),
    report: &mut StoreReport,
) {
    let key = archive.key(auditrail_store::STORE_ID_FILE);
    let found = match archive.read(auditrail_store::STORE_ID_FILE).await {
        Ok(Some(bytes)) => {
            let found = String::from_utf8_lossy(&bytes).trim().to_string();
            if found == store {
                return;
            }
            format!("names store {}", crate::archive::shown_id(&found))
        }
        Ok(None) => "is missing".to_string(),
        Err(e) => format!("cannot be read: {e}"),
    };
    report.push(
        Problem::error(
            ProblemKind::StoreIdMismatch,
            format!(
                "archive {}: its {key} object {found}, not this store {store} (which its deletion lines name, the newest at {file} line {at}): the prefix was claimed by this store, and the object was replaced or removed since (a prune refuses a prefix whose store-id names another store; `verify --archive` alone takes the archive for another store's)",
                archive.url()
            ),
        )
        .at(file, at),
    );
}

/// Whether every file of `objects` (paths relative to the store root, from a signed
/// line) is still in the store at `store` (a line naming none: no).
fn all_still_in_store(store: &Path, objects: &[crate::ArchivedObject]) -> bool {
    !objects.is_empty()
        && objects.iter().all(|o| {
            !o.path
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
                && store.join(&o.path).is_file()
        })
}

/// The size of a file [`digest`] refused as larger than recorded.
fn larger(e: &std::io::Error) -> Option<u64> {
    let too_large = e
        .get_ref()?
        .downcast_ref::<auditrail_core::regular_file::FileTooLarge>()?;
    Some(too_large.size)
}

/// The SHA-256 (hex) and size of the file at `path`, which a signed line records as
/// `recorded` bytes long. Opened as the files of a data dir are
/// ([`auditrail_core::regular_file::open`]: a FIFO, socket or device there is
/// refused at once with `NotRegularFile`, where a plain open of a FIFO waited for a
/// writer for ever and `/dev/zero` was read without end), and never read past
/// `recorded` bytes: a larger file cannot be the one archived, and is refused with
/// `FileTooLarge` before it is read (a sparse or huge file put there took as long to
/// hash as it is large). The errors say what the path holds; callers name the path.
pub(crate) fn digest(path: &Path, recorded: u64) -> std::io::Result<(String, u64)> {
    use auditrail_core::regular_file::{self, FileTooLarge};
    let too_large = |size| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            FileTooLarge {
                path: path.to_path_buf(),
                size,
                limit: recorded,
            },
        )
    };
    let file = regular_file::open(std::fs::OpenOptions::new().read(true), path)?;
    let size = file.metadata()?.len();
    if size > recorded {
        return Err(too_large(size));
    }
    // One byte past the bound tells a file that grew since the look above.
    let mut file = file.take(recorded.saturating_add(1));
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        bytes += n as u64;
    }
    if bytes > recorded {
        return Err(too_large(bytes));
    }
    Ok((hex::encode(hash.finalize()), bytes))
}

/// What [`check_against_store`] did.
#[derive(Debug, Clone, Default)]
pub struct StoreArchiveCheck {
    /// Objects the store's deletion lines record in this archive, looked up there.
    pub objects: u64,
    /// Archives other than this one that deletion lines of the store name (an archive
    /// changed in the config since): not checked here.
    pub other_archives: Vec<String>,
}

/// `verify DIR --archive URL` (and `verify --config` for a store with `archive`): the
/// store's own checkpoint log, whose signatures the walk of the store checks, is the
/// authority on what was archived. Each object its deletion lines record in `archive`
/// is read there (present, its size and SHA-256 those of the line), and the archive's
/// copy of the log must still hold the newest of those lines: an archive cut back
/// together with its log (objects and the lines naming them removed) is consistent
/// on its own, and only the store's log shows what it lost. Findings are
/// `archived-object` errors naming the object's key and the store's log line.
pub async fn check_against_store(
    store: &Path,
    archive: &crate::Archive,
    report: &mut StoreReport,
) -> StoreArchiveCheck {
    let mut done = StoreArchiveCheck::default();
    let text = match auditrail_store::checkpoint_pieces::read_lines(store) {
        Ok((lines, _)) => lines,
        // The walk of the store reports a missing or unreadable log.
        Err(_) => return done,
    };
    // The newest line naming objects in this archive: its line number and the store
    // it names.
    let mut owner: Option<((&str, u64), String)> = None;
    // The newest such line of a pass that removed files: its checkpoint number, piece
    // and line number, and bytes.
    let mut newest: Option<(u64, (&str, u64), &[u8])> = None;
    for (piece, n, line) in &text {
        let at = (piece.name.as_str(), *n);
        let line = line.as_slice();
        // Lines that do not parse are reported by the walk of the store.
        let Ok(cp) = crate::checkpoint::parse_unverified(line) else {
            continue;
        };
        let Some(archived) = cp.deleted.as_ref().and_then(|d| d.archived.as_ref()) else {
            continue;
        };
        // Lines written before URLs were recorded in one spelling may spell it
        // otherwise (`s3://audit/eu-1//store/`).
        if auditrail_store::archive_url_spelled(&archived.url) != archive.url() {
            if !done.other_archives.contains(&archived.url) {
                done.other_archives.push(archived.url.clone());
            }
            continue;
        }
        owner = Some((at, cp.store_id.clone()));
        // A pass stopped after its line, before the archive's copy of the log was
        // replaced (that upload failed, or a crash): its files are all still in the
        // store (the walk warns `deletion-incomplete`), the archive's log need not
        // hold its line yet, and nothing of it was lost. The line of a pass that
        // removed files must be there.
        if !all_still_in_store(store, &archived.objects) {
            newest = Some((cp.index, at, line));
        }
        for o in &archived.objects {
            done.objects += 1;
            let found = match archive.read_back(o).await {
                Ok(()) => continue,
                Err(crate::ArchiveError::Request { source, .. })
                    if matches!(*source, object_store::Error::NotFound { .. }) =>
                {
                    "missing from the archive".to_string()
                }
                Err(crate::ArchiveError::Mismatch { found, .. }) => {
                    format!("the archive has other bytes ({found})")
                }
                Err(e) => format!("cannot be read: {e}"),
            };
            report.push(
                Problem::error(
                    ProblemKind::ArchivedObject,
                    format!(
                        "archive {}: object {}: {found}; checkpoint #{} of the store ({} line {}) records it archived with {} bytes and SHA-256 {}: the only copy of records the store deleted",
                        archive.url(),
                        archive.key(&o.path),
                        cp.index,
                        at.0,
                        at.1,
                        o.bytes,
                        o.sha256
                    ),
                )
                .at(at.0, at.1),
            );
        }
    }
    let Some((owner_at, owner)) = owner else {
        return done;
    };
    check_store_id(archive, &owner, owner_at, report).await;
    let Some((index, at, line)) = newest else {
        return done;
    };
    // The archive holds it in the copy of the piece it is in here, or (a piece sealed
    // since the last pass) in its copy of the live piece.
    let (file, n) = at;
    let mut names = vec![file];
    if file != CHECKPOINT_LOG {
        names.push(CHECKPOINT_LOG);
    }
    let mut held = false;
    for name in names {
        let key = archive.key(name);
        match archive.read(name).await {
            Ok(Some(log)) => held |= log.split(|b| *b == b'\n').any(|l| l == line),
            Ok(None) => {}
            Err(e) => {
                report.push(
                    Problem::error(
                        ProblemKind::ArchivedObject,
                        format!("archive {}: its {key} cannot be read: {e}", archive.url()),
                    )
                    .at(file, n),
                );
                return done;
            }
        }
        if held {
            break;
        }
    }
    if !held {
        let key = archive.key(file);
        report.push(
            Problem::error(
                ProblemKind::ArchivedObject,
                format!(
                    "archive {}: its {key} lacks checkpoint #{index} of the store ({file} line {n}), the newest deletion line naming objects archived there: the archive's log was cut back or replaced (the seals of the archived records, and the line naming them, are gone from the archive)",
                    archive.url()
                ),
            )
            .at(file, n),
        );
    }
    done
}
