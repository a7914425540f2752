//! Reading audit files back into [`Event`]s.
//!
//! Every complete line parses back into the event model, its message exactly as the
//! line holds it (see [`parse_line`]). A *torn* line (the
//! incomplete JSON left by a write that a crash or a full disk cut short) is skipped
//! with a `tracing` warning and reported in [`ReadOutcome::torn`], never an error:
//! the writer only acknowledged events whose whole line was written, and a batch
//! whose write failed is sent again. Anything else that does not parse (a complete
//! line that is not an event, bytes that are not JSON) makes the read a
//! [`ReadError::Corrupt`] naming the file and line; the read goes on past it, and the
//! error carries every other line's event (one bad line hides no other) and every
//! corrupt line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use auditrail_core::Event;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use thiserror::Error;

use crate::line::LINE_START;
use crate::naming::{self, Role};

/// Why audit files could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadError {
    /// A file or folder could not be read.
    #[error("{}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A complete line is not an audit event: the first one found (`path`, `line`,
    /// `reason`). The read went on past it: `read` holds the events of every other
    /// line of the files read and lists each corrupt line in its
    /// [`corrupt`](ReadOutcome::corrupt).
    #[error(
        "{}:{line}: not an audit event: {reason}{}",
        path.display(),
        others(read)
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the field when the line is JSON.
        reason: String,
        /// What the read found on every line, this one and the other corrupt ones
        /// aside: no line is hidden by another.
        read: Box<ReadOutcome>,
    },
}

/// The end of a [`ReadError::Corrupt`]'s text: how many other lines are corrupt.
fn others(read: &ReadOutcome) -> String {
    match read.corrupt.len() {
        0 | 1 => String::new(),
        n => format!(" ({} more lines are not audit events)", n - 1),
    }
}

/// A complete line that is not an audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptLine {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, naming the field when the line is JSON.
    pub reason: String,
}

/// A torn line that a read skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornLine {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// Bytes skipped.
    pub bytes: usize,
    /// Whether it was the file's unterminated last line (a write cut by a crash).
    pub at_end: bool,
}

/// What a read found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOutcome {
    /// The events, in file order (oldest file first for a folder).
    pub events: Vec<Event>,
    /// Torn lines skipped, each logged as a warning.
    pub torn: Vec<TornLine>,
    /// Complete lines that are not audit events, each logged as a warning. Empty in an
    /// `Ok`: a read that found one is a [`ReadError::Corrupt`], which holds this outcome.
    pub corrupt: Vec<CorruptLine>,
}

impl ReadOutcome {
    /// Whether a torn unterminated last line was skipped (in any file read).
    pub fn skipped_torn_tail(&self) -> bool {
        self.torn.iter().any(|t| t.at_end)
    }
}

/// Reads one audit file.
pub fn read_audit_file(path: impl AsRef<Path>) -> Result<ReadOutcome, ReadError> {
    let mut out = ReadOutcome::default();
    read_into(path.as_ref(), &mut out)?;
    corrupt_is_an_error(out)
}

/// Reads every audit file of a target (`dir`, `file_name` as in its config), oldest
/// first: see [`audit_files`].
///
/// The target may be writing and rolling the folder meanwhile: each file listed is
/// read wherever a roll moved it, and one deleted since (retention) is left out with a
/// warning (see [`read_listed_audit_file`]).
pub fn read_audit_dir(dir: impl AsRef<Path>, file_name: &str) -> Result<ReadOutcome, ReadError> {
    let mut out = ReadOutcome::default();
    // Which files were listed, at once: reading them takes longer than a roll.
    let listed: Vec<(PathBuf, Option<ListedFile>)> = audit_files(dir, file_name)?
        .into_iter()
        .map(|path| {
            let id = fs::metadata(&path).ok().map(|m| ListedFile::of(&m));
            (path, id)
        })
        .collect();
    for (path, id) in listed {
        let read = match id {
            Some(id) => read_listed_into(&path, id, &mut out)?,
            None => false,
        };
        if !read {
            tracing::warn!(path = %path.display(), "audit file removed while it was being read");
        }
    }
    corrupt_is_an_error(out)
}

