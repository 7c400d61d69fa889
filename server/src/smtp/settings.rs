use std::time::Duration;

use lettre::transport::smtp::extension::ClientId;

use super::{address_policy::Resolver, secret::SmtpCredentials};

pub use app::senders::settings::Security;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpSettings {
    /// Host name as the user typed it, which may be an internationalized name.
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<SmtpCredentials>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
    pub to_email: String,
    pub subject: String,
    pub text_body: String,
}

#[derive(Clone, Debug)]
pub struct TransportPolicy {
    /// Upper bound for the whole send, from name resolution to the final reply.
    pub timeout: Duration,
    /// Host and port pairs that may resolve to internal addresses, for operators and tests.
    pub allowed_targets: Vec<(String, u16)>,
    /// PEM certificates trusted in addition to the built-in web roots.
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// Name that the client sends in EHLO.
    pub hello_name: String,
    /// Resolves the host once per send. The connection goes only to the addresses it returned.
    pub resolver: Resolver,
}

impl Default for TransportPolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            allowed_targets: Vec::new(),
            extra_root_certificates: Vec::new(),
            hello_name: ClientId::default().to_string(),
            resolver: Resolver::system(),
        }
    }
}
