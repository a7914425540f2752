//! One module per subcommand.

pub(crate) mod archive_args;
pub(crate) mod archive_copy;
pub(crate) mod delivery;
pub(crate) mod hangup_held;
pub(crate) mod keys;
pub(crate) mod keys_checks;
pub(crate) mod keys_next;
pub(crate) mod keys_rotate;
pub(crate) mod offline;
pub(crate) mod output;
pub(crate) mod progress;
pub(crate) mod prove;
pub(crate) mod query;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod server_config;
pub(crate) mod shown;
/// The spool belongs to the `eventserver` target: without it, there is none to read.
#[cfg(feature = "eventserver")]
pub(crate) mod spool;
pub(crate) mod sql;
pub(crate) mod store;
pub(crate) mod store_prune;
pub(crate) mod tail;
pub(crate) mod targets;
pub(crate) mod verify;

/// The log filter of the running process; `auditrail serve` replaces it on SIGHUP.
pub(crate) type LogFilter =
    tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>;

/// The filter used when neither `RUST_LOG` nor a config's `log_level` says otherwise.
pub(crate) const DEFAULT_LOG_FILTER: &str = "warn,auditrail=info";

/// How logs are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines with `key=value` fields.
    Text,
    /// One JSON object per line (`tracing-subscriber`'s JSON format: `timestamp`,
    /// `level`, `target`, `fields`).
    Json,
}

/// A `RUST_LOG` that cannot be used: it is refused rather than dropped for the default
/// filter, which would hide that the logs asked for are not coming.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RustLogError {
    /// Not valid UTF-8.
    #[error("RUST_LOG: not valid UTF-8")]
    NotUtf8,
    /// Not a `tracing` `EnvFilter` directive list.
    #[error(
        "RUST_LOG {value:?} is no valid log filter (unset it, or give tracing EnvFilter \
         directives such as \"warn,auditrail=debug\")"
    )]
    Invalid {
        value: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
}

/// The start filter: `RUST_LOG` when set (tracing's `EnvFilter` syntax: a bare word is
/// a target, as in `env_logger`), else [`DEFAULT_LOG_FILTER`].
fn start_filter() -> Result<tracing_subscriber::EnvFilter, RustLogError> {
    match std::env::var("RUST_LOG") {
        Ok(value) => tracing_subscriber::EnvFilter::try_new(&value)
            .map_err(|source| RustLogError::Invalid { value, source }),
        Err(std::env::VarError::NotPresent) => {
            Ok(tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER))
        }
        Err(std::env::VarError::NotUnicode(_)) => Err(RustLogError::NotUtf8),
    }
}

/// Logs go to stderr (stdout is for command output), filtered by `RUST_LOG`
/// (default `info` for auditrail, `warn` for everything else). Colours only on a
/// terminal and when `NO_COLOR` is unset or empty (https://no-color.org): a log file or
/// pipeline gets plain `key=value` fields. Returns the handle that replaces the filter
/// later (`log_level` of a server config).
pub(crate) fn init_logging(format: LogFormat) -> Result<Option<LogFilter>, RustLogError> {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = start_filter()?;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let text = (format == LogFormat::Text).then(|| {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal() && !no_color)
            .with_writer(std::io::stderr)
    });
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
    });
    Ok(tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .try_init()
        .ok()
        .map(|()| handle))
}
