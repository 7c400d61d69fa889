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
    /// Returns the account of the request's session, which the auth layer has already loaded.
    fn current_account(&self, request: &Parts) -> Result<Option<AccountView>, AppError>;
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
///
/// A form posted without script keeps its redirect status: the server sends the browser back
/// to the form's page, with the error in the address.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result
        && !is_plain_form_post()
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(error.status_code());
    }
    result
}

/// Tells whether the current request is a form that the browser posted itself (it accepts
/// HTML), rather than a server-function call from script (it accepts JSON).
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>()
        .and_then(|request| {
            let accept = request.headers.get(http::header::ACCEPT)?.to_str().ok()?;
            Some(accept.contains("text/html"))
        })
        .unwrap_or(false)
}

/// Returns the page on this site that the form was posted from, without the error that an
/// earlier post left in its address. Falls back to the workspace.
pub fn referring_page(request: &Parts) -> String {
    let referer = request
        .headers
        .get(http::header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<http::Uri>().ok());
    let page = referer.as_ref().map(|uri| {
        let query: Vec<&str> = uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("__path=") && !pair.starts_with("__err="))
            .collect();
        if query.is_empty() {
            uri.path().to_string()
        } else {
            format!("{}?{}", uri.path(), query.join("&"))
        }
    });
    crate::validation::safe_return_path(page.as_deref())
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
