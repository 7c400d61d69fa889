//! The SMTP transport against the real SMTP server harness, and a few scripted listeners for
//! faults the harness cannot produce.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::smtp_harness::{CERTIFICATES, Harness, with_certificate};
use relais::smtp::{
    FailureKind, OutgoingMessage, SecretString, Security, SendFailure, SmtpCredentials, SmtpSettings, Stage,
    TransportPolicy, send,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

const USERNAME: &str = "ada@example.org";
const PASSWORD: &str = "correct horse battery staple";

fn settings(host: &str, port: u16, security: Security, credentials: Option<SmtpCredentials>) -> SmtpSettings {
    SmtpSettings {
        host: host.to_owned(),
        port,
        security,
        credentials,
    }
}

fn password(password: &str) -> Option<SmtpCredentials> {
    Some(SmtpCredentials::Password {
        username: USERNAME.to_owned(),
        password: SecretString::new(password),
    })
}

fn policy(host: &str, port: u16) -> TransportPolicy {
    TransportPolicy {
        timeout: Duration::from_secs(10),
        allowed_targets: vec![(host.to_owned(), port)],
        extra_root_certificates: vec![CERTIFICATES.ca_pem.clone()],
        hello_name: "relais.test".to_owned(),
        ..TransportPolicy::default()
    }
}

fn message() -> OutgoingMessage {
    OutgoingMessage {
        from_name: "Ada".to_owned(),
        from_email: USERNAME.to_owned(),
        reply_to: None,
        to_email: "bob@example.net".to_owned(),
        subject: "Relais test".to_owned(),
        text_body: "Hello from Relais.\n".to_owned(),
    }
}

async fn send_recording(
    settings: &SmtpSettings,
    message: &OutgoingMessage,
    policy: &TransportPolicy,
) -> (Result<(), SendFailure>, Vec<Stage>) {
    let mut stages = Vec::new();
    let result = send(settings, message, policy, |stage| stages.push(stage)).await;
    (result, stages)
}

/// Decodes the RFC 2047 encoded words of a header value.
fn decode_encoded_words(value: &str) -> String {
    value
        .split_whitespace()
        .map(|word| {
            let inner = word.strip_prefix("=?utf-8?b?").and_then(|rest| rest.strip_suffix("?="));
            match inner {
                Some(encoded) => String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap(),
                None => format!(" {word}"),
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn header<'a>(raw: &'a str, name: &str) -> &'a str {
    let headers = raw.split("\r\n\r\n").next().unwrap();
    let start = headers
        .find(&format!("\r\n{name}: "))
        .map(|i| i + 2)
        .or_else(|| headers.starts_with(&format!("{name}: ")).then_some(0));
    let start = start.unwrap_or_else(|| panic!("no {name} header in {headers}")) + name.len() + 2;
    let rest = &headers[start..];
    // Folded lines continue with white space.
    let mut end = 0;
    for line in rest.split_inclusive("\r\n") {
        if end > 0 && !line.starts_with([' ', '\t']) {
            break;
        }
        end += line.len();
    }
    rest[..end].trim_end()
}

#[tokio::test]
async fn plain_send_delivers_encoded_name() {
    let mut harness = Harness::start(json!({"tls": "none"})).await;
    let mut outgoing = message();
    outgoing.from_name = "Zoë \"Z\" O'Brien, Ltd 🚀 日本".to_owned();
    outgoing.reply_to = Some("help@example.org".to_owned());
    outgoing.to_email = "bob@exämple.fr".to_owned();

    let (result, stages) = send_recording(
        &settings("127.0.0.1", harness.port, Security::None, None),
        &outgoing,
        &policy("127.0.0.1", harness.port),
    )
    .await;

    assert_eq!(result, Ok(()));
    assert_eq!(stages, [Stage::Connecting, Stage::Sending]);
    let received = harness.next_message().await;
    assert_eq!(received["mailFrom"], USERNAME);
    assert_eq!(received["rcptTo"], json!(["bob@exämple.fr"]));
    assert_eq!(received["auth"], Value::Null);
    let raw = received["raw"].as_str().unwrap();
    let from = header(raw, "From");
    assert!(from.starts_with("=?utf-8?b?"), "{from}");
    assert_eq!(
        decode_encoded_words(from.rsplit_once(' ').unwrap().0),
        "Zoë \"Z\" O'Brien, Ltd 🚀 日本"
    );
    assert!(from.ends_with("<ada@example.org>"), "{from}");
    assert_eq!(header(raw, "To"), "bob@xn--exmple-cua.fr");
    assert_eq!(header(raw, "Reply-To"), "help@example.org");
    assert!(raw.contains("Hello from Relais."), "{raw}");
}

#[tokio::test]
async fn starttls_auth_plain_succeeds() {
    let options = json!({"tls": "starttls", "auth": {"username": USERNAME, "password": PASSWORD}});
    let mut harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;

    let (result, stages) = send_recording(
        &settings("localhost", harness.port, Security::StartTls, password(PASSWORD)),
        &message(),
        &policy("localhost", harness.port),
    )
    .await;

    assert_eq!(result, Ok(()));
    assert_eq!(
        stages,
        [Stage::Connecting, Stage::Securing, Stage::SigningIn, Stage::Sending]
    );
    let received = harness.next_message().await;
    assert_eq!(received["secure"], true);
    assert_eq!(received["auth"], json!({"method": "PLAIN", "username": USERNAME}));
    assert_eq!(received["rcptTo"], json!(["bob@example.net"]));
}

#[tokio::test]
async fn login_is_used_when_plain_is_not_offered() {
    let options =
        json!({"tls": "starttls", "auth": {"username": USERNAME, "password": PASSWORD, "methods": ["LOGIN"]}});
    let mut harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;

    let (result, _) = send_recording(
        &settings("localhost", harness.port, Security::StartTls, password(PASSWORD)),
        &message(),
        &policy("localhost", harness.port),
    )
    .await;

    assert_eq!(result, Ok(()));
    assert_eq!(harness.next_message().await["auth"]["method"], "LOGIN");
}

#[tokio::test]
async fn implicit_tls_succeeds() {
    let options = json!({"tls": "implicit", "auth": {"username": USERNAME, "password": PASSWORD}});
    let mut harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;

    let (result, stages) = send_recording(
        &settings("localhost", harness.port, Security::Tls, password(PASSWORD)),
        &message(),
        &policy("localhost", harness.port),
    )
    .await;

    assert_eq!(result, Ok(()));
    assert_eq!(
        stages,
        [Stage::Connecting, Stage::Securing, Stage::SigningIn, Stage::Sending]
    );
    let received = harness.next_message().await;
    assert_eq!(received["secure"], true);
    assert_eq!(received["auth"]["method"], "PLAIN");
}

#[tokio::test]
async fn wrong_password_is_auth_failed_while_signing_in() {
    let options = json!({"tls": "starttls", "auth": {"username": USERNAME, "password": PASSWORD}});
    let mut harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;

    let (result, _) = send_recording(
        &settings(
            "localhost",
            harness.port,
            Security::StartTls,
            password("wrong-password-123"),
        ),
        &message(),
        &policy("localhost", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::SigningIn, FailureKind::AuthFailed)
    );
    let reply = failure.server_reply.unwrap();
    assert_eq!(reply, "535 5.7.8 Authentication credentials invalid");
    assert!(!harness.has_message().await);
}

#[tokio::test]
async fn gmail_app_password_reply_joined() {
    let reply = "5.7.9 Application-specific password required. For more information, go to\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp";
    let options = json!({"tls": "none", "authReply": {"code": 534, "message": reply}, "multilineReply": true});
    let harness = Harness::start(options).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", harness.port, Security::None, password(PASSWORD)),
        &message(),
        &policy("127.0.0.1", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::SigningIn, FailureKind::AppPasswordRequired)
    );
    assert_eq!(
        failure.server_reply.as_deref(),
        Some(
            "534 5.7.9 Application-specific password required. For more information, go to https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp"
        )
    );
}

#[tokio::test]
async fn sender_rejected_with_553() {
    let options = json!({"tls": "none", "rejectSender": {"code": 553, "message": "5.7.1 Sender address rejected: not owned by user"}});
    let mut harness = Harness::start(options).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", harness.port, Security::None, None),
        &message(),
        &policy("127.0.0.1", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Sending, FailureKind::SenderNotAllowed)
    );
    assert!(failure.server_reply.unwrap().starts_with("553 5.7.1"));
    assert!(!harness.has_message().await);
}

#[tokio::test]
async fn recipient_rejected_with_550() {
    let options = json!({"tls": "none", "rejectRecipient": {"code": 550, "message": "5.1.1 No such user"}});
    let harness = Harness::start(options).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", harness.port, Security::None, None),
        &message(),
        &policy("127.0.0.1", harness.port),
    )
    .await;

    assert_eq!(result.unwrap_err().kind, FailureKind::RecipientRejected);
}

