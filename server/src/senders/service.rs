//! Lists, tests, saves and deletes the senders of the signed-in account.

use app::error::AppError;
use app::senders::settings::{SenderForm, StoredConnection, ValidSender, validate_sender_form};
use app::senders::test_send::{TestEvent, TestFailure};
use app::senders::{SenderList, SenderView};
use futures::stream::BoxStream;
use sqlx::SqlitePool;

use super::store::{self, SMTP_PASSWORD, SenderRow};
use super::test_message;
use crate::accounts::Account;
use crate::config::SenderLimits;
use crate::crypto;
use crate::keys::ServerKey;
use crate::smtp::{self, SecretString, SmtpCredentials, SmtpSettings, TransportPolicy};

/// A passing test lets these settings be saved for this long.
const PROOF_MAX_AGE_SECS: i64 = 30 * 60;
const RATE_WINDOW_SECS: i64 = 10 * 60;

pub struct SenderService {
    pub pool: SqlitePool,
    pub key: ServerKey,
    pub limits: SenderLimits,
    pub policy: TransportPolicy,
    pub platform_default: Option<String>,
}

fn database_failure(context: &'static str) -> impl FnOnce(sqlx::Error) -> AppError {
    move |error| {
        tracing::error!(%error, "{context}");
        AppError::Unavailable
    }
}

fn stored_connection(row: &SenderRow) -> StoredConnection {
    StoredConnection {
        smtp_host: row.smtp_host.clone(),
        smtp_port: u16::try_from(row.smtp_port).unwrap_or_default(),
        security: row.security(),
        username: row.username.clone(),
        has_password: row.has_password,
    }
}

/// Builds the associated data that binds a sealed secret to its owner.
fn secret_context(account_id: &str, sender_id: &str, kind: &str) -> String {
    format!("relais/sender-secret/{kind}/{account_id}/{sender_id}")
}

impl SenderService {
    pub async fn list(&self, account: &Account) -> Result<SenderList, AppError> {
        let rows = store::list(&self.pool, &account.id)
            .await
            .map_err(database_failure("failed to list senders"))?;
        Ok(SenderList {
            platform_default: self.platform_default.clone(),
            senders: rows.iter().map(SenderRow::view).collect(),
        })
    }

    /// Loads the sender of `form` when editing. Another account's sender is "not found".
    async fn stored_sender(&self, account: &Account, form: &SenderForm) -> Result<Option<SenderRow>, AppError> {
        let Some(sender_id) = form.sender_id.as_deref() else {
            return Ok(None);
        };
        let row = store::find(&self.pool, &account.id, sender_id)
            .await
            .map_err(database_failure("failed to load the sender"))?;
        if row.is_none() {
            tracing::warn!(account_id = %account.id, sender_id, "sender not found for this account");
            return Err(AppError::SenderNotFound);
        }
        Ok(row)
    }

    /// Returns the password to use: the typed one, or the stored one when the field was left
    /// empty (validation already checked that the server did not change).
    async fn password_for(
        &self,
        account: &Account,
        form: &SenderForm,
        stored: Option<&SenderRow>,
    ) -> Result<Option<SecretString>, AppError> {
        if !form.password.is_empty() {
            return Ok(Some(SecretString::new(form.password.clone())));
        }
        let Some(row) = stored.filter(|row| row.has_password) else {
            return Ok(None);
        };
        Ok(Some(self.stored_password(account, row).await?))
    }

    async fn stored_password(&self, account: &Account, row: &SenderRow) -> Result<SecretString, AppError> {
        let sealed = store::sealed_secret(&self.pool, &row.id, SMTP_PASSWORD)
            .await
            .map_err(database_failure("failed to load the stored password"))?
            .ok_or(AppError::SecretUnreadable)?;
        let plaintext = crypto::open(&self.key, &sealed, &secret_context(&account.id, &row.id, SMTP_PASSWORD))
            .map_err(|_| {
                tracing::error!(account_id = %account.id, sender_id = %row.id, "stored SMTP password does not decrypt");
                AppError::SecretUnreadable
            })?;
        String::from_utf8(plaintext)
            .map(SecretString::new)
            .map_err(|_| AppError::SecretUnreadable)
    }

