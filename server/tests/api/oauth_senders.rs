//! Google and Microsoft senders end to end: the callback route, test sends over XOAUTH2, token
//! refresh and rotation, re-authentication and revocation, against the OAuth and SMTP
//! harnesses.

use app::error::AppError;
use app::senders::test_send::{FailureKind, Stage, TestEvent};
use app::senders::{SenderKind, SenderStatus, SenderView};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, error_of};
use crate::oauth_harness::{ProviderHarness, authorize};
use crate::senders::{Form, MAILBOX, app_for};
use crate::smtp_harness::{CERTIFICATES, Harness, with_certificate};

pub struct Setup {
    pub provider: ProviderHarness,
    pub smtp: Harness,
    pub app: TestApp,
}

/// Starts a provider harness as `name`, an SMTP server that accepts only that provider's
/// tokens, and Relais configured for both.
pub async fn setup(name: &'static str, extra: &[(&'static str, String)]) -> Setup {
    setup_with_smtp(name, json!({}), extra).await
}

/// Same as [`setup`], with more SMTP harness options, such as a fixed reply to AUTH.
async fn setup_with_smtp(
    name: &'static str,
    smtp_options: serde_json::Value,
    extra: &[(&'static str, String)],
) -> Setup {
    let provider = ProviderHarness::start(name, MAILBOX).await;
    let mut options = json!({"tls": "starttls", "xoauth2": {"verifyUrl": provider.verify_url()}});
    if let (Some(options), Some(more)) = (options.as_object_mut(), smtp_options.as_object()) {
        options.extend(more.clone());
    }
    let smtp = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let (smtp_variable, security_variable) = match name {
        "google" => ("RELAIS_GOOGLE_SMTP", "RELAIS_GOOGLE_SMTP_SECURITY"),
        _ => ("RELAIS_MICROSOFT_SMTP", "RELAIS_MICROSOFT_SMTP_SECURITY"),
    };
    let mut variables = provider.variables();
    variables.push((smtp_variable, format!("localhost:{}", smtp.port)));
    variables.push((security_variable, "starttls".to_string()));
    variables.push(("RELAIS_OAUTH_TIMEOUT_SECS", "1".to_string()));
    variables.extend_from_slice(extra);
    let app = app_for(&smtp, &variables).await;
    Setup { provider, smtp, app }
}

/// Builds the dialog's form for a Google or Microsoft sender, with the SMTP fields left empty.
pub fn oauth_form(grant_id: Option<&str>, sender: Option<&SenderView>) -> Form {
    let mut form = Form::starttls(0)
        .set("display_name", "Ana Lopes")
        .set("email", "")
        .set("smtp_host", "")
        .set("smtp_port", "")
        .set("security", "")
        .set("username", "")
        .set("password", "");
    if let Some(grant_id) = grant_id {
        form = form.set("oauth_grant", grant_id);
    }
    if let Some(sender) = sender {
        form = form
            .set("sender_id", sender.id.clone())
            .set("version", sender.version.to_string());
    }
    form
}

fn query_value(location: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse("http://relais.test")
        .unwrap()
        .join(location)
        .unwrap();
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.to_string())
}

impl Setup {
    fn provider_name(&self) -> &'static str {
        match self.provider.name {
            "google" => "Google",
            _ => "Microsoft",
        }
    }

    /// Calls `start_oauth` and returns the provider's authorization URL.
    async fn start(&self, sender_id: Option<&str>) -> String {
        let mut form = vec![("provider", self.provider_name())];
        if let Some(sender_id) = sender_id {
            form.push(("sender_id", sender_id));
        }
        let response = self.app.call("start_oauth", &form).await;
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    }

    /// Requests the callback URL as the browser would, and returns Relais's redirect location.
    async fn callback_with(&self, client: &reqwest::Client, url: &reqwest::Url) -> String {
        let response = client.get(url.clone()).send().await.unwrap();
        assert!(response.status().is_redirection(), "{}", response.status());
        response.headers()["location"].to_str().unwrap().to_string()
    }

    async fn callback(&self, url: &reqwest::Url) -> String {
        self.callback_with(&self.app.client, url).await
    }

    /// Runs the whole authorization and returns Relais's final redirect location.
    pub async fn connect(&self, sender_id: Option<&str>) -> String {
        let provider_url = self.start(sender_id).await;
        let callback = authorize(&provider_url).await;
        self.callback(&callback).await
    }

    /// Connects, tests and saves a new sender.
    pub async fn saved_sender(&mut self) -> SenderView {
        let location = self.connect(None).await;
        let grant_id = query_value(&location, "oauth_grant").expect("a pending grant");
        let form = oauth_form(Some(&grant_id), None);
        assert!(matches!(
            self.app.test_send(&form).await.last(),
            Some(TestEvent::Succeeded { .. })
        ));
        self.smtp.next_message().await;
        self.app.saved(&form).await
    }

    async fn grant_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM oauth_grants")
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    async fn sealed_tokens(&self) -> (Vec<u8>, Vec<u8>) {
        sqlx::query_as("SELECT sealed_refresh_token, sealed_access_token FROM oauth_grants")
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    /// Sets the stored access token to expire in 30 seconds, within the refresh margin.
    async fn expire_soon(&self) {
        sqlx::query("UPDATE oauth_grants SET access_expires_at = $1")
            .bind(relais::db::now() + 30)
            .execute(&self.app.pool)
            .await
            .unwrap();
    }
}

fn stages(events: &[TestEvent]) -> Vec<Stage> {
    events
        .iter()
        .filter_map(|event| match event {
            TestEvent::Stage(stage) => Some(*stage),
            _ => None,
        })
        .collect()
}

fn failure_kind(events: &[TestEvent]) -> (Stage, FailureKind) {
    match events.last() {
        Some(TestEvent::Failed(failure)) => (failure.stage, failure.kind),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn google_sender_connects_over_xoauth2() {
    let mut setup = setup("google", &[]).await;

    let location = setup.connect(None).await;
    assert!(location.starts_with("/settings?oauth_grant="), "{location}");
    let grant_id = query_value(&location, "oauth_grant").unwrap();
    let grant = setup.app.call("oauth_grant", &[("grant_id", &grant_id)]).await;
    let grant: serde_json::Value = grant.json().await.unwrap();
    assert_eq!(grant["email"], MAILBOX);
    assert_eq!(grant["provider"], "Google");

    let form = oauth_form(Some(&grant_id), None);
    let events = setup.app.test_send(&form).await;
    assert_eq!(
        stages(&events),
        [
            Stage::Authorizing,
            Stage::Connecting,
            Stage::Securing,
            Stage::SigningIn,
            Stage::Sending
        ]
    );
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    let message = setup.smtp.next_message().await;
    assert_eq!(message["auth"]["method"], "XOAUTH2");
    assert_eq!(message["auth"]["username"], MAILBOX);
    assert_eq!(message["mailFrom"], MAILBOX);
    assert_eq!(message["rcptTo"], json!(["ana@example.com"]));

    let saved = setup.app.saved(&form).await;
    assert_eq!((saved.kind, saved.status), (SenderKind::Google, SenderStatus::Verified));
    assert_eq!(saved.email, MAILBOX);
    let attached: Option<String> = sqlx::query_scalar("SELECT sender_id FROM oauth_grants")
        .fetch_one(&setup.app.pool)
        .await
        .unwrap();
    assert_eq!(attached.as_deref(), Some(saved.id.as_str()));
    let (refresh, access) = setup.sealed_tokens().await;
    for sealed in [refresh, access] {
        assert!(
            !sealed.windows(3).any(|window| window == b"eyJ"),
            "tokens are stored sealed"
        );
    }
    let page = setup.app.get("/settings").await.text().await.unwrap();
    assert!(page.contains(MAILBOX));
    assert!(!page.contains("eyJ"), "no token reaches the page");

    // The save consumed the pending grant, so a second save of the same form cannot create a
    // duplicate sender.
    let again = setup.app.call("oauth_grant", &[("grant_id", &grant_id)]).await;
    assert_eq!(error_of(again).await, AppError::OAuthGrantExpired);
}

#[tokio::test]
async fn microsoft_mailbox_comes_from_id_token() {
    let mut setup = setup("microsoft", &[]).await;

    let saved = setup.saved_sender().await;

    assert_eq!((saved.kind, saved.email.as_str()), (SenderKind::Microsoft, MAILBOX));
}

#[tokio::test]
async fn callback_rejects_bad_states_and_errors() {
    let setup = setup("google", &[]).await;
    let callback_url = |query: &str| setup.app.url(&format!("/oauth/google/callback?{query}"));

    // No state at all.
    let location = setup.callback(&callback_url("code=abc")).await;
    assert_eq!(query_value(&location, "oauth_error").as_deref(), Some("state_invalid"));

    // A state used twice.
    let provider_url = setup.start(None).await;
    let callback = authorize(&provider_url).await;
    assert!(setup.callback(&callback).await.contains("oauth_grant="));
    let replay = setup.callback(&callback).await;
    assert_eq!(query_value(&replay, "oauth_error").as_deref(), Some("state_invalid"));
    sqlx::query("DELETE FROM oauth_grants")
        .execute(&setup.app.pool)
        .await
        .unwrap();

    // An expired state.
    let provider_url = setup.start(None).await;
    sqlx::query("UPDATE oauth_states SET created_at = created_at - 601")
        .execute(&setup.app.pool)
        .await
        .unwrap();
    let location = setup.callback(&authorize(&provider_url).await).await;
    assert_eq!(query_value(&location, "oauth_error").as_deref(), Some("state_invalid"));

    // A state from another session of the same account.
    let (_, other_browser) = setup.app.new_client();
    let signed_in = other_browser
        .post(setup.app.url("/api/sign_in"))
        .header("Origin", &setup.app.address)
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(signed_in.status().is_success());
    let provider_url = setup.start(None).await;
    let callback = authorize(&provider_url).await;
    let location = setup.callback_with(&other_browser, &callback).await;
    assert_eq!(query_value(&location, "oauth_error").as_deref(), Some("state_invalid"));
    // The other session's attempt did not use up the state: its own session still can.
    assert!(setup.callback(&callback).await.contains("oauth_grant="));
    sqlx::query("DELETE FROM oauth_grants")
        .execute(&setup.app.pool)
        .await
        .unwrap();

    // The provider reports that consent was denied, or that an administrator must approve.
    setup.provider.control(json!({"authorizeError": "access_denied"})).await;
    let location = setup.connect(None).await;
    assert_eq!(query_value(&location, "oauth_error").as_deref(), Some("denied"));
    let provider_url = setup.start(None).await;
    let state = reqwest::Url::parse(&provider_url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == "state")
        .map(|(_, value)| value.to_string())
        .unwrap();
    let admin = callback_url(&format!(
        "error=access_denied&error_description=AADSTS65001%3A+admin+approval+required&state={state}"
    ));
    let location = setup.callback(&admin).await;
    assert_eq!(query_value(&location, "oauth_error").as_deref(), Some("admin_approval"));

    // The user unticked the permission to send mail.
    setup.provider.control(json!({"dropScopes": true})).await;
    let location = setup.connect(None).await;
    assert_eq!(query_value(&location, "oauth_error").as_deref(), Some("scope_missing"));

    assert_eq!(setup.grant_count().await, 0);
    let senders = setup.app.senders().await;
    assert!(senders.senders.is_empty());
}

#[tokio::test]
async fn callback_rejects_other_provider() {
    let google = ProviderHarness::start("google", MAILBOX).await;
    let microsoft = ProviderHarness::start("microsoft", MAILBOX).await;
    let smtp = Harness::start(with_certificate(json!({"tls": "starttls"}), &CERTIFICATES.localhost)).await;
    let mut variables = google.variables();
    variables.extend(microsoft.variables());
    let app = app_for(&smtp, &variables).await;

    let response = app.call("start_oauth", &[("provider", "Google")]).await;
    let provider_url: String = response.json().await.unwrap();
    let callback = authorize(&provider_url).await;
    let mut other = callback.clone();
    other.set_path("/oauth/microsoft/callback");
    let response = app.client.get(other).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap();

    assert_eq!(query_value(location, "oauth_error").as_deref(), Some("wrong_provider"));
    let grants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_grants")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(grants, 0);
}

#[tokio::test]
async fn signed_out_callback_redirects_to_sign_in() {
    let setup = setup("google", &[]).await;
    let (_, stranger) = setup.app.new_client();

    let response = stranger
        .get(setup.app.url("/oauth/google/callback?code=a&state=b"))
        .send()
        .await
        .unwrap();

    assert!(response.headers()["location"].to_str().unwrap().starts_with("/sign-in"));
}

#[tokio::test]
async fn unconfigured_provider_is_rejected() {
    let setup = setup("google", &[]).await;

    let rejected = setup.app.call("start_oauth", &[("provider", "Microsoft")]).await;

    assert_eq!(error_of(rejected).await, AppError::OAuthNotConfigured);
    let list = setup.app.senders().await;
    assert!(list.oauth.google);
    assert!(!list.oauth.microsoft);
}

#[tokio::test]
async fn expiring_token_is_refreshed_and_rotated() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;
    let (refresh_before, _) = setup.sealed_tokens().await;
    setup.expire_soon().await;

    let events = setup.app.test_send(&oauth_form(None, Some(&saved))).await;

    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    assert_eq!(setup.provider.refresh_count().await, 1);
    let (refresh_after, _) = setup.sealed_tokens().await;
    assert_ne!(refresh_before, refresh_after, "the rotated refresh token is stored");
    setup.smtp.next_message().await;

    // The fresh access token is reused. The rotated refresh token works for the next refresh.
    setup.app.test_send(&oauth_form(None, Some(&saved))).await;
    assert_eq!(setup.provider.refresh_count().await, 1);
    setup.expire_soon().await;
    let events = setup.app.test_send(&oauth_form(None, Some(&saved))).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    assert_eq!(setup.provider.refresh_count().await, 2);
}

#[tokio::test]
async fn two_concurrent_sends_refresh_once() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;
    setup.expire_soon().await;
    setup.provider.control(json!({"delayNextTokenMs": 400})).await;

    let form = oauth_form(None, Some(&saved));
    let (first, second) = tokio::join!(setup.app.test_send(&form), setup.app.test_send(&form));

    assert!(matches!(first.last(), Some(TestEvent::Succeeded { .. })), "{first:?}");
    assert!(matches!(second.last(), Some(TestEvent::Succeeded { .. })), "{second:?}");
    assert_eq!(setup.provider.refresh_count().await, 1);
}

#[tokio::test]
async fn invalid_grant_then_reauthentication_restores_sender() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;
    setup.provider.control(json!({"revokeAll": true})).await;
    setup.expire_soon().await;

    let events = setup.app.test_send(&oauth_form(None, Some(&saved))).await;

    assert_eq!(
        failure_kind(&events),
        (Stage::Authorizing, FailureKind::OAuthGrantRevoked)
    );
    let listed = setup.app.senders().await.senders;
    assert_eq!(listed[0].status, SenderStatus::NeedsReauthentication);
    assert_eq!(setup.app.get("/settings").await.status(), 200);
    // Once revoked, the grant is not sent to the provider again.
    let refreshes = setup.provider.refresh_count().await;
    let events = setup.app.test_send(&oauth_form(None, Some(&saved))).await;
    assert_eq!(failure_kind(&events).1, FailureKind::OAuthGrantRevoked);
    assert_eq!(setup.provider.refresh_count().await, refreshes);

    let location = setup.connect(Some(&saved.id)).await;

    assert_eq!(location, format!("/settings?oauth_renewed={}#senders", saved.id));
    let listed = setup.app.senders().await.senders;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id.as_str(), listed[0].status),
        (saved.id.as_str(), SenderStatus::Verified)
    );
    let events = setup.app.test_send(&oauth_form(None, Some(&listed[0]))).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
}