/// `out`, or the error naming its first corrupt line and holding it.
fn corrupt_is_an_error(out: ReadOutcome) -> Result<ReadOutcome, ReadError> {
    match out.corrupt.first() {
        None => Ok(out),
        Some(first) => Err(ReadError::Corrupt {
            path: first.path.clone(),
            line: first.line,
            reason: first.reason.clone(),
            read: Box::new(out),
        }),
    }
}

/// The audit files of a target in `dir`, oldest first: time-rolled files
/// (`audit.2026-11-25-17.log`, in date order), then size-rolled files
/// (`audit.log.19` … `audit.log.1`), then the active `audit.log`. Names as
/// [`naming`] defines them for `file_name`.
pub fn audit_files(dir: impl AsRef<Path>, file_name: &str) -> Result<Vec<PathBuf>, ReadError> {
    let dir = dir.as_ref();
    let io_err = |source| ReadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut target = TargetFiles::default();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !entry.file_type().map_err(io_err)?.is_file() {
            continue;
        }
        if let Some(role) = naming::role(&name, file_name) {
            target.add(name, role);
        }
    }
    Ok(target.oldest_first(dir))
}

/// One target's files, by role.
#[derive(Default)]
struct TargetFiles {
    periods: Vec<String>,
    rolled: Vec<(u64, String)>,
    active: Option<String>,
}

impl TargetFiles {
    fn add(&mut self, name: String, role: Role) {
        match role {
            Role::Period => self.periods.push(name),
            Role::Rolled(n) => self.rolled.push((n, name)),
            Role::Active => self.active = Some(name),
            // The lock file holds no events.
            _ => {}
        }
    }

    fn is_empty(&self) -> bool {
        self.periods.is_empty() && self.rolled.is_empty() && self.active.is_none()
    }

    /// Period files in date order (the UTC date in the name sorts by time), then
    /// size-rolled files from the oldest (highest number), then the active file.
    fn oldest_first(mut self, dir: &Path) -> Vec<PathBuf> {
        self.periods.sort();
        self.rolled.sort_by_key(|r| std::cmp::Reverse(r.0));
        let mut files: Vec<PathBuf> = self.periods.iter().map(|n| dir.join(n)).collect();
        files.extend(self.rolled.iter().map(|(_, n)| dir.join(n)));
        files.extend(self.active.iter().map(|n| dir.join(n)));
        files
    }
}

/// What [`scan_audit_folder`] found in a folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFolder {
    /// The audit files: per target (in file-name order), oldest first as
    /// [`audit_files`] lists them.
    pub files: Vec<PathBuf>,
    /// The folder's other entries, which are not read (subfolders and the targets'
    /// lock files aside).
    pub not_audit: Vec<NotAuditFile>,
}

/// A file in an audit folder that is not an audit file, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAuditFile {
    /// The file.
    pub path: PathBuf,
    /// Why it is not taken for an audit file.
    pub why: NotAuditWhy,
}

/// Why a file in an audit folder is not taken for an audit file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotAuditWhy {
    /// Its first bytes are not those of an audit line, and its name is none the file
    /// target gives a rolled or period file.
    NotAuditLines,
    /// Empty, and nothing in the folder (a lock file, rolled files) names it a
    /// target's active file.
    Empty,
    /// A hidden name other than a lock file: no `file_name` gives one.
    Hidden,
    /// A name that is not UTF-8: no `file_name` gives one.
    NameNotUtf8,
    /// Not a regular file (a socket, a pipe, a link to nothing).
    NotAFile,
}

impl std::fmt::Display for NotAuditWhy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotAuditWhy::NotAuditLines => "does not start with an audit line",
            NotAuditWhy::Empty => "empty, and no lock or rolled file names it",
            NotAuditWhy::Hidden => "hidden name",
            NotAuditWhy::NameNotUtf8 => "name is not UTF-8",
            NotAuditWhy::NotAFile => "not a regular file",
        })
    }
}

/// Bytes looked at to tell whether a file starts with an audit line.
const SNIFF_BYTES: u64 = 4096;

