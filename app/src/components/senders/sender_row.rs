use leptos::prelude::*;

use super::OpenDialog;
use super::provider_buttons::connect;
use super::texts::format_utc;
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::{SenderKind, SenderStatus, SenderView};

/// Renders one sender with its name, address, type, status and last successful test. Its
/// buttons are edit, delete and, for Google and Microsoft senders, refresh ("Actualiser"),
/// which re-authenticates the sender's grant.
#[component]
pub fn SenderRow(sender: SenderView, open: RwSignal<OpenDialog>) -> impl IntoView {
    let i18n = use_i18n();

    let kind = match sender.kind {
        SenderKind::Smtp => t_string!(i18n, senders.kind_smtp),
        SenderKind::Google => t_string!(i18n, senders.kind_google),
        SenderKind::Microsoft => t_string!(i18n, senders.kind_microsoft),
    };
    let (status_class, status) = match sender.status {
        SenderStatus::Verified => ("badge ok", t_string!(i18n, senders.status_verified)),
        SenderStatus::TestFailed => ("badge warn", t_string!(i18n, senders.status_test_failed)),
        SenderStatus::NeedsReauthentication => ("badge warn", t_string!(i18n, senders.status_needs_reauth)),
        SenderStatus::KeyUnavailable => ("badge warn", t_string!(i18n, senders.status_key_unavailable)),
    };
    let last_tested = match sender.last_tested_at {
        Some(seconds) => t_string!(i18n, senders.last_tested, when = format_utc(seconds)).to_string(),
        None => t_string!(i18n, senders.never_tested).to_string(),
    };
    let email = sender.email.clone();
    let edit_label = t_string!(i18n, senders.edit_label, email = email.clone()).to_string();
    let delete_label = t_string!(i18n, senders.delete_label, email = email.clone()).to_string();
    let for_edit = sender.clone();
    let for_delete = sender.clone();
    let needs_reauth = matches!(
        sender.status,
        SenderStatus::NeedsReauthentication | SenderStatus::KeyUnavailable
    );
    let refresh_error = RwSignal::new(None::<AppError>);
    let refresh = sender.kind.oauth_provider().map(|provider| {
        let label = t_string!(i18n, senders.refresh_label, email = email.clone()).to_string();
        let sender_id = sender.id.clone();
        let class = if needs_reauth {
            "icon-button refresh attention"
        } else {
            "icon-button refresh"
        };
        view! {
            <button
                type="button"
                class=class
                aria-label=label.clone()
                title=label
                on:click=move |_| connect(provider, Some(sender_id.clone()), refresh_error)
            >
                <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
                    <path d="M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7" fill="none" stroke="currentColor" stroke-width="2" />
                </svg>
            </button>
        }
    });
    let reason = match (sender.status, sender.kind.oauth_provider()) {
        (SenderStatus::KeyUnavailable, Some(provider)) => {
            Some(t_string!(i18n, senders.key_unavailable_account, provider = provider.name()).to_string())
        }
        (SenderStatus::KeyUnavailable, None) => Some(t_string!(i18n, senders.key_unavailable_password).to_string()),
        (_, Some(provider)) if needs_reauth => {
            Some(t_string!(i18n, senders.needs_reauth_reason, provider = provider.name()).to_string())
        }
        _ => None,
    };

    view! {
        <li class="sender" data-sender-id=sender.id.clone()>
            <div class="sender-main">
                <span class="sender-name">{sender.display_name.clone()}</span>
                <span class="sender-email">{email}</span>
                <span class="badge">{kind}</span>
                <span class=status_class>{status}</span>
                <span class="hint">{last_tested}</span>
                {reason.map(|reason| view! { <p class="reauth-reason">{reason}</p> })}
                {move || refresh_error.get().map(|error| view! { <ErrorMessage error /> })}
            </div>
            <div class="sender-actions">
                {refresh}
                <button
                    type="button"
                    class="icon-button"
                    aria-label=edit_label.clone()
                    title=edit_label
                    on:click=move |_| open.set(OpenDialog::Edit(Some(for_edit.clone())))
                >
                    <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
                        <path d="M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4" fill="none" stroke="currentColor" stroke-width="2" />
                    </svg>
                </button>
                <button
                    type="button"
                    class="icon-button danger"
                    aria-label=delete_label.clone()
                    title=delete_label
                    on:click=move |_| open.set(OpenDialog::Delete(for_delete.clone()))
                >
                    <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
                        <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6" fill="none" stroke="currentColor" stroke-width="2" />
                    </svg>
                </button>
            </div>
        </li>
    }
}