    fn validate(&self, form: &SenderForm, stored: Option<&SenderRow>) -> Result<ValidSender, AppError> {
        let stored = stored.map(stored_connection);
        validate_sender_form(form, stored.as_ref(), self.limits.allow_plaintext_password)
            .map_err(AppError::InvalidSender)
    }

    /// Computes the keyed fingerprint of the values a test send depends on.
    fn proof_fingerprint(&self, account: &Account, sender: &ValidSender, password: Option<&SecretString>) -> String {
        let port = sender.smtp_port.to_string();
        crypto::fingerprint(
            &self.key,
            &[
                "test-send",
                &account.id,
                &sender.smtp_host.to_lowercase(),
                &port,
                sender.security.as_str(),
                &sender.username,
                password.map_or("", SecretString::expose),
                &sender.email.to_lowercase(),
            ],
        )
    }

    pub async fn test(&self, account: Account, form: SenderForm) -> BoxStream<'static, Result<String, AppError>> {
        let prepared = self.prepare_test(&account, &form).await;
        let (events, receiver) = futures::channel::mpsc::unbounded::<TestEvent>();

        match prepared {
            Err(error) => {
                let _ = events.unbounded_send(TestEvent::Refused(error));
            }
            Ok((sender, password, stored_unchanged)) => {
                let pool = self.pool.clone();
                let policy = self.policy.clone();
                let fingerprint = self.proof_fingerprint(&account, &sender, password.as_ref());
                tokio::spawn(run_test(TestRun {
                    pool,
                    policy,
                    account,
                    sender,
                    password,
                    fingerprint,
                    stored_unchanged,
                    events,
                }));
            }
        }

        Box::pin(futures::StreamExt::map(receiver, |event| {
            let mut line = serde_json::to_string(&event).map_err(|_| AppError::Internal)?;
            line.push('\n');
            Ok(line)
        }))
    }

    async fn prepare_test(
        &self,
        account: &Account,
        form: &SenderForm,
    ) -> Result<(ValidSender, Option<SecretString>, Option<String>), AppError> {
        let stored = self.stored_sender(account, form).await?;
        let sender = self.validate(form, stored.as_ref())?;

        let limit = self.limits.test_sends_per_window;
        if let Some(retry_after_secs) = store::take_test_slot(&self.pool, &account.id, limit, RATE_WINDOW_SECS)
            .await
            .map_err(database_failure("failed to count test sends"))?
        {
            tracing::info!(account_id = %account.id, "test send rejected by the rate limit");
            return Err(AppError::TestRateLimited { retry_after_secs });
        }

        let password = self.password_for(account, form, stored.as_ref()).await?;
        let stored_unchanged = stored
            .filter(|row| {
                form.password.is_empty()
                    && sender.same_server_as(&stored_connection(row))
                    && sender.email.eq_ignore_ascii_case(&row.email)
            })
            .map(|row| row.id);
        Ok((sender, password, stored_unchanged))
    }

    pub async fn save(&self, account: &Account, form: SenderForm) -> Result<SenderView, AppError> {
        let stored = self.stored_sender(account, &form).await?;
        let sender = self.validate(&form, stored.as_ref())?;
        let password = self.password_for(account, &form, stored.as_ref()).await?;

        let fingerprint = self.proof_fingerprint(account, &sender, password.as_ref());
        let Some(tested_at) = store::proof_time(&self.pool, &account.id, &fingerprint, PROOF_MAX_AGE_SECS)
            .await
            .map_err(database_failure("failed to check the test-send proof"))?
        else {
            tracing::info!(account_id = %account.id, "save rejected: no matching test send");
            return Err(AppError::TestRequired);
        };

        let sender_id = match &stored {
            Some(row) => row.id.clone(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let mut transaction = self
            .pool
            .begin()
            .await
            .map_err(database_failure("failed to start the save"))?;

        match &stored {
            None => {
                let count = store::count(&mut transaction, &account.id)
                    .await
                    .map_err(database_failure("failed to count senders"))?;
                if count >= i64::from(self.limits.max_senders) {
                    return Err(AppError::SenderLimitReached {
                        max: self.limits.max_senders,
                    });
                }
                match store::insert(&mut transaction, &account.id, &sender_id, &sender, tested_at).await {
                    Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                        return Err(AppError::SenderDuplicate);
                    }
                    other => other.map_err(database_failure("failed to store the sender"))?,
                }
            }
            Some(_) => {
                let expected_version = form.version.ok_or(AppError::VersionConflict)?;
                let updated = match store::update(
                    &mut transaction,
                    &account.id,
                    &sender_id,
                    expected_version,
                    &sender,
                    tested_at,
                )
                .await
                {
                    Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                        return Err(AppError::SenderDuplicate);
                    }
                    other => other.map_err(database_failure("failed to update the sender"))?,
                };
                if !updated {
                    return Err(AppError::VersionConflict);
                }
            }
        }

        let context = secret_context(&account.id, &sender_id, SMTP_PASSWORD);
        match &password {
            Some(password) if !form.password.is_empty() || stored.is_none() => {
                let sealed = crypto::seal(&self.key, password.expose().as_bytes(), &context);
                store::store_secret(&mut transaction, &sender_id, SMTP_PASSWORD, &sealed)
                    .await
                    .map_err(database_failure("failed to store the sender password"))?;
            }
            Some(_) => {}
            None => store::delete_secret(&mut transaction, &sender_id, SMTP_PASSWORD)
                .await
                .map_err(database_failure("failed to remove the sender password"))?,
        }
        transaction
            .commit()
            .await
            .map_err(database_failure("failed to commit the sender"))?;

        tracing::info!(account_id = %account.id, sender_id = %sender_id, created = stored.is_none(), "sender saved");
        let row = store::find(&self.pool, &account.id, &sender_id)
            .await
            .map_err(database_failure("failed to reload the sender"))?
            .ok_or(AppError::SenderNotFound)?;
        Ok(row.view())
    }

    pub async fn delete(&self, account: &Account, sender_id: &str) -> Result<(), AppError> {
        let deleted = store::delete(&self.pool, &account.id, sender_id)
            .await
            .map_err(database_failure("failed to delete the sender"))?;
        if !deleted {
            tracing::warn!(account_id = %account.id, sender_id, "delete of a sender not found for this account");
            return Err(AppError::SenderNotFound);
        }
        tracing::info!(account_id = %account.id, sender_id, "sender deleted");
        Ok(())
    }
}

