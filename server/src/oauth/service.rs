//! Connects Google and Microsoft senders: starts authorizations, handles the provider's
//! callback, keeps each grant's access token fresh and revokes grants of deleted senders.

use std::time::Duration;

use app::error::AppError;
use app::senders::activity::ActivityKind;
use app::senders::oauth::{CallbackError, OAuthAvailability, OAuthProvider};
use sqlx::AnyPool;
use url::Url;

use super::flow::{self, FlowError, Grant};
use super::grants::{self, GrantRow, SealedTokens};
use super::providers::{Provider, ProviderConfig};
use super::tokens::{self, RefreshError};
use crate::activity;
use crate::client_address::ClientAddress;
use crate::crypto;
use crate::keys::Keyring;
use crate::senders::store;
use crate::smtp::SecretString;

/// An access token that expires within this many seconds is refreshed before use.
const REFRESH_MARGIN_SECS: i64 = 60;
/// Interval at which a caller that waits for another caller's refresh rereads the grant.
const LEASE_POLL: Duration = Duration::from_millis(100);

const REFRESH_TOKEN: &str = "refresh_token";
const ACCESS_TOKEN: &str = "access_token";

pub struct OAuthService {
    pub pool: AnyPool,
    pub keyring: Keyring,
    pub http: reqwest::Client,
    pub providers: Vec<ProviderConfig>,
    pub public_url: Url,
    /// Time limit of one call to a provider endpoint.
    pub request_timeout: Duration,
}

/// The query string of the provider's redirect back to Relais.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Result of a successful callback.
#[derive(Debug)]
pub enum Connected {
    /// A new grant, waiting for its test send and first save.
    Pending { grant_id: String },
    /// Renewed grant of an existing sender, after the user clicked its refresh button
    /// ("Actualiser").
    Renewed { sender_id: String },
}

fn to_provider(provider: OAuthProvider) -> Provider {
    match provider {
        OAuthProvider::Google => Provider::Google,
        OAuthProvider::Microsoft => Provider::Microsoft,
    }
}

pub fn token_context(kind: &str, account_id: &str, grant_id: &str) -> String {
    format!("relais/oauth-grant/{kind}/{account_id}/{grant_id}")
}

/// Maps an error in the provider's redirect to the `CallbackError` shown to the user. An
/// `access_denied` or `interaction_required` whose description contains one of the markers
/// below needs an administrator's approval.
fn provider_error(error: &str, description: Option<&str>) -> CallbackError {
    let description = description.unwrap_or_default().to_ascii_lowercase();
    let needs_admin = ["aadsts65001", "aadsts90094", "admin"]
        .iter()
        .any(|marker| description.contains(marker));
    match error {
        "admin_policy_enforced" | "consent_required" => CallbackError::AdminApproval,
        "access_denied" | "interaction_required" if needs_admin => CallbackError::AdminApproval,
        "access_denied" => CallbackError::Denied,
        _ => CallbackError::ProviderError,
    }
}

impl OAuthService {
    pub fn availability(&self) -> OAuthAvailability {
        OAuthAvailability {
            google: self.config(Provider::Google).is_some(),
            microsoft: self.config(Provider::Microsoft).is_some(),
        }
    }

    pub fn config(&self, provider: Provider) -> Option<&ProviderConfig> {
        self.providers.iter().find(|config| config.provider == provider)
    }