#[tokio::test]
async fn reply_451_is_temporary() {
    let options = json!({"tls": "none", "rejectData": {"code": 451, "message": "4.3.0 Try again later"}});
    let harness = Harness::start(options).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", harness.port, Security::None, None),
        &message(),
        &policy("127.0.0.1", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!((failure.stage, failure.kind), (Stage::Sending, FailureKind::Temporary));
    assert_eq!(failure.server_reply.as_deref(), Some("451 4.3.0 Try again later"));
}

#[tokio::test]
async fn credentials_without_auth_offered() {
    let harness = Harness::start(json!({"tls": "none"})).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", harness.port, Security::None, password(PASSWORD)),
        &message(),
        &policy("127.0.0.1", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::SigningIn, FailureKind::AuthNotOffered)
    );
}

#[tokio::test]
async fn implicit_tls_wrong_host_certificate() {
    let harness = Harness::start(with_certificate(json!({"tls": "implicit"}), &CERTIFICATES.wrong_host)).await;

    let (result, stages) = send_recording(
        &settings("localhost", harness.port, Security::Tls, None),
        &message(),
        &policy("localhost", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Securing, FailureKind::CertificateWrongHost)
    );
    assert_eq!(failure.certificate_subject.as_deref(), Some("wrong.example"));
    assert_eq!(stages, [Stage::Connecting, Stage::Securing]);
}

