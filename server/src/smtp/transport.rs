use std::{io, net::IpAddr};

use lettre::transport::smtp::{
    Error as SmtpError,
    authentication::{Credentials, Mechanism},
    client::AsyncSmtpConnection,
    commands::{Auth, Data, Mail, Rcpt},
    extension::{ClientId, Extension, MailBodyParameter, MailParameter},
    response::{Response, Severity},
};
use tokio::net::TcpStream;

use super::{
    address_policy::{host_to_ascii, resolve_checked},
    classify::{failure_from_io_error, failure_from_recipient_error, failure_from_smtp_error, io_error_kind},
    failure::{FailureKind, SendFailure, Stage},
    message::{PreparedMessage, prepare},
    reply::sanitize_reply,
    secret::SmtpCredentials,
    settings::{OutgoingMessage, Security, SmtpSettings, TransportPolicy},
    tls,
};

/// Connects to the first of the checked addresses that accepts, like a resolver-aware client
/// would (`localhost` may resolve to `::1` before `127.0.0.1`).
async fn connect_first(addresses: &[std::net::SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last_error = std::io::Error::from(std::io::ErrorKind::AddrNotAvailable);
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

/// The port where servers expect implicit TLS.
const IMPLICIT_TLS_PORT: u16 = 465;

/// Sends one message, calling `on_stage` as each stage starts.
///
/// The whole send, name resolution included, is bounded by `policy.timeout`. It succeeds only
/// once the server has accepted the message data.
pub async fn send(
    settings: &SmtpSettings,
    message: &OutgoingMessage,
    policy: &TransportPolicy,
    on_stage: impl FnMut(Stage) + Send,
) -> Result<(), SendFailure> {
    let mut progress = Progress {
        stage: Stage::Connecting,
        on_stage,
        awaiting_greeting: false,
        accepted: false,
    };

    let outcome = tokio::time::timeout(policy.timeout, run(settings, message, policy, &mut progress)).await;

    match outcome {
        Ok(result) => result,
        // Only the QUIT after an accepted message was left unanswered.
        Err(_) if progress.accepted => Ok(()),
        Err(_) => Err(progress.timeout_failure(settings)),
    }
}

struct Progress<F> {
    stage: Stage,
    on_stage: F,
    /// Connected without TLS and waiting for the server's first reply.
    awaiting_greeting: bool,
    accepted: bool,
}

impl<F: FnMut(Stage)> Progress<F> {
    fn enter(&mut self, stage: Stage) {
        self.stage = stage;
        (self.on_stage)(stage);
    }

    fn fail(&self, kind: FailureKind) -> SendFailure {
        SendFailure::new(self.stage, kind)
    }

    fn timeout_failure(&self, settings: &SmtpSettings) -> SendFailure {
        // A server on the implicit TLS port waits for our handshake while we wait for its greeting.
        let silent_tls_port = self.awaiting_greeting && settings.port == IMPLICIT_TLS_PORT;
        self.fail(if silent_tls_port {
            FailureKind::ImplicitTlsMismatch
        } else {
            FailureKind::Timeout
        })
    }
}

async fn run<F: FnMut(Stage)>(
    settings: &SmtpSettings,
    message: &OutgoingMessage,
    policy: &TransportPolicy,
    progress: &mut Progress<F>,
) -> Result<(), SendFailure> {
    let credentials = settings.credentials.as_ref();
    let mut connection = open_connection(settings, policy, progress).await?;

    if let Some(credentials) = credentials {
        progress.enter(Stage::SigningIn);
        sign_in(&mut connection, credentials).await?;
    }

    progress.enter(Stage::Sending);
    let prepared = prepare(message).map_err(|kind| progress.fail(kind))?;
    deliver(&mut connection, &prepared, credentials).await?;
    progress.accepted = true;

    let _ = connection.quit().await;
    Ok(())
}

/// Connects to the checked address and secures the connection as `settings.security` requires.
///
/// The connection is ready for AUTH or MAIL FROM, and its server information comes from an EHLO
/// sent after TLS was set up.
async fn open_connection<F: FnMut(Stage)>(
    settings: &SmtpSettings,
    policy: &TransportPolicy,
    progress: &mut Progress<F>,
) -> Result<AsyncSmtpConnection, SendFailure> {
    let credentials = settings.credentials.as_ref();
    progress.enter(Stage::Connecting);

    let host = host_to_ascii(&settings.host).ok_or_else(|| progress.fail(FailureKind::HostNotFound))?;
    let addresses = resolve_checked(&host, settings.port, &policy.allowed_targets, &policy.resolver)
        .await
        .map_err(|kind| progress.fail(kind))?;

    let tcp = connect_first(&addresses)
        .await
        .map_err(|error| failure_from_io_error(progress.stage, &error))?;
    let hello_name = client_id(&policy.hello_name);

    if settings.security == Security::Tls {
        progress.enter(Stage::Securing);
        let stream = tls::connect_implicit(tcp, &host, &policy.extra_root_certificates)
            .await
            .map_err(|error| failure_from_io_error(progress.stage, &error))?;
        return AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello_name)
            .await
            .map_err(|error| failure_from_smtp_error(progress.stage, &error, credentials));
    }

    progress.awaiting_greeting = true;
    let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello_name)
        .await
        .map_err(|error| plain_greeting_failure(progress.stage, &error, credentials))?;
    progress.awaiting_greeting = false;

    if settings.security == Security::StartTls {
        progress.enter(Stage::Securing);
        if !connection.server_info().supports_feature(Extension::StartTls) {
            return Err(progress.fail(FailureKind::StartTlsNotOffered));
        }

        let parameters = tls::starttls_parameters(&host, &policy.extra_root_certificates)
            .map_err(|_| progress.fail(FailureKind::TlsHandshake))?;
        connection
            .starttls(parameters, &hello_name)
            .await
            .map_err(|error| failure_from_smtp_error(progress.stage, &error, credentials))?;
    }

    Ok(connection)
}

