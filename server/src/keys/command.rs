//! The `relais keys` subcommands: status, rotate, reencrypt and remove.

use std::process::ExitCode;

use anyhow::Context;
use sqlx::AnyPool;

use super::check::{self, KeyUsage};
use super::{KeySource, Keyring, rotation};
use crate::config::Config;

const DEFAULT_BATCH_SIZE: u32 = 100;
const MAX_BATCH_SIZE: u32 = 10_000;
/// The commands need one connection at a time.
const COMMAND_CONNECTIONS: u32 = 2;

/// Usage lines of `relais keys`, printed by `relais --help` too.
pub const USAGE: &str = "  relais keys status
      Prints each key id, whether it is current, and how many stored credentials it seals.
  relais keys rotate
      Adds a new random key to the keyring as the current key. Refused while credentials still
      use an older key of the keyring. With the key file, rewrites it. With RELAIS_SECRET_KEY,
      prints the new value to set instead. Then restart every instance with the new keyring and
      run `relais keys reencrypt`.
  relais keys reencrypt [--batch-size N]
      Re-encrypts every stored credential to the current key, N rows per read (default 100).
      Safe while instances run, and resumes where it stopped when run again.
  relais keys remove ID
      Removes the old key ID from the keyring. Refused for the current key and while
      credentials still use ID.
";

enum Subcommand {
    Status,
    Rotate,
    Reencrypt { batch_size: u32 },
    Remove { key_id: String },
}

fn parse(arguments: &[String]) -> Result<Subcommand, String> {
    let words: Vec<&str> = arguments.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["status"] => Ok(Subcommand::Status),
        ["rotate"] => Ok(Subcommand::Rotate),
        ["reencrypt"] => Ok(Subcommand::Reencrypt {
            batch_size: DEFAULT_BATCH_SIZE,
        }),
        ["reencrypt", "--batch-size", value] => match value.parse::<u32>() {
            Ok(batch_size) if (1..=MAX_BATCH_SIZE).contains(&batch_size) => Ok(Subcommand::Reencrypt { batch_size }),
            _ => Err(format!(
                "invalid --batch-size {value:?}: expected a whole number from 1 to {MAX_BATCH_SIZE}"
            )),
        },
        ["remove", key_id] => Ok(Subcommand::Remove {
            key_id: key_id.to_string(),
        }),
        _ => Err(format!(
            "unknown arguments {:?} for `relais keys`: expected status, rotate, reencrypt [--batch-size N] or \
             remove ID",
            words.join(" ")
        )),
    }
}

