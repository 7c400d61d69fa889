//! The keyring that encrypts stored credentials (SMTP passwords, OAuth tokens).
//!
//! A keyring is a list of `id:base64` entries, one per line in the key file or separated by
//! commas in `RELAIS_SECRET_KEY`. The first entry is the current key, which seals every new
//! value. The other entries only open values sealed before a rotation. A value without an id
//! (the format of Relais before key rotation) is read as the single key `k1`.

pub mod check;
pub mod command;
pub mod rotation;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;

pub const KEY_FILE_NAME: &str = "relais.key";
/// Id of the key in a key file or variable that contains a bare base64 value.
pub const LEGACY_KEY_ID: &str = "k1";
const KEY_LEN: usize = 32;
const MAX_KEY_ID_LEN: usize = 32;
const FILE_HEADER: &str = "# Relais keyring: one id:base64 entry per line. The first entry is the current key.\n\
                           # Keep a backup: without these keys the stored credentials cannot be decrypted.\n";

/// A 256-bit key. It never prints itself.
#[derive(Clone)]
pub struct ServerKey([u8; KEY_LEN]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

impl ServerKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn random() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }
}

/// Keys by id, the current one first. Never empty.
#[derive(Clone, Debug)]
pub struct Keyring {
    entries: Vec<(String, ServerKey)>,
}

/// Origin of the keyring, so that commands write a changed keyring back there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
}

impl Keyring {
    /// Parses a keyring: `id:base64` entries separated by newlines, commas or spaces, with `#`
    /// comment lines, or a single bare base64 value read as key `k1`.
    pub fn parse(text: &str) -> Option<Self> {
        let tokens: Vec<&str> = text
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .flat_map(|line| line.split([',', ' ', '\t']))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .collect();
        if let [single] = tokens.as_slice()
            && !single.contains(':')
        {
            return Some(Self {
                entries: vec![(LEGACY_KEY_ID.to_string(), decode(single)?)],
            });
        }

        let mut entries: Vec<(String, ServerKey)> = Vec::new();
        for token in tokens {
            let (id, encoded) = token.split_once(':')?;
            if !is_valid_id(id) || entries.iter().any(|(known, _)| known == id) {
                return None;
            }
            entries.push((id.to_string(), decode(encoded)?));
        }
        (!entries.is_empty()).then_some(Self { entries })
    }

    /// Builds a keyring of one key, for tests and first runs.
    pub fn single(id: &str, key: ServerKey) -> Self {
        Self {
            entries: vec![(id.to_string(), key)],
        }
    }

    pub fn current_id(&self) -> &str {
        &self.entries[0].0
    }

    /// Returns the key that seals new values.
    pub fn current(&self) -> &ServerKey {
        &self.entries[0].1
    }

    pub fn get(&self, id: &str) -> Option<&ServerKey> {
        self.entries.iter().find(|(known, _)| known == id).map(|(_, key)| key)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Returns the ids, the current one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(id, _)| id.as_str())
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, &ServerKey)> {
        self.entries.iter().map(|(id, key)| (id.as_str(), key))
    }

    /// Returns this keyring with a new random key in front, as the current key. Its id is `k`
    /// followed by one more than the highest number among the `kN` ids of the keyring and of
    /// `used_ids` (ids the database still names), so an id is never given to a second key.
    pub fn with_new_key<'a>(&'a self, used_ids: impl IntoIterator<Item = &'a str>) -> Self {
        let highest = self
            .ids()
            .chain(used_ids)
            .filter_map(|id| id.strip_prefix('k')?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let mut entries = vec![(format!("k{}", highest + 1), ServerKey::random())];
        entries.extend(self.entries.iter().cloned());
        Self { entries }
    }

    /// Returns this keyring without the key `id`, or `None` when `id` is the current key or
    /// not in the keyring.
    pub fn without(&self, id: &str) -> Option<Self> {
        if id == self.current_id() || !self.contains(id) {
            return None;
        }
        let entries = self.entries.iter().filter(|(known, _)| known != id).cloned().collect();
        Some(Self { entries })
    }

    /// Renames the key `id` in memory only. Start-up gives a key that does not match the
    /// database's check value for its id another id, so values it seals are never mixed up
    /// with values sealed under the original key of that id.
    pub(crate) fn rename(&mut self, id: &str, new_id: String) {
        if let Some(entry) = self.entries.iter_mut().find(|(known, _)| known == id) {
            entry.0 = new_id;
        }
    }

    /// Encodes the keyring for the key file: a comment header and one entry per line.
    pub fn to_file_text(&self) -> String {
        let mut text = String::from(FILE_HEADER);
        for (id, key) in &self.entries {
            text.push_str(&format!("{id}:{}\n", BASE64.encode(key.as_bytes())));
        }
        text
    }

    /// Encodes the keyring for `RELAIS_SECRET_KEY`: entries separated by commas.
    pub fn to_environment_value(&self) -> String {
        self.entries
            .iter()
            .map(|(id, key)| format!("{id}:{}", BASE64.encode(key.as_bytes())))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Returns whether `id` may name a key: 1 to 32 ASCII letters, digits, `-` or `_`.
fn is_valid_id(id: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "invalid RELAIS_SECRET_KEY: expected the base64 encoding of {KEY_LEN} bytes, or id:base64 entries \
         separated by commas"
    )]
    InvalidEnvironmentKey,
    #[error(
        "invalid key file {path}: expected the base64 encoding of {KEY_LEN} bytes, or one id:base64 entry per \
         line; restore it from a backup"
    )]
    InvalidKeyFile { path: PathBuf },
    #[error("cannot access key file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Returns the keyring from `RELAIS_SECRET_KEY` when given, otherwise from
