//! A string written as JSON exactly as `serde_json` writes it, its plain runs found
//! eight bytes at a time ([`super::string_end`]) and copied whole.
//!
//! `serde_json` looks every byte up in its escape table and copies it on its own: on
//! the ~200-byte string values of a message built with `EventDraft::field`, that scan
//! was a tenth of a node's CPU in the end-to-end bench (docs/benchmarks.md, stop 63).
//! The bytes written are the same (a test holds the two together): `"` and `\`
//! escaped with a backslash, `\b` `\f` `\n` `\r` `\t` by name, every other control
//! character as `\u00XX` in lower-case hex, everything else (DEL and all of Unicode)
//! as it is.

use super::string_end::to_string_special;

/// Appends `s` as a JSON string (quotes included) to `out`.
pub(super) fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut rest = s;
    loop {
        let plain = to_string_special(rest.as_bytes());
        // The byte at `plain` (if any) is ASCII, so both halves are whole characters.
        let (run, tail) = rest.split_at(plain);
        out.push_str(run);
        let Some(&special) = tail.as_bytes().first() else {
            break;
        };
        push_escape(out, special);
        rest = &tail[1..];
    }
    out.push('"');
}

/// `serde_json`'s escape of `b`, one of `"`, `\` or a control character.
fn push_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.push_str("\\\""),
        b'\\' => out.push_str("\\\\"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        _ => {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(s: &str) -> String {
        let mut out = String::from("x");
        write_str(&mut out, s);
        out.split_off(1)
    }

    /// Every ASCII character and a few others, alone and at every place of a string
    /// long enough for the word steps, their remainder and the long search.
    #[test]
    fn writes_what_serde_json_writes_for_every_character_at_every_place() {
        let mut chars: Vec<char> = (0u8..=0x7f).map(char::from).collect();
        chars.extend(['é', '€', '\u{2028}', '😀', '\u{ffff}']);
        for c in chars {
            for len in [0usize, 1, 7, 8, 15, 16, 17, 127, 128, 129, 200] {
                for at in [0, len / 2, len] {
                    let mut s: String = "a".repeat(len);
                    s.insert(at, c);
                    assert_eq!(ours(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn writes_what_serde_json_writes(s in any::<String>(), t in "[\\x00-\\x7f]{0,300}") {
            prop_assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
            prop_assert_eq!(ours(&t), serde_json::to_string(&t).unwrap());
        }
    }
}
