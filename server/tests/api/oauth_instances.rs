//! Two Relais instances that share one database: an authorization started on one finishes on
//! the other, and a grant that both need refreshed is refreshed once.

use app::senders::test_send::TestEvent;
use serde_json::json;

use app::senders::SenderList;

use crate::helpers::{PASSWORD, TestApp, spawn_app_with};
use crate::oauth_harness::{ProviderHarness, authorize};
use crate::senders::{Form, MAILBOX};
use crate::smtp_harness::{CERTIFICATES, Harness, with_certificate};

const SHARED_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn oauth_form() -> Form {
    Form::starttls(0)
        .set("display_name", "Ana Lopes")
        .set("email", "")
        .set("smtp_host", "")
        .set("smtp_port", "")
        .set("security", "")
        .set("username", "")
        .set("password", "")
}

/// Calls a server function on `instance` as the browser does behind a load balancer: the
/// `Origin` is the public URL that both instances share.
async fn call_via(
    instance: &TestApp,
    browser: &reqwest::Client,
    public_url: &str,
    function: &str,
    form: &[(String, String)],
) -> reqwest::Response {
    browser
        .post(instance.url(&format!("/api/{function}")))
        .header("Origin", public_url)
        .header("Accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn events_of(response: reqwest::Response) -> Vec<TestEvent> {
    let body = response.text().await.unwrap();
    body.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

#[tokio::test]
async fn two_instances_share_flows_and_refresh_once() {
    let provider = ProviderHarness::start("google", MAILBOX).await;
    let options = json!({"tls": "starttls", "xoauth2": {"verifyUrl": provider.verify_url()}});
    let mut smtp = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let database = tempfile::tempdir().unwrap();
    let first_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public_url = format!("http://127.0.0.1:{first_port}");
    let mut shared = provider.variables();
    shared.extend([
        ("RELAIS_GOOGLE_SMTP", format!("localhost:{}", smtp.port)),
        ("RELAIS_GOOGLE_SMTP_SECURITY", "starttls".to_string()),
        (
            "RELAIS_DATABASE_URL",
            format!("sqlite://{}", database.path().join("shared.db").display()),
        ),
        ("RELAIS_SECRET_KEY", SHARED_KEY.to_string()),
        ("RELAIS_PUBLIC_URL", public_url.clone()),
        (
            "RELAIS_SMTP_ALLOWED_TARGETS",
            format!("localhost:{0},127.0.0.1:{0}", smtp.port),
        ),
        ("RELAIS_SMTP_EXTRA_CA_FILE", CERTIFICATES.ca_file.display().to_string()),
    ]);
    let mut first_variables = shared.clone();
    first_variables.push(("RELAIS_LISTEN_ADDR", format!("127.0.0.1:{first_port}")));
    let first = spawn_app_with(&first_variables).await;
    first.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;
    let second = spawn_app_with(&shared).await;
    // One browser: its session cookie reaches both instances, which share the session table.
    let browser = first.client.clone();

    // Started on the first instance, finished on the second.
    let response = first.call("start_oauth", &[("provider", "Google")]).await;
    let provider_url: String = response.json().await.unwrap();
    let mut callback = authorize(&provider_url).await;
    callback.set_port(second.url("/").port()).unwrap();
    let response = browser.get(callback).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let grant_id = location
        .strip_prefix("/settings?oauth_grant=")
        .and_then(|rest| rest.strip_suffix("#senders"))
        .unwrap_or_else(|| panic!("expected a pending grant, got {location}"))
        .to_string();

    let form = oauth_form().set("oauth_grant", grant_id);
    let tested = call_via(&second, &browser, &public_url, "test_sender", &form.encoded()).await;
    let events = events_of(tested).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    smtp.next_message().await;
    let saved = first.saved(&form).await;
    let listed = call_via(&second, &browser, &public_url, "list_senders", &[]).await;
    let listed: SenderList = listed.json().await.unwrap();
    assert_eq!(listed.senders, vec![saved.clone()]);

    // Both instances need a fresh token at the same moment.
    sqlx::query("UPDATE oauth_grants SET access_expires_at = $1")
        .bind(relais::db::now() + 30)
        .execute(&first.pool)
        .await
        .unwrap();
    provider.control(json!({"delayNextTokenMs": 400})).await;
    let stored = oauth_form()
        .set("sender_id", saved.id.clone())
        .set("version", saved.version.to_string());
    let encoded = stored.encoded();
    let (on_first, on_second) = tokio::join!(
        first.test_send(&stored),
        call_via(&second, &browser, &public_url, "test_sender", &encoded),
    );
    let on_second = events_of(on_second).await;

    assert!(
        matches!(on_first.last(), Some(TestEvent::Succeeded { .. })),
        "{on_first:?}"
    );
    assert!(
        matches!(on_second.last(), Some(TestEvent::Succeeded { .. })),
        "{on_second:?}"
    );
    assert_eq!(provider.refresh_count().await, 1);
}
