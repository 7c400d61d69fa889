//! The OAuth authorization flow against the real provider harness (`end2end/oauth-harness`).

use relais::oauth::flow::{self, FlowError};
use relais::oauth::providers::{Provider, ProviderConfig, read_provider};

use crate::helpers::{PASSWORD, TestApp, spawn_app};
use crate::oauth_harness::{self, ProviderHarness};

const MAILBOX: &str = "mailbox@example.com";
const REDIRECT_URL: &str = "http://127.0.0.1:9/oauth/callback";

fn config_for(provider: Provider, issuer: &str) -> ProviderConfig {
    let prefix = match provider {
        Provider::Google => "RELAIS_GOOGLE",
        Provider::Microsoft => "RELAIS_MICROSOFT",
    };
    let values = [
        (format!("{prefix}_CLIENT_ID"), "relais".to_string()),
        (format!("{prefix}_CLIENT_SECRET"), "s3cret".to_string()),
        (format!("{prefix}_AUTHORIZE_URL"), format!("{issuer}/authorize")),
        (format!("{prefix}_TOKEN_URL"), format!("{issuer}/token")),
    ];
    read_provider(provider, &|name: &str| {
        values
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    })
    .unwrap()
    .unwrap()
}

async fn account_id(app: &TestApp) -> String {
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Follows the provider's authorization URL and returns the `code` and `state` it redirects with.
async fn authorize(url: &str) -> (String, String) {
    let location = oauth_harness::authorize(url).await;
    let parameter = |name: &str| {
        location
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.to_string())
    };
    (parameter("code").expect("a code"), parameter("state").expect("a state"))
}

#[tokio::test]
async fn flow_returns_the_mailbox_and_tokens_once() {
    let provider = ProviderHarness::start("google", MAILBOX).await;
    let app = spawn_app().await;
    let account = account_id(&app).await;
    let config = config_for(Provider::Google, &provider.issuer);
    let key = relais::keys::Keyring::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    let http = reqwest::Client::new();

    let url = flow::start(&app.pool, &key, &config, REDIRECT_URL, &account, "session-a", None)
        .await
        .unwrap();
    let (code, state) = authorize(&url).await;
    let grant = flow::finish(
        &app.pool,
        &key,
        &config,
        &http,
        REDIRECT_URL,
        &state,
        &code,
        &account,
        "session-a",
    )
    .await;
    let replay = flow::finish(
        &app.pool,
        &key,
        &config,
        &http,
        REDIRECT_URL,
        &state,
        &code,
        &account,
        "session-a",
    )
    .await;

    let grant = grant.unwrap();
    assert_eq!(grant.email, MAILBOX);
    assert!(!grant.refresh_token.expose().is_empty());
    assert!(matches!(replay, Err(FlowError::InvalidState)));
}

#[tokio::test]
async fn flow_rejects_another_session_and_another_provider() {
    let provider = ProviderHarness::start("google", MAILBOX).await;
    let app = spawn_app().await;
    let account = account_id(&app).await;
    let google = config_for(Provider::Google, &provider.issuer);
    let microsoft = config_for(Provider::Microsoft, &provider.issuer);
    let key = relais::keys::Keyring::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    let http = reqwest::Client::new();

    let first = flow::start(&app.pool, &key, &google, REDIRECT_URL, &account, "session-a", None)
        .await
        .unwrap();
    let (code, state) = authorize(&first).await;
    let foreign = flow::finish(
        &app.pool,
        &key,
        &google,
        &http,
        REDIRECT_URL,
        &state,
        &code,
        &account,
        "session-b",
    )
    .await;
    let second = flow::start(&app.pool, &key, &google, REDIRECT_URL, &account, "session-a", None)
        .await
        .unwrap();
    let (code, state) = authorize(&second).await;
    let other_provider = flow::finish(
        &app.pool,
        &key,
        &microsoft,
        &http,
        REDIRECT_URL,
        &state,
        &code,
        &account,
        "session-a",
    )
    .await;

    assert!(matches!(foreign, Err(FlowError::InvalidState)));
    assert!(matches!(other_provider, Err(FlowError::WrongProvider)));
}
