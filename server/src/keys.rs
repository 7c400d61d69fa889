//! The server key that encrypts stored credentials (SMTP passwords, OAuth tokens).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;

pub const KEY_FILE_NAME: &str = "relais.key";
const KEY_LEN: usize = 32;

/// A 256-bit key. It never prints itself.
#[derive(Clone)]
pub struct ServerKey([u8; KEY_LEN]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

impl ServerKey {
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid RELAIS_SECRET_KEY: expected the base64 encoding of {KEY_LEN} bytes")]
    InvalidEnvironmentKey,
    #[error("invalid key file {path}: expected the base64 encoding of {KEY_LEN} bytes; restore it from a backup")]
    InvalidKeyFile { path: PathBuf },
    #[error("cannot access key file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Returns the key from `RELAIS_SECRET_KEY` when given, otherwise from `<data_dir>/relais.key`,
/// which is created with mode 0600 on first run.
pub fn load_or_create(data_dir: &Path, environment_key: Option<&str>) -> Result<ServerKey, KeyError> {
    if let Some(encoded) = environment_key {
        return decode(encoded).ok_or(KeyError::InvalidEnvironmentKey);
    }

    let path = data_dir.join(KEY_FILE_NAME);
    let io_error = |source| KeyError::Io {
        path: path.clone(),
        source,
    };

    match fs::read_to_string(&path) {
        Ok(encoded) => {
            warn_if_readable_by_others(&path);
            decode(&encoded).ok_or_else(|| KeyError::InvalidKeyFile { path: path.clone() })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            create_private_dir(data_dir).map_err(io_error)?;
            let mut bytes = [0u8; KEY_LEN];
            rand::rngs::OsRng.fill_bytes(&mut bytes);

            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io_error)?;
            file.write_all(BASE64.encode(bytes).as_bytes()).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
            tracing::info!(path = %path.display(), "created a new encryption key");

            Ok(ServerKey(bytes))
        }
        Err(error) => Err(io_error(error)),
    }
}

/// Creates the data directory readable by its owner only, since it contains the key and the
/// database. An existing directory keeps its permissions.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

fn decode(encoded: &str) -> Option<ServerKey> {
    let bytes = BASE64.decode(encoded.trim()).ok()?;
    Some(ServerKey(bytes.try_into().ok()?))
}

fn warn_if_readable_by_others(path: &Path) {
    if let Ok(metadata) = fs::metadata(path)
        && metadata.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the key file is readable by other users; run chmod 600 on it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_run_creates_a_private_key_file_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();

        let created = load_or_create(dir.path(), None).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        let loaded = load_or_create(dir.path(), None).unwrap();

        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(created.as_bytes(), loaded.as_bytes());
    }

    #[test]
    fn environment_key_takes_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let encoded = BASE64.encode([7u8; KEY_LEN]);

        let key = load_or_create(dir.path(), Some(&encoded)).unwrap();

        assert_eq!(key.as_bytes(), &[7u8; KEY_LEN]);
        assert!(!dir.path().join(KEY_FILE_NAME).exists());
    }

    #[test]
    fn malformed_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_or_create(dir.path(), Some("c2hvcnQ=")),
            Err(KeyError::InvalidEnvironmentKey)
        ));

        fs::write(dir.path().join(KEY_FILE_NAME), "not base64!").unwrap();
        assert!(matches!(
            load_or_create(dir.path(), None),
            Err(KeyError::InvalidKeyFile { .. })
        ));
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert_eq!(format!("{:?}", ServerKey([1; KEY_LEN])), "ServerKey(..)");
    }
}
