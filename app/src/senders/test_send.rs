//! What a test send reports to the dialog while it runs and when it ends.

use serde::{Deserialize, Serialize};

/// The steps of a test send, in order. `Authorizing` (getting an access token from Google or
/// Microsoft) happens only for OAuth senders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    Authorizing,
    Connecting,
    Securing,
    SigningIn,
    Sending,
}

/// Why a send failed, sorted into the cases a user can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    HostNotFound,
    AddressNotAllowed,
    ConnectionRefused,
    Timeout,
    TlsHandshake,
    CertificateExpired,
    CertificateUntrusted,
    CertificateWrongHost,
    ImplicitTlsMismatch,
    StartTlsNotOffered,
    AuthNotOffered,
    /// Sign-in required by the server, for a sender without username.
    AuthRequired,
    AuthFailed,
    AppPasswordRequired,
    SmtpAuthDisabled,
    BasicAuthRetired,
    SenderNotAllowed,
    RecipientRejected,
    SmtpUtf8Required,
    Temporary,
    Rejected,
    Network,
    /// The provider returned `invalid_grant`: access was revoked, the password changed, or
    /// the authorization expired.
    OAuthGrantRevoked,
    /// The provider refused Relais's client id or secret.
    OAuthClientRejected,
    /// The provider's token endpoint timed out or failed.
    OAuthProviderUnavailable,
    /// The mail server refused the access token (XOAUTH2).
    OAuthTokenRefused,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestFailure {
    pub stage: Stage,
    pub kind: FailureKind,
    /// The server's reply, on one line, with credentials removed.
    pub server_reply: Option<String>,
    /// Names the presented certificate is valid for, when it does not match the host.
    pub certificate_subject: Option<String>,
}

/// One line of the test-send stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestEvent {
    Stage(Stage),
    /// The server accepted the message for `recipient`, so it now accepts a save of exactly
    /// these settings.
    Succeeded {
        recipient: String,
    },
    Failed(TestFailure),
    /// The test could not start (invalid form, rate limit, session expired).
    Refused(crate::error::AppError),
}
