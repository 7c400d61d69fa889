//! SMTP hosts that are, or resolve to, internal addresses: every spelling is rejected before a
//! connection, and a name is resolved once, so the connection goes only to the checked address.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use app::error::AppError;
use app::senders::settings::{Field, FieldProblem, Problem};
use app::senders::test_send::{FailureKind, Stage, TestEvent, TestFailure};
use relais::smtp::{OutgoingMessage, Resolver, Security, SmtpSettings, TransportPolicy, send};
use serde_json::json;

use crate::fault_peers::CountingListener;
use crate::helpers::{PASSWORD, spawn_app_with};
use crate::senders::{Form, last};
use crate::smtp_harness::Harness;

/// How the test send of one host spelling must end.
#[derive(Debug)]
enum Expected {
    /// Resolved, then rejected by the address check.
    NotAllowed,
    /// Rejected as an invalid name by the transport, without a lookup.
    NotFound,
    /// Rejected by the form validation.
    Invalid(Problem),
}

#[tokio::test]
async fn internal_hosts_are_rejected_in_every_spelling() {
    let listener = CountingListener::bind().await;
    let port = listener.port;
    let ipv6_listener = CountingListener::bind_to(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port)).await;
    let app = spawn_app_with(&[("RELAIS_TEST_SENDS_PER_10_MIN", "1000".to_string())]).await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;

    let cases = [
        ("127.0.0.1", Expected::NotAllowed),
        ("127.0.0.1.", Expected::NotAllowed),
        ("2130706433", Expected::NotAllowed),
        ("0x7f000001", Expected::NotAllowed),
        ("0X7F000001", Expected::NotAllowed),
        ("0177.0.0.1", Expected::NotAllowed),
        ("127.1", Expected::NotAllowed),
        ("localhost", Expected::NotAllowed),
        ("localhost.", Expected::NotAllowed),
        ("LOCALHOST", Expected::NotAllowed),
        ("LocalHost.", Expected::NotAllowed),
        ("0.0.0.0", Expected::NotAllowed),
        ("0", Expected::NotAllowed),
        ("10.0.0.1", Expected::NotAllowed),
        ("172.16.0.1", Expected::NotAllowed),
        ("192.168.1.1", Expected::NotAllowed),
        ("169.254.169.254", Expected::NotAllowed),
        ("0xa9fea9fe", Expected::NotAllowed),
        ("100.64.0.1", Expected::NotAllowed),
        ("224.0.0.1", Expected::NotAllowed),
        ("255.255.255.255", Expected::NotAllowed),
        ("::1", Expected::NotAllowed),
        ("[::1]", Expected::NotAllowed),
        ("::", Expected::NotAllowed),
        ("::ffff:127.0.0.1", Expected::NotAllowed),
        ("[::ffff:127.0.0.1]", Expected::NotAllowed),
        ("::ffff:7f00:1", Expected::NotAllowed),
        ("::127.0.0.1", Expected::NotAllowed),
        ("64:ff9b::a9fe:a9fe", Expected::NotAllowed),
        ("2002:7f00:1::", Expected::NotAllowed),
        ("fe80::1", Expected::NotAllowed),
        ("fd00::1", Expected::NotAllowed),
        ("ff02::1", Expected::NotAllowed),
        ("1.2.3.4.5", Expected::NotFound),
        ("127.0.0.256", Expected::NotFound),
        ("fe80::1%eth0", Expected::Invalid(Problem::HostInvalid)),
        ("127.0.0.1:25", Expected::Invalid(Problem::HostHasPort)),
        ("[::1]:25", Expected::Invalid(Problem::HostHasPort)),
        ("http://127.0.0.1", Expected::Invalid(Problem::HostHasScheme)),
        ("127.0.0.1/", Expected::Invalid(Problem::HostInvalid)),
    ];

    for (host, expected) in cases {
        let events = app.test_send(&Form::starttls(port).set("smtp_host", host)).await;

        let outcome = last(&events);
        match expected {
            Expected::NotAllowed | Expected::NotFound => {
                let kind = match expected {
                    Expected::NotAllowed => FailureKind::AddressNotAllowed,
                    _ => FailureKind::HostNotFound,
                };
                let failure = TestFailure {
                    stage: Stage::Connecting,
                    kind,
                    server_reply: None,
                    certificate_subject: None,
                };
                assert_eq!(outcome, &TestEvent::Failed(failure), "{host}");
            }
            Expected::Invalid(problem) => {
                let problems = vec![FieldProblem {
                    field: Field::SmtpHost,
                    problem,
                }];
                assert_eq!(
                    outcome,
                    &TestEvent::Refused(AppError::InvalidSender(problems)),
                    "{host}"
                );
            }
        }
    }

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(listener.connections(), 0, "a connection reached 127.0.0.1:{port}");
    if let Some(ipv6_listener) = ipv6_listener {
        assert_eq!(ipv6_listener.connections(), 0, "a connection reached [::1]:{port}");
    }
}