/// Runs `relais keys ARGUMENTS` and returns the process exit code: 0 on success, 1 when the
/// command was refused or failed, 2 for invalid arguments or configuration.
pub async fn run(arguments: &[String]) -> ExitCode {
    let subcommand = match parse(arguments) {
        Ok(subcommand) => subcommand,
        Err(message) => {
            eprintln!("relais: {message}; run `relais --help` for usage");
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("relais: {error}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init_for_command(config.log_format);

    match execute(subcommand, &config).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("relais: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(subcommand: Subcommand, config: &Config) -> anyhow::Result<ExitCode> {
    let database = crate::db::connect_and_migrate(&config.database_url, COMMAND_CONNECTIONS).await?;
    let pool = database.pool;
    let (keyring, source) = check::open_keyring(&pool, &config.data_dir, config.secret_key.as_deref()).await?;
    // The keyring as configured, without the substitute ids of mismatched keys, is the one
    // written back.
    let (configured, _) =
        super::load(&config.data_dir, config.secret_key.as_deref())?.context("the keyring disappeared")?;

    match subcommand {
        Subcommand::Status => status(&pool, &keyring, &source).await,
        Subcommand::Rotate => rotate(&pool, &keyring, &configured, &source).await,
        Subcommand::Reencrypt { batch_size } => reencrypt(&pool, &keyring, batch_size).await,
        Subcommand::Remove { key_id } => remove(&pool, &configured, &source, &key_id).await,
    }
}

async fn status(pool: &AnyPool, keyring: &Keyring, source: &KeySource) -> anyhow::Result<ExitCode> {
    let usage = check::usage(pool).await?;
    println!("Keyring: {}", check::describe(source));
    println!(
        "{:<20} {:<22} {:>14} {:>12}",
        "KEY ID", "STATE", "SMTP PASSWORDS", "OAUTH GRANTS"
    );
    for id in keyring.ids() {
        let state = match (id == keyring.current_id(), id.contains('~')) {
            (true, false) => "current",
            (true, true) => "current, mismatched",
            (false, false) => "old",
            (false, true) => "old, mismatched",
        };
        let entry = usage_of(&usage, id);
        println!(
            "{id:<20} {state:<22} {:>14} {:>12}",
            entry.sender_secrets, entry.oauth_grants
        );
    }
    for entry in usage.iter().filter(|entry| !keyring.contains(&entry.key_id)) {
        println!(
            "{:<20} {:<22} {:>14} {:>12}",
            entry.key_id, "missing (unreadable)", entry.sender_secrets, entry.oauth_grants
        );
    }
    let pending = pending_rows(&usage, keyring);
    if pending > 0 {
        println!("{pending} credentials use an older key: run `relais keys reencrypt`.");
    }
    Ok(ExitCode::SUCCESS)
}

async fn rotate(
    pool: &AnyPool,
    keyring: &Keyring,
    configured: &Keyring,
    source: &KeySource,
) -> anyhow::Result<ExitCode> {
    let usage = check::usage(pool).await?;
    let pending = pending_rows(&usage, keyring);
    if pending > 0 {
        eprintln!(
            "relais: no key added, because {pending} credentials still use an older key of the keyring: run \
             `relais keys reencrypt` to finish the previous rotation first"
        );
        return Ok(ExitCode::FAILURE);
    }

    let checked_ids = check::checked_key_ids(pool).await?;
    let used_ids = usage
        .iter()
        .map(|entry| entry.key_id.as_str())
        .chain(checked_ids.iter().map(String::as_str));
    let rotated = configured.with_new_key(used_ids);
    let new_id = rotated.current_id().to_string();
    check::ensure_check(pool, &new_id, rotated.current()).await?;

    write_keyring(source, &rotated)?;
    eprintln!(
        "relais: added key {new_id} as the current key. Restart every Relais instance with the new keyring, then \
         run `relais keys reencrypt`."
    );
    Ok(ExitCode::SUCCESS)
}

async fn reencrypt(pool: &AnyPool, keyring: &Keyring, batch_size: u32) -> anyhow::Result<ExitCode> {
    let report = rotation::reencrypt(pool, keyring, batch_size, None)
        .await
        .context("re-encryption stopped on a database error; run it again to resume")?;
    let usage = check::usage(pool).await?;
    let pending = pending_rows(&usage, keyring);

    println!(
        "Re-encrypted {} credentials to key {}; {} changed during the run and were skipped.",
        report.moved,
        keyring.current_id(),
        report.changed
    );
    for row in &report.unreadable {
        println!("Unreadable, left unchanged: {row}");
    }
    if pending > 0 {
        println!("{pending} credentials still use an older key: run `relais keys reencrypt` again.");
        return Ok(ExitCode::FAILURE);
    }
    if !report.unreadable.is_empty() {
        println!(
            "{} credentials cannot be decrypted by any key of the keyring: their users must re-enter the password \
             or reconnect the account.",
            report.unreadable.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(pool: &AnyPool, configured: &Keyring, source: &KeySource, key_id: &str) -> anyhow::Result<ExitCode> {
    if key_id == configured.current_id() {
        eprintln!("relais: key {key_id} is the current key and cannot be removed; rotate first");
        return Ok(ExitCode::FAILURE);
    }
    let Some(reduced) = configured.without(key_id) else {
        let ids = configured.ids().collect::<Vec<_>>().join(", ");
        eprintln!("relais: key {key_id} is not in the keyring (keys: {ids})");
        return Ok(ExitCode::FAILURE);
    };
    // Values sealed by a mismatched key carry its substitute id, `ID~` and a tag.
    let substitute_prefix = format!("{key_id}~");
    let in_use: i64 = check::usage(pool)
        .await?
        .iter()
        .filter(|entry| entry.key_id == key_id || entry.key_id.starts_with(&substitute_prefix))
        .map(KeyUsage::rows)
        .sum();
    if in_use > 0 {
        eprintln!(
            "relais: key {key_id} still seals {in_use} credentials and was not removed: run `relais keys reencrypt` \
             first"
        );
        return Ok(ExitCode::FAILURE);
    }

    write_keyring(source, &reduced)?;
    eprintln!("relais: removed key {key_id} from the keyring.");
    Ok(ExitCode::SUCCESS)
}

/// Writes the key file, or prints the new `RELAIS_SECRET_KEY` value once on standard output.
fn write_keyring(source: &KeySource, keyring: &Keyring) -> anyhow::Result<()> {
    match source {
        KeySource::File(path) => {
            super::save(path, keyring)?;
            eprintln!("relais: wrote the keyring to {}; keep a backup of it.", path.display());
        }
        KeySource::Environment => {
            eprintln!(
                "relais: WARNING: the line below is a secret. Set it as RELAIS_SECRET_KEY on every instance and in \
                 your backup, and do not store it in logs."
            );
            println!("RELAIS_SECRET_KEY={}", keyring.to_environment_value());
        }
    }
    Ok(())
}

/// Returns the rows sealed under a key of the keyring other than the current one, which a
/// re-encryption can move.
fn pending_rows(usage: &[KeyUsage], keyring: &Keyring) -> i64 {
    usage
        .iter()
        .filter(|entry| entry.key_id != keyring.current_id() && keyring.contains(&entry.key_id))
        .map(KeyUsage::rows)
        .sum()
}

fn usage_of(usage: &[KeyUsage], id: &str) -> KeyUsage {
    usage
        .iter()
        .find(|entry| entry.key_id == id)
        .cloned()
        .unwrap_or(KeyUsage {
            key_id: id.to_string(),
            sender_secrets: 0,
            oauth_grants: 0,
        })
}
