//! `verify --archive`: the objects that signed deletion lines record as archived,
//! checked against the archive's copy (present, size, SHA-256).

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
                .at(CHECKPOINT_LOG, l.line);
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
            match digest(&archive.join(&o.path)) {
                Ok((sha, bytes)) if sha == o.sha256 && bytes == o.bytes => {}
                Ok((sha, bytes)) => report.push(problem(format!(
                    "the archive has {bytes} bytes with SHA-256 {sha} (changed after it was archived)"
                ))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    report.push(problem("missing from the archive".into()))
                }
                Err(e) => report.push(problem(format!("cannot be read: {e}"))),
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

fn digest(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
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
    Ok((hex::encode(hash.finalize()), bytes))
}
