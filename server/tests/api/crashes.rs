//! A `relais` process killed with SIGKILL in the middle of a save or of an OAuth callback leaves
//! no partial row, and the user can retry on the restarted process.

use std::time::Duration;

use reqwest::cookie::Jar;
use serde_json::json;

use crate::helpers::PASSWORD;
use crate::instances::{Browser, Instance, SHARED_KEY, connect, free_port, pairs, succeeded};
use crate::oauth_harness::{ProviderHarness, authorize};
use crate::oauth_senders::oauth_form;
use crate::senders::{Form, MAILBOX, MAILBOX_PASSWORD};
use crate::smtp_harness::{CERTIFICATES, Harness, with_certificate};
use crate::test_database::{TestDatabase, is_postgres};
use sqlx::Executor;

fn browser(public_url: &str) -> Browser {
    Browser {
        client: reqwest::Client::builder()
            .cookie_provider(std::sync::Arc::new(Jar::default()))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        public_url: public_url.to_string(),
    }
}

async fn kill(instance: &mut Instance) {
    instance.child.start_kill().unwrap();
    instance.child.wait().await.unwrap();
}

async fn sign_up(browser: &Browser, instance: &Instance) {
    let response = browser
        .call(
            instance,
            "sign_up",
            &pairs(&[
                ("display_name", "Ana Lopes"),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
            ]),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
}

async fn row_counts(pool: &sqlx::AnyPool) -> (i64, i64) {
    sqlx::query_as("SELECT (SELECT COUNT(*) FROM senders), (SELECT COUNT(*) FROM sender_secrets)")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn save_killed_midway_leaves_nothing() {
    let options = json!({"tls": "starttls", "auth": {"username": MAILBOX, "password": MAILBOX_PASSWORD}});
    let smtp = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let database = TestDatabase::create().await;
    let shared_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let variables = [
        ("RELAIS_DATABASE_URL", database.url_or_file_in(shared_dir.path())),
        ("RELAIS_SECRET_KEY", SHARED_KEY.to_string()),
        ("RELAIS_PUBLIC_URL", public_url.clone()),
        ("RELAIS_SMTP_ALLOWED_TARGETS", format!("localhost:{}", smtp.port)),
        ("RELAIS_SMTP_EXTRA_CA_FILE", CERTIFICATES.ca_file.display().to_string()),
    ];
    let mut first = Instance::start(port, &variables).await;
    let browser = browser(&public_url);
    sign_up(&browser, &first).await;
    let form = Form::starttls(smtp.port);
    assert!(succeeded(&browser.test_send(&first, &form).await));
    let pool = connect(&database, shared_dir.path()).await;

    // On PostgreSQL the save inserts the sender, then waits for the table lock at the secret,
    // so the kill lands between the two writes. SQLite takes its write lock when the
    // transaction begins, so there the kill lands before the first write.
    let mut blocker = pool.acquire().await.unwrap();
    let lock = if is_postgres() {
        "BEGIN; LOCK TABLE sender_secrets IN ACCESS EXCLUSIVE MODE;"
    } else {
        "BEGIN EXCLUSIVE;"
    };
    blocker.execute(lock).await.unwrap();
    let save = {
        let request = browser
            .client
            .post(format!("{}/api/save_sender", first.address))
            .header("Origin", &public_url)
            .header("Accept", "application/json")
            .form(&form.encoded())
            .send();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), request).await;
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    kill(&mut first).await;
    blocker.execute("ROLLBACK").await.unwrap();
    drop(blocker);
    let _ = save.await;

    assert_eq!(row_counts(&pool).await, (0, 0), "no partial row after the kill");
    let second = Instance::start(port, &variables).await;
    let listed: app::senders::SenderList = browser.call(&second, "list_senders", &[]).await.json().await.unwrap();
    assert!(listed.senders.is_empty());
    assert!(succeeded(&browser.test_send(&second, &form).await));
    let saved = browser.call(&second, "save_sender", &form.encoded()).await;
    assert!(saved.status().is_success(), "{}", saved.status());
    assert_eq!(row_counts(&pool).await, (1, 1));
}

#[tokio::test]
async fn callback_killed_midway_can_be_retried() {
    let provider = ProviderHarness::start("google", MAILBOX).await;
    let options = json!({"tls": "starttls", "xoauth2": {"verifyUrl": provider.verify_url()}});
    let smtp = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let database = TestDatabase::create().await;
    let shared_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let mut variables = provider.variables();
    variables.extend([
        ("RELAIS_DATABASE_URL", database.url_or_file_in(shared_dir.path())),
        ("RELAIS_SECRET_KEY", SHARED_KEY.to_string()),
        ("RELAIS_PUBLIC_URL", public_url.clone()),
        ("RELAIS_GOOGLE_SMTP", format!("localhost:{}", smtp.port)),
        ("RELAIS_GOOGLE_SMTP_SECURITY", "starttls".to_string()),
        ("RELAIS_SMTP_ALLOWED_TARGETS", format!("localhost:{}", smtp.port)),
        ("RELAIS_SMTP_EXTRA_CA_FILE", CERTIFICATES.ca_file.display().to_string()),
        ("RELAIS_OAUTH_TIMEOUT_SECS", "10".to_string()),
    ]);
    let mut first = Instance::start(port, &variables).await;
    let browser = browser(&public_url);
    sign_up(&browser, &first).await;
    let pool = connect(&database, shared_dir.path()).await;

    // The kill lands while Relais waits for the token endpoint.
    let started = browser
        .call(&first, "start_oauth", &pairs(&[("provider", "Google")]))
        .await;
    let provider_url: String = started.json().await.unwrap();
    let callback = authorize(&provider_url).await;
    provider.control(json!({"delayNextTokenMs": 3000})).await;
    let pending = {
        let request = browser.client.get(callback).send();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), request).await;
        })
    };
    tokio::time::sleep(Duration::from_millis(1000)).await;
    kill(&mut first).await;
    let _ = pending.await;

    let grants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_grants")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(grants, 0, "no grant from the interrupted exchange");

    // The retry runs the whole flow on the restarted process, which is killed again right
    // after the exchange stored the pending grant.
    let mut second = Instance::start(port, &variables).await;
    let started = browser
        .call(&second, "start_oauth", &pairs(&[("provider", "Google")]))
        .await;
    let provider_url: String = started.json().await.unwrap();
    let callback = authorize(&provider_url).await;
    let response = browser.client.get(callback).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let grant_id = location
        .strip_prefix("/settings?oauth_grant=")
        .and_then(|rest| rest.strip_suffix("#senders"))
        .unwrap_or_else(|| panic!("a pending grant: {location}"))
        .to_string();
    kill(&mut second).await;

    let third = Instance::start(port, &variables).await;
    let grant = browser
        .call(&third, "oauth_grant", &pairs(&[("grant_id", &grant_id)]))
        .await;
    let grant: serde_json::Value = grant.json().await.unwrap();
    assert_eq!(grant["email"], MAILBOX, "the dialog can reopen on the pending grant");
    let form = oauth_form(Some(&grant_id), None);
    assert!(succeeded(&browser.test_send(&third, &form).await));
    let saved = browser.call(&third, "save_sender", &form.encoded()).await;
    assert!(saved.status().is_success(), "{}", saved.status());
    let grants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oauth_grants WHERE sender_id IS NOT NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(grants, 1);
}
