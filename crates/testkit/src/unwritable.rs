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
    pub fn make(path: &Path) -> Result<Unwritable, UnwritableError> {
        use std::os::unix::fs::PermissionsExt;
        let mut guard = Unwritable {
            path: path.to_path_buf(),
            immutable: false,
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555)).map_err(
            |source| UnwritableError::Chmod {
                path: path.to_path_buf(),
                source,
            },
        )?;
        if !writable(path)? {
            return Ok(guard);
        }
        // Root: the mode does not stop it.
        let chattr = Command::new("chattr").arg("+i").arg(path).output();
        match chattr {
            Ok(out) if out.status.success() => guard.immutable = true,
            Ok(out) => {
                return Err(UnwritableError::Chattr {
                    path: path.to_path_buf(),
                    stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                })
            }
            Err(source) => return Err(UnwritableError::NoChattr { source }),
        }
        if writable(path)? {
            return Err(UnwritableError::StaysWritable {
                path: path.to_path_buf(),
            });
        }
        Ok(guard)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Why a folder cannot be made unwritable on this machine ([`Unwritable::make`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnwritableError {
    /// Its mode cannot be changed.
    #[error("chmod {}: {source}", path.display())]
    Chmod {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Making (or removing) a probe in it failed other than by a refusal.
    #[error("probing {}: {source}", path.display())]
    Probe {
        /// The folder, or the probe that could not be removed.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Root, and `chattr +i` failed.
    #[error(
        "running as a user the folder's mode does not stop, and `chattr +i {}` failed: {stderr}",
        path.display()
    )]
    Chattr {
        /// The folder.
        path: PathBuf,
        /// What `chattr` said.
        stderr: String,
    },
    /// Root, and `chattr` cannot run.
    #[error(
        "running as a user the folder's mode does not stop, and `chattr` cannot run: {source}"
    )]
    NoChattr {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Root, and the immutable flag does not stop it.
    #[error("{} stays writable even when immutable", path.display())]
    StaysWritable {
        /// The folder.
        path: PathBuf,
    },
}

/// Whether a folder can be made in `path` now (the probe is removed again).
fn writable(path: &Path) -> Result<bool, UnwritableError> {
    let probe = path.join(".unwritable-probe");
    match std::fs::create_dir(&probe) {
        Ok(()) => {
            std::fs::remove_dir(&probe).map_err(|source| UnwritableError::Probe {
                path: probe.clone(),
                source,
            })?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(false),
        Err(source) => Err(UnwritableError::Probe {
            path: path.to_path_buf(),
            source,
        }),
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
