//! The "Emails de l'expéditeur" section: the list, the sender dialog and the delete dialog.

mod delete_dialog;
mod form_fields;
mod oauth_notice;
mod provider_buttons;
mod sender_dialog;
mod sender_row;
mod smtp_fields;
mod test_report;
pub(crate) mod texts;

use leptos::either::Either;
use leptos::prelude::*;

use crate::components::activity_log::ActivityLog;
use crate::components::{ActivityChanged, Reloadable, provide_page_language};
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::oauth::OAuthGrantView;
use crate::senders::{SenderList, SenderView, SettingsData, list_senders};
use delete_dialog::DeleteDialog;
use oauth_notice::OAuthNotice;
pub use oauth_notice::OAuthReturn;
use sender_dialog::SenderDialog;
use sender_row::SenderRow;

/// The dialog that is open, shared by the list and its dialogs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum OpenDialog {
    Closed,
    /// Add (`None`) or edit (`Some`) a sender.
    Edit(Option<SenderView>),
    /// Finish a Google or Microsoft sender whose grant just came back from the provider.
    Connect(OAuthGrantView),
    Delete(SenderView),
}

/// Renders the interactive part of the settings page: the sender section and the activity log
/// below it, which reloads after each change made in the section.
#[island]
pub fn SenderSettings(returned: OAuthReturn, data: SettingsData) -> impl IntoView {
    provide_page_language();
    ActivityChanged::provide();
    let SettingsData { senders, activity } = data;

    view! {
        <SenderSection returned senders />
        <ActivityLog entries=activity />
    }
}

#[component]
fn SenderSection(returned: OAuthReturn, senders: Result<SenderList, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    let senders = Reloadable::new(senders);
    let open = RwSignal::new(OpenDialog::Closed);
    let activity = use_context::<ActivityChanged>();
    let refresh = Callback::new(move |_: ()| {
        senders.reload(list_senders());
        if let Some(activity) = activity {
            activity.notify();
        }
    });
    let availability =
        Signal::derive(move || senders.with(|list| list.as_ref().map(|list| list.oauth).unwrap_or_default()));

    view! {
        <section id="senders" aria-labelledby="senders-heading">
            <div class="section-head">
                <h2 id="senders-heading">{t!(i18n, settings.senders)}</h2>
                <button type="button" class="add-sender" on:click=move |_| open.set(OpenDialog::Edit(None))>
                    {t!(i18n, senders.add)}
                </button>
            </div>
            <p>{t!(i18n, settings.senders_intro)}</p>
            <OAuthNotice returned open />
            {move || match senders.get() {
                Ok(list) => Either::Left(view! { <SenderListView list open /> }),
                Err(error) => Either::Right(view! { <ErrorMessage error /> }),
            }}
            <SenderDialog open availability refresh />
            <DeleteDialog open refresh />
        </section>
    }
}

#[component]
fn SenderListView(list: SenderList, open: RwSignal<OpenDialog>) -> impl IntoView {
    let i18n = use_i18n();
    let SenderList {
        platform_default,
        senders,
        oauth: _,
    } = list;

    let default_row = platform_default.map(|address| {
        view! {
            <li class="sender sender-default">
                <span class="sender-name">{t!(i18n, settings.default_sender)}</span>
                <span class="sender-email">{address}</span>
                <p class="hint">{t!(i18n, settings.default_sender_hint)}</p>
            </li>
        }
    });
    let custom_rows = if senders.is_empty() {
        Either::Left(view! { <li class="empty">{t!(i18n, settings.no_senders)}</li> })
    } else {
        Either::Right(
            senders
                .into_iter()
                .map(|sender| view! { <SenderRow sender open /> })
                .collect_view(),
        )
    };

    view! {
        <ul class="senders">
            {custom_rows}
            {default_row}
        </ul>
    }
}
