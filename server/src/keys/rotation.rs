//! Re-encryption of stored credentials to the current key after a rotation.
//!
//! Each row is read, opened with the key its `key_id` names, sealed with the current key and
//! written back by one `UPDATE` (its own transaction) that matches the old `key_id` and the old
//! sealed bytes. A row that another instance changed in between is left alone, so its new value
//! is not overwritten. A stopped run resumes with the rows that still have an old id.

use sqlx::AnyPool;

use super::Keyring;
use crate::crypto;
use crate::oauth::service::token_context;
use crate::senders::secret_context;

/// Outcome of one re-encryption run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReencryptReport {
    /// Rows now sealed under the current key.
    pub moved: u64,
    /// Rows skipped because they changed between the read and the update.
    pub changed: u64,
    /// Rows that no key of the keyring opens, as `table id (key id)`.
    pub unreadable: Vec<String>,
}

/// Re-encrypts up to `max_rows` rows (all when `None`) not sealed under the current key, reading
/// `batch_size` rows at a time.
pub async fn reencrypt(
    pool: &AnyPool,
    keyring: &Keyring,
    batch_size: u32,
    max_rows: Option<u64>,
) -> sqlx::Result<ReencryptReport> {
    let mut report = ReencryptReport::default();
    let budget = max_rows.unwrap_or(u64::MAX);
    reencrypt_sender_secrets(pool, keyring, batch_size, budget, &mut report).await?;
    reencrypt_grants(pool, keyring, batch_size, budget, &mut report).await?;
    Ok(report)
}

type SecretRow = (String, String, String, String, Vec<u8>);

async fn reencrypt_sender_secrets(
    pool: &AnyPool,
    keyring: &Keyring,
    batch_size: u32,
    budget: u64,
    report: &mut ReencryptReport,
) -> sqlx::Result<()> {
    let current = keyring.current_id();
    let (mut after_sender, mut after_kind) = (String::new(), String::new());
    loop {
        let batch: Vec<SecretRow> = sqlx::query_as(
            "SELECT sender_secrets.sender_id, sender_secrets.kind, senders.account_id, sender_secrets.key_id,
                 sender_secrets.sealed
             FROM sender_secrets JOIN senders ON senders.id = sender_secrets.sender_id
             WHERE sender_secrets.key_id <> $1
                 AND (sender_secrets.sender_id > $2 OR (sender_secrets.sender_id = $2 AND sender_secrets.kind > $3))
             ORDER BY sender_secrets.sender_id, sender_secrets.kind
             LIMIT $4",
        )
        .bind(current)
        .bind(&after_sender)
        .bind(&after_kind)
        .bind(i64::from(batch_size))
        .fetch_all(pool)
        .await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        (after_sender, after_kind) = (last.0.clone(), last.1.clone());

        for (sender_id, kind, account_id, key_id, sealed) in batch {
            if report.moved >= budget {
                return Ok(());
            }
            let context = secret_context(&account_id, &sender_id, &kind);
            let Some(plaintext) = keyring
                .get(&key_id)
                .and_then(|key| crypto::open(key, &sealed, &context).ok())
            else {
                tracing::error!(
                    sender_id,
                    kind,
                    key_id,
                    "stored credential does not decrypt; left unchanged"
                );
                report
                    .unreadable
                    .push(format!("sender_secrets {sender_id}/{kind} ({key_id})"));
                continue;
            };
            let resealed = crypto::seal(keyring.current(), &plaintext, &context);
            let updated = sqlx::query(
                "UPDATE sender_secrets SET key_id = $1, sealed = $2
                 WHERE sender_id = $3 AND kind = $4 AND key_id = $5 AND sealed = $6",
            )
            .bind(current)
            .bind(resealed)
            .bind(&sender_id)
            .bind(&kind)
            .bind(&key_id)
            .bind(&sealed)
            .execute(pool)
            .await?
            .rows_affected();
            count_update(report, updated);
        }
    }
}

type GrantRow = (String, String, String, Vec<u8>, Vec<u8>);

async fn reencrypt_grants(
    pool: &AnyPool,
    keyring: &Keyring,
    batch_size: u32,
    budget: u64,
    report: &mut ReencryptReport,
) -> sqlx::Result<()> {
    let current = keyring.current_id();
    let mut after_id = String::new();
    loop {
        let batch: Vec<GrantRow> = sqlx::query_as(
            "SELECT id, account_id, key_id, sealed_refresh_token, sealed_access_token FROM oauth_grants
             WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(current)
        .bind(&after_id)
        .bind(i64::from(batch_size))
        .fetch_all(pool)
        .await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after_id = last.0.clone();

        for (grant_id, account_id, key_id, sealed_refresh, sealed_access) in batch {
            if report.moved >= budget {
                return Ok(());
            }
            let refresh_context = token_context("refresh_token", &account_id, &grant_id);
            let access_context = token_context("access_token", &account_id, &grant_id);
            let opened = keyring.get(&key_id).and_then(|key| {
                let refresh = crypto::open(key, &sealed_refresh, &refresh_context).ok()?;
                let access = crypto::open(key, &sealed_access, &access_context).ok()?;
                Some((refresh, access))
            });
            let Some((refresh, access)) = opened else {
                tracing::error!(grant_id, key_id, "stored OAuth tokens do not decrypt; left unchanged");
                report.unreadable.push(format!("oauth_grants {grant_id} ({key_id})"));
                continue;
            };
            let updated = sqlx::query(
                "UPDATE oauth_grants SET key_id = $1, sealed_refresh_token = $2, sealed_access_token = $3
                 WHERE id = $4 AND key_id = $5 AND sealed_refresh_token = $6 AND sealed_access_token = $7",
            )
            .bind(current)
            .bind(crypto::seal(keyring.current(), &refresh, &refresh_context))
            .bind(crypto::seal(keyring.current(), &access, &access_context))
            .bind(&grant_id)
            .bind(&key_id)
            .bind(&sealed_refresh)
            .bind(&sealed_access)
            .execute(pool)
            .await?
            .rows_affected();
            count_update(report, updated);
        }
    }
}

fn count_update(report: &mut ReencryptReport, rows_affected: u64) {
    if rows_affected == 1 {
        report.moved += 1;
    } else {
        report.changed += 1;
    }
}
