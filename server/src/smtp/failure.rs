use std::fmt;

// The stage and failure kinds are the ones the browser renders, so they are shared with `app`.
pub use app::senders::test_send::{FailureKind, Stage};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendFailure {
    pub stage: Stage,
    pub kind: FailureKind,
    /// The server's reply, joined on one line, without credentials, at most 500 characters.
    pub server_reply: Option<String>,
    /// The names the server's certificate was issued for, when the TLS error carries them.
    pub certificate_subject: Option<String>,
}

impl SendFailure {
    pub fn new(stage: Stage, kind: FailureKind) -> Self {
        Self {
            stage,
            kind,
            server_reply: None,
            certificate_subject: None,
        }
    }
}

impl fmt::Display for SendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SMTP send failed while {:?}: {:?}", self.stage, self.kind)?;
        if let Some(reply) = &self.server_reply {
            write!(f, " (server reply: {reply})")?;
        }
        Ok(())
    }
}

impl std::error::Error for SendFailure {}
