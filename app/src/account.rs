//! Accounts as the browser receives them, and the server functions that create and sign into them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in account, without anything secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub locale: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignUpForm {
    pub display_name: String,
    pub email: String,
    pub password: String,
    pub locale: String,
}

#[server(prefix = "/api", endpoint = "sign_up")]
pub async fn sign_up(
    display_name: String,
    email: String,
    password: String,
    locale: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            let form = SignUpForm {
                display_name,
                email,
                password,
                locale: locale.unwrap_or_default(),
            };

            let account = backend.sign_up(&request, form).await?;

            crate::backend::set_locale_cookie(&account.locale);
            leptos_axum::redirect(&crate::validation::safe_return_path(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;

            let account = backend.sign_in(&request, &email, &password).await?;

            crate::backend::set_locale_cookie(&account.locale);
            leptos_axum::redirect(&crate::validation::safe_return_path(next.as_deref()));
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            backend.sign_out(&request).await?;
            leptos_axum::redirect("/sign-in");
            Ok(())
        }
        .await,
    )
}

/// Stores the language choice in a cookie and, when signed in, in the account.
#[server(prefix = "/api", endpoint = "set_locale")]
pub async fn set_locale(locale: String) -> Result<(), AppError> {
    crate::backend::with_status(
        async move {
            let (backend, request) = crate::backend::context()?;
            if locale.parse::<crate::i18n::Locale>().is_err() {
                return Err(AppError::LocaleUnknown);
            }

            backend.set_locale(&request, &locale).await?;

            crate::backend::set_locale_cookie(&locale);
            if crate::backend::is_plain_form_post() {
                leptos_axum::redirect(&crate::backend::referring_page(&request));
            }
            Ok(())
        }
        .await,
    )
}
