//! Google and Microsoft senders: the providers on offer, the grant waiting to become a sender,
//! what the provider's callback can report, and the server functions that start an
//! authorization and read a pending grant.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OAuthProvider {
    Google,
    Microsoft,
}

impl OAuthProvider {
    pub const ALL: [OAuthProvider; 2] = [OAuthProvider::Google, OAuthProvider::Microsoft];

    pub fn as_str(self) -> &'static str {
        match self {
            OAuthProvider::Google => "google",
            OAuthProvider::Microsoft => "microsoft",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|provider| provider.as_str() == value)
    }

    /// Returns the name shown to users.
    pub fn name(self) -> &'static str {
        match self {
            OAuthProvider::Google => "Google",
            OAuthProvider::Microsoft => "Microsoft",
        }
    }
}

/// Providers that the operator configured with a client id and secret.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthAvailability {
    pub google: bool,
    pub microsoft: bool,
}

impl OAuthAvailability {
    pub fn offers(self, provider: OAuthProvider) -> bool {
        match provider {
            OAuthProvider::Google => self.google,
            OAuthProvider::Microsoft => self.microsoft,
        }
    }
}

/// Grant returned by the provider that is not a sender yet. The dialog shows its address and
/// tests it before the first save.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthGrantView {
    pub id: String,
    pub provider: OAuthProvider,
    pub email: String,
}

/// Reason that the provider's callback produced no grant. It reaches the settings page in the
/// `oauth_error` query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallbackError {
    /// The user declined the consent screen.
    Denied,
    /// The organisation requires an administrator to approve the app first.
    AdminApproval,
    /// The provider reported another error on the way back.
    ProviderError,
    /// The link is missing its state, was already used, expired, or began in another session.
    StateInvalid,
    /// The callback URL names an unknown provider or a provider other than the one that
    /// started the authorization, or the sender being renewed uses another provider.
    WrongProvider,
    /// The permission to send mail was not granted.
    ScopeMissing,
    /// The provider returned no refresh token, so the sender would stop working when the first
    /// access token expires.
    NoRefreshToken,
    /// The provider returned no email address for the connected mailbox.
    NoEmail,
    /// The code exchange failed, because the provider could not be reached, rejected the code,
    /// or has an invalid URL in the settings.
    ExchangeFailed,
    /// Re-authentication with the refresh button ("Actualiser") signed in to a mailbox other
    /// than the sender's.
    OtherMailbox,
    /// The account already has a sender with this address.
    AlreadyConnected,
    /// The operator has not configured this provider.
    NotConfigured,
    /// The sender being re-authenticated no longer exists.
    SenderNotFound,
    /// The database was unavailable.
    Unavailable,
}

impl CallbackError {
    const ALL: [CallbackError; 14] = [
        CallbackError::Denied,
        CallbackError::AdminApproval,
        CallbackError::ProviderError,
        CallbackError::StateInvalid,
        CallbackError::WrongProvider,
        CallbackError::ScopeMissing,
        CallbackError::NoRefreshToken,
        CallbackError::NoEmail,
        CallbackError::ExchangeFailed,
        CallbackError::OtherMailbox,
        CallbackError::AlreadyConnected,
        CallbackError::NotConfigured,
        CallbackError::SenderNotFound,
        CallbackError::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallbackError::Denied => "denied",
            CallbackError::AdminApproval => "admin_approval",
            CallbackError::ProviderError => "provider_error",
            CallbackError::StateInvalid => "state_invalid",
            CallbackError::WrongProvider => "wrong_provider",
            CallbackError::ScopeMissing => "scope_missing",
            CallbackError::NoRefreshToken => "no_refresh_token",
            CallbackError::NoEmail => "no_email",
            CallbackError::ExchangeFailed => "exchange_failed",
            CallbackError::OtherMailbox => "other_mailbox",
            CallbackError::AlreadyConnected => "already_connected",
            CallbackError::NotConfigured => "not_configured",
            CallbackError::SenderNotFound => "sender_not_found",
            CallbackError::Unavailable => "unavailable",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|error| error.as_str() == value)
    }
}

/// Starts a Google or Microsoft authorization and returns the provider URL to open. With
/// `sender_id`, the authorization renews that sender's grant, as the refresh button
/// ("Actualiser") does.
#[server(prefix = "/api", endpoint = "start_oauth")]
pub async fn start_oauth(provider: OAuthProvider, sender_id: Option<String>) -> Result<String, AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            backend.start_oauth(&request, provider, sender_id.as_deref()).await
        }
        .await,
    )
}

/// Returns a pending grant of the signed-in account.
#[server(prefix = "/api", endpoint = "oauth_grant")]
pub async fn oauth_grant(grant_id: String) -> Result<OAuthGrantView, AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            backend.oauth_grant(&request, &grant_id).await
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::CallbackError;

    #[test]
    fn callback_errors_round_trip() {
        for error in CallbackError::ALL {
            assert_eq!(CallbackError::parse(error.as_str()), Some(error));
        }
        assert_eq!(CallbackError::parse("unknown"), None);
    }
}
