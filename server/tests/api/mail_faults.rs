//! Test sends against mail servers that stall, services that are not mail servers, and
//! temporary or permanent SMTP replies, through the `test_sender` server function.

use std::time::{Duration, Instant};

use app::senders::test_send::{FailureKind, Stage, TestEvent};
use serde_json::json;

use crate::fault_peers::{Behavior, RecordingProxy, scripted_peer};
use crate::helpers::spawn_app;
use crate::senders::{Form, MAILBOX, MAILBOX_PASSWORD, app_for_port, failure_of, last};
use crate::smtp_harness::{CERTIFICATES, Harness, with_certificate};

const TIMEOUT_SECS: u64 = 3;

/// Returns the events of the test send and the response body they were decoded from.
async fn test_send_raw(app: &crate::helpers::TestApp, form: &Form) -> (Vec<TestEvent>, String) {
    let response = app
        .client
        .post(app.url("/api/test_sender"))
        .header("Origin", &app.address)
        .form(&form.encoded())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let body = response.text().await.unwrap();
    let events = body
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not an event: {line}")))
        .collect();
    (events, body)
}

#[tokio::test]
async fn stalled_servers_time_out_and_are_closed() {
    let cases = [
        ("no banner", Behavior::Banner(b"")),
        ("silent after EHLO", Behavior::SilentAfterEhlo),
        (
            "one byte every 2 s",
            Behavior::Trickle {
                interval: Duration::from_secs(2),
            },
        ),
    ];
    let bound = Duration::from_secs(TIMEOUT_SECS + 1);

    for (name, behavior) in cases {
        let (port, peer) = scripted_peer(behavior).await;
        let app = app_for_port(port, &[("RELAIS_TEST_SEND_TIMEOUT_SECS", TIMEOUT_SECS.to_string())]).await;
        let form = Form::starttls(port).set("smtp_host", "127.0.0.1");

        let started = Instant::now();
        let events = app.test_send(&form).await;
        let elapsed = started.elapsed();
        let report = tokio::time::timeout(Duration::from_secs(5), peer)
            .await
            .expect("the peer ends once the client closes")
            .unwrap();

        let (stage, kind, reply) = failure_of(&events);
        assert_eq!((stage, kind), (Stage::Connecting, FailureKind::Timeout), "{name}");
        assert_eq!(reply, None, "{name}");
        assert!(elapsed < bound, "{name}: the test send took {elapsed:?}");
        let closed_at = report.closed_at.expect("the client closed the connection");
        let closed_after = closed_at.duration_since(started);
        assert!(closed_after < bound, "{name}: closed {closed_after:?} after the start");
        if matches!(behavior, Behavior::SilentAfterEhlo) {
            let received = String::from_utf8_lossy(&report.received).into_owned();
            assert!(received.starts_with("EHLO "), "{name}: {received}");
        }
    }
}

#[tokio::test]
async fn other_services_leak_nothing() {
    let http_server = spawn_app().await;
    let http_port = http_server.url("/").port().unwrap();
    let closed_port = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let ssh_banner: &'static [u8] = b"SSH-2.0-OpenSSH_9.6 internal-build-7f3a\r\n";
    let http_reply: &'static [u8] =
        b"HTTP/1.1 400 Bad Request\r\nServer: internal-proxy/1.2\r\nX-Secret: 7f3a\r\nContent-Length: 0\r\n\r\n";

    // Each case: the port, the failure expected, and the words of the remote data.
    let mut cases = vec![
        ("closed port", closed_port, FailureKind::ConnectionRefused, vec![], None),
        (
            "HTTP server waiting for a request",
            http_port,
            FailureKind::Timeout,
            vec!["HTTP", "axum"],
            None,
        ),
    ];
    let (ssh_port, ssh_peer) = scripted_peer(Behavior::Banner(ssh_banner)).await;
    cases.push((
        "SSH banner",
        ssh_port,
        FailureKind::ImplicitTlsMismatch,
        vec!["SSH", "OpenSSH", "7f3a"],
        Some(ssh_peer),
    ));
    let (http_reply_port, http_peer) = scripted_peer(Behavior::Banner(http_reply)).await;
    cases.push((
        "HTTP response",
        http_reply_port,
        FailureKind::ImplicitTlsMismatch,
        vec!["HTTP/1.1", "internal-proxy", "7f3a", "Bad Request"],
        Some(http_peer),
    ));

    for (name, port, expected_kind, leaked_words, peer) in cases {
        let app = app_for_port(port, &[("RELAIS_TEST_SEND_TIMEOUT_SECS", "2".to_string())]).await;
        let form = Form::starttls(port).set("smtp_host", "127.0.0.1");

        let (events, body) = test_send_raw(&app, &form).await;

        let TestEvent::Failed(failure) = last(&events) else {
            panic!("{name}: expected a failure, got {events:?}");
        };
        assert_eq!(failure.kind, expected_kind, "{name}");
        assert_eq!(failure.server_reply, None, "{name}");
        assert_eq!(failure.certificate_subject, None, "{name}");
        for word in leaked_words {
            assert!(!body.contains(word), "{name}: the response contains {word:?}: {body}");
        }
        if let Some(peer) = peer {
            peer.abort();
        }
    }
}

