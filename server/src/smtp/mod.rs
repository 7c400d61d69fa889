//! Outgoing mail over SMTP.
//!
//! [`send`] is the single path that every SMTP send takes, test sends included. It resolves the
//! host itself, rejects internal addresses, connects to the exact address it checked, verifies TLS
//! against the host name and reports each stage as it is reached.

mod address_policy;
mod classify;
mod failure;
mod message;
#[cfg(test)]
mod properties;
mod reply;
mod secret;
mod settings;
mod tls;
mod transport;

pub use address_policy::{Resolver, host_to_ascii, is_forbidden_address};
pub use classify::classify;
pub use failure::{FailureKind, SendFailure, Stage};
pub use reply::sanitize_reply;
pub use secret::{SecretString, SmtpCredentials};
pub use settings::{OutgoingMessage, Security, SmtpSettings, TransportPolicy};
pub use tls::extra_roots;
pub use transport::send;