#[tokio::test]
async fn starttls_wrong_host_certificate() {
    let harness = Harness::start(with_certificate(json!({"tls": "starttls"}), &CERTIFICATES.wrong_host)).await;

    let (result, _) = send_recording(
        &settings("localhost", harness.port, Security::StartTls, None),
        &message(),
        &policy("localhost", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Securing, FailureKind::CertificateWrongHost)
    );
    assert_eq!(failure.certificate_subject.as_deref(), Some("wrong.example"));
}

#[tokio::test]
async fn unknown_ca_is_untrusted() {
    let harness = Harness::start(with_certificate(json!({"tls": "implicit"}), &CERTIFICATES.localhost)).await;
    let mut untrusting = policy("localhost", harness.port);
    untrusting.extra_root_certificates.clear();

    let (result, _) = send_recording(
        &settings("localhost", harness.port, Security::Tls, None),
        &message(),
        &untrusting,
    )
    .await;

    assert_eq!(result.unwrap_err().kind, FailureKind::CertificateUntrusted);
}

#[tokio::test]
async fn expired_certificate_is_expired() {
    let harness = Harness::start(with_certificate(json!({"tls": "starttls"}), &CERTIFICATES.expired)).await;

    let (result, _) = send_recording(
        &settings("localhost", harness.port, Security::StartTls, None),
        &message(),
        &policy("localhost", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Securing, FailureKind::CertificateExpired)
    );
}

#[tokio::test]
async fn implicit_tls_to_plain_server() {
    let harness = Harness::start(json!({"tls": "none"})).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", harness.port, Security::Tls, None),
        &message(),
        &policy("127.0.0.1", harness.port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Securing, FailureKind::ImplicitTlsMismatch)
    );
}

