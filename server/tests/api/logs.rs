//! Credentials never reach the logs, even at the most verbose level.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;

use crate::helpers::PASSWORD;
use crate::senders::{Form, MAILBOX, MAILBOX_PASSWORD, app_for, starttls_server};

/// A log writer that appends to a shared buffer.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// Captures every log line of this thread until the guard drops. `tokio::test` runs every
    /// task of the app on the test's thread, so the capture covers them.
    pub fn start(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

async fn account_id(app: &crate::helpers::TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT id FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn trace_logs_hold_no_credentials() {
    let (logs, _guard) = CapturedLogs::start(tracing::Level::TRACE);

    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form.clone().set("password", "Wrong-SECRET-pw")).await;
    app.test_send(&form).await;
    app.saved(&form).await;
    app.senders().await;
    app.get("/settings").await.text().await.unwrap();

    let logs = logs.text();
    assert!(
        logs.contains("test send accepted by the server"),
        "the capture works: {} bytes",
        logs.len()
    );
    let plain_payload = base64::engine::general_purpose::STANDARD.encode(format!("\0{MAILBOX}\0{MAILBOX_PASSWORD}"));
    for secret in [
        MAILBOX_PASSWORD,
        "Wrong-SECRET-pw",
        PASSWORD,
        plain_payload.as_str(),
        "AUTH PLAIN",
        "AUTH LOGIN",
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
}

#[tokio::test]
async fn foreign_sender_requests_name_both_accounts() {
    let (logs, _guard) = CapturedLogs::start(tracing::Level::WARN);
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;
    let owner = account_id(&app, "ana@example.com").await;
    app.call("sign_out", &[]).await;
    app.sign_up("Mallory", "mallory@example.com", PASSWORD).await;
    let intruder = account_id(&app, "mallory@example.com").await;

    app.delete(&saved.id).await;
    app.test_send(&form.clone().editing(&saved)).await;
    app.save(&form.clone().editing(&saved)).await;
    app.call("start_oauth", &[("provider", "Google"), ("sender_id", &saved.id)])
        .await;

    let logs = logs.text();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("request for a sender of another account rejected"))
        .collect();
    for action in ["delete", "test or save", "re-authentication"] {
        let line = warnings
            .iter()
            .find(|line| line.contains(&format!("action=\"{action}\"")))
            .unwrap_or_else(|| panic!("no warning for {action}: {logs}"));
        assert!(line.contains(&format!("account_id=\"{intruder}\"")), "{line}");
        assert!(line.contains(&format!("owner_account_id=\"{owner}\"")), "{line}");
        assert!(line.contains(&saved.id), "{line}");
        assert!(line.contains("WARN"), "{line}");
    }
}
