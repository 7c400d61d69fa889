//! Senders end to end through the server functions, against the real SMTP harness.

use app::error::AppError;
use app::senders::settings::{Field, FieldProblem, Problem};
use app::senders::test_send::{FailureKind, Stage, TestEvent};
use app::senders::{SenderList, SenderStatus, SenderView};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, error_of, spawn_app_with};
use crate::smtp_harness::{CERTIFICATES, Harness, with_certificate};

pub const MAILBOX: &str = "mailbox@example.com";
pub const MAILBOX_PASSWORD: &str = "app-password-123";

/// The form fields of the sender dialog, as the browser posts them.
#[derive(Clone)]
pub struct Form {
    fields: Vec<(&'static str, String)>,
}

impl Form {
    pub fn starttls(port: u16) -> Self {
        Self {
            fields: vec![
                ("display_name", "Équipe \"Ventes\", Paris 🚀".to_string()),
                ("email", "sales@example.com".to_string()),
                ("reply_to", String::new()),
                ("smtp_host", "localhost".to_string()),
                ("smtp_port", port.to_string()),
                ("security", "starttls".to_string()),
                ("username", MAILBOX.to_string()),
                ("password", MAILBOX_PASSWORD.to_string()),
            ],
        }
    }

    pub fn set(mut self, name: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.fields.iter_mut().find(|(field, _)| *field == name) {
            Some(entry) => entry.1 = value,
            None => self.fields.push((name, value)),
        }
        self
    }

    pub fn editing(self, sender: &SenderView) -> Self {
        self.set("sender_id", sender.id.clone())
            .set("version", sender.version.to_string())
    }

