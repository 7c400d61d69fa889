//! Sender addresses as listed in the settings page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A custom sender of the account, without its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderView {
    pub id: String,
    pub display_name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderList {
    /// The platform's default sender address, used while the account has no sender of its own.
    pub platform_default: Option<String>,
    pub senders: Vec<SenderView>,
}

#[server(prefix = "/api", endpoint = "list_senders")]
pub async fn list_senders() -> Result<SenderList, AppError> {
    let (backend, request) = crate::backend::context()?;
    backend.list_senders(&request).await
}
