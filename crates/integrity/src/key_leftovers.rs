//! Copies of a secret left beside the key file by a `keys` command that was killed
//! mid-write, found and removed by every later `keys` command.
//!
//! The next key's secret is written aside and then put in place:
//! [`Signer::write_new_secret_file`](crate::Signer::write_new_secret_file) writes
//! `.<key>.next.<pid>.tmp`, links it to `<key>.next` and removes it;
//! [`Signer::write_secret_file`](crate::Signer::write_secret_file) writes
//! `.<key>.next.tmp` and renames it over `<key>.next`. A kill between the two steps
//! leaves the temporary file, mode `0600`, holding a secret. Removing it is always
//! safe: killed before the link or rename, its key was never printed, staged or handed
//! over to (the command prints the key and signs handovers only after the file is in
//! place), so nothing trusts it; killed after the link, it is a second name of the
//! inode `<key>.next` holds (or, after a rotation, `<key>` itself: the rename keeps the
//! inode), and removing a name leaves the other. Keeping it, on the other hand, keeps
//! a secret that `--discard-staged` or the next rotation was to make unusable. A
//! `--prepare` writing its file at the same moment (it takes no lock) fails and says
//! so; nothing is lost, and running it again stages a key.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::keys::{PublicKey, Signer};
use crate::IntegrityError;

/// One leftover removed.
#[derive(Debug)]
pub struct LeftoverCopy {
    /// The file that was removed.
    pub path: PathBuf,
    /// The file it was a second name of (same inode): `<key>.next` or the key file.
    pub second_name_of: Option<PathBuf>,
    /// The public half of the secret it held, when it held one whole.
    pub key: Option<PublicKey>,
}

/// Whether `name` is one the next key's temporary files take beside the key file
/// named `key_name`: `.<key_name>.next.tmp`, or `.<key_name>.next.<digits>.tmp`.
fn is_leftover_name(name: &str, key_name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix('.')
        .and_then(|n| n.strip_prefix(key_name))
        .and_then(|n| n.strip_prefix(".next."))
        .and_then(|n| n.strip_suffix("tmp"))
    else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_suffix('.')
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Finds and removes the leftovers of the secret key file `secret` (see the module
/// docs), then syncs its folder when any was removed. A folder that does not exist
/// holds none. An error names the file that could not be listed or removed.
pub fn remove_leftover_copies(secret: &Path) -> Result<Vec<LeftoverCopy>, IntegrityError> {
    let Some(key_name) = secret.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let dir = match secret.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IntegrityError::io(dir, e)),
    };
    let next = crate::keys::next_of(secret);
    let inode = |p: &Path| fs::symlink_metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| IntegrityError::io(dir, e))?;
        let name = entry.file_name();
        if !name.to_str().is_some_and(|n| is_leftover_name(n, key_name)) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue; // gone meanwhile
        };
        if meta.is_dir() {
            continue; // not a file this project writes
        }
        let here = Some((meta.dev(), meta.ino()));
        let second_name_of = [next.as_path(), secret]
            .into_iter()
            .find(|p| inode(p) == here)
            .map(Path::to_path_buf);
        let key = meta
            .is_file()
            .then(|| Signer::load_quietly(&path).ok())
            .flatten()
            .map(|s| *s.public_key());
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(IntegrityError::io(&path, e)),
        }
        removed.push(LeftoverCopy {
            path,
            second_name_of,
            key,
        });
    }
    if !removed.is_empty() {
        crate::keys::sync_dir(dir)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_next_keys_temporary_names_are_leftovers() {
        for yes in [".signing.key.next.tmp", ".signing.key.next.123.tmp"] {
            assert!(is_leftover_name(yes, "signing.key"), "{yes}");
        }
        for no in [
            "signing.key",
            "signing.key.next",
            ".signing.key.next..tmp",
            ".signing.key.next.12a.tmp",
            ".signing.key.tmp",
            ".other.key.next.1.tmp",
            ".signing.key.next.1.tmpx",
            "signing.key.next.1.tmp",
        ] {
            assert!(!is_leftover_name(no, "signing.key"), "{no}");
        }
    }
}