    pub fn encoded(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .map(|(name, value)| (format!("form[{name}]"), value.clone()))
            .collect()
    }
}

pub async fn starttls_server() -> Harness {
    let options = json!({"tls": "starttls", "auth": {"username": MAILBOX, "password": MAILBOX_PASSWORD}});
    Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await
}

/// Starts an app that trusts the test CA and may reach the harness on loopback.
pub async fn app_for(harness: &Harness, extra: &[(&'static str, String)]) -> TestApp {
    app_for_port(harness.port, extra).await
}

/// Starts an app that trusts the test CA and may reach `port` on loopback, with an account
/// signed in.
pub async fn app_for_port(port: u16, extra: &[(&'static str, String)]) -> TestApp {
    let mut variables = vec![
        (
            "RELAIS_SMTP_ALLOWED_TARGETS",
            format!("localhost:{port},127.0.0.1:{port}"),
        ),
        ("RELAIS_SMTP_EXTRA_CA_FILE", CERTIFICATES.ca_file.display().to_string()),
    ];
    variables.extend_from_slice(extra);
    let app = spawn_app_with(&variables).await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;
    app
}

impl TestApp {
    pub async fn test_send(&self, form: &Form) -> Vec<TestEvent> {
        let response = self
            .client
            .post(self.url("/api/test_sender"))
            .header("Origin", &self.address)
            .form(&form.encoded())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.text().await.unwrap();
        body.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not an event: {line}")))
            .collect()
    }

    pub async fn save(&self, form: &Form) -> reqwest::Response {
        self.client
            .post(self.url("/api/save_sender"))
            .header("Origin", &self.address)
            .header("Accept", "application/json")
            .form(&form.encoded())
            .send()
            .await
            .unwrap()
    }

    pub async fn saved(&self, form: &Form) -> SenderView {
        let response = self.save(form).await;
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    }

    pub async fn senders(&self) -> SenderList {
        self.call("list_senders", &[]).await.json().await.unwrap()
    }

    pub async fn delete(&self, sender_id: &str) -> reqwest::Response {
        self.call("delete_sender", &[("sender_id", sender_id)]).await
    }
}

pub fn last(events: &[TestEvent]) -> &TestEvent {
    events.last().expect("at least one event")
}

pub fn failure_of(events: &[TestEvent]) -> (Stage, FailureKind, Option<String>) {
    match last(events) {
        TestEvent::Failed(failure) => (failure.stage, failure.kind, failure.server_reply.clone()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn signed_out_test_send_is_rejected() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    app.call("sign_out", &[]).await;

    let events = app.test_send(&Form::starttls(harness.port)).await;

    assert_eq!(events, vec![TestEvent::Refused(AppError::NotSignedIn)]);
    assert!(!harness.has_message().await, "nothing was sent");
}

#[tokio::test]
async fn test_send_reaches_the_server_with_every_stage() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;

    let events = app.test_send(&Form::starttls(harness.port)).await;

    let stages: Vec<Stage> = events
        .iter()
        .filter_map(|event| match event {
            TestEvent::Stage(stage) => Some(*stage),
            _ => None,
        })
        .collect();
    assert_eq!(
        stages,
        [Stage::Connecting, Stage::Securing, Stage::SigningIn, Stage::Sending]
    );
    assert_eq!(
        last(&events),
        &TestEvent::Succeeded {
            recipient: "ana@example.com".to_string()
        }
    );

    let message = harness.next_message().await;
    assert_eq!(message["mailFrom"], "sales@example.com");
    assert_eq!(message["rcptTo"], json!(["ana@example.com"]));
    assert_eq!(message["auth"]["username"], MAILBOX);
    assert_eq!(message["secure"], true);
    let raw = message["raw"].as_str().unwrap();
    assert!(raw.contains("=?utf-8?"), "the display name is RFC 2047 encoded: {raw}");
    assert!(raw.contains("<sales@example.com>"));
    assert!(raw.contains("Subject: Relais"), "{raw}");
    assert!(!raw.contains(MAILBOX_PASSWORD));
}

#[tokio::test]
async fn save_after_a_passing_test_stores_an_encrypted_password() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;

    let saved = app.saved(&form).await;

    assert_eq!(saved.status, SenderStatus::Verified);
    assert!(saved.has_password);
    assert!(saved.last_tested_at.is_some());
    let list = app.senders().await;
    assert_eq!(list.senders, vec![saved.clone()]);
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM sender_secrets")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !sealed
            .windows(MAILBOX_PASSWORD.len())
            .any(|window| window == MAILBOX_PASSWORD.as_bytes())
    );
    let page = app.get("/settings").await.text().await.unwrap();
    assert!(page.contains("sales@example.com"));
    assert!(!page.contains(MAILBOX_PASSWORD));
}

#[tokio::test]
async fn save_without_a_matching_test_is_refused() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);

    let untested = app.save(&form).await;
    app.test_send(&form).await;
    let other_password = app.save(&form.clone().set("password", "another password")).await;
    let other_address = app.save(&form.clone().set("email", "other@example.com")).await;

    assert_eq!(error_of(untested).await, AppError::TestRequired);
    assert_eq!(error_of(other_password).await, AppError::TestRequired);
    assert_eq!(error_of(other_address).await, AppError::TestRequired);
    assert!(app.senders().await.senders.is_empty());
}

#[tokio::test]
async fn wrong_password_fails_while_signing_in() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port).set("password", "wrong");

    let events = app.test_send(&form).await;

    let (stage, kind, reply) = failure_of(&events);
    assert_eq!((stage, kind), (Stage::SigningIn, FailureKind::AuthFailed));
    assert!(reply.unwrap().contains("535"));
    assert!(!harness.has_message().await);
    assert_eq!(error_of(app.save(&form).await).await, AppError::TestRequired);
}

