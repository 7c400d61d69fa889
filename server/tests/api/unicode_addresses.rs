//! Internationalized addresses: domains go out as punycode in the envelope and the headers and
//! are shown in Unicode, and a non-ASCII local part needs a server that offers SMTPUTF8.

use app::senders::test_send::{FailureKind, Stage, TestEvent};
use serde_json::json;

use crate::fault_peers::RecordingProxy;
use crate::helpers::{PASSWORD, TestApp};
use crate::raw_message::{decode_mailbox, single_field};
use crate::senders::{Form, app_for_port, failure_of, last};
use crate::smtp_harness::Harness;

/// Returns a sender form for a plain server without authentication, so that a proxy can read
/// the SMTP commands.
fn plain_form(port: u16, email: &str) -> Form {
    Form::starttls(port)
        .set("smtp_host", "127.0.0.1")
        .set("security", "none")
        .set("username", "")
        .set("password", "")
        .set("email", email)
}

/// Starts an app whose account address has an internationalized domain.
async fn app_with_idn_account(port: u16) -> TestApp {
    let app = app_for_port(port, &[]).await;
    app.call("sign_out", &[]).await;
    app.sign_up("Ana", "ana@exämple.fr", PASSWORD).await;
    app
}

#[tokio::test]
async fn idn_domains_go_out_as_punycode() {
    let mut harness = Harness::start(json!({"tls": "none"})).await;
    let proxy = RecordingProxy::start(harness.port).await;
    let app = app_with_idn_account(proxy.port).await;
    let form = plain_form(proxy.port, "ventes@Bücher.example").set("reply_to", "aide@bücher.example");

    let events = app.test_send(&form).await;
    let saved = app.saved(&form).await;

    assert_eq!(
        last(&events),
        &TestEvent::Succeeded {
            recipient: "ana@exämple.fr".to_string()
        }
    );
    let commands = proxy.client_text();
    assert!(
        commands.contains("MAIL FROM:<ventes@xn--bcher-kva.example>"),
        "{commands}"
    );
    assert!(commands.contains("RCPT TO:<ana@xn--exmple-cua.fr>"), "{commands}");
    assert!(commands.is_ascii(), "{commands}");
    let raw = harness.next_message().await["raw"].as_str().unwrap().to_owned();
    assert_eq!(
        decode_mailbox(&single_field(&raw, "From")),
        (
            "Équipe \"Ventes\", Paris 🚀".to_string(),
            "ventes@xn--bcher-kva.example".to_string()
        )
    );
    assert_eq!(single_field(&raw, "To"), "ana@xn--exmple-cua.fr");
    assert_eq!(single_field(&raw, "Reply-To"), "aide@xn--bcher-kva.example");

    assert_eq!(saved.email, "ventes@bücher.example");
    assert_eq!(app.senders().await.senders[0].email, "ventes@bücher.example");
    let page = app.get("/settings").await.text().await.unwrap();
    assert!(page.contains("ventes@bücher.example"), "{page}");
    assert!(!page.contains("xn--bcher-kva"), "{page}");
}

#[tokio::test]
async fn non_ascii_local_part_needs_smtputf8() {
    let mut strict = Harness::start(json!({"tls": "none"})).await;
    let strict_app = app_for_port(strict.port, &[]).await;

    let refused = strict_app.test_send(&plain_form(strict.port, "jörg@example.com")).await;

    assert_eq!(
        failure_of(&refused),
        (Stage::Sending, FailureKind::SmtpUtf8Required, None)
    );
    assert!(!strict.has_message().await);

    let mut capable = Harness::start(json!({"tls": "none", "smtputf8": true})).await;
    let proxy = RecordingProxy::start(capable.port).await;
    let capable_app = app_for_port(proxy.port, &[]).await;

    let events = capable_app
        .test_send(&plain_form(proxy.port, "jörg@bücher.example"))
        .await;

    assert!(matches!(last(&events), TestEvent::Succeeded { .. }), "{events:?}");
    let received = capable.next_message().await;
    assert_eq!(received["utf8"], true);
    let commands = proxy.client_text();
    assert!(
        commands.contains("MAIL FROM:<jörg@xn--bcher-kva.example> SMTPUTF8"),
        "{commands}"
    );
}
