//! The text of an Ed25519 secret key file (`ed25519-secret:<64 lowercase hex>`, the
//! 32-byte seed of RFC 8032): one reader for the event server's `signing.key`
//! (auditrail-integrity) and a node's Kafka signing key (auditrail-target-kafka), so
//! that a key made by `auditrail keys new` reads the same everywhere. The public half
//! is written `ed25519:<64 hex>`.

/// What a secret key file's line starts with.
pub const SECRET_PREFIX: &str = "ed25519-secret:";
/// What a public key's text starts with.
pub const PUBLIC_PREFIX: &str = "ed25519:";

/// Why a secret key file's text holds no key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretKeyTextError {
    /// The text is not `ed25519-secret:` followed by the key.
    #[error("expected one line `ed25519-secret:<64 hex>`")]
    NotASecretKey,
    /// The key is not 64 hex characters.
    #[error("the secret is not 64 hex characters")]
    NotHex,
}

/// The seed in a secret key file's text (blanks around the line ignored).
pub fn parse_secret(text: &str) -> Result<[u8; 32], SecretKeyTextError> {
    let hex_part = text
        .trim()
        .strip_prefix(SECRET_PREFIX)
        .ok_or(SecretKeyTextError::NotASecretKey)?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut seed).map_err(|_| SecretKeyTextError::NotHex)?;
    Ok(seed)
}

/// A secret key file's text for `seed` (one line).
pub fn secret_text(seed: &[u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}\n", hex::encode(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_reads_back_and_bad_texts_say_why() {
        let seed = [7u8; 32];
        assert_eq!(parse_secret(&secret_text(&seed)), Ok(seed));
        assert_eq!(parse_secret(&format!("  {}", secret_text(&seed))), Ok(seed));
        assert_eq!(
            parse_secret("ed25519:00"),
            Err(SecretKeyTextError::NotASecretKey)
        );
        assert_eq!(
            parse_secret("ed25519-secret:abc"),
            Err(SecretKeyTextError::NotHex)
        );
    }
}
