//! Sealing of stored credentials and keyed fingerprints, both under a server key. Callers
//! store the id of the key next to each sealed value (see [`crate::keys::Keyring`]).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::keys::ServerKey;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
#[error("the sealed value does not decrypt with this key and context")]
pub struct OpenError;

/// Derives a sub-key so encryption and fingerprints never use the same key.
fn sub_key(key: &ServerKey, purpose: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Encrypts `plaintext` with a fresh random nonce; `context` (the owner's ids) must be given
/// again to open it.
pub fn seal(key: &ServerKey, plaintext: &[u8], context: &str) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(&sub_key(key, "relais/seal/v1").into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);

    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: context.as_bytes(),
            },
        )
        .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");

    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    sealed
}

pub fn open(key: &ServerKey, sealed: &[u8], context: &str) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < NONCE_LEN {
        return Err(OpenError);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(&sub_key(key, "relais/seal/v1").into());
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| OpenError)
}

/// Computes a keyed SHA-256 of `parts`, hex-encoded. Each part is length-prefixed, so no two different
/// lists of parts hash the same input.
pub fn fingerprint(key: &ServerKey, parts: &[&str]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&sub_key(key, "relais/fingerprint/v1")).expect("any key length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> ServerKey {
        ServerKey::from_bytes([byte; 32])
    }

    #[test]
    fn sealed_value_opens_only_with_the_same_key_and_context() {
        let sealed = seal(&key(1), b"app password", "account-a/sender-1");

        assert_eq!(open(&key(1), &sealed, "account-a/sender-1").unwrap(), b"app password");
        assert!(open(&key(1), &sealed, "account-b/sender-1").is_err());
        assert!(open(&key(2), &sealed, "account-a/sender-1").is_err());
        assert!(!sealed.windows(12).any(|window| window == b"app password"));
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        assert_ne!(seal(&key(1), b"same", "ctx"), seal(&key(1), b"same", "ctx"));
    }

    #[test]
    fn tampered_or_truncated_values_do_not_open() {
        let mut sealed = seal(&key(1), b"secret", "ctx");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(open(&key(1), &sealed, "ctx").is_err());
        assert!(open(&key(1), &[0; 10], "ctx").is_err());
    }

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(&key(1), &["ab", "c"]), fingerprint(&key(1), &["a", "bc"]));
        assert_eq!(fingerprint(&key(1), &["a"]), fingerprint(&key(1), &["a"]));
        assert_ne!(fingerprint(&key(1), &["a"]), fingerprint(&key(2), &["a"]));
    }
}