#[tokio::test]
async fn server_replies_are_sorted_into_actionable_failures() {
    let cases = [
        (
            json!({"rejectSender": {"code": 553, "message": "5.7.1 Sender address rejected: not owned by user"}}),
            Stage::Sending,
            FailureKind::SenderNotAllowed,
        ),
        (
            json!({"rejectSender": {"code": 451, "message": "4.3.0 Try again later"}}),
            Stage::Sending,
            FailureKind::Temporary,
        ),
        (
            json!({"authReply": {"code": 534, "message": "5.7.9 Application-specific password required"}}),
            Stage::SigningIn,
            FailureKind::AppPasswordRequired,
        ),
    ];

    for (extra, stage, kind) in cases {
        let mut options = json!({"tls": "starttls", "auth": {"username": MAILBOX, "password": MAILBOX_PASSWORD}});
        for (name, value) in extra.as_object().unwrap() {
            options[name] = value.clone();
        }
        let harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
        let app = app_for(&harness, &[]).await;

        let events = app.test_send(&Form::starttls(harness.port)).await;

        let (actual_stage, actual_kind, _) = failure_of(&events);
        assert_eq!((actual_stage, actual_kind), (stage, kind), "{extra}");
    }
}

#[tokio::test]
async fn server_without_auth_is_reported_before_sending() {
    let harness = Harness::start(with_certificate(json!({"tls": "starttls"}), &CERTIFICATES.localhost)).await;
    let app = app_for(&harness, &[]).await;

    let events = app.test_send(&Form::starttls(harness.port)).await;

    assert_eq!(failure_of(&events).1, FailureKind::AuthNotOffered);
}

#[tokio::test]
async fn sender_without_username_is_told_to_sign_in() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port).set("username", "").set("password", "");

    let events = app.test_send(&form).await;

    let (stage, kind, _) = failure_of(&events);
    assert_eq!((stage, kind), (Stage::Sending, FailureKind::AuthRequired), "{events:?}");
}

#[tokio::test]
async fn certificate_for_another_host_is_named() {
    let options = json!({"tls": "starttls", "auth": {"username": MAILBOX, "password": MAILBOX_PASSWORD}});
    let harness = Harness::start(with_certificate(options, &CERTIFICATES.wrong_host)).await;
    let app = app_for(&harness, &[]).await;

    let events = app.test_send(&Form::starttls(harness.port)).await;

    match last(&events) {
        TestEvent::Failed(failure) => {
            assert_eq!(
                (failure.stage, failure.kind),
                (Stage::Securing, FailureKind::CertificateWrongHost)
            );
            assert!(
                failure
                    .certificate_subject
                    .as_deref()
                    .unwrap_or_default()
                    .contains("wrong.example"),
                "{failure:?}"
            );
        }
        other => panic!("expected a certificate failure, got {other:?}"),
    }
}

#[tokio::test]
async fn missing_starttls_stops_before_credentials() {
    let options =
        json!({"tls": "starttls", "hideStartTls": true, "auth": {"username": MAILBOX, "password": MAILBOX_PASSWORD}});
    let mut harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let app = app_for(&harness, &[]).await;

    let events = app.test_send(&Form::starttls(harness.port)).await;

    assert_eq!(failure_of(&events).1, FailureKind::StartTlsNotOffered);
    assert!(!harness.has_message().await);
}

#[tokio::test]
async fn silent_server_times_out_within_the_bound() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let app = spawn_app_with(&[
        ("RELAIS_SMTP_ALLOWED_TARGETS", format!("127.0.0.1:{port}")),
        ("RELAIS_TEST_SEND_TIMEOUT_SECS", "2".to_string()),
    ])
    .await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let form = Form::starttls(port).set("smtp_host", "127.0.0.1");

    let started = std::time::Instant::now();
    let events = app.test_send(&form).await;

    assert_eq!(failure_of(&events).1, FailureKind::Timeout);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn loopback_host_is_refused_unless_allowed() {
    let mut harness = starttls_server().await;
    let app = spawn_app_with(&[]).await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;

    let events = app.test_send(&Form::starttls(harness.port)).await;

    assert_eq!(
        failure_of(&events),
        (Stage::Connecting, FailureKind::AddressNotAllowed, None)
    );
    assert!(!harness.has_message().await);
}

