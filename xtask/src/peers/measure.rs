//! What the peers bench reads from the machine: a process's CPU time from `/proc`,
//! messages written to a file, and the machine's description.

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// User plus system CPU seconds process `pid` (all its threads) has used so far:
/// `utime` and `stime`, fields 14 and 15 of `/proc/PID/stat` (proc(5)), in clock ticks.
pub(crate) fn cpu_seconds(pid: u32) -> Result<f64, String> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    let ticks = cpu_ticks(&text).map_err(|e| format!("{path}: {e}"))?;
    Ok(ticks as f64 / clock_ticks_per_second())
}

/// `utime + stime` from the text of a `/proc/PID/stat`.
fn cpu_ticks(text: &str) -> Result<u64, String> {
    // Field 2 (the command) is in parentheses and may hold spaces: count from its end.
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or("no command field")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3, so field N is at index N - 3.
    let ticks = |n: usize| -> Result<u64, String> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("field {n} missing or not a number"))
    };
    Ok(ticks(14)? + ticks(15)?)
}

/// `getconf CLK_TCK` (the unit of `/proc/PID/stat`'s times), 100 if it cannot be asked.
fn clock_ticks_per_second() -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// What a line-per-message file held once its writer was done.
pub(super) struct Written {
    /// Complete lines.
    pub lines: u64,
    /// Bytes in the file.
    pub bytes: u64,
    /// Time of the last write (the file's mtime).
    pub last_write: SystemTime,
}

/// Follows `file` until it holds `expected` lines, or until it has not grown for
/// `stall` (fewer messages arrived than were sent); each byte is read once.
pub(super) fn wait_for_lines(
    file: &Path,
    expected: u64,
    stall: Duration,
) -> Result<Written, String> {
    let mut opened: Option<std::fs::File> = None;
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut last_growth = Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if opened.is_none() {
            opened = std::fs::File::open(file).ok();
        }
        if let Some(f) = opened.as_mut() {
            loop {
                let n = f
                    .read(&mut buf)
                    .map_err(|e| format!("reading {}: {e}", file.display()))?;
                if n == 0 {
                    break;
                }
                bytes += n as u64;
                lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                last_growth = Instant::now();
            }
        }
        if lines >= expected || last_growth.elapsed() > stall {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let last_write = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(Written {
        lines,
        bytes,
        last_write,
    })
}

/// The machine, in one line: cores, CPU model, memory, kernel, distribution.
pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = field(&cpuinfo, "model name", ':').unwrap_or("unknown CPU");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = field(&meminfo, "MemTotal", ':')
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let distro = field(&os, "PRETTY_NAME", '=').map_or("unknown", |v| v.trim_matches('"'));
    format!(
        "{cores} cores ({model}), {mem_gib:.0} GiB, Linux {}, {distro}",
        kernel.trim()
    )
}

/// `/proc/loadavg`'s 1-minute load average.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The file system type and device holding `dir` (longest mount point in
/// `/proc/mounts` that contains it), and for ext4 whether it has a journal: fsync means
/// little on tmpfs, and costs less on ext4 without a journal.
pub(crate) fn file_system(dir: &Path) -> String {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let Some((_, fs, dev)) = mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && dir.starts_with(f[1])).then(|| (f[1].len(), f[2], f[0]))
        })
        .max_by_key(|m| m.0)
    else {
        return "unknown".into();
    };
    // ext4 shows its journal thread here, `<none>` when it has no journal.
    let journal = Path::new(dev)
        .file_name()
        .map(|name| Path::new("/sys/fs/ext4").join(name).join("journal_task"))
        .and_then(|p| std::fs::read_to_string(p).ok());
    match journal.as_deref().map(str::trim) {
        Some("<none>") if fs == "ext4" => format!("{fs} without journal on {dev}"),
        _ => format!("{fs} on {dev}"),
    }
}

/// The value after `sep` on the first line starting with `key`.
fn field<'a>(text: &'a str, key: &str, sep: char) -> Option<&'a str> {
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(sep))
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_even_when_the_command_has_spaces_and_parentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
        // cmajflt utime stime cutime cstime ...
        let stat = "4242 (a b) c)) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 75 9 9 20 0 6 0";
        assert_eq!(cpu_ticks(stat), Ok(325));
    }

    #[test]
    fn a_truncated_stat_is_an_error_naming_the_field() {
        let err = cpu_ticks("4242 (x) S 1 2 3").unwrap_err();
        assert!(err.contains("field 14"), "{err}");
    }
}
