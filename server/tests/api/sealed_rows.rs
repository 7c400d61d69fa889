//! Sealed credentials belong to their row: a ciphertext copied onto another sender is rejected,
//! reported with the sender id and never sent, and no sealed column contains a plaintext.

use app::error::AppError;
use app::senders::test_send::TestEvent;
use app::senders::{SenderStatus, SenderView};
use relais::crypto;
use relais::keys::Keyring;
use relais::oauth::service::token_context;

use crate::helpers::{PASSWORD, TestApp};
use crate::logs::CapturedLogs;
use crate::oauth_senders::setup;
use crate::senders::{Form, MAILBOX, MAILBOX_PASSWORD, app_for, starttls_server};

/// Base64 of 32 bytes of 0x01, the keyring of these tests.
const KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// Returns the dialog's form that tests `sender` with its stored password.
pub fn stored_form(port: u16, sender: &SenderView) -> Form {
    Form::starttls(port)
        .set("email", sender.email.clone())
        .set("password", "")
        .set("sender_id", sender.id.clone())
        .set("version", sender.version.to_string())
}

async fn copy_password(app: &TestApp, from: &str, to: &str) {
    let copied = sqlx::query(
        "UPDATE sender_secrets SET sealed = (SELECT sealed FROM sender_secrets WHERE sender_id = $1)
         WHERE sender_id = $2",
    )
    .bind(from)
    .bind(to)
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(copied.rows_affected(), 1);
}

async fn status_of(app: &TestApp, sender_id: &str) -> SenderStatus {
    let list = app.senders().await;
    list.senders
        .iter()
        .find(|sender| sender.id == sender_id)
        .unwrap_or_else(|| panic!("sender {sender_id} is listed"))
        .status
}

#[tokio::test]
async fn copied_password_is_never_used() {
    let (logs, _guard) = CapturedLogs::start(tracing::Level::INFO);
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[("RELAIS_SECRET_KEY", KEY.to_string())]).await;
    let form = Form::starttls(harness.port);

    // Ana has two senders, and Bob, another account, has one.
    app.test_send(&form).await;
    harness.next_message().await;
    let source = app.saved(&form).await;
    let support = form.clone().set("email", "support@example.com");
    app.test_send(&support).await;
    harness.next_message().await;
    let same_account = app.saved(&support).await;
    app.call("sign_out", &[]).await;
    app.sign_up("Bob Martin", "bob@example.com", PASSWORD).await;
    app.test_send(&form).await;
    harness.next_message().await;
    let other_account = app.saved(&form).await;

    copy_password(&app, &source.id, &same_account.id).await;
    copy_password(&app, &source.id, &other_account.id).await;

    // Bob's sender refuses the copied ciphertext before connecting.
    let events = app.test_send(&stored_form(harness.port, &other_account)).await;
    assert_eq!(events, [TestEvent::Refused(AppError::PasswordUnreadable)]);
    assert!(
        !harness.has_message().await,
        "no message, so no SMTP AUTH, reached the server"
    );
    assert_eq!(status_of(&app, &other_account.id).await, SenderStatus::KeyUnavailable);

    // So does Ana's other sender, while the original still works.
    app.call("sign_out", &[]).await;
    app.sign_in("ana@example.com", PASSWORD).await;
    let events = app.test_send(&stored_form(harness.port, &same_account)).await;
    assert_eq!(events, [TestEvent::Refused(AppError::PasswordUnreadable)]);
    assert!(!harness.has_message().await);
    assert_eq!(status_of(&app, &same_account.id).await, SenderStatus::KeyUnavailable);
    let events = app.test_send(&stored_form(harness.port, &source)).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    assert_eq!(harness.next_message().await["auth"]["username"], MAILBOX);
    assert_eq!(status_of(&app, &source.id).await, SenderStatus::Verified);

    let logs = logs.text();
    for sender_id in [&same_account.id, &other_account.id] {
        assert!(
            logs.lines()
                .any(|line| line.contains("stored SMTP password not used") && line.contains(sender_id.as_str())),
            "the rejected row of sender {sender_id} is logged with its id:\n{logs}"
        );
    }
    assert!(
        !logs
            .lines()
            .any(|line| line.contains("not used") && line.contains(source.id.as_str())),
        "the original row is not reported:\n{logs}"
    );
    assert_no_plaintext(&app, &[MAILBOX_PASSWORD.as_bytes()]).await;
}

/// Asserts that no sealed column of any row contains one of `plaintexts`.
pub async fn assert_no_plaintext(app: &TestApp, plaintexts: &[&[u8]]) {
    let queries = [
        "SELECT sealed FROM sender_secrets",
        "SELECT sealed_refresh_token FROM oauth_grants",
        "SELECT sealed_access_token FROM oauth_grants",
        "SELECT sealed_verifier FROM oauth_states",
        "SELECT sealed FROM key_checks",
    ];
    let mut checked = 0;
    for query in queries {
        let values: Vec<Vec<u8>> = sqlx::query_scalar(query).fetch_all(&app.pool).await.unwrap();
        for value in values {
            checked += 1;
            for plaintext in plaintexts {
                assert!(
                    !value.windows(plaintext.len()).any(|window| window == *plaintext),
                    "`{query}` returned a value that contains a plaintext"
                );
            }
        }
    }
    assert!(checked >= 2, "the database holds sealed values to check");
}

#[tokio::test]
async fn sealed_tokens_hold_no_plaintext() {
    let mut oauth = setup("google", &[("RELAIS_SECRET_KEY", KEY.to_string())]).await;
    oauth.saved_sender().await;
    let app = &oauth.app;

    // The test sets the key, so it decrypts the stored tokens to learn their plaintext.
    let keyring = Keyring::parse(KEY).unwrap();
    let (grant_id, account_id, sealed_refresh, sealed_access): (String, String, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT id, account_id, sealed_refresh_token, sealed_access_token FROM oauth_grants")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let refresh_token = crypto::open(
        keyring.current(),
        &sealed_refresh,
        &token_context("refresh_token", &account_id, &grant_id),
    )
    .unwrap();
    let access_token = crypto::open(
        keyring.current(),
        &sealed_access,
        &token_context("access_token", &account_id, &grant_id),
    )
    .unwrap();
    assert!(
        refresh_token.len() >= 8 && access_token.len() >= 8,
        "the harness issued tokens"
    );

    assert_no_plaintext(app, &[&refresh_token, &access_token, b"relais key check v1".as_slice()]).await;
}