#[tokio::test]
async fn reauthentication_with_other_mailbox_keeps_grant() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;
    let tokens_before = setup.sealed_tokens().await;
    setup
        .provider
        .control(json!({"nextEmail": "someone.else@example.com"}))
        .await;

    let location = setup.connect(Some(&saved.id)).await;

    assert_eq!(query_value(&location, "oauth_error").as_deref(), Some("other_mailbox"));
    assert_eq!(setup.sealed_tokens().await, tokens_before);
    assert_eq!(
        setup.provider.stats().await["revocations"],
        1,
        "the other mailbox's grant is revoked"
    );
    let events = setup.app.test_send(&oauth_form(None, Some(&saved))).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
}

#[tokio::test]
async fn connecting_existing_sender_reports_already_connected() {
    let mut setup = setup("google", &[]).await;
    setup.saved_sender().await;

    let location = setup.connect(None).await;

    assert_eq!(
        query_value(&location, "oauth_error").as_deref(),
        Some("already_connected")
    );
    assert_eq!(setup.grant_count().await, 1);
}

#[tokio::test]
async fn token_endpoint_failures_are_temporary_and_retried() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;
    let form = oauth_form(None, Some(&saved));

    // Every attempt fails with 503, so the test send fails as temporary and the grant is kept.
    setup.expire_soon().await;
    setup
        .provider
        .control(json!({"failNextToken": {"status": 503, "count": 3}}))
        .await;
    let events = setup.app.test_send(&form).await;
    assert_eq!(
        failure_kind(&events),
        (Stage::Authorizing, FailureKind::OAuthProviderUnavailable)
    );
    let listed = setup.app.senders().await.senders;
    assert_ne!(listed[0].status, SenderStatus::NeedsReauthentication);

    // A token response slower than RELAIS_OAUTH_TIMEOUT_SECS (1 s) is retried after a pause of
    // 0.5 s. The harness rejects the late request with a 503 at 1.2 s, before the retry
    // arrives, so that the provider does not rotate the refresh token behind Relais's back.
    setup
        .provider
        .control(json!({"delayNextTokenMs": 1200, "failNextToken": {"status": 503}}))
        .await;
    let events = setup.app.test_send(&form).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    assert_eq!(setup.provider.refresh_count().await, 5);
}

