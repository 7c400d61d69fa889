//! Sender addresses: the shared types, and the server functions that list, test, save and
//! delete them.

pub mod activity;
pub mod oauth;
pub mod settings;
pub mod test_send;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use settings::{Security, SenderForm};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SenderKind {
    Smtp,
    Google,
    Microsoft,
}

impl SenderKind {
    /// Returns the provider of a Google or Microsoft sender.
    pub fn oauth_provider(self) -> Option<oauth::OAuthProvider> {
        match self {
            SenderKind::Smtp => None,
            SenderKind::Google => Some(oauth::OAuthProvider::Google),
            SenderKind::Microsoft => Some(oauth::OAuthProvider::Microsoft),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SenderStatus {
    Verified,
    TestFailed,
    NeedsReauthentication,
    /// The stored password or OAuth tokens cannot be decrypted with the server's keyring: the
    /// user must type the password again or reconnect the account.
    KeyUnavailable,
}

/// A custom sender of the account, without its credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderView {
    pub id: String,
    pub version: i64,
    pub kind: SenderKind,
    pub status: SenderStatus,
    pub display_name: String,
    pub email: String,
    pub reply_to: Option<String>,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: Security,
    pub username: String,
    /// Whether a password is stored; the password itself never leaves the server.
    pub has_password: bool,
    /// Unix seconds of the last successful test send.
    pub last_tested_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderList {
    /// The platform's default sender address, used while the account has no sender of its own.
    pub platform_default: Option<String>,
    pub senders: Vec<SenderView>,
    /// The providers a sender can be connected through.
    pub oauth: oauth::OAuthAvailability,
}

/// The settings page's data, which the server loads before it renders the page, so that the
/// page renders in one pass and the browser receives it with the sender island's props.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsData {
    pub senders: Result<SenderList, AppError>,
    pub activity: Result<Vec<activity::ActivityEntry>, AppError>,
}

impl SettingsData {
    /// Returns the data that the server loaded for this request, and gives the page the status
    /// of a failed load. Pages render on the server only, so the browser build has none.
    pub fn of_request() -> Self {
        let data = Self::loaded().unwrap_or(SettingsData {
            senders: Err(AppError::Internal),
            activity: Err(AppError::Internal),
        });
        #[cfg(feature = "ssr")]
        if let Err(error) = data.senders.clone().and(data.activity.clone()) {
            let _ = crate::backend::with_status(Err::<(), _>(error));
        }
        data
    }

    #[cfg(feature = "ssr")]
    fn loaded() -> Option<Self> {
        use_context::<http::request::Parts>().and_then(|request| request.extensions.get::<SettingsData>().cloned())
    }

    #[cfg(not(feature = "ssr"))]
    fn loaded() -> Option<Self> {
        None
    }
}

#[server(prefix = "/api", endpoint = "list_senders")]
pub async fn list_senders() -> Result<SenderList, AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            backend.list_senders(&request).await
        }
        .await,
    )
}

/// Stores the sender; the server refuses unless these exact values passed a test send.
#[server(prefix = "/api", endpoint = "save_sender")]
pub async fn save_sender(form: SenderForm) -> Result<SenderView, AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            backend.save_sender(&request, form).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "delete_sender")]
pub async fn delete_sender(sender_id: String) -> Result<(), AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            backend.delete_sender(&request, &sender_id).await
        }
        .await,
    )
}

/// Sends a test message to the signed-in account's own address through the values of `form`,
/// streaming one JSON-encoded [`test_send::TestEvent`] per line.
#[server(prefix = "/api", endpoint = "test_sender", output = leptos::server_fn::codec::StreamingText)]
pub async fn test_sender(form: SenderForm) -> Result<leptos::server_fn::codec::TextStream<AppError>, AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            let events = backend.test_sender(&request, form).await;
            Ok(leptos::server_fn::codec::TextStream::new(events))
        }
        .await,
    )
}
