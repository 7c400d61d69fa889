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

/// Attempts of one refresh when the provider fails temporarily, and the first pause between
/// them (doubled after each attempt).
const REFRESH_ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Why the provider did not give a new access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshError {
    /// `invalid_grant`: the user revoked access, changed password, or the grant expired.
    Revoked,
    /// The provider refused Relais itself (`invalid_client`, `unauthorized_client`): the
    /// operator's client id or secret is wrong.
    ClientRejected,
    /// Timeout, network error or 5xx: worth trying again later.
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
    #[error("the token endpoint answered HTTP {0}")]
    ServerStatus(u16),
    #[error(transparent)]
    Http(#[from] HttpClientError<reqwest::Error>),
}

/// An HTTP client for oauth2 that turns 5xx answers into transport errors, so that a failing
/// provider is never mistaken for one that refused the grant.
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

/// Exchanges the refresh token for a new access token, retrying temporary failures with
/// back-off.
pub async fn refresh(
    config: &ProviderConfig,
    http: &reqwest::Client,
    refresh_token: &SecretString,
) -> Result<Refreshed, RefreshError> {
    let mut pause = FIRST_BACKOFF;
    for attempt in 1..=REFRESH_ATTEMPTS {
        match refresh_once(config, http, refresh_token).await {
            Err(RefreshError::Temporary) if attempt < REFRESH_ATTEMPTS => {
                tracing::warn!(
                    provider = config.provider.as_str(),
                    attempt,
                    "token refresh failed temporarily"
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
    refresh_token: &SecretString,
) -> Result<Refreshed, RefreshError> {
    // Any redirect URL will do: the token endpoint checks it only for authorization codes.
    let client = flow::client(config, "http://localhost/").map_err(|_| RefreshError::ClientRejected)?;
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
        .request_async(&ServerErrorsAsFailures(http))
        .await
        .map_err(|error| classify(config, error))?;

    let lifetime = response.expires_in().map_or(3600, |duration| duration.as_secs() as i64);
    Ok(Refreshed {
        access_token: SecretString::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|token| SecretString::new(token.secret().clone())),
        expires_at: crate::db::now() + lifetime,
    })
}

fn classify<E: std::error::Error>(
    config: &ProviderConfig,
    error: RequestTokenError<E, oauth2::basic::BasicErrorResponse>,
) -> RefreshError {
    let provider = config.provider.as_str();
    match error {
        RequestTokenError::ServerResponse(response) => match response.error() {
            BasicErrorResponseType::InvalidGrant => {
                tracing::warn!(provider, "the provider refused the refresh token (invalid_grant)");
                RefreshError::Revoked
            }
            BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => {
                tracing::error!(provider, error = %response.error(), "the provider refused the client credentials");
                RefreshError::ClientRejected
            }
            other => {
                tracing::warn!(provider, error = %other, "the token endpoint returned an error");
                RefreshError::Temporary
            }
        },
        other => {
            tracing::warn!(provider, error = %other, "the token endpoint could not be reached");
            RefreshError::Temporary
        }
    }
}

/// Asks the provider to revoke the grant of `refresh_token`, where the provider has a
/// revocation endpoint. Failures are logged and otherwise ignored.
pub async fn revoke(config: &ProviderConfig, http: &reqwest::Client, refresh_token: &SecretString) {
    let provider = config.provider.as_str();
    let Some(revoke_url) = &config.revoke_url else {
        tracing::info!(
            provider,
            "the provider has no revocation endpoint; the grant was only forgotten"
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
        Ok(response) if response.status().is_success() => tracing::info!(provider, "grant revoked at the provider"),
        Ok(response) => tracing::warn!(
            provider,
            status = response.status().as_u16(),
            "the provider refused to revoke the grant"
        ),
        Err(error) => tracing::warn!(provider, %error, "the revocation endpoint could not be reached"),
    }
}
