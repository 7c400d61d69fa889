//! Start-up with a missing or wrong key: a missing key file never gets replaced while
//! credentials exist, and a wrong key leaves the app running with the affected senders marked.

use std::time::Duration;

use app::error::AppError;
use app::senders::SenderStatus;
use app::senders::test_send::TestEvent;

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_on};
use crate::logs::CapturedLogs;
use crate::sealed_rows::{assert_no_plaintext, stored_form};
use crate::senders::{Form, MAILBOX_PASSWORD, app_for, starttls_server};
use crate::smtp_harness::{CERTIFICATES, Harness};

/// Base64 of 32 bytes of 0x0a and of 0x0b: the key that sealed the rows, and another one.
const RIGHT_KEY: &str = "CgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgo=";
const WRONG_KEY: &str = "CwsLCwsLCwsLCwsLCwsLCwsLCwsLCwsLCwsLCwsLCws=";

/// Returns the variables that let an app reach `harness`, with `key` as RELAIS_SECRET_KEY.
fn variables(harness: &Harness, key: Option<&str>) -> Vec<(&'static str, String)> {
    let mut variables = vec![
        ("RELAIS_SMTP_ALLOWED_TARGETS", format!("localhost:{}", harness.port)),
        ("RELAIS_SMTP_EXTRA_CA_FILE", CERTIFICATES.ca_file.display().to_string()),
    ];
    if let Some(key) = key {
        variables.push(("RELAIS_SECRET_KEY", key.to_string()));
    }
    variables
}

async fn key_id_of(app: &TestApp, sender_id: &str) -> String {
    sqlx::query_scalar("SELECT key_id FROM sender_secrets WHERE sender_id = $1")
        .bind(sender_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn missing_key_file_stops_start_up() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    harness.next_message().await;
    app.saved(&form).await;
    let (database, data_dir) = app.into_storage();
    let key_file = data_dir.path().join("relais.key");
    std::fs::remove_file(&key_file).unwrap();

    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_relais"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("RELAIS_")) {
        command.env_remove(name);
    }
    let output = command
        .env("RELAIS_LISTEN_ADDR", "127.0.0.1:0")
        .env("RELAIS_DATA_DIR", data_dir.path())
        .env("RELAIS_DATABASE_URL", database.url_or_file_in(data_dir.path()))
        .env("RUST_LOG", "off")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .expect("relais exits instead of serving")
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&key_file.display().to_string()), "{stderr}");
    assert!(stderr.contains("RELAIS_SECRET_KEY"), "{stderr}");
    assert!(stderr.contains("restore the key file from a backup"), "{stderr}");
    assert!(!key_file.exists(), "no new key replaces the lost one");
}

#[tokio::test]
async fn empty_database_gets_a_new_key() {
    let app = spawn_app().await;
    let (database, data_dir) = app.into_storage();
    let key_file = data_dir.path().join("relais.key");
    let first_key = std::fs::read_to_string(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();

    let app = spawn_app_on(database, data_dir, &[]).await;

    let second_key = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(first_key, second_key);
    assert!(second_key.contains("\nk1:"), "{second_key}");
    let (check_ids,): (String,) = sqlx::query_as("SELECT key_id FROM key_checks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(check_ids, "k1", "the new key is checked under k1 without a mismatch");
}

#[tokio::test]
async fn wrong_key_marks_senders_unusable() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &variables(&harness, Some(RIGHT_KEY))).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    harness.next_message().await;
    let sealed_under_right = app.saved(&form).await;
    let (database, data_dir) = app.into_storage();

    let (logs, guard) = CapturedLogs::start(tracing::Level::INFO);
    let app = spawn_app_on(database, data_dir, &variables(&harness, Some(WRONG_KEY))).await;
    drop(guard);

    let logs = logs.text();
    let errors: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("cannot be decrypted"))
        .collect();
    assert_eq!(errors.len(), 1, "{logs}");
    assert!(errors[0].contains("ERROR"), "{}", errors[0]);
    assert!(errors[0].contains("1 stored credentials"), "{}", errors[0]);
    assert!(errors[0].contains("restore the key"), "{}", errors[0]);

    // Sign-in works, and the sender under the unknown key is listed as unusable.
    let signed_in = app.sign_in("ana@example.com", PASSWORD).await;
    assert!(signed_in.status().is_success(), "{}", signed_in.status());
    let list = app.senders().await;
    assert_eq!(list.senders.len(), 1);
    assert_eq!(list.senders[0].status, SenderStatus::KeyUnavailable);
    assert!(
        !list.senders[0].has_password,
        "an unreadable password must be typed again"
    );

    // Its test send fails before connecting.
    let events = app.test_send(&stored_form(harness.port, &sealed_under_right)).await;
    assert_eq!(events, [TestEvent::Refused(AppError::PasswordUnreadable)]);
    assert!(!harness.has_message().await);

    // Adding a sender works, under an id that keeps it apart from the rows of the right key.
    let support = form.clone().set("email", "support@example.com");
    let events = app.test_send(&support).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    harness.next_message().await;
    let sealed_under_wrong = app.saved(&support).await;
    assert_eq!(sealed_under_wrong.status, SenderStatus::Verified);
    let substitute = key_id_of(&app, &sealed_under_wrong.id).await;
    assert!(substitute.starts_with("k1~"), "{substitute}");
    assert_eq!(key_id_of(&app, &sealed_under_right.id).await, "k1");
    assert_no_plaintext(&app, &[MAILBOX_PASSWORD.as_bytes()]).await;

    // With the right key back, the first sender works again and the second one is unusable.
    let (database, data_dir) = app.into_storage();
    let app = spawn_app_on(database, data_dir, &variables(&harness, Some(RIGHT_KEY))).await;
    app.sign_in("ana@example.com", PASSWORD).await;
    let statuses: Vec<(String, SenderStatus)> = app
        .senders()
        .await
        .senders
        .into_iter()
        .map(|sender| (sender.id, sender.status))
        .collect();
    assert!(statuses.contains(&(sealed_under_right.id.clone(), SenderStatus::Verified)));
    assert!(statuses.contains(&(sealed_under_wrong.id.clone(), SenderStatus::KeyUnavailable)));
    let events = app.test_send(&stored_form(harness.port, &sealed_under_right)).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
}
