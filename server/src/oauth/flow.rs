//! The authorization code flow with PKCE: starting it stores a single-use `state`, and the
//! callback checks that state before exchanging the code.

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use super::providers::{Provider, ProviderConfig};
use crate::crypto;
use crate::keys::Keyring;
use crate::smtp::SecretString;

/// A pending authorization expires after this many seconds.
pub const STATE_MAX_AGE_SECS: i64 = 10 * 60;

/// The `id_token` that OpenID Connect adds to the token response.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IdTokenField {
    #[serde(default)]
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type ProviderTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
type ProviderClient = Client<
    BasicErrorResponse,
    ProviderTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error("the provider URL is invalid: {0}")]
    InvalidUrl(String),
    #[error("the authorization state is missing, used, expired or from another session")]
    InvalidState,
    #[error("the authorization state belongs to another provider")]
    WrongProvider,
    #[error("the provider refused the code: {0}")]
    CodeRejected(String),
    #[error("the provider did not grant the scope needed to send mail")]
    MissingScope,
    #[error("the provider returned no refresh token")]
    MissingRefreshToken,
    #[error("the provider returned no email address")]
    MissingEmail,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Tokens and identity returned at the end of a successful flow.
#[derive(Debug)]
pub struct Grant {
    pub provider: Provider,
    pub email: String,
    pub sender_id: Option<String>,
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    /// Unix seconds.
    pub expires_at: i64,
}

pub(super) fn client(config: &ProviderConfig, redirect_url: &str) -> Result<ProviderClient, FlowError> {
    let invalid = |error: url::ParseError| FlowError::InvalidUrl(error.to_string());
    Ok(Client::new(ClientId::new(config.client_id.clone()))
        .set_client_secret(ClientSecret::new(config.client_secret.expose().to_string()))
        .set_auth_uri(AuthUrl::new(config.authorize_url.clone()).map_err(invalid)?)
        .set_token_uri(TokenUrl::new(config.token_url.clone()).map_err(invalid)?)
        .set_redirect_uri(RedirectUrl::new(redirect_url.to_string()).map_err(invalid)?))
}