    fn redirect_url(&self, provider: Provider) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}/oauth/{}/callback", provider.as_str())
    }

    /// Returns a keyed hash of the session id, which ties an authorization to the session that
    /// started it without storing the session id twice.
    pub fn session_binding(&self, session_id: &str) -> String {
        crypto::fingerprint(self.keyring.current(), &["oauth-session", session_id])
    }

    /// Starts an authorization for a new sender, or for `sender_id` when renewing its grant.
    /// Returns the provider URL to send the browser to.
    pub async fn start(
        &self,
        account_id: &str,
        session_binding: &str,
        provider: OAuthProvider,
        sender_id: Option<&str>,
    ) -> Result<String, AppError> {
        let provider = to_provider(provider);
        let config = self.config(provider).ok_or(AppError::OAuthNotConfigured)?;
        flow::start(
            &self.pool,
            &self.keyring,
            config,
            &self.redirect_url(provider),
            account_id,
            session_binding,
            sender_id,
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, account_id, provider = provider.as_str(), "failed to start an authorization");
            AppError::Unavailable
        })
    }

    /// Completes an authorization from the provider's redirect back to Relais. Stores a new
    /// grant as pending, or replaces the tokens of the sender being re-authenticated.
    pub async fn finish(
        &self,
        account_id: &str,
        session_binding: &str,
        provider: &str,
        query: CallbackQuery,
        client: ClientAddress,
    ) -> Result<Connected, CallbackError> {
        let provider = Provider::parse(provider).ok_or(CallbackError::WrongProvider)?;
        let config = self.config(provider).ok_or(CallbackError::NotConfigured)?;
        let state = query.state.as_deref().filter(|state| !state.is_empty());

        if let Some(error) = query.error.as_deref() {
            if let Some(state) = state
                && let Err(discard_error) = flow::discard(&self.pool, state, account_id, session_binding).await
            {
                tracing::warn!(%discard_error, account_id, "failed to discard the authorization state");
            }
            // The value comes from the query string: only its start is logged.
            let error: String = error.chars().take(64).collect();
            tracing::info!(
                account_id,
                provider = provider.as_str(),
                error,
                "authorization failed: the provider returned an error"
            );
            return Err(provider_error(&error, query.error_description.as_deref()));
        }
        let (Some(state), Some(code)) = (state, query.code.as_deref()) else {
            tracing::info!(
                account_id,
                provider = provider.as_str(),
                "callback rejected: missing state or code"
            );
            return Err(CallbackError::StateInvalid);
        };

        let grant = flow::finish(
            &self.pool,
            &self.keyring,
            config,
            &self.http,
            &self.redirect_url(provider),
            state,
            code,
            account_id,
            session_binding,
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, account_id, provider = provider.as_str(), "failed to complete the authorization");
            match error {
                FlowError::InvalidState => CallbackError::StateInvalid,
                FlowError::WrongProvider => CallbackError::WrongProvider,
                FlowError::MissingScope => CallbackError::ScopeMissing,
                FlowError::MissingRefreshToken => CallbackError::NoRefreshToken,
                FlowError::MissingEmail => CallbackError::NoEmail,
                FlowError::CodeRejected(_) | FlowError::InvalidUrl(_) => CallbackError::ExchangeFailed,
                FlowError::Database(_) => CallbackError::Unavailable,
            }
        })?;

        match grant.sender_id.clone() {
            Some(sender_id) => self.renew(account_id, &sender_id, grant, client).await,
            None => self.keep_pending(account_id, grant).await,
        }
    }

    async fn keep_pending(&self, account_id: &str, grant: Grant) -> Result<Connected, CallbackError> {
        let unavailable = |error: sqlx::Error| {
            tracing::error!(%error, account_id, "failed to store a pending grant");
            CallbackError::Unavailable
        };
        if store::find_by_email(&self.pool, account_id, &grant.email)
            .await
            .map_err(unavailable)?
            .is_some()
        {
            return Err(CallbackError::AlreadyConnected);
        }
        let grant_id = uuid::Uuid::new_v4().to_string();
        let tokens = self.seal(
            account_id,
            &grant_id,
            &grant.access_token,
            &grant.refresh_token,
            grant.expires_at,
        );
        grants::insert_pending(
            &self.pool,
            &grant_id,
            account_id,
            grant.provider.as_str(),
            &grant.email,
            &tokens,
        )
        .await
        .map_err(unavailable)?;
        tracing::info!(
            account_id,
            grant_id,
            provider = grant.provider.as_str(),
            "grant received, waiting for a test send"
        );
        Ok(Connected::Pending { grant_id })
    }

    async fn renew(
        &self,
        account_id: &str,
        sender_id: &str,
        grant: Grant,
        client: ClientAddress,
    ) -> Result<Connected, CallbackError> {
        let unavailable = |error: sqlx::Error| {
            tracing::error!(%error, account_id, sender_id, "failed to renew a grant");
            CallbackError::Unavailable
        };
        let sender = store::find(&self.pool, account_id, sender_id)
            .await
            .map_err(unavailable)?;
        let existing = grants::find_for_sender(&self.pool, account_id, sender_id)
            .await
            .map_err(unavailable)?;
        let (Some(sender), Some(existing)) = (sender, existing) else {
            return Err(CallbackError::SenderNotFound);
        };
        if existing.provider != grant.provider.as_str() {
            return Err(CallbackError::WrongProvider);
        }
        if !sender.email.eq_ignore_ascii_case(&grant.email) {
            tracing::warn!(
                account_id,
                sender_id,
                "re-authentication returned another mailbox; the old grant is kept"
            );
            // Relais will not use the other mailbox's grant, so it does not keep it either.
            if let Some(config) = self.config(grant.provider) {
                tokens::revoke(config, &self.http, "(not stored)", &grant.refresh_token).await;
            }
            return Err(CallbackError::OtherMailbox);
        }
        let tokens = self.seal(
            account_id,
            &existing.id,
            &grant.access_token,
            &grant.refresh_token,
            grant.expires_at,
        );
        let mut transaction = crate::db::begin_write(&self.pool).await.map_err(unavailable)?;
        if !grants::replace_for_sender(&mut transaction, account_id, sender_id, &tokens)
            .await
            .map_err(unavailable)?
        {
            return Err(CallbackError::SenderNotFound);
        }
        let event = activity::Event {
            account_id,
            kind: ActivityKind::SenderReauthenticated,
            sender_id: Some(sender_id),
            sender_email: &sender.email,
            test_outcome: None,
            client,
        };
        activity::record(&mut transaction, &event).await.map_err(unavailable)?;
        transaction.commit().await.map_err(unavailable)?;
        tracing::info!(account_id, sender_id, "sender re-authenticated");
        Ok(Connected::Renewed {
            sender_id: sender_id.to_string(),
        })
    }

    fn seal(
        &self,
        account_id: &str,
        grant_id: &str,
        access_token: &SecretString,
        refresh_token: &SecretString,
        access_expires_at: i64,
    ) -> SealedTokens {
        let seal = |kind: &str, token: &SecretString| {
            crypto::seal(
                self.keyring.current(),
                token.expose().as_bytes(),
                &token_context(kind, account_id, grant_id),
            )
        };
        SealedTokens {
            key_id: self.keyring.current_id().to_string(),
            refresh_token: seal(REFRESH_TOKEN, refresh_token),
            access_token: seal(ACCESS_TOKEN, access_token),
            access_expires_at,
        }
    }

    fn open(&self, grant: &GrantRow, kind: &str) -> Result<SecretString, AppError> {
        let sealed = match kind {
            REFRESH_TOKEN => &grant.sealed_refresh_token,
            _ => &grant.sealed_access_token,
        };
        let Some(key) = self.keyring.get(&grant.key_id) else {
            tracing::error!(
                account_id = %grant.account_id,
                grant_id = %grant.id,
                sender_id = grant.sender_id.as_deref().unwrap_or("-"),
                key_id = %grant.key_id,
                kind,
                "stored token not used: the key that sealed it is not in the keyring"
            );
            return Err(AppError::TokenUnreadable);
        };
        let plaintext =
            crypto::open(key, sealed, &token_context(kind, &grant.account_id, &grant.id)).map_err(|_| {
                tracing::error!(
                    account_id = %grant.account_id,
                    grant_id = %grant.id,
                    sender_id = grant.sender_id.as_deref().unwrap_or("-"),
                    key_id = %grant.key_id,
                    kind,
                    "stored token not used: it does not decrypt for this grant (damaged, or copied from another row)"
                );
                AppError::TokenUnreadable
            })?;
        String::from_utf8(plaintext).map(SecretString::new).map_err(|_| {
            tracing::error!(account_id = %grant.account_id, grant_id = %grant.id, kind, "stored token is not valid UTF-8");
            AppError::TokenUnreadable
        })
    }

    /// Returns a grant's access token, refreshed first when it expires within
    /// `REFRESH_MARGIN_SECS`.
    ///
    /// Only the caller that takes the grant's lease refreshes. Other callers, on this instance
    /// or another one, poll the grant until the refreshed token is stored or the lease expires.
    /// A caller that still has no token after the lease time fails with `Temporary`.
    pub async fn access_token(&self, grant_id: &str) -> Result<SecretString, TokenFailure> {
        self.usable_token(grant_id, None).await
    }

    /// Returns a new access token after the mail server rejected `rejected`, which had not
    /// expired yet: the user may have withdrawn access, which the refresh then reveals.
    pub async fn replace_rejected_token(
        &self,
        grant_id: &str,
        rejected: &SecretString,
    ) -> Result<SecretString, TokenFailure> {
        self.usable_token(grant_id, Some(rejected)).await
    }

    /// Returns the stored access token when it is valid for another minute and is not
    /// `rejected`, and refreshes it otherwise.
    async fn usable_token(
        &self,
        grant_id: &str,
        rejected: Option<&SecretString>,
    ) -> Result<SecretString, TokenFailure> {
        // The lease covers a whole refresh: three attempts (`REFRESH_ATTEMPTS` in tokens.rs) of
        // up to `request_timeout` plus one second each, and 5 s for the pauses between them.
        let lease_secs = (self.request_timeout.as_secs() as i64 + 1) * 3 + 5;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(lease_secs as u64 + 1);

        loop {
            let grant = self.load(grant_id).await?;
            if grant.revoked_at.is_some() {
                return Err(TokenFailure::Refresh(RefreshError::Revoked));
            }
            if let Some(token) = self.stored_token(&grant, rejected)? {
                return Ok(token);
            }
            let config = Provider::parse(&grant.provider)
                .and_then(|provider| self.config(provider))
                .ok_or(TokenFailure::NotConfigured)?;

            let leased = grants::take_lease(&self.pool, grant_id, crate::db::now() + lease_secs)
                .await
                .map_err(database_failure(grant_id))?;
            if !leased {
                if tokio::time::Instant::now() >= deadline {
                    return Err(TokenFailure::Refresh(RefreshError::Temporary));
                }
                tokio::time::sleep(LEASE_POLL).await;
                continue;
            }

            // Another caller may have refreshed between the read above and the lease.
            let grant = self.load(grant_id).await?;
            if grant.revoked_at.is_none()
                && let Some(token) = self.stored_token(&grant, rejected)?
            {
                grants::release_lease(&self.pool, grant_id)
                    .await
                    .map_err(database_failure(grant_id))?;
                return Ok(token);
            }
            return self.refresh_leased(&grant, config).await;
        }
    }

    /// Returns the stored access token if it is valid for another minute and is not `rejected`.
    fn stored_token(
        &self,
        grant: &GrantRow,
        rejected: Option<&SecretString>,
    ) -> Result<Option<SecretString>, TokenFailure> {
        if grant.access_expires_at <= crate::db::now() + REFRESH_MARGIN_SECS {
            return Ok(None);
        }
        let token = self.open(grant, ACCESS_TOKEN).map_err(TokenFailure::App)?;
        let is_rejected = rejected.is_some_and(|rejected| rejected.expose() == token.expose());
        Ok((!is_rejected).then_some(token))
    }

    async fn load(&self, grant_id: &str) -> Result<GrantRow, TokenFailure> {
        grants::find(&self.pool, grant_id)
            .await
            .map_err(database_failure(grant_id))?
            .ok_or(TokenFailure::App(AppError::SenderNotFound))
    }

    /// Releases the refresh lease after a failed refresh. A failure is only logged, because the
    /// lease also expires on its own.
    async fn release_lease(&self, grant_id: &str) {
        if let Err(error) = grants::release_lease(&self.pool, grant_id).await {
            tracing::warn!(%error, grant_id, "failed to release the refresh lease");
        }
    }

    async fn refresh_leased(&self, grant: &GrantRow, config: &ProviderConfig) -> Result<SecretString, TokenFailure> {
        let refresh_token = match self.open(grant, REFRESH_TOKEN) {
            Ok(token) => token,
            Err(error) => {
                self.release_lease(&grant.id).await;
                return Err(TokenFailure::App(error));
            }
        };
        match tokens::refresh(config, &self.http, &grant.id, &refresh_token).await {
            Ok(refreshed) => {
                let rotated = refreshed.refresh_token.unwrap_or(refresh_token);
                let sealed = self.seal(
                    &grant.account_id,
                    &grant.id,
                    &refreshed.access_token,
                    &rotated,
                    refreshed.expires_at,
                );
                // NOTE: if this write fails after the provider rotated the refresh token, the new
                // refresh token is lost and the next refresh may get `invalid_grant`.
                grants::store_refreshed(&self.pool, &grant.id, &sealed)
                    .await
                    .map_err(database_failure(&grant.id))?;
                tracing::info!(grant_id = %grant.id, provider = %grant.provider, "access token refreshed");
                Ok(refreshed.access_token)
            }
            Err(RefreshError::Revoked) => {
                grants::mark_revoked(&self.pool, &grant.id)
                    .await
                    .map_err(database_failure(&grant.id))?;
                tracing::warn!(
                    account_id = %grant.account_id,
                    grant_id = %grant.id,
                    sender_id = ?grant.sender_id,
                    "grant revoked by the provider, the sender needs re-authentication"
                );
                Err(TokenFailure::Refresh(RefreshError::Revoked))
            }
            Err(error) => {
                self.release_lease(&grant.id).await;
                Err(TokenFailure::Refresh(error))
            }
        }
    }

    /// Revokes the grant at the provider, where the provider has a revocation endpoint.
    /// Failures are logged and not returned.
    pub async fn revoke(&self, grant: &GrantRow) {
        let Some(config) = Provider::parse(&grant.provider).and_then(|provider| self.config(provider)) else {
            tracing::warn!(
                grant_id = %grant.id,
                provider = %grant.provider,
                "grant not revoked at the provider: provider not configured"
            );
            return;
        };
        match self.open(grant, REFRESH_TOKEN) {
            Ok(refresh_token) => tokens::revoke(config, &self.http, &grant.id, &refresh_token).await,
            Err(_) => tracing::warn!(
                grant_id = %grant.id,
                provider = %grant.provider,
                "grant not revoked at the provider: failed to decrypt the refresh token"
            ),
        }
    }
}

/// Reason that no access token is available.
#[derive(Debug)]
pub enum TokenFailure {
    /// Failed refresh, or a grant that the provider already rejected.
    Refresh(RefreshError),
    /// Grant whose provider is no longer configured.
    NotConfigured,
    /// Missing grant, unreadable stored token or database failure.
    App(AppError),
}

/// Logs a database error on the tokens of `grant_id` and maps it to `Unavailable`.
fn database_failure(grant_id: &str) -> impl FnOnce(sqlx::Error) -> TokenFailure {
    move |error| {
        tracing::error!(%error, grant_id, "failed to read or write the grant tokens");
        TokenFailure::App(AppError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::provider_error;
    use app::senders::oauth::CallbackError;

    #[test]
    fn provider_error_maps_to_callback_error() {
        assert_eq!(provider_error("access_denied", None), CallbackError::Denied);
        assert_eq!(
            provider_error(
                "access_denied",
                Some("AADSTS65001: The user or administrator has not consented")
            ),
            CallbackError::AdminApproval
        );
        assert_eq!(
            provider_error("admin_policy_enforced", None),
            CallbackError::AdminApproval
        );
        assert_eq!(provider_error("server_error", None), CallbackError::ProviderError);
    }
}
