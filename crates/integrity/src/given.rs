//! The text of a file an operator names to a command (`verify --witness`, `--receipts`,
//! `--proof`, `--public-key`, `keys public --key`): a regular file or a pipe
//! (`<(...)`), read through [`auditrail_core::regular_file::read_given`], so that a
//! device (`/dev/zero`), a socket or a file larger than its format's bound is refused
//! at once naming the file and the bound, and a FIFO nobody writes is given up after
//! [`auditrail_core::regular_file::PIPE_WAIT`], instead of taking the memory or
//! hanging the command.

use std::path::Path;

use auditrail_core::regular_file::{read_given, Reading};

use crate::IntegrityError;

/// The most a witness file (`verify --witness`) may hold: 1 GiB, some two million
/// checkpoint lines of about 500 bytes (years of a checkpoint a minute).
pub const MAX_WITNESS_FILE_BYTES: u64 = 1 << 30;

/// The most a receipt file (`verify --receipts`) may hold: 1 GiB, some two million
/// receipts (one per batch a node sent).
pub const MAX_RECEIPT_FILE_BYTES: u64 = 1 << 30;

/// The most a proof bundle (`verify --proof`) may hold: 128 MiB, room for one record of
/// the largest event a server takes by default (16 MiB, `max_body_bytes`) however its
/// JSON escapes it, and its path and lines.
pub const MAX_PROOF_BUNDLE_BYTES: u64 = 128 << 20;

/// The file at `path`, of at most `limit` bytes, as UTF-8 (see the module docs).
pub fn read_given_text(path: &Path, limit: u64) -> Result<String, IntegrityError> {
    let bytes = read_given(path, limit, Reading::Start).map_err(|e| IntegrityError::io(path, e))?;
    utf8_text(path, bytes)
}

/// The bytes read from `path` as UTF-8, refused with the words of
/// `std::fs::read_to_string` (which these files were read with before): the one
/// conversion of the files this crate reads as text.
pub(crate) fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String, IntegrityError> {
    String::from_utf8(bytes).map_err(|_| {
        IntegrityError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ),
        )
    })
}
