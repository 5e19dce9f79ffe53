//! API token secrets: 32 random bytes, shown once, stored as their SHA-256.

use base64::Engine;
use rand::RngExt;
use sha2::{Digest, Sha256};

/// Marks our secrets so leaked ones are easy to spot (secret scanners, logs).
const PREFIX: &str = "ntk_";

/// A new secret, as given to the integrator.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored and looked up: lowercase hex SHA-256 of the secret.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Equality that takes the same time wherever the first difference is.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hash_stably() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 43);
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(hash(&a).len(), 64);
        assert!(constant_time_eq(&hash(&a), &hash(&a)));
        assert!(!constant_time_eq(&hash(&a), &hash(&b)));
    }
}