#[tokio::test]
async fn rejected_token_is_refreshed_and_retried() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;
    setup.provider.control(json!({"expireAccessTokens": true})).await;

    let events = setup.app.test_send(&oauth_form(None, Some(&saved))).await;

    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    assert_eq!(setup.provider.refresh_count().await, 1);
}

#[tokio::test]
async fn withdrawn_access_shows_at_the_next_send() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;
    setup.provider.control(json!({"revokeAll": true})).await;

    let events = setup.app.test_send(&oauth_form(None, Some(&saved))).await;

    assert_eq!(
        failure_kind(&events),
        (Stage::Authorizing, FailureKind::OAuthGrantRevoked)
    );
    let listed = setup.app.senders().await.senders;
    assert_eq!(listed[0].status, SenderStatus::NeedsReauthentication);
    // An earlier passing test does not let a save mark the sender healthy again.
    let saved_again = setup.app.save(&oauth_form(None, Some(&listed[0]))).await;
    assert_eq!(error_of(saved_again).await, AppError::OAuthReauthRequired);
    let listed = setup.app.senders().await.senders;
    assert_eq!(listed[0].status, SenderStatus::NeedsReauthentication);
}

#[tokio::test]
async fn token_rejected_by_smtp_server_is_reported() {
    let reply = json!({"authReply": {"code": 535, "message": "5.7.3 Authentication unsuccessful"}});
    let setup = setup_with_smtp("google", reply, &[]).await;
    let location = setup.connect(None).await;
    let grant_id = query_value(&location, "oauth_grant").unwrap();

    let events = setup.app.test_send(&oauth_form(Some(&grant_id), None)).await;

    assert_eq!(
        failure_kind(&events),
        (Stage::SigningIn, FailureKind::OAuthTokenRefused)
    );
    assert_eq!(setup.provider.refresh_count().await, 1, "one refresh before giving up");
}

