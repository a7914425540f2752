//! # A custom auditrail target, written the way a third party would
//!
//! `jsonl` writes each event as one JSON line to stdout, or appends it to a file and
//! fsyncs it. It shows the three pieces every target crate has:
//!
//! 1. a config struct that rejects unknown keys, with pure [`TargetConfig::validate`];
//! 2. a [`Target`] whose `send` returns `Ok` only once the batch is durably taken,
//!    doing its blocking I/O off the async thread;
//! 3. a [`register_target!`] call, and a reference to [`REGISTRATION`] from the program
//!    that uses it (the linker drops crates that nothing references).
//!
//! ```
//! use auditrail_core::Registry;
//! // Referencing REGISTRATION keeps this crate linked; inventory then finds it too.
//! let registry = Registry::with_linked(&[&auditrail_example_custom_target::REGISTRATION]).unwrap();
//! assert!(registry.names().any(|n| n == "jsonl"));
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use auditrail_core::{
    async_trait, register_target, BuildContext, BuildError, Durability, Event, InvalidConfig,
    Target, TargetConfig, TargetError,
};
use serde::Deserialize;

/// Config of the `jsonl` target.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlConfig {
    /// `"stdout"`, or a file path (appended to, fsynced per batch).
    pub output: String,
}

impl TargetConfig for JsonlConfig {
    // Runs once, when the config is parsed; `build` then gets the validated value.
    fn validate(&self) -> Result<(), InvalidConfig> {
        if self.output.trim().is_empty() {
            return Err(InvalidConfig::key(
                "output",
                "must be \"stdout\" or a file path",
            ));
        }
        Ok(())
    }

    // A file is fsynced per batch before `Ok`; stdout is whatever reads it.
    fn durability(&self) -> Durability {
        if self.output == "stdout" {
            Durability::not_durable("`output = \"stdout\"`: `Ok` means written to stdout")
        } else {
            Durability::Durable
        }
    }

    fn build(&self, _ctx: &BuildContext) -> Result<Box<dyn Target>, BuildError> {
        let sink = if self.output == "stdout" {
            Sink::Stdout
        } else {
            let path = PathBuf::from(&self.output);
            // Open at build time: a bad path is a start-up error, not a runtime surprise.
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|source| BuildError::Io { path, source })?;
            Sink::File(Arc::new(Mutex::new(file)))
        };
        Ok(Box::new(JsonlTarget { sink }))
    }
}

#[derive(Debug)]
enum Sink {
    Stdout,
    File(Arc<Mutex<File>>),
}

/// The `jsonl` target.
#[derive(Debug)]
pub struct JsonlTarget {
    sink: Sink,
}

#[async_trait]
impl Target for JsonlTarget {
    async fn send(&mut self, batch: &[Arc<Event>]) -> Result<(), TargetError> {
        let mut buf = Vec::with_capacity(batch.len() * 300);
        for event in batch {
            event.write_json(&mut buf);
            buf.push(b'\n');
        }
        match &self.sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(&buf)
                    .and_then(|()| out.flush())
                    .map_err(io_error)
            }
            Sink::File(file) => {
                let file = file.clone();
                // Blocking write + fsync off the dispatcher's async threads.
                tokio::task::spawn_blocking(move || {
                    let file = file
                        .lock()
                        .map_err(|_| std::io::Error::other("lock poisoned"))?;
                    (&*file).write_all(&buf)?;
                    file.sync_data()
                })
                .await
                .map_err(|e| TargetError::retryable(format!("jsonl target: writer task: {e}")))?
                .map_err(io_error)
            }
        }
    }
}

fn io_error(e: std::io::Error) -> TargetError {
    TargetError::retryable(format!("jsonl target: {e}"))
}

register_target! {
    name: "jsonl",
    description: "example third-party target: JSON lines to stdout or an fsynced file",
    example: include_str!("../example.toml"),
    config: JsonlConfig,
}
