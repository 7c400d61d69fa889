//! The boundary between the shared server functions and the server binary. Server functions
//! are declared in this crate so the browser can call them; their work (storage, password
//! hashing, sessions) is done by the `server` crate, which provides a [`Backend`] as context.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;
use leptos::prelude::*;

use crate::account::{AccountView, SignUpForm};
use crate::error::AppError;
use crate::senders::SenderList;

/// Server-side operations behind the server functions. `request` carries the session.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn current_account(&self, request: &Parts) -> Result<Option<AccountView>, AppError>;
    async fn sign_up(&self, request: &Parts, form: SignUpForm) -> Result<AccountView, AppError>;
    async fn sign_in(&self, request: &Parts, email: &str, password: &str) -> Result<AccountView, AppError>;
    async fn sign_out(&self, request: &Parts) -> Result<(), AppError>;
    async fn set_locale(&self, request: &Parts, locale: &str) -> Result<(), AppError>;
    async fn list_senders(&self, request: &Parts) -> Result<SenderList, AppError>;
}

/// The backend and the current request, as provided to every server function and SSR render.
pub fn context() -> Result<(Arc<dyn Backend>, Parts), AppError> {
    let backend = use_context::<Arc<dyn Backend>>().ok_or(AppError::Internal)?;
    let request = use_context::<Parts>().ok_or(AppError::Internal)?;
    Ok((backend, request))
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