#[tokio::test]
async fn deleting_a_sender_revokes_its_grant() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;

    let response = setup.app.call("delete_sender", &[("sender_id", &saved.id)]).await;

    assert!(response.status().is_success());
    assert_eq!(setup.provider.stats().await["revocations"], 1);
    assert_eq!(setup.grant_count().await, 0);
}

#[tokio::test]
async fn other_account_cannot_reauthenticate_sender() {
    let mut setup = setup("google", &[]).await;
    let saved = setup.saved_sender().await;
    let (_, intruder) = setup.app.new_client();
    let signed_up = intruder
        .post(setup.app.url("/api/sign_up"))
        .header("Origin", &setup.app.address)
        .form(&[
            ("display_name", "Eve"),
            ("email", "eve@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(signed_up.status().is_success());

    let response = intruder
        .post(setup.app.url("/api/start_oauth"))
        .header("Origin", &setup.app.address)
        .form(&[("provider", "Google"), ("sender_id", saved.id.as_str())])
        .send()
        .await
        .unwrap();

    assert_eq!(error_of(response).await, AppError::SenderNotFound);
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_states")
        .fetch_one(&setup.app.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0);
}

#[tokio::test]
async fn malformed_arguments_get_400() {
    let app = crate::helpers::spawn_app().await;

    for form in [vec![("provider", "Yahoo")], vec![]] {
        let response = app.call("start_oauth", &form).await;

        let status = response.status();
        let headers = format!("{:?}", response.headers());
        let body = response.text().await.unwrap();
        assert_eq!(status, 400, "{form:?} {headers} {body}");
        let error: AppError = serde_json::from_str(&body).unwrap();
        assert!(matches!(error, AppError::Request(_)), "{error:?}");
    }
}

/// Opens the stored tokens of the only grant with the test key.
async fn stored_tokens(app: &TestApp, key: &str) -> [String; 2] {
    let (account_id, grant_id, refresh, access): (String, String, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT account_id, id, sealed_refresh_token, sealed_access_token FROM oauth_grants")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let keyring = relais::keys::Keyring::parse(key).unwrap();
    let open = |kind: &str, sealed: &[u8]| {
        let context = format!("relais/oauth-grant/{kind}/{account_id}/{grant_id}");
        String::from_utf8(relais::crypto::open(keyring.current(), sealed, &context).unwrap()).unwrap()
    };
    [open("refresh_token", &refresh), open("access_token", &access)]
}

#[tokio::test]
async fn tokens_never_leave_the_server() {
    use base64::Engine;
    let (logs, _guard) = crate::logs::CapturedLogs::start(tracing::Level::TRACE);
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let setup = setup("google", &[("RELAIS_SECRET_KEY", key.clone())]).await;
    let mut outputs = Vec::new();

    let location = setup.connect(None).await;
    let grant_id = query_value(&location, "oauth_grant").unwrap();
    let mut tokens = stored_tokens(&setup.app, &key).await.to_vec();
    outputs.push(location);
    let grant = setup.app.call("oauth_grant", &[("grant_id", &grant_id)]).await;
    outputs.push(grant.text().await.unwrap());
    let form = oauth_form(Some(&grant_id), None);
    outputs.push(format!("{:?}", setup.app.test_send(&form).await));
    let saved = setup.app.save(&form).await.text().await.unwrap();
    let sender: SenderView = serde_json::from_str(&saved).unwrap();
    outputs.push(saved);
    setup.expire_soon().await;
    let events = setup.app.test_send(&oauth_form(None, Some(&sender))).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    outputs.push(format!("{events:?}"));
    tokens.extend(stored_tokens(&setup.app, &key).await);
    outputs.push(setup.app.call("list_senders", &[]).await.text().await.unwrap());
    outputs.push(setup.app.get("/settings").await.text().await.unwrap());
    outputs.push(logs.text());

    assert_eq!(
        setup.provider.refresh_count().await,
        1,
        "the second send used a new token"
    );
    assert_ne!(tokens[1], tokens[3], "the access token changed");
    let mut secrets = tokens.clone();
    for access_token in [&tokens[1], &tokens[3]] {
        let payload = format!("user={MAILBOX}\x01auth=Bearer {access_token}\x01\x01");
        secrets.push(base64::engine::general_purpose::STANDARD.encode(payload));
    }
    secrets.push("auth=Bearer".to_string());
    secrets.push(crate::oauth_harness::CLIENT_SECRET.to_string());
    let everything = outputs.join("\n");
    assert!(
        everything.contains("test send accepted by the server"),
        "the log capture works"
    );
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(!everything.contains(secret.as_str()), "{secret:?} left the server");
    }
}