/// Returns a resolver that returns `answers[n]` for its n-th lookup (the last one for any later
/// lookup), and the count of lookups.
fn scripted_resolver(answers: Vec<IpAddr>) -> (Resolver, Arc<AtomicUsize>) {
    let lookups = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&lookups);
    let resolver = Resolver::new(move |_host, port| {
        let call = counter.fetch_add(1, Ordering::SeqCst);
        let ip = answers[call.min(answers.len() - 1)];
        async move { Ok::<_, io::Error>(vec![SocketAddr::new(ip, port)]) }
    });
    (resolver, lookups)
}

fn plain_settings(host: &str, port: u16) -> SmtpSettings {
    SmtpSettings {
        host: host.to_owned(),
        port,
        security: Security::None,
        credentials: None,
    }
}

fn message() -> OutgoingMessage {
    OutgoingMessage {
        from_name: "Ada".to_owned(),
        from_email: "ada@example.org".to_owned(),
        reply_to: None,
        to_email: "bob@example.net".to_owned(),
        subject: "Relais test".to_owned(),
        text_body: "Hello from Relais.\n".to_owned(),
    }
}

#[tokio::test]
async fn name_resolving_to_loopback_is_rejected() {
    let listener = CountingListener::bind().await;
    // A wildcard DNS service such as nip.io answers the address written in the name.
    let (resolver, lookups) = scripted_resolver(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    let policy = TransportPolicy {
        timeout: Duration::from_secs(2),
        resolver,
        ..TransportPolicy::default()
    };

    for host in ["127.0.0.1.nip.io", "7f000001.nip.io", "LOCALTEST.ME."] {
        let result = send(&plain_settings(host, listener.port), &message(), &policy, |_| {}).await;

        let failure = result.unwrap_err();
        assert_eq!(
            (failure.stage, failure.kind),
            (Stage::Connecting, FailureKind::AddressNotAllowed),
            "{host}"
        );
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 3);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(listener.connections(), 0);
}

#[tokio::test]
async fn rebinding_after_the_check_is_not_followed() {
    let (resolver, lookups) = scripted_resolver(vec![
        IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    ]);
    let listener = CountingListener::bind().await;
    let policy = TransportPolicy {
        timeout: Duration::from_secs(2),
        resolver,
        ..TransportPolicy::default()
    };

    let result = send(
        &plain_settings("rebind.example", listener.port),
        &message(),
        &policy,
        |_| {},
    )
    .await;

    assert_eq!(result.unwrap_err().kind, FailureKind::AddressNotAllowed);
    assert_eq!(lookups.load(Ordering::SeqCst), 1, "one lookup per send");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(listener.connections(), 0);
}

#[tokio::test]
async fn connection_goes_to_the_checked_address() {
    let mut harness = Harness::start(json!({"tls": "none"})).await;
    // Linux routes all of 127.0.0.0/8 to the loopback interface, so a second address can hold
    // a listener on the same port. The host name is an allowed target, so both addresses pass the
    // check, and only the address of the first lookup may be used.
    let other_address = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), harness.port);
    let other = CountingListener::bind_to(other_address)
        .await
        .expect("127.0.0.2 accepts a listener");
    let (resolver, lookups) = scripted_resolver(vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
    ]);
    let policy = TransportPolicy {
        timeout: Duration::from_secs(5),
        allowed_targets: vec![("rebind.example".to_owned(), harness.port)],
        resolver,
        ..TransportPolicy::default()
    };

    let result = send(
        &plain_settings("rebind.example", harness.port),
        &message(),
        &policy,
        |_| {},
    )
    .await;

    assert_eq!(result, Ok(()));
    assert_eq!(harness.next_message().await["rcptTo"], json!(["bob@example.net"]));
    assert_eq!(lookups.load(Ordering::SeqCst), 1, "one lookup per send");
    assert_eq!(other.connections(), 0, "a connection went to the second answer");
}