/// Builds the failure for the first reply on a plain connection.
///
/// Bytes that are not SMTP at all most likely come from a server that expects TLS first.
fn plain_greeting_failure(stage: Stage, error: &SmtpError, credentials: Option<&SmtpCredentials>) -> SendFailure {
    let mut failure = failure_from_smtp_error(stage, error, credentials);
    // lettre reports a connection closed before any reply as an "incomplete response".
    let unparsable = error.is_response() && !error.to_string().contains("incomplete response");
    let not_text = io_error_kind(error) == Some(io::ErrorKind::InvalidData);
    if error.status().is_none() && (unparsable || not_text) {
        failure.kind = FailureKind::ImplicitTlsMismatch;
    }
    failure
}

async fn sign_in(connection: &mut AsyncSmtpConnection, credentials: &SmtpCredentials) -> Result<(), SendFailure> {
    let offers = |mechanism| connection.server_info().supports_auth_mechanism(mechanism);
    let not_offered = || SendFailure::new(Stage::SigningIn, FailureKind::AuthNotOffered);

    let result = match credentials {
        SmtpCredentials::Password { username, password } => {
            if !offers(Mechanism::Plain) && !offers(Mechanism::Login) {
                return Err(not_offered());
            }
            let lettre_credentials = Credentials::new(username.clone(), password.expose().to_owned());
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], &lettre_credentials)
                .await
        }
        SmtpCredentials::OAuth2 { username, access_token } => {
            if !offers(Mechanism::Xoauth2) {
                return Err(not_offered());
            }
            let lettre_credentials = Credentials::new(username.clone(), access_token.expose().to_owned());
            sign_in_with_xoauth2(connection, lettre_credentials).await
        }
    };

    let response = result.map_err(|error| failure_from_smtp_error(Stage::SigningIn, &error, Some(credentials)));
    let outcome = response.and_then(|response| expect_completion(Stage::SigningIn, &response, Some(credentials)));
    outcome.map_err(|failure| explain_for_oauth(failure, credentials))
}

/// Reports a rejected XOAUTH2 sign-in as a token or scope problem, never as a wrong password.
fn explain_for_oauth(mut failure: SendFailure, credentials: &SmtpCredentials) -> SendFailure {
    let is_credential_failure = matches!(
        failure.kind,
        FailureKind::AuthFailed | FailureKind::AppPasswordRequired | FailureKind::BasicAuthRetired
    );
    if matches!(credentials, SmtpCredentials::OAuth2 { .. }) && is_credential_failure {
        failure.kind = FailureKind::OAuthTokenRefused;
    }
    failure
}

/// Signs in with XOAUTH2.
///
/// A server that rejects the token sends a 334 challenge with details and waits for an empty
/// line before it sends the final error. lettre's `auth` does not send that line.
async fn sign_in_with_xoauth2(
    connection: &mut AsyncSmtpConnection,
    credentials: Credentials,
) -> Result<Response, SmtpError> {
    let response = connection
        .command(Auth::new(Mechanism::Xoauth2, credentials, None)?)
        .await?;
    if response.has_code(334) {
        return connection.command("\r\n").await;
    }
    Ok(response)
}

