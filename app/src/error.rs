//! The error type every server function returns. It carries no text: the browser renders each
//! variant from the locale files, so one error reads correctly in every language.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::i18n::*;
use crate::validation::{DISPLAY_NAME_MAX_CHARS, EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    NotSignedIn,
    #[error("email missing")]
    EmailMissing,
    #[error("email invalid")]
    EmailInvalid,
    #[error("email too long")]
    EmailTooLong,
    #[error("display name missing")]
    DisplayNameMissing,
    #[error("display name too long")]
    DisplayNameTooLong,
    #[error("display name contains control characters")]
    DisplayNameControl,
    #[error("password too short")]
    PasswordTooShort,
    #[error("password too long")]
    PasswordTooLong,
    #[error("an account already uses this email")]
    EmailTaken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts, retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("unknown locale")]
    LocaleUnknown,
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal,
    #[error("request failed: {0}")]
    Request(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value)
    }
}

/// Renders an error in the current locale.
#[component]
pub fn ErrorMessage(error: AppError) -> impl IntoView {
    let i18n = use_i18n();

    let text = move || match &error {
        AppError::NotSignedIn => t_string!(i18n, errors.not_signed_in).to_string(),
        AppError::EmailMissing => t_string!(i18n, errors.email_missing).to_string(),
        AppError::EmailInvalid => t_string!(i18n, errors.email_invalid).to_string(),
        AppError::EmailTooLong => t_string!(i18n, errors.email_too_long, max = EMAIL_MAX_CHARS).to_string(),
        AppError::DisplayNameMissing => t_string!(i18n, errors.display_name_missing).to_string(),
        AppError::DisplayNameTooLong => {
            t_string!(i18n, errors.display_name_too_long, max = DISPLAY_NAME_MAX_CHARS).to_string()
        }
        AppError::DisplayNameControl => t_string!(i18n, errors.display_name_control).to_string(),
        AppError::PasswordTooShort => t_string!(i18n, errors.password_too_short, min = PASSWORD_MIN_CHARS).to_string(),
        AppError::PasswordTooLong => t_string!(i18n, errors.password_too_long, max = PASSWORD_MAX_CHARS).to_string(),
        AppError::EmailTaken => t_string!(i18n, errors.email_taken).to_string(),
        AppError::InvalidCredentials => t_string!(i18n, errors.invalid_credentials).to_string(),
        AppError::TooManyAttempts { retry_after_secs } => {
            t_string!(i18n, errors.too_many_attempts, seconds = *retry_after_secs).to_string()
        }
        AppError::LocaleUnknown => t_string!(i18n, errors.locale_unknown).to_string(),
        AppError::Unavailable => t_string!(i18n, errors.unavailable).to_string(),
        AppError::Internal => t_string!(i18n, errors.internal).to_string(),
        AppError::Request(_) => t_string!(i18n, errors.request).to_string(),
    };

    view! { <p class="error" role="alert">{text}</p> }
}
