//! Application secrets (the secret tokens roster sends to targets) at rest: sealed with ChaCha20-Poly1305 under a
//! 256-bit key that never enters the database. The key comes from `ROSTER_SECRET_KEY` (64 hex digits) or from the
//! file `secret.key` in the data directory, created with mode 0600 on first use. A sealed value is the 12-byte
//! random nonce followed by the ciphertext and its tag; opening fails (and says so) when the key is not the one
//! that sealed it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

const NONCE_LEN: usize = 12;
/// The environment variable that holds the key, as 64 hex digits.
pub const KEY_ENV: &str = "ROSTER_SECRET_KEY";
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secret.key";

/// The key that seals application secrets. Its `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct SecretKey {
    cipher: ChaCha20Poly1305,
    origin: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl SecretKey {
    /// The key from `ROSTER_SECRET_KEY`, else from `DATA/secret.key` (created when missing).
    pub fn load(data_dir: &Path) -> anyhow::Result<SecretKey> {
        if let Ok(hex_key) = std::env::var(KEY_ENV) {
            let bytes = decode_key(hex_key.trim()).with_context(|| format!("{KEY_ENV} is not a key"))?;
            return Ok(SecretKey::from_bytes(&bytes, KEY_ENV.to_owned()));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = decode_key(text.trim()).with_context(|| format!("{} is not a key", path.display()))?;
                Ok(SecretKey::from_bytes(&bytes, path.display().to_string()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => create_key_file(&path),
            Err(error) => Err(error).with_context(|| format!("cannot read the secret key {}", path.display())),
        }
    }

    fn from_bytes(bytes: &[u8; 32], origin: String) -> SecretKey {
        SecretKey { cipher: ChaCha20Poly1305::new(Key::from_slice(bytes)), origin }
    }

    /// Seals a secret.
    pub fn seal(&self, plaintext: &str) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| anyhow!("could not encrypt the secret"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a sealed secret.
    pub fn open(&self, sealed: &[u8]) -> anyhow::Result<String> {
        if sealed.len() < NONCE_LEN {
            bail!("the stored secret is damaged (too short)");
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plaintext = self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).map_err(|_| {
            anyhow!(
                "the stored secret token cannot be decrypted with the key from {}: it was sealed with another key; \
                 restore that key, or set the token again (secret_token in a file given to `roster app apply`)",
                self.origin
            )
        })?;
        String::from_utf8(plaintext).map_err(|_| anyhow!("the stored secret is not text"))
    }
}

fn decode_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(text).map_err(|_| anyhow!("expected 64 hex digits"))?;
    bytes.try_into().map_err(|_| anyhow!("expected 64 hex digits (32 bytes)"))
}

fn create_key_file(path: &PathBuf) -> anyhow::Result<SecretKey> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(hex::encode(bytes).as_bytes())
                .and_then(|()| file.write_all(b"\n"))
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the secret key {}", path.display()))?;
            Ok(SecretKey::from_bytes(&bytes, path.display().to_string()))
        }
        // Another process created it first: use theirs.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let bytes = decode_key(text.trim()).with_context(|| format!("{} is not a key", path.display()))?;
            Ok(SecretKey::from_bytes(&bytes, path.display().to_string()))
        }
        Err(error) => Err(error).with_context(|| format!("cannot create the secret key {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_wrong_key() {
        let directory = tempfile::tempdir().unwrap();
        let key = SecretKey::load(directory.path()).unwrap();
        let sealed = key.seal("ghp_secret").unwrap();
        assert!(!sealed.windows(10).any(|window| window == b"ghp_secret"));
        assert_eq!(key.open(&sealed).unwrap(), "ghp_secret");
        // The same file gives the same key.
        assert_eq!(SecretKey::load(directory.path()).unwrap().open(&sealed).unwrap(), "ghp_secret");
        let other = SecretKey::load(tempfile::tempdir().unwrap().path()).unwrap();
        assert!(other.open(&sealed).unwrap_err().to_string().contains("sealed with another key"));
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert!(key.open(&tampered).is_err());
        assert!(key.open(&sealed[..5]).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(directory.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
