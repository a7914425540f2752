//! The one rule that turns a topic or a routing key into a folder name.
//!
//! A name is its own folder name when it is **plain**: 1 to [`VERBATIM_MAX_BYTES`]
//! bytes of `[a-z0-9._-]`, not starting with `.` or `-`. Every other name (upper case,
//! spaces, non-ASCII letters, control or format characters such as bidirectional
//! overrides, a leading `.` that would hide the folder or a leading `-` that reads as a
//! command-line option, or simply too long) gets the **hashed** form
//!
//! ```text
//! <readable prefix>~<32 lowercase hex>
//! ```
//!
//! where the prefix is the name with `A-Z` lowered, every other character outside
//! `[a-z0-9._-]` replaced by `_`, a leading `.` or `-` replaced by `_`, cut to
//! [`PREFIX_MAX_BYTES`] bytes; and the hex is the first 16 bytes of the SHA-256 of the
//! exact name (UTF-8). So every folder name is ASCII, at most [`FOLDER_NAME_MAX_BYTES`]
//! bytes (within `NAME_MAX` = 255 of every common file system, and 143 of eCryptfs),
//! never hidden, never an option, and the same on case-insensitive file systems for
//! names that differ only in case (their hashes differ). Plain names never contain `~`,
//! so a hashed form never equals a plain name.
//!
//! The folder name is only where a record is filed: every record keeps the exact
//! topic and routing key, and readers tell events apart by them.
//!
//! ```
//! use auditrail_store::folder_name;
//! assert_eq!(folder_name("svc-a"), "svc-a");
//! assert_eq!(folder_name(".hidden").len(), "_hidden~".len() + 32);
//! assert!(folder_name(".hidden").starts_with("_hidden~"));
//! assert!(folder_name(&"é".repeat(128)).len() <= auditrail_store::FOLDER_NAME_MAX_BYTES);
//! ```

use std::borrow::Cow;

use sha2::{Digest, Sha256};

/// Longest name used verbatim as a folder name, in bytes.
pub const VERBATIM_MAX_BYTES: usize = 128;
/// Longest readable prefix of a hashed folder name, in bytes.
pub const PREFIX_MAX_BYTES: usize = 64;
/// Hex digits of the hash of a hashed folder name.
const HASH_HEX: usize = 32;
/// Separates the prefix from the hash; never in a plain name.
const SEPARATOR: char = '~';
/// Longest folder name the rule makes, in bytes.
pub const FOLDER_NAME_MAX_BYTES: usize = VERBATIM_MAX_BYTES;

const _: () = assert!(PREFIX_MAX_BYTES + 1 + HASH_HEX <= FOLDER_NAME_MAX_BYTES);

/// The folder name of a topic or routing key (see the module doc).
pub fn folder_name(name: &str) -> Cow<'_, str> {
    if is_plain(name) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(PREFIX_MAX_BYTES + 1 + HASH_HEX);
    for c in name.chars().take(PREFIX_MAX_BYTES) {
        out.push(match c {
            'a'..='z' | '0'..='9' | '.' | '_' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        });
    }
    if out.starts_with(['.', '-']) {
        out.replace_range(..1, "_");
    }
    out.push(SEPARATOR);
    let hash = Sha256::digest(name.as_bytes());
    out.push_str(&hex::encode(&hash[..HASH_HEX / 2]));
    Cow::Owned(out)
}

/// Whether `name` is its own folder name.
pub fn is_plain(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= VERBATIM_MAX_BYTES
        && !matches!(b[0], b'.' | b'-')
        && b.iter()
            .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
}

/// Whether `folder` has the hashed form (a prefix the rule can make, `~`, 32 lowercase
/// hex digits).
pub fn is_hashed(folder: &str) -> bool {
    let Some((prefix, hash)) = folder.rsplit_once(SEPARATOR) else {
        return false;
    };
    !prefix.is_empty()
        && prefix.len() <= PREFIX_MAX_BYTES
        && !prefix.starts_with(['.', '-'])
        && prefix
            .bytes()
            .all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
        && hash.len() == HASH_HEX
        && hash.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_their_own_folder() {
        for name in [
            "generic",
            "svc-a",
            "a.b_c-9",
            "_none",
            "x..y",
            &"k".repeat(128),
        ] {
            assert_eq!(folder_name(name), name);
            assert!(!is_hashed(name), "{name}");
        }
    }

    #[test]
    fn every_other_name_is_hashed_readable_and_bounded() {
        for (name, prefix) in [
            (".hidden", "_hidden"),
            ("..", "_."),
            ("-rf", "_rf"),
            ("Deployment 42", "deployment_42"),
            ("svc\u{202e}txt.exe", "svc_txt.exe"),
            ("é", "_"),
            ("a~b", "a_b"),
        ] {
            let f = folder_name(name);
            assert!(f.starts_with(&format!("{prefix}~")), "{name:?} -> {f}");
            assert!(is_hashed(&f), "{f}");
        }
        let long_name = "k".repeat(129);
        let long = folder_name(&long_name);
        assert_eq!(long.len(), PREFIX_MAX_BYTES + 1 + HASH_HEX);
        assert!(folder_name(&"é".repeat(256)).is_ascii());
    }

    #[test]
    fn names_that_differ_only_in_case_get_different_folders() {
        let upper = folder_name("Svc");
        let lower = folder_name("svc");
        assert_ne!(upper.to_lowercase(), lower.to_lowercase());
        assert_ne!(folder_name("SVC"), upper);
    }
}