async fn deliver(
    connection: &mut AsyncSmtpConnection,
    prepared: &PreparedMessage,
    credentials: Option<&SmtpCredentials>,
) -> Result<(), SendFailure> {
    let server = connection.server_info();
    if prepared.needs_smtputf8 && !server.supports_feature(Extension::SmtpUtfEight) {
        return Err(SendFailure::new(Stage::Sending, FailureKind::SmtpUtf8Required));
    }

    let mut parameters = Vec::new();
    if prepared.needs_smtputf8 {
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !prepared.formatted.is_ascii() && server.supports_feature(Extension::EightBitMime) {
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let sending_failure = |error: SmtpError| failure_from_smtp_error(Stage::Sending, &error, credentials);

    let mail_reply = connection
        .command(Mail::new(Some(prepared.sender.clone()), parameters))
        .await
        .map_err(sending_failure)?;
    expect_completion(Stage::Sending, &mail_reply, credentials)?;

    let recipient_reply = connection
        .command(Rcpt::new(prepared.recipient.clone(), Vec::new()))
        .await
        .map_err(|error| failure_from_recipient_error(&error, credentials))?;
    expect_completion(Stage::Sending, &recipient_reply, credentials)?;

    connection.command(Data).await.map_err(sending_failure)?;
    let final_reply = connection.message(&prepared.formatted).await.map_err(sending_failure)?;
    expect_completion(Stage::Sending, &final_reply, credentials)
}

/// Checks that a reply completes its command, because lettre also lets 3xx replies through as
/// positive.
fn expect_completion(
    stage: Stage,
    response: &Response,
    credentials: Option<&SmtpCredentials>,
) -> Result<(), SendFailure> {
    if response.code().severity == Severity::PositiveCompletion {
        return Ok(());
    }

    let text: Vec<&str> = response.message().collect();
    let kind = if stage == Stage::SigningIn {
        FailureKind::AuthFailed
    } else {
        FailureKind::Rejected
    };
    let mut failure = SendFailure::new(stage, kind);
    failure.server_reply = sanitize_reply(&format!("{} {}", response.code(), text.join("\n")), credentials);
    Err(failure)
}

fn client_id(hello_name: &str) -> ClientId {
    let name = hello_name.trim();
    let literal = name
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(name);
    let literal = literal.strip_prefix("IPv6:").unwrap_or(literal);

    match literal.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ClientId::Ipv4(ip),
        Ok(IpAddr::V6(ip)) => ClientId::Ipv6(ip),
        Err(_) => match host_to_ascii(name) {
            Some(domain) => ClientId::Domain(domain),
            None => ClientId::default(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn hello_name_accepts_domains_and_address_literals() {
        assert_eq!(
            client_id("relais.exämple.fr"),
            ClientId::Domain("relais.xn--exmple-cua.fr".to_owned())
        );
        assert_eq!(client_id("[192.0.2.1]"), ClientId::Ipv4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            client_id("[IPv6:2001:db8::1]"),
            ClientId::Ipv6("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn silent_port_465_is_tls_mismatch() {
        let progress = Progress {
            stage: Stage::Connecting,
            on_stage: |_| {},
            awaiting_greeting: true,
            accepted: false,
        };
        let mut settings = SmtpSettings {
            host: "mail.example.org".to_owned(),
            port: 465,
            security: Security::StartTls,
            credentials: None,
        };

        assert_eq!(
            progress.timeout_failure(&settings).kind,
            FailureKind::ImplicitTlsMismatch
        );

        settings.port = 587;
        assert_eq!(progress.timeout_failure(&settings).kind, FailureKind::Timeout);
    }

    #[test]
    fn send_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let settings = SmtpSettings {
            host: "mail.example.org".to_owned(),
            port: 587,
            security: Security::StartTls,
            credentials: None,
        };
        let message = OutgoingMessage {
            from_name: String::new(),
            from_email: "a@example.org".to_owned(),
            reply_to: None,
            to_email: "b@example.org".to_owned(),
            subject: String::new(),
            text_body: String::new(),
        };
        let policy = TransportPolicy::default();

        let future = send(&settings, &message, &policy, |_| {});

        assert_send(&future);
    }
}
