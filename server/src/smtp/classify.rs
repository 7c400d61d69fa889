//! Turns server replies and network, TLS and SMTP client errors into a [`FailureKind`].

use std::{error::Error as StdError, io};

use lettre::transport::smtp::Error as SmtpError;
use rustls::{CertificateError, InvalidMessage};

use super::{
    failure::{FailureKind, SendFailure, Stage},
    reply::sanitize_reply,
    secret::SmtpCredentials,
};

/// Classifies a server reply.
///
/// `code` is the three-digit reply code, when there is one, and `text` the reply text, which
/// usually starts with an enhanced status code such as `5.7.8`. Provider-specific wording is
/// recognized before the generic code classes.
pub fn classify(stage: Stage, code: Option<u16>, text: &str) -> FailureKind {
    let text = text.to_lowercase();
    let mentions = |phrase: &str| text.contains(phrase);
    let status = |status_code: &str| has_status_code(&text, status_code);

    if code.is_some_and(|code| (400..500).contains(&code)) {
        return FailureKind::Temporary;
    }

    if status("5.7.139") || mentions("smtpclientauthentication is disabled") {
        return FailureKind::SmtpAuthDisabled;
    }
    if status("5.7.30")
        || mentions("basic authentication is not supported")
        || mentions("basic authentication is disabled")
    {
        return FailureKind::BasicAuthRetired;
    }
    if code == Some(534) && (status("5.7.9") || mentions("application-specific password")) {
        return FailureKind::AppPasswordRequired;
    }
    if status("5.6.7") || mentions("smtputf8") {
        return FailureKind::SmtpUtf8Required;
    }
    if status("5.7.60")
        || mentions("sendasdenied")
        || mentions("permissions to send as")
        || mentions("not allowed to send as")
    {
        return FailureKind::SenderNotAllowed;
    }

    // 5.1.1 to 5.1.3 and 5.1.10 name a bad destination mailbox, 5.1.7 and 5.1.8 a bad sender.
    if ["5.1.1", "5.1.2", "5.1.3", "5.1.10"].into_iter().any(status) {
        return FailureKind::RecipientRejected;
    }
    if ["5.1.7", "5.1.8"].into_iter().any(status) {
        return FailureKind::SenderNotAllowed;
    }

    match (stage, code) {
        // A server that wants STARTTLS before AUTH never looked at the password.
        (Stage::SigningIn, Some(_)) if mentions("starttls") => FailureKind::Rejected,
        (Stage::SigningIn, Some(530 | 534 | 535 | 538)) | (_, Some(535)) => FailureKind::AuthFailed,
        // Relais signs in whenever the sender has a username, so a 530 after that step means the
        // sender has none. A server that requires TLS first also replies 530.
        (Stage::Sending, Some(530)) if !mentions("tls") => FailureKind::AuthRequired,
        (_, Some(553)) => FailureKind::SenderNotAllowed,
        (_, Some(_)) => FailureKind::Rejected,
        (_, None) => FailureKind::Network,
    }
}

/// Checks whether `text` contains the enhanced status code as a whole token, so that `5.7.9` does not
/// match inside `5.7.90` or `15.7.9`.
fn has_status_code(text: &str, status_code: &str) -> bool {
    text.match_indices(status_code).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + status_code.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_digit() && c != '.');
        boundary(before) && after.is_none_or(|c| !c.is_ascii_digit())
    })
}

/// Builds the failure for an error returned by lettre's SMTP client.
pub(crate) fn failure_from_smtp_error(
    stage: Stage,
    error: &SmtpError,
    credentials: Option<&SmtpCredentials>,
) -> SendFailure {
    failure_with_classifier(stage, error, credentials, |code, text| classify(stage, code, text))
}