/// The audit files in `dir` whatever the `file_name` and rotation of the targets that
/// wrote them, and every other file, with why it is not one (for a caller to report:
/// none is passed over in silence). Not recursive: subfolders are not read.
///
/// Any plain name can be a target's active file (`file_name` is free), so a name alone
/// does not decide. A file is an audit file when:
/// - its name is one the writer gives a lock file's target (`.F.lock` present: `F`,
///   `F.N`, its period files), or a size-rolled (`F.N`) or period file of any name
///   (see [`naming::guess`]), whatever its content, so that a damaged beginning does
///   not hide the rest (lines that are not events are the reader's to count);
/// - or its first bytes are those of an audit line ([`LINE_START`]);
/// - or it is the active file of a target whose rolled files are there.
pub fn scan_audit_folder(dir: impl AsRef<Path>) -> Result<AuditFolder, ReadError> {
    let dir = dir.as_ref();
    let io_err = |source| ReadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = AuditFolder::default();
    let mut locked: BTreeSet<String> = BTreeSet::new();
    let mut candidates: Vec<(String, u64)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let path = entry.path();
        let not_audit = |why| NotAuditFile {
            path: path.clone(),
            why,
        };
        // Follows links: a folder of links to audit files (gathered for an
        // investigation) is read like the files.
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if entry.file_type().map_err(io_err)?.is_symlink() {
                    out.not_audit.push(not_audit(NotAuditWhy::NotAFile));
                }
                // Otherwise removed since the folder was listed (rolled away: its
                // new name is listed too, or the oldest file removed by max_files).
                continue;
            }
            Err(source) => return Err(ReadError::Io { path, source }),
        };
        if meta.is_dir() {
            continue;
        }
        let Ok(name) = entry.file_name().into_string() else {
            out.not_audit.push(not_audit(NotAuditWhy::NameNotUtf8));
            continue;
        };
        if !meta.is_file() {
            out.not_audit.push(not_audit(NotAuditWhy::NotAFile));
            continue;
        }
        match naming::guess(&name) {
            None => out.not_audit.push(not_audit(NotAuditWhy::Hidden)),
            Some((file_name, Role::Lock)) => {
                locked.insert(file_name);
            }
            Some(_) => candidates.push((name, meta.len())),
        }
    }
    let mut targets: BTreeMap<String, TargetFiles> = BTreeMap::new();
    let mut unsure: Vec<(String, u64)> = Vec::new();
    for (name, len) in candidates {
        let known = locked
            .iter()
            .find_map(|f| naming::role(&name, f).map(|role| (f.clone(), role)));
        let is_known = known.is_some();
        match known.or_else(|| naming::guess(&name)) {
            Some((file_name, role)) if is_known || role != Role::Active => {
                targets.entry(file_name).or_default().add(name, role);
            }
            _ => unsure.push((name, len)),
        }
    }
    for (name, len) in unsure {
        let path = dir.join(&name);
        let rolled_here = targets.get(&name).is_some_and(|t| !t.is_empty());
        let why = if rolled_here {
            None
        } else if len == 0 {
            Some(NotAuditWhy::Empty)
        } else if starts_like_an_audit_line(&path)? {
            None
        } else {
            Some(NotAuditWhy::NotAuditLines)
        };
        match why {
            None => targets
                .entry(name.clone())
                .or_default()
                .add(name, Role::Active),
            Some(why) => out.not_audit.push(NotAuditFile { path, why }),
        }
    }
    for files in targets.into_values() {
        out.files.extend(files.oldest_first(dir));
    }
    out.not_audit.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Whether the file's first bytes (leading blank space aside) are those of an audit
/// line: a whole [`LINE_START`], or, in a file shorter than it, its beginning (a first
/// write cut short).
fn starts_like_an_audit_line(path: &Path) -> Result<bool, ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::new();
    // Regular files only, never waited on: a FIFO or a device in the folder is no
    // audit file (and `/dev/zero` is not read).
    match auditrail_core::regular_file::open(fs::OpenOptions::new().read(true), path) {
        Ok(f) => f.take(SNIFF_BYTES).read_to_end(&mut head).map_err(io_err)?,
        // Removed since the folder was listed: nothing of it to read.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) if auditrail_core::regular_file::is_not_regular(&e) => return Ok(false),
        Err(e) => return Err(io_err(e)),
    };
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        // Blank: holds no event either way.
        return Ok(false);
    };
    let rest = &head[start..];
    let n = rest.len().min(LINE_START.len());
    Ok(rest[..n] == LINE_START[..n])
}

