//! Malformed, oversized and control-character values in the sender form: each is a field
//! problem returned before any connection, and nothing is stored.

use app::error::AppError;
use app::senders::settings::{FIELD_MAX_BYTES, Field, FieldProblem, Problem};
use app::senders::test_send::TestEvent;
use leptos::server_fn::error::ServerFnErrorErr;

use crate::fault_peers::{CountingListener, RecordingProxy};
use crate::helpers::{TestApp, error_of};
use crate::senders::{Form, app_for_port, last, starttls_server};

/// Returns the field problems of a refused test send.
fn refused_problems(events: &[TestEvent]) -> Vec<FieldProblem> {
    match last(events) {
        TestEvent::Refused(AppError::InvalidSender(problems)) => problems.clone(),
        other => panic!("expected field problems, got {other:?}"),
    }
}

/// Checks that both the test send and the save of `form` report `expected` for its field.
async fn assert_rejected(app: &TestApp, form: &Form, expected: FieldProblem, case: &str) {
    let tested = refused_problems(&app.test_send(form).await);
    assert!(tested.contains(&expected), "{case}: test send returned {tested:?}");

    let saved = app.save(form).await;
    assert_eq!(saved.status(), 422, "{case}");
    let AppError::InvalidSender(problems) = error_of(saved).await else {
        panic!("{case}: expected field problems from the save");
    };
    assert!(problems.contains(&expected), "{case}: save returned {problems:?}");
}

async fn assert_nothing_stored(app: &TestApp) {
    assert!(app.senders().await.senders.is_empty());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM senders")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn malformed_host_and_port_are_field_problems() {
    let listener = CountingListener::bind().await;
    let app = app_for_port(listener.port, &[]).await;
    let long_host = format!("{}.com", "a.".repeat(126));
    let long_label = format!("{}.example.com", "a".repeat(64));
    let host_cases = [
        ("smtp://127.0.0.1", Problem::HostHasScheme),
        ("https://localhost", Problem::HostHasScheme),
        ("127.0.0.1:25", Problem::HostHasPort),
        ("localhost:587", Problem::HostHasPort),
        ("local host", Problem::HostHasSpaces),
        ("smtp.\u{a0}example.com", Problem::HostHasSpaces),
        (long_host.as_str(), Problem::TooLong),
        (long_label.as_str(), Problem::HostInvalid),
        ("smtp..example.com", Problem::HostInvalid),
        (".example.com", Problem::HostInvalid),
        ("smtp.example.com/relay", Problem::HostInvalid),
        ("-smtp.example.com", Problem::HostInvalid),
        ("", Problem::Missing),
        ("   ", Problem::Missing),
    ];
    let port_cases = [
        ("0", Problem::PortInvalid),
        ("65536", Problem::PortInvalid),
        ("99999999999", Problem::PortInvalid),
        ("smtp", Problem::PortInvalid),
        ("-1", Problem::PortInvalid),
        ("5 87", Problem::PortInvalid),
        ("587.0", Problem::PortInvalid),
        ("", Problem::Missing),
    ];

    for (host, problem) in host_cases {
        let form = Form::starttls(listener.port).set("smtp_host", host);
        let expected = FieldProblem {
            field: Field::SmtpHost,
            problem,
        };
        assert_rejected(&app, &form, expected, host).await;
    }
    for (port, problem) in port_cases {
        let form = Form::starttls(listener.port).set("smtp_port", port);
        let expected = FieldProblem {
            field: Field::SmtpPort,
            problem,
        };
        assert_rejected(&app, &form, expected, port).await;
    }

    assert_nothing_stored(&app).await;
    assert_eq!(listener.connections(), 0, "a connection reached the listener");
}