/// `<data_dir>/relais.key`, with where it was read. Returns `None` when neither exists.
pub fn load(data_dir: &Path, environment_key: Option<&str>) -> Result<Option<(Keyring, KeySource)>, KeyError> {
    if let Some(encoded) = environment_key {
        let keyring = Keyring::parse(encoded).ok_or(KeyError::InvalidEnvironmentKey)?;
        return Ok(Some((keyring, KeySource::Environment)));
    }

    let path = key_file_path(data_dir);
    match fs::read_to_string(&path) {
        Ok(text) => {
            warn_if_readable_by_others(&path);
            let keyring = Keyring::parse(&text).ok_or_else(|| KeyError::InvalidKeyFile { path: path.clone() })?;
            Ok(Some((keyring, KeySource::File(path))))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Io { path, source }),
    }
}

pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE_NAME)
}

/// Creates `<data_dir>/relais.key` with one new random key `k1`, readable by its owner only.
/// Fails if the file exists.
pub fn create(data_dir: &Path) -> Result<Keyring, KeyError> {
    let path = key_file_path(data_dir);
    let io_error = |source| KeyError::Io {
        path: path.clone(),
        source,
    };
    create_private_dir(data_dir).map_err(io_error)?;
    let keyring = Keyring::single(LEGACY_KEY_ID, ServerKey::random());

    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(io_error)?;
    file.write_all(keyring.to_file_text().as_bytes()).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    tracing::info!(path = %path.display(), "created a new encryption key");
    Ok(keyring)
}

/// Replaces the key file with `keyring`: writes a temporary file with mode 0600 next to it and
/// renames it over the old one, so a crash leaves either the old or the new keyring.
pub fn save(path: &Path, keyring: &Keyring) -> Result<(), KeyError> {
    let io_error = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let temporary = path.with_extension("key.new");
    let _ = fs::remove_file(&temporary);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(io_error)?;
    file.write_all(keyring.to_file_text().as_bytes()).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    fs::rename(&temporary, path).map_err(io_error)?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = fs::File::open(dir)
    {
        let _ = dir.sync_all();
    }
    Ok(())
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
    fn created_key_file_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();

        let created = create(dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        let (loaded, source) = load(dir.path(), None).unwrap().unwrap();

        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(source, KeySource::File(dir.path().join(KEY_FILE_NAME)));
        assert_eq!(loaded.current_id(), "k1");
        assert_eq!(created.current().as_bytes(), loaded.current().as_bytes());
        assert!(create(dir.path()).is_err(), "an existing key file is never replaced");
    }

    #[test]
    fn missing_key_file_loads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path(), None).unwrap().is_none());
        assert!(!dir.path().join(KEY_FILE_NAME).exists());
    }

    #[test]
    fn environment_key_takes_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let encoded = BASE64.encode([7u8; KEY_LEN]);

        let (keyring, source) = load(dir.path(), Some(&encoded)).unwrap().unwrap();

        assert_eq!(source, KeySource::Environment);
        assert_eq!(keyring.current().as_bytes(), &[7u8; KEY_LEN]);
        assert!(!dir.path().join(KEY_FILE_NAME).exists());
    }

    #[test]
    fn bare_value_reads_as_key_k1() {
        let keyring = Keyring::parse(&BASE64.encode([3u8; KEY_LEN])).unwrap();
        assert_eq!(keyring.ids().collect::<Vec<_>>(), ["k1"]);
    }

    #[test]
    fn keyring_round_trips_file_and_variable() {
        let keyring = Keyring::single("k1", ServerKey([1; KEY_LEN]))
            .with_new_key([])
            .with_new_key(["k0"]);

        for text in [keyring.to_file_text(), keyring.to_environment_value()] {
            let parsed = Keyring::parse(&text).unwrap();
            assert_eq!(parsed.ids().collect::<Vec<_>>(), ["k3", "k2", "k1"]);
            assert_eq!(parsed.current().as_bytes(), keyring.current().as_bytes());
            assert_eq!(parsed.get("k1").unwrap().as_bytes(), &[1; KEY_LEN]);
        }
    }

    #[test]
    fn new_key_skips_used_ids() {
        let keyring = Keyring::single("k1", ServerKey([1; KEY_LEN])).with_new_key(["k4", "k2~0a1b2c3d"]);
        assert_eq!(keyring.current_id(), "k5");
    }

    #[test]
    fn removal_keeps_the_current_key() {
        let keyring = Keyring::single("k1", ServerKey([1; KEY_LEN])).with_new_key([]);

        assert!(keyring.without("k2").is_none());
        assert!(keyring.without("k9").is_none());
        assert_eq!(keyring.without("k1").unwrap().ids().collect::<Vec<_>>(), ["k2"]);
    }

    #[test]
    fn malformed_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let valid = BASE64.encode([7u8; KEY_LEN]);
        for value in [
            "c2hvcnQ=".to_string(),
            format!("k1:{valid},k1:{valid}"),
            format!("bad id!:{valid}"),
            format!("k1:{valid},{valid}"),
            ",".to_string(),
        ] {
            assert!(
                matches!(load(dir.path(), Some(&value)), Err(KeyError::InvalidEnvironmentKey)),
                "{value}"
            );
        }

        fs::write(dir.path().join(KEY_FILE_NAME), "not base64!").unwrap();
        assert!(matches!(load(dir.path(), None), Err(KeyError::InvalidKeyFile { .. })));
    }

    #[test]
    fn debug_output_hides_the_keys() {
        let keyring = Keyring::single("k1", ServerKey([1; KEY_LEN]));
        assert_eq!(format!("{:?}", ServerKey([1; KEY_LEN])), "ServerKey(..)");
        assert!(!format!("{keyring:?}").contains(&BASE64.encode([1; KEY_LEN])));
    }
}
