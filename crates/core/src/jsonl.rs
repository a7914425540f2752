//! Appending to a JSON-lines file: one writer for the node's append-only line files
//! (dead letters, here, and the receipts the eventserver target keeps).
//!
//! Such a file can end in part of a line: an append that failed part way (a full disk),
//! or a crash while the kernel had written only part of it. Appended as it is, the
//! next line would join that fragment, and neither would read back. So a file that
//! does not end with a newline gets one first: the fragment stays a line of its own,
//! which readers report by its number and skip or refuse, and the new lines read back.
//! The fragment is not cut away: several writers may append to one file, and a cut
//! could take another writer's line with it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Appends `lines` (each ending with a newline) to the file at `path`, creating it and
/// its folder if needed; ends a fragment first (see the module docs); with `fsync`,
/// syncs the file's data before returning. Blocking.
pub fn append(path: &Path, lines: &[u8], fsync: bool) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Read too: to see how the file ends (writes still go to its end).
    let mut f = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    if !ends_a_line(&mut f)? {
        f.write_all(b"\n")?;
    }
    f.write_all(lines)?;
    if fsync {
        f.sync_data()?;
    }
    Ok(())
}

/// Whether the file is empty or its last byte is a newline.
fn ends_a_line(f: &mut File) -> std::io::Result<bool> {
    if f.seek(SeekFrom::End(0))? == 0 {
        return Ok(true);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}