/// Reads the audit file at `path` into `out`: a regular file only, refused at once
/// otherwise (a FIFO would hold the read for ever, `/dev/zero` take the memory).
fn read_into(path: &Path, out: &mut ReadOutcome) -> Result<(), ReadError> {
    let bytes = auditrail_core::regular_file::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_into(path, &bytes, out);
    Ok(())
}

/// Which file a reader listed: its device and inode, by which
/// [`read_listed_audit_file`] finds it again after a roll or a rotation tool renamed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedFile {
    dev: u64,
    ino: u64,
}

impl ListedFile {
    /// The file `meta` describes (the metadata of a listed file, links followed).
    pub fn of(meta: &fs::Metadata) -> ListedFile {
        use std::os::unix::fs::MetadataExt;
        ListedFile {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// Reads the audit file that was at `path` when it was listed (`listed`), wherever it
/// is in its folder now; `Ok(None)` when it is no longer there (deleted since: the
/// oldest files of a target are removed by its retention, `max_files`).
///
/// A folder is listed first and its files read afterwards, while the target that owns
/// them may go on writing: a size roll renames every file (`audit.log` becomes
/// `audit.log.1`, which becomes `audit.log.2`, ...), a rotation tool moves
/// `audit.log` away and creates a new one. Reading by the listed name would then read
/// another file than the one listed (and miss the events of the one that moved, in
/// silence) or fail for a name retention took. So the file is opened by name only if
/// it is still the one listed (same device and inode), else looked for by identity in
/// its folder. Torn and corrupt lines are named at the file's current path.
pub fn read_listed_audit_file(
    path: &Path,
    listed: ListedFile,
) -> Result<Option<ReadOutcome>, ReadError> {
    let mut out = ReadOutcome::default();
    if !read_listed_into(path, listed, &mut out)? {
        return Ok(None);
    }
    corrupt_is_an_error(out).map(Some)
}

/// [`read_listed_audit_file`] into `out`; `false` when the file is gone.
fn read_listed_into(
    path: &Path,
    listed: ListedFile,
    out: &mut ReadOutcome,
) -> Result<bool, ReadError> {
    let Some((at, mut file)) = open_listed(path, listed).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?
    else {
        return Ok(false);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            path: at.clone(),
            source,
        })?;
    parse_into(&at, &bytes, out);
    Ok(true)
}

/// Rounds of "open it by name, else look for it in the folder" before the listed file
/// counts as gone: each round's listing may miss a file renamed while it is read
/// (`readdir` makes no promise about entries renamed meanwhile).
const LOOKS_FOR_A_MOVED_FILE: usize = 3;

/// The listed file, opened, and its current path; `None` when it is not in its folder.
fn open_listed(path: &Path, listed: ListedFile) -> io::Result<Option<(PathBuf, fs::File)>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut candidate = Some(path.to_path_buf());
    for _ in 0..LOOKS_FOR_A_MOVED_FILE {
        if let Some(at) = candidate.take() {
            // Regular files only, never waited on (a FIFO now at the name).
            match auditrail_core::regular_file::open(fs::OpenOptions::new().read(true), &at) {
                Ok(file) if ListedFile::of(&file.metadata()?) == listed => {
                    return Ok(Some((at, file)))
                }
                Ok(_) => {}
                Err(e)
                    if e.kind() == io::ErrorKind::NotFound
                        || auditrail_core::regular_file::is_not_regular(&e) => {}
                Err(e) => return Err(e),
            }
        }
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if fs::metadata(entry.path()).is_ok_and(|m| ListedFile::of(&m) == listed) {
                candidate = Some(entry.path());
                break;
            }
        }
    }
    Ok(None)
}

/// Parses the bytes of the audit file `path` into `out`.
fn parse_into(path: &Path, bytes: &[u8], out: &mut ReadOutcome) {
    let mut rest: &[u8] = bytes;
    let mut line_no = 0;
    while !rest.is_empty() {
        line_no += 1;
        let (line, terminated) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                (line, true)
            }
            None => {
                let line = rest;
                rest = &[];
                (line, false)
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(line) {
            Ok(event) => out.events.push(event),
            Err(_) if !terminated => torn(out, path, line_no, line.len(), true),
            Err(reason) => recover(path, line_no, line, reason, out),
        }
    }
}

