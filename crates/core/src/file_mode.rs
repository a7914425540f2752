//! The permissions of the files auditrail creates to hold audit events.
//!
//! Audit events name users, addresses and what they did: the local audit files of a
//! `file` target, dead letters, a node's spool segments and a store's segments must not
//! be readable by every local user. Created with std's default mode (`0666` less the
//! umask, `0644` under the usual umask `022`), they were. Every creation of such a file
//! therefore asks for [`AUDIT_DATA`]: owner read/write, group read (the syslog
//! convention, `root:adm 0640`, so that an operators' group can read the trail), nothing
//! for others. The umask still applies (`077` gives `0600`).
//!
//! Only the creation sets the mode: a file that already exists keeps the mode an
//! operator (or a log rotation tool's `create 0600`) gave it.
//!
//! The folders auditrail creates to hold such files (a `file` target's `dir`, the run
//! folder, dead letters, spools, a data dir or store) get [`AUDIT_FOLDER`] likewise:
//! created with std's default (`0777` less the umask, `0755` under `022`) every local
//! user could list them, and the names of the files tell which nodes, topics, days and
//! hours there were. A folder that already exists keeps its mode.

use std::fs::{DirBuilder, OpenOptions};

/// `rw-r-----`: owner read/write, group read, others nothing (less the umask).
pub const AUDIT_DATA: u32 = 0o640;

/// `rwxr-x---`: owner everything, group list and enter, others nothing (less the
/// umask): the folders holding [`AUDIT_DATA`] files.
pub const AUDIT_FOLDER: u32 = 0o750;

/// `builder` creating folders with mode [`AUDIT_FOLDER`] on unix.
pub fn audit_folder(builder: &mut DirBuilder) -> &mut DirBuilder {
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(builder, AUDIT_FOLDER);
    builder
}

/// Creates `dir` and its missing ancestors like [`std::fs::create_dir_all`], each with
/// mode [`AUDIT_FOLDER`]; folders already there are left as they are.
pub fn create_audit_dir_all(dir: &std::path::Path) -> std::io::Result<()> {
    audit_folder(DirBuilder::new().recursive(true)).create(dir)
}

/// `options` creating the file (if they do) with mode [`AUDIT_DATA`] on unix.
pub fn audit_data(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, AUDIT_DATA);
    options
}
