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
    #[error("invalid sender settings")]
    InvalidSender(Vec<crate::senders::settings::FieldProblem>),
    #[error("sender not found")]
    SenderNotFound,
    #[error("the account already has this sender address")]
    SenderDuplicate,
    #[error("the account has reached its {max} senders")]
    SenderLimitReached { max: u32 },
    #[error("the sender changed since it was loaded")]
    VersionConflict,
    #[error("these settings have not passed a test send")]
    TestRequired,
    #[error("too many test sends, retry in {retry_after_secs} s")]
    TestRateLimited { retry_after_secs: u64 },
    #[error("this provider is not configured on the server")]
    OAuthNotConfigured,
    #[error("the connection to the provider expired")]
    OAuthGrantExpired,
    #[error("the provider withdrew the sender's access")]
    OAuthReauthRequired,
    #[error("the stored SMTP password cannot be decrypted")]
    PasswordUnreadable,
    #[error("the stored Google or Microsoft tokens cannot be decrypted")]
    TokenUnreadable,
    #[error("service unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal,
    #[error("request failed: {0}")]
    Request(ServerFnErrorErr),
}

#[cfg(feature = "ssr")]
impl AppError {
    /// Returns the HTTP status of a server-function response that carries this error.
    pub fn status_code(&self) -> http::StatusCode {
        use http::StatusCode;

        match self {
            AppError::NotSignedIn | AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::EmailTaken | AppError::SenderDuplicate | AppError::VersionConflict => StatusCode::CONFLICT,
            AppError::TooManyAttempts { .. } | AppError::TestRateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::SenderNotFound | AppError::OAuthGrantExpired => StatusCode::NOT_FOUND,
            AppError::OAuthNotConfigured => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::OAuthReauthRequired => StatusCode::CONFLICT,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal | AppError::PasswordUnreadable | AppError::TokenUnreadable => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            // The body limit surfaces as a deserialization error of the server function.
            AppError::Request(leptos::server_fn::error::ServerFnErrorErr::Deserialization(message))
                if message.contains("length limit exceeded") =>
            {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            AppError::Request(_) => StatusCode::BAD_REQUEST,
            AppError::EmailMissing
            | AppError::EmailInvalid
            | AppError::EmailTooLong
            | AppError::DisplayNameMissing
            | AppError::DisplayNameTooLong
            | AppError::DisplayNameControl
            | AppError::PasswordTooShort
            | AppError::PasswordTooLong
            | AppError::LocaleUnknown
            | AppError::InvalidSender(_)
            | AppError::SenderLimitReached { .. }
            | AppError::TestRequired => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value)
    }
}

/// Returns the error that the server function at `path` returned to a form posted without
/// script. The server then sends the browser back to the form's page with the error in the
/// address (`__path` and `__err`), and the page reads it here.
pub fn form_post_error(path: &str) -> Option<AppError> {
    use leptos::server_fn::error::ServerFnUrlError;

    leptos_router::hooks::use_query_map().with_untracked(|query| {
        let encoded = query
            .get("__err")
            .filter(|_| query.get("__path").as_deref() == Some(path))?;
        Some(ServerFnUrlError::<AppError>::decode_err(&encoded))
    })
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
        AppError::InvalidSender(_) => t_string!(i18n, errors.invalid_sender).to_string(),
        AppError::SenderNotFound => t_string!(i18n, errors.sender_not_found).to_string(),
        AppError::SenderDuplicate => t_string!(i18n, errors.sender_duplicate).to_string(),
        AppError::SenderLimitReached { max } => t_string!(i18n, errors.sender_limit, max = *max).to_string(),
        AppError::VersionConflict => t_string!(i18n, errors.version_conflict).to_string(),
        AppError::TestRequired => t_string!(i18n, errors.test_required).to_string(),
        AppError::TestRateLimited { retry_after_secs } => {
            t_string!(i18n, errors.test_rate_limited, seconds = *retry_after_secs).to_string()
        }
        AppError::OAuthNotConfigured => t_string!(i18n, errors.oauth_not_configured).to_string(),
        AppError::OAuthGrantExpired => t_string!(i18n, errors.oauth_grant_expired).to_string(),
        AppError::OAuthReauthRequired => t_string!(i18n, errors.oauth_reauth_required).to_string(),
        AppError::PasswordUnreadable => t_string!(i18n, errors.password_unreadable).to_string(),
        AppError::TokenUnreadable => t_string!(i18n, errors.token_unreadable).to_string(),
        AppError::Unavailable => t_string!(i18n, errors.unavailable).to_string(),
        AppError::Internal => t_string!(i18n, errors.internal).to_string(),
        AppError::Request(ServerFnErrorErr::Deserialization(message)) if message.contains("length limit exceeded") => {
            t_string!(i18n, errors.request_too_large).to_string()
        }
        AppError::Request(_) => t_string!(i18n, errors.request).to_string(),
    };

    view! { <p class="error" role="alert">{text}</p> }
}
