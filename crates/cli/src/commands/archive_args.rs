//! The archive flags that `verify --archive` and `store prune --archive` share: the
//! archive URL and its S3 options (credentials come from the environment, never from
//! the command line, where `ps` would show them).

use auditrail_store::ArchiveConfig;

/// An archive named on the command line.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct ArchiveArgs {
    /// The archive: `s3://bucket/prefix` or `file:///path` (a store's `archive`).
    /// S3 credentials and region come from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`).
    #[arg(long, value_name = "URL")]
    pub(crate) archive: Option<String>,
    /// The S3 endpoint of a non-AWS server: `http://host:port` (with
    /// `--archive-allow-http`) or `https://host[:port]` (default `AWS_ENDPOINT`).
    #[arg(long, value_name = "URL", requires = "archive")]
    pub(crate) archive_endpoint: Option<String>,
    /// The S3 region (default `AWS_REGION`, else `us-east-1`).
    #[arg(long, value_name = "REGION", requires = "archive")]
    pub(crate) archive_region: Option<String>,
    /// Allow a plain `http://` endpoint (a server on loopback).
    #[arg(long, requires = "archive")]
    pub(crate) archive_allow_http: bool,
}

impl ArchiveArgs {
    /// The archive's config, when `--archive` was given; the URL checked.
    pub(crate) fn config(&self) -> anyhow::Result<Option<ArchiveConfig>> {
        let Some(config) = self.unchecked() else {
            return Ok(None);
        };
        // The check of every archive setting that a config's `archive` gets, naming
        // the flag.
        config
            .location()
            .map_err(|e| anyhow::anyhow!("{}", e.as_flag()))?;
        Ok(Some(config))
    }

    /// The flags as an archive config, not yet checked (`None` without `--archive`).
    fn unchecked(&self) -> Option<ArchiveConfig> {
        let url = self.archive.as_ref()?;
        Some(ArchiveConfig {
            endpoint: self.archive_endpoint.clone(),
            region: self.archive_region.clone(),
            allow_http: self.archive_allow_http,
            ..ArchiveConfig::url(url)
        })
    }

    /// [`config`](Self::config) for reading only (`verify --archive`): a URL holding
    /// `?` or `#`, which no archive is written under any more, is taken literally, as
    /// versions before 2026-12-07 wrote archives there and their stores' signed
    /// deletion lines name them so (warned in the log, on stderr). Refusing it left such an
    /// archive, the only copy of the records deleted, with no way to be checked.
    pub(crate) fn config_for_reading(&self) -> anyhow::Result<Option<ArchiveConfig>> {
        let Some(config) = self.unchecked() else {
            return Ok(None);
        };
        if config.has_query_or_fragment() {
            let url = &config.url;
            config
                .location_as_written()
                .map_err(|e| anyhow::anyhow!("{}", e.as_flag()))?;
            tracing::warn!(
                "--archive {url:?} holds `?` or `#`, which no archive is written under any more: read as written, literally (the place versions before 2026-12-07 archived to)"
            );
            return Ok(Some(config));
        }
        self.config()
    }
}