/// A terminated line that does not parse: either a torn fragment followed on the same
/// line by a complete line (another writer appended after a failed write), or a torn
/// fragment alone (the failed writer's next write started a new line), or corruption.
fn recover(path: &Path, line_no: usize, line: &[u8], reason: LineError, out: &mut ReadOutcome) {
    let mut from = 1;
    while let Some(pos) = find(&line[from..], LINE_START).map(|p| p + from) {
        if is_incomplete_json(&line[..pos]) {
            if let Ok(event) = parse_line(&line[pos..]) {
                torn(out, path, line_no, pos, false);
                out.events.push(event);
                return;
            }
        }
        from = pos + 1;
    }
    if is_incomplete_json(line) {
        torn(out, path, line_no, line.len(), false);
        return;
    }
    tracing::warn!(
        path = %path.display(),
        line = line_no,
        reason = %reason,
        "an audit line is not an audit event; the other lines are read"
    );
    out.corrupt.push(CorruptLine {
        path: path.to_path_buf(),
        line: line_no,
        reason: reason.to_string(),
    });
}

fn torn(out: &mut ReadOutcome, path: &Path, line: usize, bytes: usize, at_end: bool) {
    tracing::warn!(
        path = %path.display(),
        line,
        bytes,
        at_end,
        "skipping a torn audit line (a write cut short by a crash or a full disk; \
         its events were not acknowledged by this line)"
    );
    out.torn.push(TornLine {
        path: path.to_path_buf(),
        line,
        bytes,
        at_end,
    });
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `bytes` is the beginning of a JSON value that ends too early.
fn is_incomplete_json(bytes: &[u8]) -> bool {
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => false,
        Err(e) => e.is_eof(),
    }
}

/// Parses one line (without its `\n`) into an event, whose message keeps the line's text
/// byte for byte (numbers, escapes and key order as written; see
/// [`Message`](auditrail_core::Message)).
///
/// The line's members are taken as their raw JSON text, never as `serde_json` values,
/// whose numbers are 64-bit integers or `f64`: a value read that way would round an
/// integer beyond 64 bits, rewrite `-0` or `1E2`, decode escapes and sort keys, and
/// refuse a number beyond `f64` (`1e400`) that the writer wrote as it was sent. The
/// envelope's `severity` and `logger` are checked to be strings and left out; the
/// server-side provenance of an event server's `file` destination (`origAddress`,
/// `serverTimestamp`, `keyId`, `source`: see [`crate::line`]) becomes the event's
/// [`Received`](auditrail_core::Received); the other members are the event's wire
/// form, which [`Event::from_json`] reads.
pub fn parse_line(line: &[u8]) -> Result<Event, LineError> {
    let text = std::str::from_utf8(line).map_err(LineError::NotUtf8)?;
    let members: LineMembers<'_> = serde_json::from_str(text).map_err(LineError::Json)?;
    let mut event = String::with_capacity(text.len());
    let mut provenance = String::new();
    event.push('{');
    for (key, value) in members.0 {
        if PROVENANCE_KEYS.contains(&key.as_str()) {
            provenance.push(if provenance.is_empty() { '{' } else { ',' });
            provenance.push_str(&serde_json::to_string(&key).map_err(LineError::Json)?);
            provenance.push(':');
            provenance.push_str(value.get());
            continue;
        }
        if key == "severity" || key == "logger" {
            if serde_json::from_str::<String>(value.get()).is_err() {
                return Err(LineError::NotAString {
                    key,
                    value: value.get().to_owned(),
                });
            }
            continue;
        }
        if event.len() > 1 {
            event.push(',');
        }
        // A key of the envelope or of the wire form: written again as JSON (keys the
        // event does not know are refused by name below). The value is its text as read.
        event.push_str(&serde_json::to_string(&key).map_err(LineError::Json)?);
        event.push(':');
        event.push_str(value.get());
    }
    event.push('}');
    let mut event = Event::from_json(&event).map_err(LineError::Event)?;
    if !provenance.is_empty() {
        provenance.push('}');
        let p: Provenance = serde_json::from_str(&provenance).map_err(LineError::Provenance)?;
        event.received = Some(std::sync::Arc::new(p.into()));
    }
    Ok(event)
}

