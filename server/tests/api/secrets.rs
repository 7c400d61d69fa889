//! SMTP passwords never come back to the browser: not in pages, not in the data that hydrates
//! them, not in any server-function response or error.

use base64::Engine;

use crate::senders::{Form, MAILBOX, MAILBOX_PASSWORD, app_for, starttls_server};

#[tokio::test]
async fn responses_hold_no_smtp_password() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    let wrong_password = "Wrong-SECRET-pw";
    let mut outputs = Vec::new();

    let failed = app.test_send(&form.clone().set("password", wrong_password)).await;
    outputs.push(format!("{failed:?}"));
    let refused = app.save(&form.clone().set("password", wrong_password)).await;
    outputs.push(refused.text().await.unwrap());
    outputs.push(format!("{:?}", app.test_send(&form).await));
    let saved = app.save(&form).await;
    outputs.push(saved.text().await.unwrap());
    outputs.push(app.call("list_senders", &[]).await.text().await.unwrap());
    for path in ["/settings", "/workspace"] {
        outputs.push(app.get(path).await.text().await.unwrap());
    }
    let senders = app.senders().await;
    let edited = form.clone().editing(&senders.senders[0]).set("password", "");
    outputs.push(format!("{:?}", app.test_send(&edited).await));
    outputs.push(app.get("/settings").await.text().await.unwrap());

    let everything = outputs.join("\n");
    assert!(everything.contains(MAILBOX), "the outputs show the sender");
    let plain_payload = base64::engine::general_purpose::STANDARD.encode(format!("\0{MAILBOX}\0{MAILBOX_PASSWORD}"));
    let login_payload = base64::engine::general_purpose::STANDARD.encode(MAILBOX_PASSWORD);
    for secret in [
        MAILBOX_PASSWORD,
        wrong_password,
        plain_payload.as_str(),
        login_payload.as_str(),
        "AUTH PLAIN",
        "AUTH LOGIN",
    ] {
        assert!(!everything.contains(secret), "{secret:?} was sent to the browser");
    }
}