/// Starts the STARTTLS harness with `extra` options and a proxy that counts connections to it.
async fn counted_harness(extra: serde_json::Value) -> (Harness, RecordingProxy) {
    let mut options = json!({"tls": "starttls", "auth": {"username": MAILBOX, "password": MAILBOX_PASSWORD}});
    for (name, value) in extra.as_object().unwrap() {
        options[name] = value.clone();
    }
    let harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let proxy = RecordingProxy::start(harness.port).await;
    (harness, proxy)
}

#[tokio::test]
async fn replies_are_temporary_or_permanent_once() {
    let cases = [
        (
            json!({"rejectSender": {"code": 421, "message": "4.3.2 Service shutting down, try again later"}}),
            Stage::Sending,
            FailureKind::Temporary,
        ),
        (
            json!({"rejectData": {"code": 451, "message": "4.3.0 Local error in processing"}}),
            Stage::Sending,
            FailureKind::Temporary,
        ),
        (
            json!({"authReply": {"code": 454, "message": "4.7.0 Temporary authentication failure"}}),
            Stage::SigningIn,
            FailureKind::Temporary,
        ),
        (
            json!({"authReply": {"code": 535, "message": "5.7.8 Authentication credentials invalid"}}),
            Stage::SigningIn,
            FailureKind::AuthFailed,
        ),
        (
            json!({"rejectSender": {"code": 553, "message": "5.7.1 Sender address rejected"}}),
            Stage::Sending,
            FailureKind::SenderNotAllowed,
        ),
        (
            json!({"rejectRecipient": {"code": 550, "message": "5.1.1 No such user"}}),
            Stage::Sending,
            FailureKind::RecipientRejected,
        ),
        (
            json!({"rejectData": {"code": 554, "message": "5.7.1 Message rejected as spam"}}),
            Stage::Sending,
            FailureKind::Rejected,
        ),
    ];

    for (extra, expected_stage, expected_kind) in cases {
        let (_harness, proxy) = counted_harness(extra.clone()).await;
        let app = app_for_port(proxy.port, &[]).await;

        let events = app.test_send(&Form::starttls(proxy.port)).await;

        let (stage, kind, reply) = failure_of(&events);
        assert_eq!((stage, kind), (expected_stage, expected_kind), "{extra}");
        let code = extra.as_object().unwrap().values().next().unwrap()["code"].to_string();
        assert!(reply.is_some_and(|reply| reply.starts_with(&code)), "{extra}");
        assert_eq!(proxy.connections(), 1, "{extra}: one connection per test send");
    }
}

#[tokio::test]
async fn greeting_421_is_temporary() {
    let (port, peer) = scripted_peer(Behavior::Banner(b"421 4.3.2 Too many connections, try again later\r\n")).await;
    let app = app_for_port(port, &[("RELAIS_TEST_SEND_TIMEOUT_SECS", "2".to_string())]).await;

    let events = app.test_send(&Form::starttls(port).set("smtp_host", "127.0.0.1")).await;

    let (stage, kind, reply) = failure_of(&events);
    assert_eq!((stage, kind), (Stage::Connecting, FailureKind::Temporary));
    assert_eq!(
        reply.as_deref(),
        Some("421 4.3.2 Too many connections, try again later")
    );
    peer.abort();
}