/// Forwards one connection to `target` and keeps every byte the client sent.
async fn recording_proxy(target: u16) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&sent);

    tokio::spawn(async move {
        let (client, _) = listener.accept().await.unwrap();
        let server = TcpStream::connect(("127.0.0.1", target)).await.unwrap();
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();

        tokio::spawn(async move { tokio::io::copy(&mut server_read, &mut client_write).await });
        let mut buffer = [0; 4096];
        while let Ok(read) = client_read.read(&mut buffer).await {
            if read == 0 || server_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
            recorded.lock().unwrap().extend_from_slice(&buffer[..read]);
        }
    });

    (port, sent)
}

#[tokio::test]
async fn starttls_not_advertised_sends_no_auth() {
    let options =
        json!({"tls": "starttls", "hideStartTls": true, "auth": {"username": USERNAME, "password": PASSWORD}});
    let harness = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let (proxy_port, client_bytes) = recording_proxy(harness.port).await;

    let (result, stages) = send_recording(
        &settings("localhost", proxy_port, Security::StartTls, password(PASSWORD)),
        &message(),
        &policy("localhost", proxy_port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Securing, FailureKind::StartTlsNotOffered)
    );
    assert_eq!(stages, [Stage::Connecting, Stage::Securing]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sent = String::from_utf8_lossy(&client_bytes.lock().unwrap()).into_owned();
    assert!(sent.starts_with("EHLO relais.test\r\n"), "{sent}");
    assert!(!sent.to_uppercase().contains("AUTH"), "{sent}");
    assert!(!sent.contains(PASSWORD), "{sent}");
}

#[tokio::test]
async fn non_ascii_local_part_needs_smtputf8() {
    let mut outgoing = message();
    outgoing.to_email = "jörg@example.net".to_owned();

    let mut strict = Harness::start(json!({"tls": "none"})).await;
    let (result, _) = send_recording(
        &settings("127.0.0.1", strict.port, Security::None, None),
        &outgoing,
        &policy("127.0.0.1", strict.port),
    )
    .await;
    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Sending, FailureKind::SmtpUtf8Required)
    );
    assert!(!strict.has_message().await);

    let mut capable = Harness::start(json!({"tls": "none", "smtputf8": true})).await;
    let (result, _) = send_recording(
        &settings("127.0.0.1", capable.port, Security::None, None),
        &outgoing,
        &policy("127.0.0.1", capable.port),
    )
    .await;
    assert_eq!(result, Ok(()));
    let received = capable.next_message().await;
    assert_eq!(received["utf8"], true);
    assert_eq!(received["rcptTo"], json!(["jörg@example.net"]));
}

#[tokio::test]
async fn silent_server_times_out_within_the_policy() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(socket);
    });
    let mut quick = policy("127.0.0.1", port);
    quick.timeout = Duration::from_secs(1);

    let started = Instant::now();
    let (result, _) = send_recording(&settings("127.0.0.1", port, Security::None, None), &message(), &quick).await;

    let failure = result.unwrap_err();
    assert_eq!((failure.stage, failure.kind), (Stage::Connecting, FailureKind::Timeout));
    assert!(
        started.elapsed() < quick.timeout + Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    holder.abort();
}

#[tokio::test]
async fn loopback_rejected_without_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut closed = policy("127.0.0.1", port);
    closed.allowed_targets.clear();

    let (result, stages) =
        send_recording(&settings("127.0.0.1", port, Security::None, None), &message(), &closed).await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Connecting, FailureKind::AddressNotAllowed)
    );
    assert_eq!(stages, [Stage::Connecting]);
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "a connection reached the listener");
}

#[tokio::test]
async fn closed_port_is_connection_refused() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };

    let (result, _) = send_recording(
        &settings("127.0.0.1", port, Security::None, None),
        &message(),
        &policy("127.0.0.1", port),
    )
    .await;

    assert_eq!(result.unwrap_err().kind, FailureKind::ConnectionRefused);
}

