//! # auditrail-target-file
//!
//! The local audit trail of a node, target type `file`: the events as JSON lines in
//! local files (`run/audit/audit.log` by default), written with tracing-appender's
//! rolling writer, or (`mode = "tracing"`) handed to `tracing` so that any subscriber
//! or layer receives them.
//!
//! - **Line format**: the event's wire form plus the reference envelope's `severity`
//!   and `logger` (`<prefix>.<topic><suffix>`, default `audit.<topic>`); see [`line`](mod@line).
//!   [`read_audit_file`] and [`read_audit_dir`] parse the lines back into
//!   [`Event`](auditrail_core::Event)s, each message exactly as the line holds it,
//!   skipping a torn line with a warning (a line that is not an event is an error
//!   that still holds every other line's event);
//!   [`scan_audit_folder`] finds the audit files of a folder whatever the targets'
//!   `file_name`, naming every other file.
//! - **File names**: [`naming`] defines them once, for the writer and the readers.
//! - **Lossless**: no lossy non-blocking writer. `Ok` means the batch's lines are in
//!   the file, written with one `write(2)` of whole lines on an `O_APPEND` file (so
//!   concurrent writers never interleave partial lines), and fsynced when `fsync =
//!   true` (the default). I/O errors (a full disk) are retryable: the dispatcher
//!   counts them, backs off and sends the batch again.
//! - **Rotation**: by size (default: 100 MB, 20 files kept, as the reference), hourly,
//!   daily or never. See the section below for
//!   what tracing-appender does and what this crate adds.
//! - **Deleted, moved, truncated**: whatever the rotation, a batch is acknowledged
//!   only once it is in the file the target's path names.
//!
//! ```
//! use std::time::Duration;
//! use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, Filter, NodeId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let dispatcher = Dispatcher::builder(NodeId::new("node-1")?)
//!     .registered_target(
//!         "local",
//!         &auditrail_target_file::REGISTRATION,
//!         serde_json::json!({ "dir": dir.path(), "fsync": true }),
//!         Filter::all(),
//!         DeliveryOptions::default(),
//!     )
//!     .build()?;
//! dispatcher.emit(audit!(topics::GENERIC, "login", "authUser" => "alice"))?;
//! assert!(dispatcher.shutdown_blocking(Duration::from_secs(10)).is_clean());
//!
//! let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log")?;
//! assert_eq!(read.events[0].msg_type(), "login");
//! # Ok(()) }
//! ```
//!
//! ## Why tracing-appender plus code of our own
//!
//! tracing-appender's `RollingFileAppender` writes every byte, always with
//! `Rotation::NEVER` on a file this crate picks (the period's file for hourly/daily
//! rotation, `audit.log` rolled by size under an `flock` shared by every process
//! writing the folder). A second descriptor of the same file fsyncs it and checks,
//! around every write, that the file is still the one at its path: a file deleted,
//! moved or truncated by another program is reopened and the batch written again,
//! never acknowledged from the wrong inode. The details are in the `sink` module and
//! in `docs/targets/file.md`.

mod clash;
pub mod config;
pub mod line;
pub mod naming;
pub mod read;
mod run_folder;
mod sink;
mod startup;
mod target;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tracing_mode;

use auditrail_core::{BuildContext, BuildError, InvalidConfig, Target, TargetConfig};

pub use config::{FileTargetConfig, Mode, Rotation};
pub use line::LoggerName;
pub use read::{
    audit_files, read_audit_dir, read_audit_file, read_listed_audit_file, scan_audit_folder,
    AuditFolder, CorruptLine, ListedFile, NotAuditFile, NotAuditWhy, ReadError, ReadOutcome,
    TornLine,
};
pub use sink::WriteError;
pub use startup::warn_if_no_file_target;
pub use target::FileTarget;
pub use tracing_mode::TracingTarget;

/// The target type name.
pub const NAME: &str = "file";

impl TargetConfig for FileTargetConfig {
    const PATH_KEYS: &'static [&'static str] = &["dir"];

    fn folders(
        &self,
        run_dir: &std::path::Path,
        _target_name: &str,
    ) -> Vec<(&'static str, std::path::PathBuf)> {
        match (self.mode, &self.dir) {
            (Mode::Tracing, _) => Vec::new(),
            (Mode::File, Some(dir)) => vec![("dir", dir.to_path_buf())],
            (Mode::File, None) => vec![("dir", run_dir.join(config::DEFAULT_DIR_IN_RUN_DIR))],
        }
    }

    fn validate(&self) -> Result<(), InvalidConfig> {
        self.check()
    }

    /// Durable with `fsync = true` (the default); not with `fsync = false` (the page
    /// cache) nor in `mode = "tracing"` (handed to `tracing`, whose writer decides).
    fn durability(&self) -> auditrail_core::Durability {
        match self.mode {
            Mode::Tracing => auditrail_core::Durability::not_durable(
                "`mode = \"tracing\"`: `Ok` means handed to `tracing`, whose writer neither fsyncs nor answers",
            ),
            Mode::File if !self.fsync() => auditrail_core::Durability::not_durable(
                "`fsync = false`: `Ok` means written to the operating system's page cache, not fsynced",
            ),
            Mode::File => auditrail_core::Durability::Durable,
        }
    }

    fn clash(
        &self,
        name: &str,
        other: &Self,
        other_name: &str,
        run_dir: &std::path::Path,
    ) -> Option<String> {
        clash::clash(self, name, other, other_name, run_dir)
    }

    fn build(&self, ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError> {
        // Validated when parsed: no second check here.
        match self.mode {
            Mode::File if self.dir.is_none() => {
                // The default folder is under the node's run folder, like the rest of
                // its state, so that it follows `run_dir` (in the config file's folder)
                // instead of the working directory.
                let config = FileTargetConfig {
                    dir: Some(ctx.run_dir.join(config::DEFAULT_DIR_IN_RUN_DIR).into()),
                    ..self.clone()
                };
                Ok(Box::new(FileTarget::open_validated(
                    &config,
                    ctx.folder_check.clone(),
                )?))
            }
            Mode::File => {
                // The run folder's check is about the folders that making again would
                // make the run folder again or lie in it, as the file system says
                // (`run_folder.rs`; not as the paths read): a folder elsewhere is made
                // again whatever became of the run folder.
                let check = ctx
                    .folder_check
                    .clone()
                    .filter(|_| run_folder::depends_on(&self.dir(), &ctx.run_dir));
                Ok(Box::new(FileTarget::open_validated(self, check)?))
            }
            Mode::Tracing => Ok(Box::new(TracingTarget::new(self.logger()))),
        }
    }
}

auditrail_core::register_target! {
    name: "file",
    description: "local audit files (JSON lines, rolled by size or time) through tracing-appender, or events handed to tracing",
    example: include_str!("../example.toml"),
    config: FileTargetConfig,
}