/// The members of an event server's `file` destination line that are no event field.
const PROVENANCE_KEYS: [&str; 4] = ["origAddress", "serverTimestamp", "keyId", "source"];

/// Those members, as [`auditrail_core::write_provenance`] writes them.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Provenance {
    #[serde(default)]
    orig_address: Option<std::net::IpAddr>,
    server_timestamp: auditrail_core::Timestamp,
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default)]
    source: Option<ProvenanceSource>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvenanceSource {
    kafka: ProvenanceKafka,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvenanceKafka {
    topic: String,
    partition: i32,
    offset: i64,
}

impl From<Provenance> for auditrail_core::Received {
    fn from(p: Provenance) -> Self {
        auditrail_core::Received {
            orig_address: p.orig_address,
            key_id: p.key_id,
            server_timestamp: p.server_timestamp,
            kafka: p.source.map(|s| auditrail_core::KafkaOrigin {
                topic: s.kafka.topic,
                partition: s.kafka.partition,
                offset: s.kafka.offset,
            }),
        }
    }
}

/// Why a line is no audit event ([`parse_line`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LineError {
    /// Not UTF-8.
    #[error("the line is not UTF-8: {0}")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// Not a JSON object.
    #[error(transparent)]
    Json(serde_json::Error),
    /// `severity` or `logger` that is not a string.
    #[error("{key}: expected a string, got {value}")]
    NotAString {
        /// The key.
        key: String,
        /// Its value as written.
        value: String,
    },
    /// The members are not an event's.
    #[error(transparent)]
    Event(auditrail_core::EventError),
    /// The server-side provenance members (`origAddress`, `serverTimestamp`, `keyId`,
    /// `source`) are not what an event server's `file` destination writes.
    #[error("the event server's provenance (origAddress, serverTimestamp, keyId, source): {0}")]
    Provenance(#[source] serde_json::Error),
}

/// The members of a line's JSON object in line order, each value as its raw text.
struct LineMembers<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for LineMembers<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Members<'a> {
            type Value = LineMembers<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object (the line is not a JSON object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(10);
                while let Some(entry) = map.next_entry::<String, &'a RawValue>()? {
                    out.push(entry);
                }
                Ok(LineMembers(out))
            }
        }
        d.deserialize_map(Members(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_line(seq: u64) -> String {
        format!(
            "{{\"severity\":\"INFO\",\"logger\":\"audit.generic\",\"id\":\"01936f6e-1b2c-7d3e-8f40-{seq:012x}\",\"timestamp\":\"2026-11-25T16:55:49.123Z\",\"topic\":\"generic\",\"node\":\"n\",\"seq\":{seq},\"message\":{{\"msgType\":\"login\"}}}}\n"
        )
    }

    /// A server's `file` destination line: its provenance members become the event's
    /// `Received`, as the line writer wrote them; members of another form are refused
    /// naming them, never taken as event fields nor dropped.
    #[test]
    fn provenance_members_are_read_back_and_checked() {
        let line = event_line(1);
        let with = |tail: &str| format!("{},{tail}}}", line.trim_end().strip_suffix('}').unwrap());
        let event = parse_line(
            with(r#""origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:49.431Z","keyId":"k1","source":{"kafka":{"topic":"t","partition":3,"offset":81}}"#)
                .as_bytes(),
        )
        .unwrap();
        let r = event.received.as_deref().unwrap();
        assert_eq!(r.orig_address, Some("10.0.0.7".parse().unwrap()));
        assert_eq!(r.key_id.as_deref(), Some("k1"));
        assert_eq!(r.server_timestamp.to_string(), "2026-11-25T16:55:49.431Z");
        assert_eq!(
            r.kafka.as_ref().map(|k| (k.partition, k.offset)),
            Some((3, 81))
        );
        // Written back, the line is the same.
        let mut out = Vec::new();
        crate::line::encode_line(
            &crate::line::LoggerName {
                prefix: "audit".into(),
                suffix: String::new(),
                append_topic: true,
            },
            &event,
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            with(
                r#""origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:49.431Z","keyId":"k1","source":{"kafka":{"topic":"t","partition":3,"offset":81}}"#
            ) + "\n"
        );
        for bad in [
            r#""origAddress":"nowhere","serverTimestamp":"2026-11-25T16:55:49.431Z","keyId":null"#,
            r#""origAddress":null,"keyId":"k1""#,
            r#""origAddress":null,"serverTimestamp":"2026-11-25T16:55:49.431Z","keyId":7"#,
        ] {
            let e = parse_line(with(bad).as_bytes()).unwrap_err();
            assert!(matches!(e, LineError::Provenance(_)), "{bad}: {e}");
        }
        assert!(parse_line(line.trim_end().as_bytes())
            .unwrap()
            .received
            .is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_a_device_given_as_an_audit_file_is_refused_at_once_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("audit.log");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        // Without the fix: the open waits for a writer for ever.
        for path in [fifo.as_path(), Path::new("/dev/zero")] {
            match read_audit_file(path) {
                Err(ReadError::Io { path: at, source }) => {
                    assert_eq!(at, path);
                    assert!(
                        auditrail_core::regular_file::is_not_regular(&source),
                        "{source}"
                    );
                }
                other => panic!("{path:?}: {other:?}"),
            }
        }
        // In a folder, it is no audit file: not read.
        assert!(!starts_like_an_audit_line(&fifo).unwrap());
    }

    #[test]
    fn a_listed_file_is_read_where_a_roll_moved_it_and_a_removed_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        fs::write(&path, event_line(1)).unwrap();
        let listed = ListedFile::of(&fs::metadata(&path).unwrap());
        fs::rename(&path, dir.path().join("audit.log.1")).unwrap();
        fs::write(&path, event_line(2)).unwrap();
        let read = read_listed_audit_file(&path, listed).unwrap().unwrap();
        assert_eq!(read.events.len(), 1);
        assert_eq!(read.events[0].seq, 1, "the listed file, not the new one");
        fs::remove_file(dir.path().join("audit.log.1")).unwrap();
        assert!(read_listed_audit_file(&path, listed).unwrap().is_none());
    }

    #[test]
    fn a_folder_scan_reads_what_targets_write_and_names_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let line = b"{\"severity\":\"INFO\"}\n";
        let put = |name: &str, bytes: &[u8]| fs::write(dir.path().join(name), bytes).unwrap();
        // A size-rolled target named by its lock file: its empty active file is its.
        put(".a.lock", b"");
        put("a", b"");
        put("a.2", line);
        // A rolled file whose beginning is damaged is still read (by its name).
        put("a.1", b"\0\0\0garbage\n");
        // Rolled files without their active file or lock (copied for an investigation).
        put("audit.log.1", line);
        // Period files, and an active file known only by its first line.
        put("events.2026-11-25", line);
        put("x.y.2026-11-25-17.z", line);
        put("audit.jsonl", line);
        // Not audit files.
        put("notes.txt", b"by hand\n");
        put("empty", b"");
        put(".DS_Store", b"x");
        fs::create_dir(dir.path().join("sub")).unwrap();

        let scan = scan_audit_folder(dir.path()).unwrap();
        let names: Vec<String> = scan
            .files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "a.2",
                "a.1",
                "a",
                "audit.jsonl",
                "audit.log.1",
                "events.2026-11-25",
                "x.y.2026-11-25-17.z"
            ]
        );
        let not: Vec<(String, NotAuditWhy)> = scan
            .not_audit
            .iter()
            .map(|f| {
                (
                    f.path.file_name().unwrap().to_string_lossy().into_owned(),
                    f.why,
                )
            })
            .collect();
        assert_eq!(
            not,
            [
                (".DS_Store".to_owned(), NotAuditWhy::Hidden),
                ("empty".to_owned(), NotAuditWhy::Empty),
                ("notes.txt".to_owned(), NotAuditWhy::NotAuditLines),
            ]
        );
    }

    #[test]
    fn incomplete_json_is_told_from_garbage() {
        assert!(is_incomplete_json(br#"{"severity":"INFO","log"#));
        assert!(is_incomplete_json(b"{"));
        assert!(!is_incomplete_json(b"garbage"));
        assert!(!is_incomplete_json(br#"{"a":1}"#));
        assert!(!is_incomplete_json(br#"{"a":1}}"#));
    }
}
