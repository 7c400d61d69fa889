//! Turns the dialog's form into the sender to test or save and the credentials it signs in
//! with: a typed or stored SMTP password, or the OAuth grant of a Google or Microsoft sender.

use app::error::AppError;
use app::senders::settings::{SenderForm, StoredConnection, ValidSender, validate_oauth_form, validate_sender_form};

use super::SenderService;
use super::store::{self, SMTP_PASSWORD, SenderRow};
use crate::accounts::Account;
use crate::crypto;
use crate::oauth::grants::{self, GrantRow};
use crate::oauth::providers::{Provider, ProviderConfig};
use crate::smtp::SecretString;

/// Authentication method that the sender uses on its SMTP server.
pub enum SignIn {
    /// A password (typed now, or the stored one), or no authentication at all.
    Password(Option<SecretString>),
    /// XOAUTH2 with an access token of this grant. `revoked` is set once the provider
    /// rejected the grant (`invalid_grant`).
    OAuth { grant_id: String, revoked: bool },
}

/// Validated form, with the stored sender it edits, its authentication method and its kind.
pub struct Resolved {
    /// The stored sender being edited, if any.
    pub stored: Option<SenderRow>,
    pub sender: ValidSender,
    pub sign_in: SignIn,
    /// `smtp`, `google` or `microsoft`.
    pub kind: &'static str,
}

impl Resolved {
    /// Returns the id of the stored sender when this test exercises its saved settings
    /// unchanged, so that the test outcome can update the sender's status.
    pub fn stored_unchanged(&self, form: &SenderForm) -> Option<String> {
        let row = self.stored.as_ref()?;
        let unchanged = match self.sign_in {
            SignIn::OAuth { .. } => true,
            SignIn::Password(_) => {
                form.password.is_empty()
                    && self.sender.same_server_as(&stored_connection(row))
                    && self.sender.email.eq_ignore_ascii_case(&row.email)
            }
        };
        unchanged.then(|| row.id.clone())
    }
}

pub fn stored_connection(row: &SenderRow) -> StoredConnection {
    StoredConnection {
        smtp_host: row.smtp_host.clone(),
        smtp_port: u16::try_from(row.smtp_port).unwrap_or_default(),
        security: row.security(),
        username: row.username.clone(),
        has_password: row.has_password != 0,
    }
}

/// Builds the associated data that binds a sealed secret to its owner.
pub fn secret_context(account_id: &str, sender_id: &str, kind: &str) -> String {
    format!("relais/sender-secret/{kind}/{account_id}/{sender_id}")
}

/// Logs a database error with the account id and `context`, and maps it to `Unavailable`.
pub fn database_failure(account_id: &str, context: &'static str) -> impl FnOnce(sqlx::Error) -> AppError {
    move |error| {
        tracing::error!(%error, account_id, "{context}");
        AppError::Unavailable
    }
}

impl SenderService {
    /// Validates the form and finds the credentials it uses. A sender of another account is
    /// rejected as not found, and a pending grant of another account as expired.
    pub(super) async fn resolve(&self, account: &Account, form: &SenderForm) -> Result<Resolved, AppError> {
        let stored = self.stored_sender(account, form).await?;
        match (&stored, &form.oauth_grant) {
            (None, Some(grant_id)) => {
                let grant = grants::find_pending(&self.pool, &account.id, grant_id)
                    .await
                    .map_err(database_failure(&account.id, "failed to load the pending grant"))?
                    .ok_or(AppError::OAuthGrantExpired)?;
                self.resolve_oauth(form, stored, grant)
            }
            (Some(row), _) if row.kind != "smtp" => {
                let grant = grants::find_for_sender(&self.pool, &account.id, &row.id)
                    .await
                    .map_err(database_failure(&account.id, "failed to load the sender's grant"))?
                    .ok_or(AppError::OAuthGrantExpired)?;
                self.resolve_oauth(form, stored, grant)
            }
            _ => {
                let connection = stored.as_ref().map(stored_connection);
                let sender = validate_sender_form(form, connection.as_ref(), self.limits.allow_plaintext_password)
                    .map_err(AppError::InvalidSender)?;
                let password = self.password_for(account, form, stored.as_ref()).await?;
                Ok(Resolved {
                    stored,
                    sender,
                    sign_in: SignIn::Password(password),
                    kind: "smtp",
                })
            }
        }
    }

