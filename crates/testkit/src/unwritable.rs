//! Making a real folder unwritable for a while, as a mis-restored or `chattr`-ed folder
//! is in production: nothing can be made inside it (`EACCES` or `EPERM`).
//!
//! A user without privileges is stopped by the folder's mode (`0o555`); root is not
//! (`CAP_DAC_OVERRIDE`), so as root the folder is made immutable (`chattr +i`, on ext4,
//! XFS, btrfs, tmpfs since Linux 6.0), which stops root too. Either way the helper checks
//! that making an entry in the folder really fails before handing it over, and undoes
//! everything when dropped (an immutable folder left behind could not be deleted).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder in which nothing can be made until this is dropped.
#[derive(Debug)]
pub struct Unwritable {
    path: PathBuf,
    immutable: bool,
}

impl Unwritable {
    /// Makes `path` (an existing folder) unwritable. `Err` says why this machine cannot
    /// (e.g. root on a file system without the immutable flag): the caller skips its
    /// test with that reason, printed.
    pub fn make(path: &Path) -> Result<Unwritable, String> {
        use std::os::unix::fs::PermissionsExt;
        let mut guard = Unwritable {
            path: path.to_path_buf(),
            immutable: false,
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555))
            .map_err(|e| format!("chmod {}: {e}", path.display()))?;
        if !writable(path)? {
            return Ok(guard);
        }
        // Root: the mode does not stop it.
        let chattr = Command::new("chattr").arg("+i").arg(path).output();
        match chattr {
            Ok(out) if out.status.success() => guard.immutable = true,
            Ok(out) => {
                return Err(format!(
                    "running as a user the folder's mode does not stop, and `chattr +i {}` \
                     failed: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
            Err(e) => {
                return Err(format!(
                    "running as a user the folder's mode does not stop, and `chattr` cannot \
                     run: {e}"
                ))
            }
        }
        if writable(path)? {
            return Err(format!(
                "{} stays writable even when immutable",
                path.display()
            ));
        }
        Ok(guard)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether a folder can be made in `path` now (the probe is removed again).
fn writable(path: &Path) -> Result<bool, String> {
    let probe = path.join(".unwritable-probe");
    match std::fs::create_dir(&probe) {
        Ok(()) => {
            std::fs::remove_dir(&probe).map_err(|e| format!("{}: {e}", probe.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(false),
        Err(e) => Err(format!("probing {}: {e}", path.display())),
    }
}

impl Drop for Unwritable {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(&self.path).status();
        }
        let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o755));
    }
}
