use leptos::prelude::*;

use super::OpenDialog;
use super::texts::format_utc;
use crate::i18n::*;
use crate::senders::{SenderKind, SenderStatus, SenderView};

/// Renders one sender: name, address, type, status, last successful test, and its edit and delete
/// buttons.
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

    view! {
        <li class="sender" data-sender-id=sender.id.clone()>
            <div class="sender-main">
                <span class="sender-name">{sender.display_name.clone()}</span>
                <span class="sender-email">{email}</span>
                <span class="badge">{kind}</span>
                <span class=status_class>{status}</span>
                <span class="hint">{last_tested}</span>
            </div>
            <div class="sender-actions">
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