    fn resolve_oauth(
        &self,
        form: &SenderForm,
        stored: Option<SenderRow>,
        grant: GrantRow,
    ) -> Result<Resolved, AppError> {
        let fields = validate_oauth_form(form).map_err(AppError::InvalidSender)?;
        let provider = Provider::parse(&grant.provider).ok_or(AppError::Internal)?;
        let config: &ProviderConfig = self.oauth.config(provider).ok_or(AppError::OAuthNotConfigured)?;
        Ok(Resolved {
            stored,
            sender: ValidSender {
                display_name: fields.display_name,
                email: grant.email.clone(),
                reply_to: fields.reply_to,
                smtp_host: config.smtp_host.clone(),
                smtp_port: config.smtp_port,
                security: config.security,
                username: grant.email.clone(),
            },
            sign_in: SignIn::OAuth {
                revoked: grant.revoked_at.is_some(),
                grant_id: grant.id,
            },
            kind: provider.as_str(),
        })
    }

    /// Loads the sender of `form` when editing.
    async fn stored_sender(&self, account: &Account, form: &SenderForm) -> Result<Option<SenderRow>, AppError> {
        let Some(sender_id) = form.sender_id.as_deref() else {
            return Ok(None);
        };
        let row = store::find(&self.pool, &account.id, sender_id)
            .await
            .map_err(database_failure(&account.id, "failed to load the sender"))?;
        if row.is_none() {
            super::ownership::warn_not_owned(&self.pool, &account.id, sender_id, "test or save").await;
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
        let Some(row) = stored.filter(|row| row.has_password != 0) else {
            return Ok(None);
        };
        let (key_id, sealed) = store::sealed_secret(&self.pool, &row.id, SMTP_PASSWORD)
            .await
            .map_err(database_failure(&account.id, "failed to load the stored password"))?
            .ok_or(AppError::PasswordUnreadable)?;
        let Some(key) = self.keyring.get(&key_id) else {
            tracing::error!(
                account_id = %account.id,
                sender_id = %row.id,
                key_id,
                "stored SMTP password not used: the key that sealed it is not in the keyring"
            );
            return Err(AppError::PasswordUnreadable);
        };
        let context = secret_context(&account.id, &row.id, SMTP_PASSWORD);
        let password = crypto::open(key, &sealed, &context)
            .ok()
            .and_then(|plaintext| String::from_utf8(plaintext).ok());
        match password {
            Some(password) => Ok(Some(SecretString::new(password))),
            None => {
                // The key is the right one, so this row was damaged or copied from another sender.
                tracing::error!(
                    account_id = %account.id,
                    sender_id = %row.id,
                    key_id,
                    "stored SMTP password not used: it does not decrypt for this sender (damaged, or copied from \
                     another row); the sender is marked key_unavailable"
                );
                if let Err(error) = store::mark_key_unavailable(&self.pool, &account.id, &row.id).await {
                    tracing::error!(%error, account_id = %account.id, sender_id = %row.id, "failed to mark the sender");
                }
                Err(AppError::PasswordUnreadable)
            }
        }
    }

    /// Computes the keyed fingerprint of the values a test send depends on.
    pub(super) fn proof_fingerprint(&self, account: &Account, resolved: &Resolved) -> String {
        let sender = &resolved.sender;
        let port = sender.smtp_port.to_string();
        let host = sender.smtp_host.to_lowercase();
        let email = sender.email.to_lowercase();
        match &resolved.sign_in {
            SignIn::Password(password) => crypto::fingerprint(
                self.keyring.current(),
                &[
                    "test-send",
                    &account.id,
                    &host,
                    &port,
                    sender.security.as_str(),
                    &sender.username,
                    password.as_ref().map_or("", SecretString::expose),
                    &email,
                ],
            ),
            SignIn::OAuth { grant_id, .. } => crypto::fingerprint(
                self.keyring.current(),
                &["test-send-oauth", &account.id, grant_id, &host, &port, &email],
            ),
        }
    }
}
