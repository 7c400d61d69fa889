//! Key rotation through the `relais keys` commands of the real binary: new writes use the new
//! key, old rows still decrypt, re-encryption moves every row and resumes after an
//! interruption or a concurrent write.

use std::path::Path;
use std::time::Duration;

use app::senders::SenderView;
use app::senders::test_send::TestEvent;
use relais::crypto;
use relais::keys::Keyring;
use relais::keys::rotation::reencrypt;
use relais::senders::secret_context;

use crate::helpers::{PASSWORD, TestApp, spawn_app_on};
use crate::sealed_rows::{assert_no_plaintext, stored_form};
use crate::senders::{Form, MAILBOX_PASSWORD, app_for, starttls_server};
use crate::smtp_harness::{CERTIFICATES, Harness};
use crate::test_database::TestDatabase;

/// Base64 of 32 bytes of 0x0c, in the format of Relais before key rotation.
const OLD_KEY: &str = "DAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw=";

/// Output of one `relais keys` run.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `relais keys ARGUMENTS` on the database and data directory of a test app.
async fn keys(database: &TestDatabase, data_dir: &Path, secret_key: Option<&str>, arguments: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_relais"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("RELAIS_")) {
        command.env_remove(name);
    }
    command
        .arg("keys")
        .args(arguments)
        .env("RELAIS_DATA_DIR", data_dir)
        .env("RELAIS_DATABASE_URL", database.url_or_file_in(data_dir))
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    if let Some(secret_key) = secret_key {
        command.env("RELAIS_SECRET_KEY", secret_key);
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("relais keys finishes within 60 s")
        .unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

fn variables(harness: &Harness, secret_key: Option<&str>) -> Vec<(&'static str, String)> {
    let mut variables = vec![
        ("RELAIS_SMTP_ALLOWED_TARGETS", format!("localhost:{}", harness.port)),
        ("RELAIS_SMTP_EXTRA_CA_FILE", CERTIFICATES.ca_file.display().to_string()),
    ];
    if let Some(secret_key) = secret_key {
        variables.push(("RELAIS_SECRET_KEY", secret_key.to_string()));
    }
    variables
}

/// Tests and saves a sender with address `email` on `harness`.
async fn save_sender(app: &TestApp, harness: &mut Harness, email: &str) -> SenderView {
    let form = Form::starttls(harness.port).set("email", email);
    let events = app.test_send(&form).await;
    assert!(matches!(events.last(), Some(TestEvent::Succeeded { .. })), "{events:?}");
    harness.next_message().await;
    app.saved(&form).await
}

async fn stored_send_works(app: &TestApp, harness: &mut Harness, sender: &SenderView) -> bool {
    let events = app.test_send(&stored_form(harness.port, sender)).await;
    let succeeded = matches!(events.last(), Some(TestEvent::Succeeded { .. }));
    if succeeded {
        harness.next_message().await;
    }
    succeeded
}

/// Returns the key id of each stored SMTP password, ordered by sender id.
async fn key_ids(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT key_id FROM sender_secrets ORDER BY sender_id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

fn key_file_ids(data_dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(data_dir.join("relais.key")).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .map(|(id, _)| id.to_string())
        .collect()
}

#[tokio::test]
async fn rotation_moves_rows_to_the_new_key() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &variables(&harness, None)).await;
    let old = save_sender(&app, &mut harness, "sales@example.com").await;
    let (database, data_dir) = app.into_storage();
    let dir = data_dir.path();

    let status = keys(&database, dir, None, &["status"]).await;
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    assert!(
        status
            .stdout
            .lines()
            .any(|line| line.starts_with("k1 ") && line.contains("current")),
        "{}",
        status.stdout
    );

    let rotated = keys(&database, dir, None, &["rotate"]).await;
    assert_eq!(rotated.code, Some(0), "{}", rotated.stderr);
    assert_eq!(key_file_ids(dir), ["k2", "k1"]);
    let again = keys(&database, dir, None, &["rotate"]).await;
    assert_eq!(again.code, Some(1), "a second rotation waits for the re-encryption");
    assert!(again.stderr.contains("relais keys reencrypt"), "{}", again.stderr);
    assert_eq!(key_file_ids(dir), ["k2", "k1"]);

    // After a restart, new writes use k2 and the k1 row still decrypts.
    let mut app = spawn_app_on(database, data_dir, &variables(&harness, None)).await;
    app.sign_in("ana@example.com", PASSWORD).await;
    let new = save_sender(&app, &mut harness, "support@example.com").await;
    let mut expected = [(old.id.clone(), "k1"), (new.id.clone(), "k2")];
    expected.sort();
    assert_eq!(
        key_ids(&app).await,
        expected.iter().map(|(_, id)| *id).collect::<Vec<_>>()
    );
    assert!(stored_send_works(&app, &mut harness, &old).await);

    let (database, data_dir) = app.into_storage();
    let dir = data_dir.path();
    let rejected = keys(&database, dir, None, &["remove", "k1"]).await;
    assert_eq!(rejected.code, Some(1));
    assert!(
        rejected.stderr.contains("still seals 1 credentials"),
        "{}",
        rejected.stderr
    );
    assert_eq!(key_file_ids(dir), ["k2", "k1"]);

    let moved = keys(&database, dir, None, &["reencrypt"]).await;
    assert_eq!(moved.code, Some(0), "{}\n{}", moved.stdout, moved.stderr);
    assert!(
        moved.stdout.contains("Re-encrypted 1 credentials to key k2"),
        "{}",
        moved.stdout
    );
    let removed = keys(&database, dir, None, &["remove", "k1"]).await;
    assert_eq!(removed.code, Some(0), "{}", removed.stderr);
    assert_eq!(key_file_ids(dir), ["k2"]);
    let status = keys(&database, dir, None, &["status"]).await;
    assert!(
        status
            .stdout
            .lines()
            .any(|line| line.starts_with("k2 ") && line.contains(" 2 ")),
        "{}",
        status.stdout
    );

    app = spawn_app_on(database, data_dir, &variables(&harness, None)).await;
    app.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(key_ids(&app).await, ["k2", "k2"]);
    assert!(stored_send_works(&app, &mut harness, &old).await);
    assert!(stored_send_works(&app, &mut harness, &new).await);
    assert_no_plaintext(&app, &[MAILBOX_PASSWORD.as_bytes()]).await;
}