/// Builds the failure for a rejected RCPT TO.
///
/// A plain rejection there concerns the recipient, even with code 553, which elsewhere means
/// that the sender is not allowed.
pub(crate) fn failure_from_recipient_error(error: &SmtpError, credentials: Option<&SmtpCredentials>) -> SendFailure {
    failure_with_classifier(Stage::Sending, error, credentials, |code, text| {
        let sender_named = classify(Stage::Sending, None, text) == FailureKind::SenderNotAllowed;
        match classify(Stage::Sending, code, text) {
            FailureKind::Rejected => FailureKind::RecipientRejected,
            FailureKind::SenderNotAllowed if !sender_named => FailureKind::RecipientRejected,
            kind => kind,
        }
    })
}

fn failure_with_classifier(
    stage: Stage,
    error: &SmtpError,
    credentials: Option<&SmtpCredentials>,
    classifier: impl Fn(Option<u16>, &str) -> FailureKind,
) -> SendFailure {
    if let Some(code) = error.status() {
        let text = error.source().map(ToString::to_string).unwrap_or_default();
        let mut failure = SendFailure::new(stage, classifier(code.to_string().parse().ok(), &text));
        failure.server_reply = sanitize_reply(&format!("{code} {text}"), credentials);
        return failure;
    }

    if let Some(io_error) = find_io_error(error) {
        return failure_from_io_error(stage, io_error);
    }

    let kind = if error.is_timeout() {
        FailureKind::Timeout
    } else {
        FailureKind::Network
    };
    SendFailure::new(stage, kind)
}

/// Builds the failure for an I/O error, which may carry a TLS error.
pub(crate) fn failure_from_io_error(stage: Stage, error: &io::Error) -> SendFailure {
    if let Some(tls_error) = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        let (kind, certificate_subject) = kind_from_tls_error(tls_error);
        let mut failure = SendFailure::new(stage, kind);
        failure.certificate_subject = certificate_subject;
        return failure;
    }

    let kind = match error.kind() {
        io::ErrorKind::ConnectionRefused => FailureKind::ConnectionRefused,
        io::ErrorKind::TimedOut => FailureKind::Timeout,
        // The peer hung up in the middle of the handshake.
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset if stage == Stage::Securing => {
            FailureKind::TlsHandshake
        }
        // The TLS settings themselves were unusable, such as an unreadable extra root.
        io::ErrorKind::InvalidInput if stage == Stage::Securing => FailureKind::TlsHandshake,
        _ => FailureKind::Network,
    };
    SendFailure::new(stage, kind)
}

/// Maps a TLS error to a failure kind, with the certificate's names when the error carries them.
pub(crate) fn kind_from_tls_error(error: &rustls::Error) -> (FailureKind, Option<String>) {
    match error {
        rustls::Error::InvalidCertificate(certificate_error) => match certificate_error {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                (FailureKind::CertificateExpired, None)
            }
            CertificateError::NotValidForName => (FailureKind::CertificateWrongHost, None),
            CertificateError::NotValidForNameContext { presented, .. } => {
                (FailureKind::CertificateWrongHost, presented_names(presented))
            }
            _ => (FailureKind::CertificateUntrusted, None),
        },
        // The first bytes were not a TLS record. A plain SMTP greeting such as "220 " starts
        // with an invalid record type.
        rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion) => {
            (FailureKind::ImplicitTlsMismatch, None)
        }
        _ => (FailureKind::TlsHandshake, None),
    }
}

