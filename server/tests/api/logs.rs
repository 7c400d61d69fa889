//! Credentials never reach the logs, even at the most verbose level.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;

use crate::helpers::PASSWORD;
use crate::senders::{Form, MAILBOX, MAILBOX_PASSWORD, app_for, starttls_server};

/// A log writer that appends to a shared buffer.
#[derive(Clone, Default)]
pub struct CapturedLogs(pub Arc<Mutex<Vec<u8>>>);

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
    /// Captures the logs of this thread at `info` and above until the guard is dropped. Under
    /// `tokio::test`, every task of the app runs on this thread.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

#[tokio::test]
async fn trace_logs_hold_no_credentials() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // `tokio::test` runs every task of the app on this thread, so the default covers them.
    let _guard = tracing::subscriber::set_default(subscriber);

    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form.clone().set("password", "Wrong-SECRET-pw")).await;
    app.test_send(&form).await;
    app.saved(&form).await;
    app.senders().await;
    app.get("/settings").await.text().await.unwrap();

    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
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