/// Starts an authorization and returns the provider URL to send the browser to.
pub async fn start(
    pool: &AnyPool,
    keyring: &Keyring,
    config: &ProviderConfig,
    redirect_url: &str,
    account_id: &str,
    session_binding: &str,
    sender_id: Option<&str>,
) -> Result<String, FlowError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = client(config, redirect_url)?;
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(config.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    if config.provider == Provider::Google {
        // Google returns a refresh token only for offline access with explicit consent.
        request = request
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent");
    }
    let (url, state) = request.url();

    let sealed_verifier = crypto::seal(
        keyring.current(),
        verifier.secret().as_bytes(),
        &state_context(state.secret()),
    );
    sqlx::query("DELETE FROM oauth_states WHERE created_at < $1")
        .bind(crate::db::now() - STATE_MAX_AGE_SECS)
        .execute(pool)
        .await?;
    sqlx::query(
        "INSERT INTO oauth_states (state, account_id, session_binding, provider, sender_id, sealed_verifier, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(state.secret())
    .bind(account_id)
    .bind(session_binding)
    .bind(config.provider.as_str())
    .bind(sender_id)
    .bind(sealed_verifier)
    .bind(crate::db::now())
    .execute(pool)
    .await?;

    Ok(url.to_string())
}

/// Deletes a pending state of this account and session, used when the provider redirects back
/// with an error. Another session cannot cancel it.
pub async fn discard(pool: &AnyPool, state: &str, account_id: &str, session_binding: &str) -> Result<(), FlowError> {
    sqlx::query("DELETE FROM oauth_states WHERE state = $1 AND account_id = $2 AND session_binding = $3")
        .bind(state)
        .bind(account_id)
        .bind(session_binding)
        .execute(pool)
        .await?;
    Ok(())
}

/// A stored `oauth_states` row.
#[derive(sqlx::FromRow)]
struct PendingState {
    account_id: String,
    session_binding: String,
    provider: String,
    sender_id: Option<String>,
    sealed_verifier: Vec<u8>,
    created_at: i64,
}

fn state_context(state: &str) -> String {
    format!("relais/oauth-state/{state}")
}

/// Finishes an authorization: takes the state (once), checks it, exchanges the code and reads
/// the mailbox address from the ID token.
#[allow(clippy::too_many_arguments)]
pub async fn finish(
    pool: &AnyPool,
    keyring: &Keyring,
    config: &ProviderConfig,
    http: &reqwest::Client,
    redirect_url: &str,
    state: &str,
    code: &str,
    account_id: &str,
    session_binding: &str,
) -> Result<Grant, FlowError> {
    let row: Option<PendingState> = sqlx::query_as(
        "DELETE FROM oauth_states WHERE state = $1 AND account_id = $2 AND session_binding = $3
         RETURNING account_id, session_binding, provider, sender_id, sealed_verifier, created_at",
    )
    .bind(state)
    .bind(account_id)
    .bind(session_binding)
    .fetch_optional(pool)
    .await?;
    let Some(PendingState {
        account_id: owner,
        session_binding: binding,
        provider,
        sender_id,
        sealed_verifier,
        created_at,
    }) = row
    else {
        return Err(FlowError::InvalidState);
    };
    let is_fresh = crate::db::now() - created_at <= STATE_MAX_AGE_SECS;
    if owner != account_id || binding != session_binding || !is_fresh {
        return Err(FlowError::InvalidState);
    }
    if provider != config.provider.as_str() {
        return Err(FlowError::WrongProvider);
    }
    // The row has no key id. It lives 10 minutes, so it may predate a rotation: every key is tried.
    let verifier = keyring
        .entries()
        .find_map(|(_, key)| crypto::open(key, &sealed_verifier, &state_context(state)).ok())
        .ok_or(FlowError::InvalidState)?;
    let verifier = String::from_utf8(verifier).map_err(|_| FlowError::InvalidState)?;

    let client = client(config, redirect_url)?;
    let response = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(http)
        .await
        .map_err(|error| FlowError::CodeRejected(error.to_string()))?;

    let granted_scope = response
        .scopes()
        .is_none_or(|scopes| scopes.iter().any(|scope| **scope == config.required_scope));
    if !granted_scope {
        return Err(FlowError::MissingScope);
    }
    let refresh_token = response.refresh_token().ok_or(FlowError::MissingRefreshToken)?;
    let email = response
        .extra_fields()
        .id_token
        .as_deref()
        .and_then(email_from_id_token)
        .ok_or(FlowError::MissingEmail)?;
    let lifetime = response.expires_in().map_or(3600, |duration| duration.as_secs() as i64);

    Ok(Grant {
        provider: config.provider,
        email,
        sender_id,
        access_token: SecretString::new(response.access_token().secret().clone()),
        refresh_token: SecretString::new(refresh_token.secret().clone()),
        expires_at: crate::db::now() + lifetime,
    })
}

/// Reads `email` from the ID token's claims. The token came straight from the provider's token
/// endpoint over TLS, which OpenID Connect Core (section 3.1.3.7) accepts in place of checking
/// its signature.
fn email_from_id_token(id_token: &str) -> Option<String> {
    use base64::Engine;

    let payload = id_token.split('.').nth(1)?;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&claims).ok()?;
    let email = claims
        .get("email")
        .or_else(|| claims.get("preferred_username"))?
        .as_str()?;
    app::validation::normalize_email(email).ok()
}

#[cfg(test)]
mod tests {
    use super::email_from_id_token;
    use base64::Engine;

    fn token_with(claims: &str) -> String {
        let encode = |part: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(part);
        format!("{}.{}.signature", encode(r#"{"alg":"RS256"}"#), encode(claims))
    }

    #[test]
    fn email_is_read_from_the_claims() {
        assert_eq!(
            email_from_id_token(&token_with(r#"{"email":"Ana@Example.com"}"#)),
            Some("Ana@example.com".into())
        );
        assert_eq!(
            email_from_id_token(&token_with(r#"{"preferred_username":"bob@contoso.com"}"#)),
            Some("bob@contoso.com".into())
        );
        assert_eq!(email_from_id_token(&token_with(r#"{"sub":"1"}"#)), None);
        assert_eq!(email_from_id_token("not a token"), None);
    }
}