#[tokio::test]
async fn edit_keeps_the_stored_password_for_the_same_server() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;
    harness.next_message().await;

    let renamed = form
        .clone()
        .editing(&saved)
        .set("display_name", "Lettre")
        .set("password", "");
    let events = app.test_send(&renamed).await;
    let updated = app.saved(&renamed).await;

    assert!(matches!(last(&events), TestEvent::Succeeded { .. }), "{events:?}");
    assert_eq!(harness.next_message().await["auth"]["username"], MAILBOX);
    assert_eq!(updated.display_name, "Lettre");
    assert_eq!(updated.version, saved.version + 1);
    assert!(updated.has_password);
}

#[tokio::test]
async fn placeholder_password_never_replaces_the_secret() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;
    let sealed_secret = || async {
        sqlx::query_scalar::<_, Vec<u8>>("SELECT sealed FROM sender_secrets")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let stored = sealed_secret().await;

    let placeholder = form.clone().editing(&saved).set("password", "••••••••");
    let untested = app.save(&placeholder).await;
    let events = app.test_send(&placeholder).await;
    let after_failed_test = app.save(&placeholder).await;

    assert_eq!(error_of(untested).await, AppError::TestRequired);
    assert!(matches!(last(&events), TestEvent::Failed(_)), "{events:?}");
    assert_eq!(error_of(after_failed_test).await, AppError::TestRequired);
    assert_eq!(sealed_secret().await, stored, "the stored secret is unchanged");
    let kept = form.editing(&saved).set("password", "");
    assert!(matches!(last(&app.test_send(&kept).await), TestEvent::Succeeded { .. }));
}

#[tokio::test]
async fn edit_to_another_server_requires_the_password() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;

    let moved = form.editing(&saved).set("smtp_host", "127.0.0.1").set("password", "");
    let events = app.test_send(&moved).await;

    let expected = FieldProblem {
        field: Field::Password,
        problem: Problem::PasswordRequiredForNewServer,
    };
    assert_eq!(
        last(&events),
        &TestEvent::Refused(AppError::InvalidSender(vec![expected]))
    );
}

#[tokio::test]
async fn stale_version_is_refused_without_overwriting() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;

    let first = form
        .clone()
        .editing(&saved)
        .set("display_name", "First tab")
        .set("password", "");
    let second = form
        .clone()
        .editing(&saved)
        .set("display_name", "Second tab")
        .set("password", "");
    app.test_send(&first).await;
    app.test_send(&second).await;
    app.saved(&first).await;
    let response = app.save(&second).await;

    assert_eq!(response.status(), 409);
    assert_eq!(error_of(response).await, AppError::VersionConflict);
    assert_eq!(app.senders().await.senders[0].display_name, "First tab");
}

#[tokio::test]
async fn delete_removes_the_sender_and_its_secret() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;

    let deleted = app.delete(&saved.id).await;
    let again = app.delete(&saved.id).await;

    assert!(deleted.status().is_success());
    assert_eq!(again.status(), 404);
    assert_eq!(error_of(again).await, AppError::SenderNotFound);
    let secrets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sender_secrets")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(secrets, 0);
}

#[tokio::test]
async fn another_account_cannot_touch_the_sender() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;
    app.call("sign_out", &[]).await;
    app.sign_up("Mallory", "mallory@example.com", PASSWORD).await;

    let deleted = app.delete(&saved.id).await;
    let tested = app.test_send(&form.clone().editing(&saved).set("password", "")).await;
    let listed = app.senders().await;

    assert_eq!(error_of(deleted).await, AppError::SenderNotFound);
    assert_eq!(last(&tested), &TestEvent::Refused(AppError::SenderNotFound));
    assert!(listed.senders.is_empty());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM senders")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn duplicate_address_and_sender_limit_are_refused() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[("RELAIS_MAX_SENDERS", "1".to_string())]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    app.saved(&form).await;

    let duplicate = app.save(&form).await;
    let second = form.clone().set("email", "other@example.com");
    app.test_send(&second).await;
    let over_limit = app.save(&second).await;

    assert_eq!(error_of(duplicate).await, AppError::SenderLimitReached { max: 1 });
    assert_eq!(error_of(over_limit).await, AppError::SenderLimitReached { max: 1 });
}

