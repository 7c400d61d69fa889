//! "Journal d'activité": the account's latest sender changes, test sends and re-authentications,
//! newest first. Times are shown in UTC, so the server render and the browser agree.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_i18n::I18nContext;

use super::Reloadable;
use super::senders::texts::{format_utc, stage_name};
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::activity::{ActivityEntry, ActivityKind, TestOutcome, list_activity};
use crate::senders::test_send::FailureKind;

/// Counter that the sender section increases after a save, delete or finished test send, so
/// the activity log on the same page reloads.
#[derive(Clone, Copy)]
pub struct ActivityChanged(RwSignal<u32>);

impl ActivityChanged {
    /// Creates the counter and provides it to the components below.
    pub fn provide() -> Self {
        let changed = Self(RwSignal::new(0));
        provide_context(changed);
        changed
    }

    /// Marks the log as out of date.
    pub fn notify(self) {
        self.0.update(|count| *count += 1);
    }
}

/// Renders the log from `entries`, the entries that came with the page, and loads it again
/// after each change that the sender section reports.
#[component]
pub fn ActivityLog(entries: Result<Vec<ActivityEntry>, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    let entries = Reloadable::new(entries);
    let changed = use_context::<ActivityChanged>();

    // The first run only subscribes to the counter: the page came with the entries.
    Effect::new(move |previous_run: Option<()>| {
        let Some(changed) = changed else {
            return;
        };
        changed.0.track();
        if previous_run.is_some() {
            entries.reload(list_activity());
        }
    });

    view! {
        <section id="activity" aria-labelledby="activity-heading">
            <h2 id="activity-heading">{t!(i18n, activity.heading)}</h2>
            <p class="hint">{t!(i18n, activity.intro)}</p>
            {move || match entries.get() {
                Ok(entries) => Either::Left(view! { <ActivityList entries /> }),
                Err(error) => Either::Right(view! { <ErrorMessage error /> }),
            }}
        </section>
    }
}

#[component]
fn ActivityList(entries: Vec<ActivityEntry>) -> impl IntoView {
    let i18n = use_i18n();
    if entries.is_empty() {
        return Either::Left(view! { <p class="activity-empty">{t!(i18n, activity.empty)}</p> });
    }

    let items = entries
        .into_iter()
        .map(|entry| {
            let when = format_utc(entry.occurred_at);
            // `format_utc` returns "YYYY-MM-DD HH:MM UTC"; the attribute takes "YYYY-MM-DDTHH:MMZ".
            let machine_time = format!("{}Z", when.trim_end_matches(" UTC").replacen(' ', "T", 1));
            let from = t_string!(i18n, activity.from, address = entry.client_address.clone()).to_string();
            let description = describe(i18n, &entry);
            view! {
                <li class="activity-entry" data-kind=entry.kind.as_str()>
                    <time datetime=machine_time>{when}</time>
                    <span class="activity-text">{description}</span>
                    <span class="hint">{from}</span>
                </li>
            }
        })
        .collect_view();

    Either::Right(view! { <ol class="activity">{items}</ol> })
}

/// Returns the entry's sentence, with the sender's address as plain text.
fn describe(i18n: I18nContext<Locale>, entry: &ActivityEntry) -> String {
    let email = entry.sender_email.clone();
    match (entry.kind, entry.test_outcome) {
        (ActivityKind::SenderCreated, _) => t_string!(i18n, activity.created, email = email).to_string(),
        (ActivityKind::SenderEdited, _) => t_string!(i18n, activity.edited, email = email).to_string(),
        (ActivityKind::SenderReauthenticated, _) => {
            t_string!(i18n, activity.reauthenticated, email = email).to_string()
        }
        (ActivityKind::SenderDeleted, _) => t_string!(i18n, activity.deleted, email = email).to_string(),
        (ActivityKind::SenderTested, Some(TestOutcome::Failed { stage, kind })) => {
            let stage = stage_name(i18n, stage);
            let reason = failure_label(i18n, kind);
            t_string!(
                i18n,
                activity.test_failed,
                email = email,
                stage = stage,
                reason = reason
            )
            .to_string()
        }
        (ActivityKind::SenderTested, _) => t_string!(i18n, activity.test_passed, email = email).to_string(),
    }
}

/// Returns a few words naming the failure, without the advice that the test dialog gives.
fn failure_label(i18n: I18nContext<Locale>, kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::HostNotFound => t_string!(i18n, activity.failure.host_not_found),
        FailureKind::AddressNotAllowed => t_string!(i18n, activity.failure.address_not_allowed),
        FailureKind::ConnectionRefused => t_string!(i18n, activity.failure.connection_refused),
        FailureKind::Timeout => t_string!(i18n, activity.failure.timeout),
        FailureKind::TlsHandshake => t_string!(i18n, activity.failure.tls_handshake),
        FailureKind::CertificateExpired => t_string!(i18n, activity.failure.certificate_expired),
        FailureKind::CertificateUntrusted => t_string!(i18n, activity.failure.certificate_untrusted),
        FailureKind::CertificateWrongHost => t_string!(i18n, activity.failure.certificate_wrong_host),
        FailureKind::ImplicitTlsMismatch => t_string!(i18n, activity.failure.implicit_tls_mismatch),
        FailureKind::StartTlsNotOffered => t_string!(i18n, activity.failure.start_tls_not_offered),
        FailureKind::AuthNotOffered => t_string!(i18n, activity.failure.auth_not_offered),
        FailureKind::AuthRequired => t_string!(i18n, activity.failure.auth_required),
        FailureKind::AuthFailed => t_string!(i18n, activity.failure.auth_failed),
        FailureKind::AppPasswordRequired => t_string!(i18n, activity.failure.app_password_required),
        FailureKind::SmtpAuthDisabled => t_string!(i18n, activity.failure.smtp_auth_disabled),
        FailureKind::BasicAuthRetired => t_string!(i18n, activity.failure.basic_auth_retired),
        FailureKind::SenderNotAllowed => t_string!(i18n, activity.failure.sender_not_allowed),
        FailureKind::RecipientRejected => t_string!(i18n, activity.failure.recipient_rejected),
        FailureKind::SmtpUtf8Required => t_string!(i18n, activity.failure.smtp_utf8_required),
        FailureKind::Temporary => t_string!(i18n, activity.failure.temporary),
        FailureKind::Rejected => t_string!(i18n, activity.failure.rejected),
        FailureKind::Network => t_string!(i18n, activity.failure.network),
        FailureKind::OAuthGrantRevoked => t_string!(i18n, activity.failure.oauth_grant_revoked),
        FailureKind::OAuthClientRejected => t_string!(i18n, activity.failure.oauth_client_rejected),
        FailureKind::OAuthProviderUnavailable => t_string!(i18n, activity.failure.oauth_provider_unavailable),
        FailureKind::OAuthTokenRefused => t_string!(i18n, activity.failure.oauth_token_refused),
    }
}
