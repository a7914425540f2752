//! An error as a person reads it: its message, then each cause its message does not
//! already say.
//!
//! A program whose `main` returns `Result<(), Box<dyn Error>>` (the README's example)
//! prints an error it returns with `Debug`, and a derived `Debug` is a dump of the
//! error's fields (`Target { name: "file-0", type_name: "file", source: Io { path:
//! ..., source: Os { code: 20, kind: NotADirectory, .. } } }`). So the errors users get
//! from the dispatcher and the config (`DispatcherError`, `ConfigError`, `EmitError`,
//! `AckError`, `BatchError`, `RegistryError`, and the facade's `SetupError`) show this
//! report for `Debug` too, the way `anyhow::Error` does; match on their variants for
//! the data.

use std::error::Error;
use std::fmt;

/// Shows `error`'s message followed by each cause in its [`Error::source`] chain that
/// the text so far does not already contain, separated by `: ` (most of auditrail's
/// errors name their cause in their own message: it is then said once).
///
/// ```
/// use auditrail_core::ErrorReport;
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
/// let e = auditrail_core::BuildError::Io { path: "/etc/x.pem".into(), source: io };
/// assert_eq!(ErrorReport(&e).to_string(), "/etc/x.pem: no such file");
/// ```
#[derive(Clone, Copy)]
pub struct ErrorReport<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(c) = cause {
            add_cause(&mut text, &c.to_string());
            cause = c.source();
        }
        f.write_str(&text)
    }
}

impl fmt::Debug for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Adds `cause` to an error's `text` (`: CAUSE`), said once: not at all when the text
/// says it already, and without its leading path (`PATH: what`) when the text names
/// that path already (an error about one path names it first, and so may its
/// caller's context: `the server's signing key (PATH)`). The one rule of the chains
/// people read ([`ErrorReport`], the command line's errors).
pub fn add_cause(text: &mut String, cause: &str) {
    if text.contains(cause) {
        return;
    }
    let said = match cause.split_once(": ") {
        Some((path, rest)) if !path.is_empty() && text.contains(path) => rest,
        _ => cause,
    };
    if text.contains(said) {
        return;
    }
    text.push_str(": ");
    text.push_str(said);
}

/// `PATH: ERROR` for an error about `path`, or `ERROR` alone when its message begins
/// with that path already: every error about one path names it first
/// ([`crate::durable::NotAFolder`], [`crate::regular_file::NotRegularFile`], a
/// dangling link), which its caller's `PATH: ERROR` would otherwise say twice in a
/// row, read as two paths.
pub fn path_and_error(path: &std::path::Path, error: &dyn fmt::Display) -> String {
    let path = path.display().to_string();
    let said = error.to_string();
    match said.strip_prefix(path.as_str()) {
        Some(rest) if rest.starts_with(": ") => said,
        _ => format!("{path}: {said}"),
    }
}

/// `error`'s message without the `PATH: ` it begins with, if it does: for a caller
/// whose own words name `path` elsewhere than first (`PATH: cannot read: ERROR`),
/// so that the path is said once.
pub fn without_path(path: &std::path::Path, error: &dyn fmt::Display) -> String {
    let path = path.display().to_string();
    let said = error.to_string();
    match said
        .strip_prefix(path.as_str())
        .and_then(|r| r.strip_prefix(": "))
    {
        Some(rest) => rest.to_owned(),
        None => said,
    }
}

/// `Debug` of an error type as its [`ErrorReport`] (see the module docs).
macro_rules! debug_as_report {
    ($($t:ty),+ $(,)?) => {
        $(
            impl ::std::fmt::Debug for $t {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::fmt::Display::fmt(&$crate::ErrorReport(self), f)
                }
            }
        )+
    };
}

debug_as_report!(
    crate::config::ConfigError,
    crate::dispatcher::DispatcherError,
    crate::dispatcher::EmitError,
    crate::dispatcher::EmitBatchError,
    crate::dispatcher::AckError,
    crate::dispatcher::BatchError,
    crate::registry::RegistryError,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("says its cause: {0}")]
    struct Says(#[source] std::io::Error);

    #[test]
    fn causes_not_yet_said_are_added_once() {
        let io = || std::io::Error::other("disk on fire");
        assert_eq!(ErrorReport(&Outer(io())).to_string(), "outer: disk on fire");
        assert_eq!(
            ErrorReport(&Says(io())).to_string(),
            "says its cause: disk on fire"
        );
    }

    #[test]
    fn a_cause_naming_a_path_the_chain_said_adds_only_what_it_found() {
        let mut text = "the server's signing key (/d/signing.key)".to_owned();
        add_cause(
            &mut text,
            "/d/signing.key: is a FIFO (named pipe), not a regular file",
        );
        assert_eq!(
            text,
            "the server's signing key (/d/signing.key): is a FIFO (named pipe), not a regular file"
        );
        add_cause(&mut text, "is a FIFO (named pipe), not a regular file");
        add_cause(&mut text, "/other: gone");
        assert!(text.ends_with("regular file: /other: gone"), "{text}");
        let at = std::path::Path::new("server.toml");
        let e = std::io::Error::other("server.toml: is a pipe");
        assert_eq!(without_path(at, &e), "is a pipe");
        assert_eq!(without_path(at, &std::io::Error::other("gone")), "gone");
    }

    #[test]
    fn a_path_the_error_begins_with_is_said_once() {
        let at = std::path::Path::new("/run/spool");
        let names_it = std::io::Error::other("/run/spool: is a regular file, not a folder");
        assert_eq!(
            path_and_error(at, &names_it),
            "/run/spool: is a regular file, not a folder"
        );
        // Another path, or the same one as a mere prefix, is no repeat.
        for (other, said) in [
            (
                "/run: is a regular file",
                "/run/spool: /run: is a regular file",
            ),
            ("/run/spool2: gone", "/run/spool: /run/spool2: gone"),
            ("no such file", "/run/spool: no such file"),
        ] {
            let e = std::io::Error::other(other);
            assert_eq!(path_and_error(at, &e), said);
        }
    }
}
