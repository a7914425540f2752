//! Progress display for long-running CLI work (stderr; hidden when not a terminal).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over bytes of stdin when its size is known (a redirected file),
/// else a spinner counting events. Shown only past a threshold, so small inputs stay
/// quiet.
#[derive(Clone)]
pub(crate) struct Progress {
    bar: ProgressBar,
}

const SHOW_FROM_BYTES: u64 = 4 * 1024 * 1024;

impl Progress {
    /// Progress for reading stdin, `size` bytes when known (a regular file).
    pub(crate) fn for_stdin(size: Option<u64>) -> Progress {
        let bar = match size {
            Some(len) if len >= SHOW_FROM_BYTES => {
                let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} sending [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar
            }
            Some(_) => ProgressBar::hidden(),
            None => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} sending: {bytes} read, {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            }
        };
        Progress { bar }
    }

    /// Bytes consumed.
    pub(crate) fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    /// Events acknowledged so far.
    pub(crate) fn set_sent(&self, acknowledged: u64) {
        self.bar.set_message(format!("{acknowledged} acknowledged"));
    }

    /// Final state.
    pub(crate) fn finish(&self, acknowledged: u64) {
        self.bar.set_message(format!("{acknowledged} acknowledged"));
        self.bar.finish_and_clear();
    }
}
