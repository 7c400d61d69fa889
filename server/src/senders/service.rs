//! Lists, saves and deletes the senders of the signed-in account.

use std::sync::Arc;

use app::error::AppError;
use app::senders::activity::ActivityKind;
use app::senders::settings::SenderForm;
use app::senders::{SenderList, SenderView};
use sqlx::AnyPool;

use super::resolve::{SignIn, database_failure, secret_context};
use super::store::{self, SMTP_PASSWORD};
use crate::accounts::Account;
use crate::activity;
use crate::client_address::ClientAddress;
use crate::config::SenderLimits;
use crate::crypto;
use crate::keys::Keyring;
use crate::oauth::{OAuthService, grants};
use crate::smtp::TransportPolicy;

/// A passing test lets these settings be saved for this long.
const PROOF_MAX_AGE_SECS: i64 = 30 * 60;

pub struct SenderService {
    pub pool: AnyPool,
    pub keyring: Keyring,
    pub limits: SenderLimits,
    pub policy: TransportPolicy,
    pub platform_default: Option<String>,
    pub oauth: Arc<OAuthService>,
}

impl SenderService {
    pub async fn list(&self, account: &Account) -> Result<SenderList, AppError> {
        let rows = store::list(&self.pool, &account.id)
            .await
            .map_err(database_failure(&account.id, "failed to list senders"))?;
        Ok(SenderList {
            platform_default: self.platform_default.clone(),
            senders: rows.iter().map(|row| row.view(&self.keyring)).collect(),
            oauth: self.oauth.availability(),
        })
    }

    pub async fn save(
        &self,
        account: &Account,
        form: SenderForm,
        client: ClientAddress,
    ) -> Result<SenderView, AppError> {
        let resolved = self.resolve(account, &form).await?;
        let fingerprint = self.proof_fingerprint(account, &resolved);
        // A saved name change must not mark a sender healthy while its grant is withdrawn.
        if let SignIn::OAuth { revoked: true, .. } = &resolved.sign_in {
            return Err(AppError::OAuthReauthRequired);
        }
        let Some(tested_at) = store::proof_time(&self.pool, &account.id, &fingerprint, PROOF_MAX_AGE_SECS)
            .await
            .map_err(database_failure(&account.id, "failed to check the test-send proof"))?
        else {
            tracing::info!(account_id = %account.id, "save rejected: no matching test send");
            return Err(AppError::TestRequired);
        };

        let stored = resolved.stored.as_ref();
        let sender = &resolved.sender;
        let sender_id = match stored {
            Some(row) => row.id.clone(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let mut transaction = crate::db::begin_write(&self.pool)
            .await
            .map_err(database_failure(&account.id, "failed to start the save"))?;

        let written = match stored {
            None => {
                let count = store::count(&mut transaction, &account.id)
                    .await
                    .map_err(database_failure(&account.id, "failed to count senders"))?;
                if count >= i64::from(self.limits.max_senders) {
                    return Err(AppError::SenderLimitReached {
                        max: self.limits.max_senders,
                    });
                }
                store::insert(
                    &mut transaction,
                    &account.id,
                    &sender_id,
                    resolved.kind,
                    sender,
                    tested_at,
                )
                .await
                .map(|()| true)
            }
            Some(_) => {
                let expected_version = form.version.ok_or(AppError::VersionConflict)?;
                store::update(
                    &mut transaction,
                    &account.id,
                    &sender_id,
                    expected_version,
                    sender,
                    tested_at,
                )
                .await
            }
        };
        match written {
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => return Err(AppError::SenderDuplicate),
            Err(error) => return Err(database_failure(&account.id, "failed to store the sender")(error)),
            Ok(false) => return Err(AppError::VersionConflict),
            Ok(true) => {}
        }

        match &resolved.sign_in {
            SignIn::OAuth { grant_id, .. } if stored.is_none() => {
                let attached = grants::attach(&mut transaction, &account.id, grant_id, &sender_id)
                    .await
                    .map_err(database_failure(&account.id, "failed to attach the grant"))?;
                if !attached {
                    return Err(AppError::OAuthGrantExpired);
                }
            }
            SignIn::OAuth { .. } => {}
            SignIn::Password(password) => {
                let context = secret_context(&account.id, &sender_id, SMTP_PASSWORD);
                match password {
                    Some(password) if !form.password.is_empty() || stored.is_none() => {
                        let sealed = crypto::seal(self.keyring.current(), password.expose().as_bytes(), &context);
                        let key_id = self.keyring.current_id();
                        store::store_secret(&mut transaction, &sender_id, SMTP_PASSWORD, key_id, &sealed)
                            .await
                            .map_err(database_failure(&account.id, "failed to store the sender password"))?;
                    }
                    Some(_) => {}
                    None => store::delete_secret(&mut transaction, &sender_id, SMTP_PASSWORD)
                        .await
                        .map_err(database_failure(&account.id, "failed to remove the sender password"))?,
                }
            }
        }
        let event = activity::Event {
            account_id: &account.id,
            kind: if stored.is_none() {
                ActivityKind::SenderCreated
            } else {
                ActivityKind::SenderEdited
            },
            sender_id: Some(&sender_id),
            sender_email: &sender.email,
            test_outcome: None,
            client,
        };
        activity::record(&mut transaction, &event)
            .await
            .map_err(database_failure(
                &account.id,
                "failed to record the save in the activity log",
            ))?;
        transaction
            .commit()
            .await
            .map_err(database_failure(&account.id, "failed to commit the sender"))?;

        tracing::info!(account_id = %account.id, sender_id = %sender_id, kind = resolved.kind, created = stored.is_none(), "sender saved");
        let row = store::find(&self.pool, &account.id, &sender_id)
            .await
            .map_err(database_failure(&account.id, "failed to reload the sender"))?
            .ok_or(AppError::SenderNotFound)?;
        Ok(row.view(&self.keyring))
    }

    /// Deletes the sender and records the deletion in one transaction, then revokes its grant at
    /// the provider if it has one.
    pub async fn delete(&self, account: &Account, sender_id: &str, client: ClientAddress) -> Result<(), AppError> {
        let grant = grants::find_for_sender(&self.pool, &account.id, sender_id)
            .await
            .map_err(database_failure(&account.id, "failed to load the sender's grant"))?;
        let mut transaction = crate::db::begin_write(&self.pool)
            .await
            .map_err(database_failure(&account.id, "failed to start the delete"))?;
        let deleted_email = store::delete(&mut transaction, &account.id, sender_id)
            .await
            .map_err(database_failure(&account.id, "failed to delete the sender"))?;
        let Some(sender_email) = deleted_email else {
            // Ends the write transaction before the lookup of the owner.
            drop(transaction);
            super::ownership::warn_not_owned(&self.pool, &account.id, sender_id, "delete").await;
            return Err(AppError::SenderNotFound);
        };
        let event = activity::Event {
            account_id: &account.id,
            kind: ActivityKind::SenderDeleted,
            sender_id: Some(sender_id),
            sender_email: &sender_email,
            test_outcome: None,
            client,
        };
        activity::record(&mut transaction, &event)
            .await
            .map_err(database_failure(
                &account.id,
                "failed to record the delete in the activity log",
            ))?;
        transaction
            .commit()
            .await
            .map_err(database_failure(&account.id, "failed to commit the delete"))?;

        tracing::info!(account_id = %account.id, sender_id, "sender deleted");
        if let Some(grant) = grant {
            self.oauth.revoke(&grant).await;
        }
        Ok(())
    }
}
