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

use std::fs::OpenOptions;

/// `rw-r-----`: owner read/write, group read, others nothing (less the umask).
pub const AUDIT_DATA: u32 = 0o640;

/// `options` creating the file (if they do) with mode [`AUDIT_DATA`] on unix.
pub fn audit_data(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, AUDIT_DATA);
    options
}