#[tokio::test]
async fn same_address_twice_is_refused() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    app.saved(&form).await;

    let again = app.save(&form.clone().set("email", "SALES@example.com")).await;

    // The proof is keyed on the lower-case address, so the test above covers this save.
    assert_eq!(error_of(again).await, AppError::SenderDuplicate);
}

#[tokio::test]
async fn test_sends_are_rate_limited_per_account() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[("RELAIS_TEST_SENDS_PER_10_MIN", "2".to_string())]).await;
    let form = Form::starttls(harness.port).set("password", "wrong");

    app.test_send(&form).await;
    app.test_send(&form).await;
    let third = app.test_send(&form).await;

    assert!(
        matches!(last(&third), TestEvent::Refused(AppError::TestRateLimited { retry_after_secs }) if *retry_after_secs > 0)
    );
}

#[tokio::test]
async fn invalid_form_is_refused_before_any_connection() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port)
        .set("smtp_host", "smtp://localhost")
        .set("smtp_port", "65536")
        .set("display_name", "Ana\r\nBcc: victim@example.com");

    let events = app.test_send(&form).await;

    let TestEvent::Refused(AppError::InvalidSender(problems)) = last(&events) else {
        panic!("expected field problems, got {events:?}");
    };
    let fields: Vec<Field> = problems.iter().map(|problem| problem.field).collect();
    assert!(
        fields.contains(&Field::SmtpHost) && fields.contains(&Field::SmtpPort) && fields.contains(&Field::DisplayName)
    );
    assert!(!harness.has_message().await);
}

#[tokio::test]
async fn markup_in_a_sender_name_is_shown_as_text() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port).set("display_name", "<script>alert(1)</script>");
    app.test_send(&form).await;
    let saved = app.saved(&form).await;

    let page = app.get("/settings").await.text().await.unwrap();

    assert_eq!(saved.display_name, "<script>alert(1)</script>");
    assert!(!page.contains("<script>alert(1)</script>"), "the name is escaped");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name is shown: {page}"
    );
}

#[tokio::test]
async fn double_save_stores_one_sender() {
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;

    let (first, second) = tokio::join!(app.save(&form), app.save(&form));

    let statuses = [first.status().as_u16(), second.status().as_u16()];
    assert!(statuses.contains(&200), "{statuses:?}");
    let refused = if first.status().is_success() { second } else { first };
    assert_eq!(error_of(refused).await, AppError::SenderDuplicate);
    let (senders, secrets): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM senders), (SELECT COUNT(*) FROM sender_secrets)")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((senders, secrets), (1, 1));
}

#[tokio::test]
async fn delete_during_test_send_stays_deleted() {
    let options = json!({
        "tls": "starttls",
        "auth": {"username": MAILBOX, "password": MAILBOX_PASSWORD},
        "greetingDelayMs": 1500,
    });
    let harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;
    let retest = form.editing(&saved).set("password", "");

    let (events, deleted) = tokio::join!(app.test_send(&retest), async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        app.delete(&saved.id).await
    });
    let saved_again = app.save(&retest).await;

    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert!(
        events
            .iter()
            .any(|event| matches!(event, TestEvent::Stage(Stage::Connecting))),
        "{events:?}"
    );
    assert_eq!(error_of(saved_again).await, AppError::SenderNotFound);
    assert!(app.senders().await.senders.is_empty());
    let (senders, secrets): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM senders), (SELECT COUNT(*) FROM sender_secrets)")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((senders, secrets), (0, 0), "no row and no orphan secret");
}
