//! The boundary between the shared server functions and the server binary. Server functions
//! are declared in this crate so the browser can call them. Their work (storage, password
//! hashing, sessions) is done by the `server` crate, which provides a [`Backend`] as context.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;
use leptos::prelude::*;

use crate::account::{AccountView, SignUpForm};
use crate::error::AppError;
use futures::stream::BoxStream;

use crate::senders::activity::ActivityEntry;
use crate::senders::oauth::{OAuthGrantView, OAuthProvider};
use crate::senders::settings::SenderForm;
use crate::senders::{SenderList, SenderView};

/// Server-side operations behind the server functions. `request` carries the session.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn current_account(&self, request: &Parts) -> Result<Option<AccountView>, AppError>;
    async fn sign_up(&self, request: &Parts, form: SignUpForm) -> Result<AccountView, AppError>;
    async fn sign_in(&self, request: &Parts, email: &str, password: &str) -> Result<AccountView, AppError>;
    async fn sign_out(&self, request: &Parts) -> Result<(), AppError>;
    async fn set_locale(&self, request: &Parts, locale: &str) -> Result<(), AppError>;
    async fn list_senders(&self, request: &Parts) -> Result<SenderList, AppError>;
    async fn save_sender(&self, request: &Parts, form: SenderForm) -> Result<SenderView, AppError>;
    async fn delete_sender(&self, request: &Parts, sender_id: &str) -> Result<(), AppError>;
    /// Runs a test send; each stream item is one JSON-encoded `TestEvent` followed by a newline.
    async fn test_sender(&self, request: &Parts, form: SenderForm) -> BoxStream<'static, Result<String, AppError>>;
    /// Returns the provider URL that starts an authorization.
    async fn start_oauth(
        &self,
        request: &Parts,
        provider: OAuthProvider,
        sender_id: Option<&str>,
    ) -> Result<String, AppError>;
    async fn oauth_grant(&self, request: &Parts, grant_id: &str) -> Result<OAuthGrantView, AppError>;
    async fn list_activity(&self, request: &Parts) -> Result<Vec<ActivityEntry>, AppError>;
}

/// The backend and the current request, as provided to every server function and SSR render.
pub fn context() -> Result<(Arc<dyn Backend>, Parts), AppError> {
    let backend = use_context::<Arc<dyn Backend>>().ok_or(AppError::Internal)?;
    let request = use_context::<Parts>().ok_or(AppError::Internal)?;
    Ok((backend, request))
}

/// Sets the response status from the error, so clients and logs see 4xx for user errors.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(error.status_code());
    }
    result
}

/// Sets the locale cookie read by the i18n context, so the next page renders in `locale`.
pub fn set_locale_cookie(locale: &str) {
    use http::header::{HeaderValue, SET_COOKIE};

    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let cookie = format!("i18n_pref_locale={locale}; Path=/; Max-Age=31536000; SameSite=Lax");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.append_header(SET_COOKIE, value);
    }
}
