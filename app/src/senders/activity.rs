//! The account's activity log: what happened to its senders, when, and from which client
//! address.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::test_send::{FailureKind, Stage};
use crate::error::AppError;

/// Entries returned by [`list_activity`], newest first.
pub const ACTIVITY_PAGE_SIZE: u32 = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityKind {
    SenderCreated,
    SenderEdited,
    /// A test send that ran to its end, passed or failed.
    SenderTested,
    /// A Google or Microsoft sender whose grant was renewed ("Actualiser").
    SenderReauthenticated,
    SenderDeleted,
}

impl ActivityKind {
    /// Returns the value stored in `activity_events.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::SenderCreated => "sender_created",
            ActivityKind::SenderEdited => "sender_edited",
            ActivityKind::SenderTested => "sender_tested",
            ActivityKind::SenderReauthenticated => "sender_reauthenticated",
            ActivityKind::SenderDeleted => "sender_deleted",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            ActivityKind::SenderCreated,
            ActivityKind::SenderEdited,
            ActivityKind::SenderTested,
            ActivityKind::SenderReauthenticated,
            ActivityKind::SenderDeleted,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
    }
}

/// Result of a test send, without the server's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestOutcome {
    Passed,
    Failed { stage: Stage, kind: FailureKind },
}

/// One entry of the activity log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Unix seconds.
    pub occurred_at: i64,
    pub kind: ActivityKind,
    /// The sender's address when the event happened.
    pub sender_email: String,
    /// Set for [`ActivityKind::SenderTested`] only.
    pub test_outcome: Option<TestOutcome>,
    /// IP address of the browser that made the change.
    pub client_address: String,
}

/// Returns the newest [`ACTIVITY_PAGE_SIZE`] entries of the signed-in account, newest first.
#[server(prefix = "/api", endpoint = "list_activity")]
pub async fn list_activity() -> Result<Vec<ActivityEntry>, AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            backend.list_activity(&request).await
        }
        .await,
    )
}
