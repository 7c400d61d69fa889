//! The activity log: which sender events are recorded, in which order, with which client
//! address, which account can read them, and that no entry contains a secret.

use app::senders::activity::{ActivityEntry, ActivityKind, TestOutcome};
use app::senders::test_send::{FailureKind, Stage, TestEvent};

use crate::helpers::{PASSWORD, TestApp};
use crate::senders::{Form, MAILBOX_PASSWORD, app_for, starttls_server};

const WRONG_PASSWORD: &str = "wrong-password-456";

impl TestApp {
    /// Returns the body of `list_activity` and the entries it decodes to.
    pub async fn activity(&self) -> (String, Vec<ActivityEntry>) {
        let response = self.call("list_activity", &[]).await;
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.text().await.unwrap();
        let entries = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not a list of entries: {body}"));
        (body, entries)
    }
}

fn kinds(entries: &[ActivityEntry]) -> Vec<ActivityKind> {
    entries.iter().map(|entry| entry.kind).collect()
}

#[tokio::test]
async fn activity_log_records_sender_lifecycle() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);

    let passed = app.test_send(&form).await;
    assert!(matches!(passed.last(), Some(TestEvent::Succeeded { .. })), "{passed:?}");
    let created = app.saved(&form).await;

    let edited_form = form
        .clone()
        .set("sender_id", created.id.clone())
        .set("version", created.version.to_string())
        .set("display_name", "Ventes")
        .set("password", "");
    let passed = app.test_send(&edited_form).await;
    assert!(matches!(passed.last(), Some(TestEvent::Succeeded { .. })), "{passed:?}");
    let edited = app.saved(&edited_form).await;

    let failing_form = edited_form
        .clone()
        .set("version", edited.version.to_string())
        .set("password", WRONG_PASSWORD);
    let failed = app.test_send(&failing_form).await;
    assert!(matches!(failed.last(), Some(TestEvent::Failed(_))), "{failed:?}");

    // No proxy is trusted, so the forged header must not change the recorded address.
    let deleted = app
        .client
        .post(app.url("/api/delete_sender"))
        .header("Origin", &app.address)
        .header("Accept", "application/json")
        .header("X-Forwarded-For", "198.51.100.9")
        .form(&[("sender_id", created.id.as_str())])
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());

    let (body, entries) = app.activity().await;
    assert!(!body.contains(MAILBOX_PASSWORD));
    assert!(!body.contains(WRONG_PASSWORD));
    let stored: Vec<(String, Option<String>)> = sqlx::query_as("SELECT sender_email, detail FROM activity_events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for (email, detail) in stored {
        let row = format!("{email} {detail:?}");
        assert!(!row.contains(MAILBOX_PASSWORD), "{row}");
        assert!(!row.contains(WRONG_PASSWORD), "{row}");
    }

    assert_eq!(
        kinds(&entries),
        vec![
            ActivityKind::SenderDeleted,
            ActivityKind::SenderTested,
            ActivityKind::SenderEdited,
            ActivityKind::SenderTested,
            ActivityKind::SenderCreated,
            ActivityKind::SenderTested,
        ]
    );
    let outcomes: Vec<Option<TestOutcome>> = entries.iter().map(|entry| entry.test_outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            None,
            Some(TestOutcome::Failed {
                stage: Stage::SigningIn,
                kind: FailureKind::AuthFailed
            }),
            None,
            Some(TestOutcome::Passed),
            None,
            Some(TestOutcome::Passed),
        ]
    );
    for entry in &entries {
        assert_eq!(entry.sender_email, "sales@example.com");
        assert_eq!(entry.client_address, "127.0.0.1");
    }
    let times: Vec<i64> = entries.iter().map(|entry| entry.occurred_at).collect();
    assert!(times.windows(2).all(|pair| pair[0] >= pair[1]), "{times:?}");
}

#[tokio::test]
async fn activity_log_is_per_account() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    app.saved(&form).await;

    let (_, owner_entries) = app.activity().await;
    let (_, other) = app.new_client();
    let post = |function: &str, form: &[(&str, &str)]| {
        other
            .post(app.url(&format!("/api/{function}")))
            .header("Origin", &app.address)
            .header("Accept", "application/json")
            .form(form)
            .send()
    };
    let signed_up = post(
        "sign_up",
        &[
            ("display_name", "Bruno"),
            ("email", "bruno@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await
    .unwrap();
    assert!(signed_up.status().is_success(), "{}", signed_up.status());
    let other_entries: Vec<ActivityEntry> = post("list_activity", &[]).await.unwrap().json().await.unwrap();

    assert_eq!(owner_entries.len(), 2);
    assert!(other_entries.is_empty(), "{other_entries:?}");
}

#[tokio::test]
async fn activity_log_requires_sign_in() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    app.call("sign_out", &[]).await;

    let response = app.call("list_activity", &[]).await;

    assert_eq!(
        crate::helpers::error_of(response).await,
        app::error::AppError::NotSignedIn
    );
}

#[tokio::test]
async fn activity_log_takes_address_from_trusted_proxy() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[("RELAIS_TRUSTED_PROXIES", "127.0.0.1".to_string())]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let created = app.saved(&form).await;

    let deleted = app
        .client
        .post(app.url("/api/delete_sender"))
        .header("Origin", &app.address)
        .header("Accept", "application/json")
        .header("X-Forwarded-For", "198.51.100.9")
        .form(&[("sender_id", created.id.as_str())])
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());

    let (_, entries) = app.activity().await;
    assert_eq!(entries[0].kind, ActivityKind::SenderDeleted);
    assert_eq!(entries[0].client_address, "198.51.100.9");
    assert_eq!(entries[1].client_address, "127.0.0.1");
}

#[tokio::test]
async fn reauthentication_is_in_activity_log() {
    let mut setup = crate::oauth_senders::setup("google", &[]).await;
    let saved = setup.saved_sender().await;

    let location = setup.connect(Some(&saved.id)).await;

    assert_eq!(location, format!("/settings?oauth_renewed={}#senders", saved.id));
    let (_, entries) = setup.app.activity().await;
    assert_eq!(
        kinds(&entries),
        vec![
            ActivityKind::SenderReauthenticated,
            ActivityKind::SenderCreated,
            ActivityKind::SenderTested,
        ]
    );
    assert_eq!(entries[0].sender_email, saved.email);
    assert_eq!(entries[0].client_address, "127.0.0.1");
    assert_eq!(entries[0].test_outcome, None);
}
