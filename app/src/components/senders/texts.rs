//! Localized texts for sender problems, stages and failures.

use leptos_i18n::I18nContext;

use crate::i18n::*;
use crate::senders::oauth::CallbackError;
use crate::senders::settings::{FIELD_MAX_BYTES, Field, HOST_MAX_CHARS, Problem};
use crate::senders::test_send::{FailureKind, Stage};
use crate::validation::{DISPLAY_NAME_MAX_CHARS, EMAIL_MAX_CHARS};

/// Returns the message shown under `field` for `problem`. A value that is too long gets the
/// limit of its field.
pub fn problem_text(i18n: I18nContext<Locale>, field: Field, problem: Problem) -> String {
    let text = match problem {
        Problem::TooLong => return too_long_text(i18n, field),
        Problem::Missing => t_string!(i18n, field.missing),
        Problem::ControlCharacter => t_string!(i18n, field.control),
        Problem::EmailInvalid => t_string!(i18n, field.email_invalid),
        Problem::HostHasScheme => t_string!(i18n, field.host_scheme),
        Problem::HostHasPort => t_string!(i18n, field.host_port),
        Problem::HostHasSpaces => t_string!(i18n, field.host_spaces),
        Problem::HostInvalid => t_string!(i18n, field.host_invalid),
        Problem::PortInvalid => t_string!(i18n, field.port_invalid),
        Problem::SecurityInvalid => t_string!(i18n, field.security_invalid),
        Problem::PasswordRequiredForNewServer => t_string!(i18n, field.password_new_server),
        Problem::PlaintextPasswordRefused => t_string!(i18n, field.plaintext_refused),
    };
    text.to_string()
}

fn too_long_text(i18n: I18nContext<Locale>, field: Field) -> String {
    match field {
        Field::DisplayName => t_string!(i18n, field.name_too_long, max = DISPLAY_NAME_MAX_CHARS).to_string(),
        Field::Email | Field::ReplyTo => t_string!(i18n, field.email_too_long, max = EMAIL_MAX_CHARS).to_string(),
        Field::SmtpHost => t_string!(i18n, field.host_too_long, max = HOST_MAX_CHARS).to_string(),
        _ => t_string!(i18n, field.too_long, max = FIELD_MAX_BYTES).to_string(),
    }
}

/// Returns the progress line shown while a stage runs.
pub fn stage_progress(i18n: I18nContext<Locale>, stage: Stage) -> &'static str {
    match stage {
        Stage::Authorizing => t_string!(i18n, test.authorizing),
        Stage::Connecting => t_string!(i18n, test.connecting),
        Stage::Securing => t_string!(i18n, test.securing),
        Stage::SigningIn => t_string!(i18n, test.signing_in),
        Stage::Sending => t_string!(i18n, test.sending),
    }
}

/// Returns the stage's name inside "Failed at step: …".
pub fn stage_name(i18n: I18nContext<Locale>, stage: Stage) -> &'static str {
    match stage {
        Stage::Authorizing => t_string!(i18n, test.stage_authorizing),
        Stage::Connecting => t_string!(i18n, test.stage_connecting),
        Stage::Securing => t_string!(i18n, test.stage_securing),
        Stage::SigningIn => t_string!(i18n, test.stage_signing_in),
        Stage::Sending => t_string!(i18n, test.stage_sending),
    }
}