/// Starts a server that replies to each line it reads with the next reply of its script.
///
/// It returns the lines it read, and the message after DATA counts as one line.
async fn scripted_server(
    greeting: &'static [u8],
    replies: Vec<&'static str>,
) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();

    let script = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read_half, mut write_half) = socket.into_split();
        let mut lines = BufReader::new(read_half).lines();
        write_half.write_all(greeting).await.unwrap();

        let mut received = Vec::new();
        let mut in_data = false;
        for reply in replies {
            let Ok(Some(mut line)) = lines.next_line().await else {
                break;
            };
            while in_data && line != "." {
                line = lines.next_line().await.unwrap().unwrap();
            }
            in_data = line == "DATA";
            received.push(line);
            write_half.write_all(reply.as_bytes()).await.unwrap();
        }
        received
    });

    (port, script)
}

fn oauth(access_token: &str) -> Option<SmtpCredentials> {
    Some(SmtpCredentials::OAuth2 {
        username: USERNAME.to_owned(),
        access_token: SecretString::new(access_token),
    })
}

#[tokio::test]
async fn xoauth2_rejected_token_is_a_token_problem() {
    let replies = vec![
        "250-scripted\r\n250 AUTH PLAIN XOAUTH2\r\n",
        "334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n",
        "535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp\r\n",
    ];
    let (port, script) = scripted_server(b"220 scripted ESMTP\r\n", replies).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", port, Security::None, oauth("ya29.expired-token")),
        &message(),
        &policy("127.0.0.1", port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::SigningIn, FailureKind::OAuthTokenRefused)
    );
    let reply = failure.server_reply.unwrap();
    assert!(
        reply.starts_with("535 5.7.8 Username and Password not accepted."),
        "{reply}"
    );
    assert!(!reply.contains("ya29"), "{reply}");
    let received = script.await.unwrap();
    let payload = received[1].strip_prefix("AUTH XOAUTH2 ").unwrap();
    assert_eq!(
        STANDARD.decode(payload).unwrap(),
        b"user=ada@example.org\x01auth=Bearer ya29.expired-token\x01\x01"
    );
    assert_eq!(received[2], "");
}

#[tokio::test]
async fn xoauth2_success_delivers_the_message() {
    let replies = vec![
        "250-scripted\r\n250 AUTH XOAUTH2\r\n",
        "235 2.7.0 Accepted\r\n",
        "250 2.1.0 OK\r\n",
        "250 2.1.5 OK\r\n",
        "354 Go ahead\r\n",
        "250 2.0.0 OK queued\r\n",
        "221 2.0.0 Bye\r\n",
    ];
    let (port, script) = scripted_server(b"220 scripted ESMTP\r\n", replies).await;

    let (result, stages) = send_recording(
        &settings("127.0.0.1", port, Security::None, oauth("ya29.fresh")),
        &message(),
        &policy("127.0.0.1", port),
    )
    .await;

    assert_eq!(result, Ok(()));
    assert_eq!(stages, [Stage::Connecting, Stage::SigningIn, Stage::Sending]);
    let received = script.await.unwrap();
    assert_eq!(
        received[2..5],
        ["MAIL FROM:<ada@example.org>", "RCPT TO:<bob@example.net>", "DATA"]
    );
}

#[tokio::test]
async fn rejected_message_data_is_rejected() {
    let replies = vec![
        "250 scripted\r\n",
        "250 OK\r\n",
        "250 OK\r\n",
        "354 Go ahead\r\n",
        "554 5.7.1 Message rejected as spam\r\n",
    ];
    let (port, _script) = scripted_server(b"220 scripted ESMTP\r\n", replies).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", port, Security::None, None),
        &message(),
        &policy("127.0.0.1", port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!((failure.stage, failure.kind), (Stage::Sending, FailureKind::Rejected));
    assert_eq!(
        failure.server_reply.as_deref(),
        Some("554 5.7.1 Message rejected as spam")
    );
}

#[tokio::test]
async fn binary_greeting_is_tls_mismatch() {
    let (port, _script) = scripted_server(b"\x16\x03\x01\xff\xfe\r\n", Vec::new()).await;

    let (result, _) = send_recording(
        &settings("127.0.0.1", port, Security::StartTls, None),
        &message(),
        &policy("127.0.0.1", port),
    )
    .await;

    let failure = result.unwrap_err();
    assert_eq!(
        (failure.stage, failure.kind),
        (Stage::Connecting, FailureKind::ImplicitTlsMismatch)
    );
}