#[tokio::test]
async fn interrupted_reencryption_resumes() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &variables(&harness, Some(OLD_KEY))).await;
    let mut senders = Vec::new();
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        senders.push(save_sender(&app, &mut harness, email).await);
    }
    let account_id: String = sqlx::query_scalar("SELECT id FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (database, data_dir) = app.into_storage();
    let dir = data_dir.path();

    // With RELAIS_SECRET_KEY, the command prints the new value instead of writing a file.
    let rotated = keys(&database, dir, Some(OLD_KEY), &["rotate"]).await;
    assert_eq!(rotated.code, Some(0), "{}", rotated.stderr);
    assert!(rotated.stderr.contains("secret"), "{}", rotated.stderr);
    assert!(!dir.join("relais.key").exists());
    let value = rotated
        .stdout
        .trim()
        .strip_prefix("RELAIS_SECRET_KEY=")
        .unwrap_or_else(|| panic!("the new value is printed: {}", rotated.stdout))
        .to_string();
    let keyring = Keyring::parse(&value).unwrap();
    assert_eq!(keyring.ids().collect::<Vec<_>>(), ["k2", "k1"]);

    let app = spawn_app_on(database, data_dir, &variables(&harness, Some(&value))).await;
    app.sign_in("ana@example.com", PASSWORD).await;

    // A run stopped after one row leaves the others under k1.
    let report = reencrypt(&app.pool, &keyring, 1, Some(1)).await.unwrap();
    assert_eq!(report.moved, 1);
    let mut ids = key_ids(&app).await;
    ids.sort();
    assert_eq!(ids, ["k1", "k1", "k2"]);

    // An instance that still has only k1 writes a new password while the next run is under
    // way: the run skips that row instead of overwriting it.
    let pending: (String, Vec<u8>) =
        sqlx::query_as("SELECT sender_id, sealed FROM sender_secrets WHERE key_id = 'k1' ORDER BY sender_id LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let context = secret_context(&account_id, &pending.0, "smtp_password");
    let written = crypto::seal(keyring.get("k1").unwrap(), b"written-meanwhile", &context);
    let mut transaction = relais::db::begin_write(&app.pool).await.unwrap();
    sqlx::query("UPDATE sender_secrets SET sealed = $1 WHERE sender_id = $2")
        .bind(&written)
        .bind(&pending.0)
        .execute(&mut *transaction)
        .await
        .unwrap();
    let run = tokio::spawn({
        let pool = app.pool.clone();
        let keyring = keyring.clone();
        async move { reencrypt(&pool, &keyring, 100, None).await }
    });
    // The run reads the committed rows and then waits for this transaction's lock.
    tokio::time::sleep(Duration::from_millis(500)).await;
    transaction.commit().await.unwrap();
    let report = run.await.unwrap().unwrap();
    assert_eq!(report.changed, 1, "{report:?}");
    assert_eq!(report.moved, 1, "{report:?}");
    let (key_id, sealed): (String, Vec<u8>) =
        sqlx::query_as("SELECT key_id, sealed FROM sender_secrets WHERE sender_id = $1")
            .bind(&pending.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((key_id.as_str(), sealed), ("k1", written));

    // Running the command again finishes the job and keeps the concurrent write.
    let (database, data_dir) = app.into_storage();
    let resumed = keys(
        &database,
        data_dir.path(),
        Some(&value),
        &["reencrypt", "--batch-size", "1"],
    )
    .await;
    assert_eq!(resumed.code, Some(0), "{}\n{}", resumed.stdout, resumed.stderr);
    let app = spawn_app_on(database, data_dir, &variables(&harness, Some(&value))).await;
    app.sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(key_ids(&app).await, ["k2", "k2", "k2"]);
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM sender_secrets WHERE sender_id = $1")
        .bind(&pending.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        crypto::open(keyring.current(), &sealed, &context).unwrap(),
        b"written-meanwhile"
    );
    let untouched = senders.iter().find(|sender| sender.id != pending.0).unwrap();
    assert!(stored_send_works(&app, &mut harness, untouched).await);
}