/// Returns what went wrong and what to change, in plain words.
pub fn failure_advice(i18n: I18nContext<Locale>, kind: FailureKind, certificate_subject: Option<&str>) -> String {
    let text = match kind {
        FailureKind::HostNotFound => t_string!(i18n, failure.host_not_found),
        FailureKind::AddressNotAllowed => t_string!(i18n, failure.address_not_allowed),
        FailureKind::ConnectionRefused => t_string!(i18n, failure.connection_refused),
        FailureKind::Timeout => t_string!(i18n, failure.timeout),
        FailureKind::TlsHandshake => t_string!(i18n, failure.tls_handshake),
        FailureKind::CertificateExpired => t_string!(i18n, failure.certificate_expired),
        FailureKind::CertificateUntrusted => t_string!(i18n, failure.certificate_untrusted),
        FailureKind::CertificateWrongHost => {
            let subject = certificate_subject.unwrap_or("?").to_string();
            return t_string!(i18n, failure.certificate_wrong_host, subject = subject).to_string();
        }
        FailureKind::ImplicitTlsMismatch => t_string!(i18n, failure.implicit_tls_mismatch),
        FailureKind::StartTlsNotOffered => t_string!(i18n, failure.start_tls_not_offered),
        FailureKind::AuthNotOffered => t_string!(i18n, failure.auth_not_offered),
        FailureKind::AuthRequired => t_string!(i18n, failure.auth_required),
        FailureKind::AuthFailed => t_string!(i18n, failure.auth_failed),
        FailureKind::AppPasswordRequired => t_string!(i18n, failure.app_password_required),
        FailureKind::SmtpAuthDisabled => t_string!(i18n, failure.smtp_auth_disabled),
        FailureKind::BasicAuthRetired => t_string!(i18n, failure.basic_auth_retired),
        FailureKind::SenderNotAllowed => t_string!(i18n, failure.sender_not_allowed),
        FailureKind::RecipientRejected => t_string!(i18n, failure.recipient_rejected),
        FailureKind::SmtpUtf8Required => t_string!(i18n, failure.smtp_utf8_required),
        FailureKind::Temporary => t_string!(i18n, failure.temporary),
        FailureKind::Rejected => t_string!(i18n, failure.rejected),
        FailureKind::Network => t_string!(i18n, failure.network),
        FailureKind::OAuthGrantRevoked => t_string!(i18n, failure.oauth_grant_revoked),
        FailureKind::OAuthClientRejected => t_string!(i18n, failure.oauth_client_rejected),
        FailureKind::OAuthProviderUnavailable => t_string!(i18n, failure.oauth_provider_unavailable),
        FailureKind::OAuthTokenRefused => t_string!(i18n, failure.oauth_token_refused),
    };
    text.to_string()
}

/// Explains why connecting a Google or Microsoft account failed, and what to do.
pub fn callback_error_text(i18n: I18nContext<Locale>, error: CallbackError) -> &'static str {
    match error {
        CallbackError::Denied => t_string!(i18n, oauth_error.denied),
        CallbackError::AdminApproval => t_string!(i18n, oauth_error.admin_approval),
        CallbackError::ProviderError => t_string!(i18n, oauth_error.provider_error),
        CallbackError::StateInvalid => t_string!(i18n, oauth_error.state_invalid),
        CallbackError::WrongProvider => t_string!(i18n, oauth_error.wrong_provider),
        CallbackError::ScopeMissing => t_string!(i18n, oauth_error.scope_missing),
        CallbackError::NoRefreshToken => t_string!(i18n, oauth_error.no_refresh_token),
        CallbackError::NoEmail => t_string!(i18n, oauth_error.no_email),
        CallbackError::ExchangeFailed => t_string!(i18n, oauth_error.exchange_failed),
        CallbackError::OtherMailbox => t_string!(i18n, oauth_error.other_mailbox),
        CallbackError::AlreadyConnected => t_string!(i18n, oauth_error.already_connected),
        CallbackError::NotConfigured => t_string!(i18n, oauth_error.not_configured),
        CallbackError::SenderNotFound => t_string!(i18n, oauth_error.sender_not_found),
        CallbackError::Unavailable => t_string!(i18n, oauth_error.unavailable),
    }
}

/// Formats Unix seconds as `YYYY-MM-DD HH:MM UTC`, identically on the server and in the
/// browser, so hydration finds the same text.
pub fn format_utc(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let seconds_of_day = unix_seconds.rem_euclid(86_400);

    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);

    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        seconds_of_day / 3600,
        seconds_of_day % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_796_416_260), "2026-12-04 20:31 UTC");
    }
}