/// Turns certificate names as rustls reports them, `DnsName("mail.example.org")`, into plain names.
fn presented_names(presented: &[String]) -> Option<String> {
    let names: Vec<&str> = presented
        .iter()
        .map(|name| {
            let name = name.as_str();
            name.strip_prefix("DnsName(\"")
                .and_then(|rest| rest.strip_suffix("\")"))
                .or_else(|| name.strip_prefix("IpAddress(").and_then(|rest| rest.strip_suffix(')')))
                .unwrap_or(name)
        })
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// Finds the kind of the I/O error under a lettre error, if there is one.
pub(crate) fn io_error_kind(error: &SmtpError) -> Option<io::ErrorKind> {
    find_io_error(error).map(io::Error::kind)
}

fn find_io_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(io_error) = error.downcast_ref::<io::Error>() {
            return Some(io_error);
        }
        current = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::ServerName;

    use super::*;

    fn io_error_from_tls(error: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, error)
    }

    #[test]
    fn failure_without_any_reply_is_a_network_failure() {
        assert_eq!(classify(Stage::Connecting, None, ""), FailureKind::Network);
    }

    #[test]
    fn connection_refused() {
        let error = io::Error::from(io::ErrorKind::ConnectionRefused);

        assert_eq!(
            failure_from_io_error(Stage::Connecting, &error).kind,
            FailureKind::ConnectionRefused
        );
    }

    #[test]
    fn timeout() {
        let error = io::Error::from(io::ErrorKind::TimedOut);

        assert_eq!(
            failure_from_io_error(Stage::Connecting, &error).kind,
            FailureKind::Timeout
        );
    }

    #[test]
    fn tls_handshake_failure() {
        let alert = io_error_from_tls(rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure));
        let hang_up = io::Error::from(io::ErrorKind::UnexpectedEof);

        assert_eq!(
            failure_from_io_error(Stage::Securing, &alert).kind,
            FailureKind::TlsHandshake
        );
        assert_eq!(
            failure_from_io_error(Stage::Securing, &hang_up).kind,
            FailureKind::TlsHandshake
        );
    }

    #[test]
    fn certificate_expired() {
        let error = io_error_from_tls(rustls::Error::InvalidCertificate(CertificateError::Expired));

        assert_eq!(
            failure_from_io_error(Stage::Securing, &error).kind,
            FailureKind::CertificateExpired
        );
    }

    #[test]
    fn certificate_untrusted() {
        let unknown_issuer = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let bad_signature = rustls::Error::InvalidCertificate(CertificateError::BadSignature);

        assert_eq!(
            kind_from_tls_error(&unknown_issuer),
            (FailureKind::CertificateUntrusted, None)
        );
        assert_eq!(
            kind_from_tls_error(&bad_signature),
            (FailureKind::CertificateUntrusted, None)
        );
    }

    #[test]
    fn certificate_for_another_host_carries_its_names() {
        let error = io_error_from_tls(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForNameContext {
                expected: ServerName::try_from("mail.example.org").unwrap(),
                presented: vec![
                    "DnsName(\"wrong.example\")".to_owned(),
                    "IpAddress(192.0.2.1)".to_owned(),
                ],
            },
        ));

        let failure = failure_from_io_error(Stage::Securing, &error);

        assert_eq!(failure.kind, FailureKind::CertificateWrongHost);
        assert_eq!(failure.certificate_subject.as_deref(), Some("wrong.example, 192.0.2.1"));
    }

    #[test]
    fn plain_banner_during_tls_handshake_is_a_mismatch() {
        let error = io_error_from_tls(rustls::Error::InvalidMessage(InvalidMessage::InvalidContentType));

        assert_eq!(
            failure_from_io_error(Stage::Securing, &error).kind,
            FailureKind::ImplicitTlsMismatch
        );
    }

    #[test]
    fn authentication_failed() {
        let text = "5.7.8 Authentication credentials invalid";

        assert_eq!(classify(Stage::SigningIn, Some(535), text), FailureKind::AuthFailed);
    }

    #[test]
    fn gmail_app_password_required() {
        let text = "5.7.9 Application-specific password required. For more information, go to 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp";

        assert_eq!(
            classify(Stage::SigningIn, Some(534), text),
            FailureKind::AppPasswordRequired
        );
    }

    #[test]
    fn gmail_bad_credentials_is_auth_failed() {
        let text = "5.7.8 Username and Password not accepted. For more information, go to 5.7.8 https://support.google.com/mail/?p=BadCredentials - gsmtp";

        assert_eq!(classify(Stage::SigningIn, Some(535), text), FailureKind::AuthFailed);
    }

    #[test]
    fn microsoft_smtp_auth_disabled() {
        let text = "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.";

        assert_eq!(
            classify(Stage::SigningIn, Some(535), text),
            FailureKind::SmtpAuthDisabled
        );
    }

    #[test]
    fn microsoft_basic_auth_retired() {
        let retired = "5.7.30 Basic authentication is not supported for Client Submission.";
        let disabled = "5.7.3 Authentication unsuccessful, basic authentication is disabled.";

        assert_eq!(
            classify(Stage::SigningIn, Some(535), retired),
            FailureKind::BasicAuthRetired
        );
        assert_eq!(
            classify(Stage::SigningIn, Some(535), disabled),
            FailureKind::BasicAuthRetired
        );
    }

    #[test]
    fn sender_not_allowed() {
        let microsoft = "5.7.60 SMTP; Client does not have permissions to send as this sender";
        let send_as_denied = "5.2.252 SendAsDenied; ada@example.org not allowed to send as bob@example.org";

        assert_eq!(
            classify(Stage::Sending, Some(553), "Sender address rejected"),
            FailureKind::SenderNotAllowed
        );
        assert_eq!(
            classify(Stage::Sending, Some(550), microsoft),
            FailureKind::SenderNotAllowed
        );
        assert_eq!(
            classify(Stage::Sending, Some(554), send_as_denied),
            FailureKind::SenderNotAllowed
        );
    }

    #[test]
    fn recipient_rejected() {
        let text = "5.1.1 The email account that you tried to reach does not exist.";

        assert_eq!(
            classify(Stage::Sending, Some(550), text),
            FailureKind::RecipientRejected
        );
    }

    #[test]
    fn smtputf8_required() {
        assert_eq!(
            classify(Stage::Sending, Some(553), "5.6.7 SMTPUTF8 is required for this address"),
            FailureKind::SmtpUtf8Required
        );
        assert_eq!(
            classify(Stage::Sending, Some(555), "5.5.4 SMTPUTF8 is not supported"),
            FailureKind::SmtpUtf8Required
        );
    }

    #[test]
    fn any_4xx_is_temporary() {
        assert_eq!(
            classify(Stage::Sending, Some(451), "4.3.0 Try again later"),
            FailureKind::Temporary
        );
        assert_eq!(
            classify(Stage::SigningIn, Some(454), "4.7.0 Too many login attempts"),
            FailureKind::Temporary
        );
        assert_eq!(
            classify(Stage::Connecting, Some(421), "Service not available"),
            FailureKind::Temporary
        );
    }

    #[test]
    fn other_5xx_is_rejected() {
        assert_eq!(
            classify(Stage::Sending, Some(554), "5.7.1 Message rejected as spam"),
            FailureKind::Rejected
        );
        assert_eq!(
            classify(Stage::Connecting, Some(554), "No SMTP service here"),
            FailureKind::Rejected
        );
    }

    #[test]
    fn sign_in_required_before_mail() {
        let text = "5.7.0 Authentication required";
        assert_eq!(classify(Stage::Sending, Some(530), text), FailureKind::AuthRequired);

        let text = "5.7.0 Must issue a STARTTLS command first";
        assert_eq!(classify(Stage::Sending, Some(530), text), FailureKind::Rejected);
    }

    #[test]
    fn starttls_required_at_sign_in_is_rejected() {
        let text = "Error: Must issue a STARTTLS command first";

        assert_eq!(classify(Stage::SigningIn, Some(538), text), FailureKind::Rejected);
    }

    #[test]
    fn status_codes_match_whole_tokens_only() {
        assert!(has_status_code("534 5.7.9 app password", "5.7.9"));
        assert!(!has_status_code("534 5.7.90 other", "5.7.9"));
        assert!(!has_status_code("534 15.7.9 other", "5.7.9"));
        assert!(!has_status_code("550 5.1.10 unknown", "5.1.1"));
    }
}