struct TestRun {
    pool: SqlitePool,
    policy: TransportPolicy,
    account: Account,
    sender: ValidSender,
    password: Option<SecretString>,
    fingerprint: String,
    /// The stored sender whose saved settings this test exercises unchanged, if any.
    stored_unchanged: Option<String>,
    events: futures::channel::mpsc::UnboundedSender<TestEvent>,
}

async fn run_test(run: TestRun) {
    let TestRun {
        pool,
        policy,
        account,
        sender,
        password,
        fingerprint,
        stored_unchanged,
        events,
    } = run;
    let message = test_message::build(&sender, &account.email, &account.locale);
    let settings = SmtpSettings {
        host: sender.smtp_host.clone(),
        port: sender.smtp_port,
        security: sender.security,
        credentials: password.map(|password| SmtpCredentials::Password {
            username: sender.username.clone(),
            password,
        }),
    };

    let stage_events = events.clone();
    let outcome = smtp::send(&settings, &message, &policy, move |stage| {
        let _ = stage_events.unbounded_send(TestEvent::Stage(stage));
    })
    .await;

    let passed = outcome.is_ok();
    let event = match outcome {
        Ok(()) => match store::record_proof(&pool, &account.id, &fingerprint).await {
            Ok(()) => {
                tracing::info!(account_id = %account.id, host = %sender.smtp_host, "test send accepted by the server");
                TestEvent::Succeeded {
                    recipient: account.email.clone(),
                }
            }
            Err(error) => {
                tracing::error!(%error, account_id = %account.id, "failed to record the test-send proof");
                TestEvent::Refused(AppError::Unavailable)
            }
        },
        Err(failure) => {
            tracing::info!(
                account_id = %account.id,
                host = %sender.smtp_host,
                stage = ?failure.stage,
                kind = ?failure.kind,
                "test send failed"
            );
            TestEvent::Failed(TestFailure {
                stage: failure.stage,
                kind: failure.kind,
                server_reply: failure.server_reply,
                certificate_subject: failure.certificate_subject,
            })
        }
    };

    if let Some(sender_id) = stored_unchanged
        && let Err(error) = store::set_test_outcome(&pool, &account.id, &sender_id, passed).await
    {
        tracing::error!(%error, account_id = %account.id, sender_id, "failed to record the test outcome");
    }
    let _ = events.unbounded_send(event);
}
