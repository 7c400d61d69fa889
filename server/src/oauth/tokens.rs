//! Calls to the provider's token and revocation endpoints after the authorization: refreshing
//! an access token, and revoking a grant when its sender is deleted.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::BasicErrorResponseType;
use oauth2::{
    AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse, RefreshToken, RequestTokenError, TokenResponse,
};

use super::flow;
use super::providers::ProviderConfig;
use crate::smtp::SecretString;

/// Maximum number of attempts for one refresh while the provider fails temporarily.
const REFRESH_ATTEMPTS: u32 = 3;
/// Pause before the second attempt. Each later pause is twice the previous one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Reason that a refresh produced no new access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshError {
    /// The provider returned `invalid_grant`, because the user revoked access or changed their
    /// password, or because the grant expired.
    Revoked,
    /// The provider rejected the client credentials (`invalid_client`, `unauthorized_client`),
    /// or the configured provider URLs are invalid. The operator must fix the settings.
    ClientRejected,
    /// A timeout, network error, HTTP 5xx or any other error response, so a later retry may
    /// succeed.
    Temporary,
}

/// Tokens returned by a successful refresh. `refresh_token` is set when the provider rotated it.
pub struct Refreshed {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds.
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("the token endpoint returned HTTP {0}")]
    ServerStatus(u16),
    #[error(transparent)]
    Http(#[from] HttpClientError<reqwest::Error>),
}

/// An HTTP client for oauth2 that turns HTTP 5xx responses into transport errors. A 5xx thus
/// counts as temporary even when its body contains an OAuth error such as `invalid_grant`.
struct ServerErrorsAsFailures<'a>(&'a reqwest::Client);

impl<'c> AsyncHttpClient<'c> for ServerErrorsAsFailures<'_> {
    type Error = CallError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, CallError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.0.call(request).await?;
            if response.status().is_server_error() {
                return Err(CallError::ServerStatus(response.status().as_u16()));
            }
            Ok(response)
        })
    }
}

/// Exchanges the refresh token of grant `grant_id` for a new access token, retrying temporary
/// failures with back-off. `grant_id` only labels the log lines.
pub async fn refresh(
    config: &ProviderConfig,
    http: &reqwest::Client,
    grant_id: &str,
    refresh_token: &SecretString,
) -> Result<Refreshed, RefreshError> {
    let mut pause = FIRST_BACKOFF;
    for attempt in 1..=REFRESH_ATTEMPTS {
        match refresh_once(config, http, grant_id, refresh_token).await {
            Err(RefreshError::Temporary) if attempt < REFRESH_ATTEMPTS => {
                tracing::warn!(
                    provider = config.provider.as_str(),
                    grant_id,
                    attempt,
                    "token refresh failed temporarily, retrying"
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            outcome => return outcome,
        }
    }
    Err(RefreshError::Temporary)
}

async fn refresh_once(
    config: &ProviderConfig,
    http: &reqwest::Client,
    grant_id: &str,
    refresh_token: &SecretString,
) -> Result<Refreshed, RefreshError> {
    // Any redirect URL will do, because the token endpoint checks it only for authorization codes.
    let client = flow::client(config, "http://localhost/").map_err(|error| {
        tracing::error!(provider = config.provider.as_str(), grant_id, %error, "token refresh failed: invalid provider URL");
        RefreshError::ClientRejected
    })?;
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
        .request_async(&ServerErrorsAsFailures(http))
        .await
        .map_err(|error| classify(config, grant_id, error))?;

    // A response without `expires_in` gets a lifetime of one hour.
    let lifetime = response.expires_in().map_or(3600, |duration| duration.as_secs() as i64);
    Ok(Refreshed {
        access_token: SecretString::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|token| SecretString::new(token.secret().clone())),
        expires_at: crate::db::now() + lifetime,
    })
}

/// Maps a failed token request to a `RefreshError` and logs it.
fn classify<E: std::error::Error>(
    config: &ProviderConfig,
    grant_id: &str,
    error: RequestTokenError<E, oauth2::basic::BasicErrorResponse>,
) -> RefreshError {
    let provider = config.provider.as_str();
    match error {
        RequestTokenError::ServerResponse(response) => match response.error() {
            BasicErrorResponseType::InvalidGrant => {
                tracing::warn!(
                    provider,
                    grant_id,
                    "refresh token rejected by the provider (invalid_grant)"
                );
                RefreshError::Revoked
            }
            BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => {
                tracing::error!(
                    provider,
                    grant_id,
                    error = %response.error(),
                    "client credentials rejected by the provider, check the client id and secret"
                );
                RefreshError::ClientRejected
            }
            other => {
                tracing::warn!(provider, grant_id, error = %other, "token refresh failed: the token endpoint returned an error");
                RefreshError::Temporary
            }
        },
        other => {
            tracing::warn!(provider, grant_id, error = %other, "token refresh request failed");
            RefreshError::Temporary
        }
    }
}

/// Asks the provider to revoke the grant of `refresh_token`, where the provider has a
/// revocation endpoint. Failures are logged and otherwise ignored. `grant_id` only labels the
/// log lines.
pub async fn revoke(config: &ProviderConfig, http: &reqwest::Client, grant_id: &str, refresh_token: &SecretString) {
    let provider = config.provider.as_str();
    let Some(revoke_url) = &config.revoke_url else {
        tracing::info!(
            provider,
            grant_id,
            "grant deleted locally only, because the provider has no revocation endpoint"
        );
        return;
    };
    let outcome = http
        .post(revoke_url)
        .form(&[
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.expose()),
        ])
        .send()
        .await;
    match outcome {
        Ok(response) if response.status().is_success() => {
            tracing::info!(provider, grant_id, "grant revoked at the provider");
        }
        Ok(response) => tracing::warn!(
            provider,
            grant_id,
            status = response.status().as_u16(),
            "grant revocation rejected by the provider"
        ),
        Err(error) => tracing::warn!(provider, grant_id, %error, "grant revocation request failed"),
    }
}