#[tokio::test]
async fn control_characters_stop_before_smtp() {
    let harness = starttls_server().await;
    let proxy = RecordingProxy::start(harness.port).await;
    let app = app_for_port(proxy.port, &[]).await;
    let cases = [
        ("display_name", "Ana\r\nBcc: victim@example.com", Field::DisplayName),
        ("display_name", "Ana\0Lopes", Field::DisplayName),
        ("display_name", "Ana\u{85}Bcc: victim@example.com", Field::DisplayName),
        ("email", "sales@example.com\r\nBcc: victim@example.com", Field::Email),
        ("email", "sales\0@example.com", Field::Email),
        ("reply_to", "help@example.com\nBcc: victim@example.com", Field::ReplyTo),
        ("reply_to", "help@example.com\0", Field::ReplyTo),
        ("username", "mailbox@example.com\r\nRSET", Field::Username),
        ("username", "mailbox\0@example.com", Field::Username),
        ("password", "app-password-123\r\nRSET", Field::Password),
        ("password", "app-password\0abc", Field::Password),
    ];

    for (name, value, field) in cases {
        let form = Form::starttls(proxy.port).set(name, value);
        let expected = FieldProblem {
            field,
            problem: Problem::ControlCharacter,
        };
        assert_rejected(&app, &form, expected, &format!("{name} {value:?}")).await;
    }

    assert_nothing_stored(&app).await;
    assert_eq!(proxy.connections(), 0, "the mail server saw a connection");
}

#[tokio::test]
async fn each_field_has_a_maximum_length() {
    let listener = CountingListener::bind().await;
    let app = app_for_port(listener.port, &[]).await;
    let over_field_cap = "x".repeat(FIELD_MAX_BYTES + 1);
    let cases = [
        ("display_name", "é".repeat(65), Field::DisplayName),
        ("email", format!("{}@example.com", "a".repeat(243)), Field::Email),
        ("reply_to", format!("{}@example.com", "a".repeat(243)), Field::ReplyTo),
        ("smtp_host", format!("{}.com", "a.".repeat(126)), Field::SmtpHost),
        ("smtp_port", "5".repeat(FIELD_MAX_BYTES + 1), Field::SmtpPort),
        ("username", over_field_cap.clone(), Field::Username),
        ("password", over_field_cap.clone(), Field::Password),
        // 60 KiB values stay under the request body limit, so the field cap reports them.
        ("display_name", "x".repeat(60 * 1024), Field::DisplayName),
        ("email", "x".repeat(60 * 1024), Field::Email),
        ("password", "x".repeat(60 * 1024), Field::Password),
    ];

    for (name, value, field) in cases {
        let form = Form::starttls(listener.port).set(name, value.clone());
        let expected = FieldProblem {
            field,
            problem: Problem::TooLong,
        };
        assert_rejected(&app, &form, expected, &format!("{name} of {} bytes", value.len())).await;
    }

    assert_nothing_stored(&app).await;
    assert_eq!(listener.connections(), 0);
}

/// Checks for the error that the browser shows as "the form is too large".
fn assert_too_large(error: AppError) {
    let AppError::Request(ServerFnErrorErr::Deserialization(message)) = &error else {
        panic!("expected a request error, got {error:?}");
    };
    assert!(message.contains("length limit exceeded"), "{message}");
}

#[tokio::test]
async fn megabyte_values_are_rejected_with_413() {
    let listener = CountingListener::bind().await;
    let app = app_for_port(listener.port, &[]).await;
    let megabyte = "x".repeat(1024 * 1024);
    let fields = [
        "display_name",
        "email",
        "reply_to",
        "smtp_host",
        "smtp_port",
        "security",
        "username",
        "password",
        "sender_id",
    ];

    for function in ["test_sender", "save_sender"] {
        for field in fields {
            let form = Form::starttls(listener.port).set(field, megabyte.clone());
            let response = app
                .client
                .post(app.url(&format!("/api/{function}")))
                .header("Origin", &app.address)
                .header("Accept", "application/json")
                .form(&form.encoded())
                .send()
                .await
                .unwrap();

            assert_eq!(response.status(), 413, "{function} with a 1 MiB {field}");
            assert_too_large(error_of(response).await);
        }
    }
    let raw_body = app
        .client
        .post(app.url("/api/save_sender"))
        .header("Origin", &app.address)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(megabyte)
        .send()
        .await
        .unwrap();
    assert_eq!(raw_body.status(), 413);
    assert_too_large(error_of(raw_body).await);

    // The server still responds, so no request task died.
    assert_nothing_stored(&app).await;
    assert_eq!(listener.connections(), 0);
}
