use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::account::AccountView;
use crate::components::{AppHeader, SignedIn};
use crate::error::ErrorMessage;
use crate::i18n::*;
use crate::senders::{SenderList, list_senders};

/// "Paramètres de votre compte": the account details and its sender addresses.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();

    view! {
        <Title text=move || t_string!(i18n, settings.title) />
        <SignedIn render=move |account| {
            view! {
                <AppHeader account=account.clone() />
                <main id="main">
                    <h1>{t!(i18n, settings.title)}</h1>
                    <AccountDetails account />
                    <SenderSection />
                    <p>
                        <A href="/workspace">{t!(i18n, settings.back)}</A>
                    </p>
                </main>
            }
        } />
    }
}

#[component]
fn AccountDetails(account: AccountView) -> impl IntoView {
    let i18n = use_i18n();

    view! {
        <section aria-labelledby="account-heading">
            <h2 id="account-heading">{t!(i18n, settings.account)}</h2>
            <dl class="details">
                <dt>{t!(i18n, settings.display_name)}</dt>
                <dd>{account.display_name}</dd>
                <dt>{t!(i18n, settings.email)}</dt>
                <dd>{account.email}</dd>
            </dl>
        </section>
    }
}

#[component]
fn SenderSection() -> impl IntoView {
    let i18n = use_i18n();
    let senders = Resource::new(|| (), |_| list_senders());

    view! {
        <section id="senders" aria-labelledby="senders-heading">
            <h2 id="senders-heading">{t!(i18n, settings.senders)}</h2>
            <p>{t!(i18n, settings.senders_intro)}</p>
            <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
                {move || Suspend::new(async move {
                    match senders.await {
                        Ok(list) => view! { <SenderListView list /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SenderListView(list: SenderList) -> impl IntoView {
    let i18n = use_i18n();
    let SenderList {
        platform_default,
        senders,
    } = list;

    let default_row = match platform_default {
        Some(address) => view! {
            <li class="sender sender-default">
                <span class="sender-name">{t!(i18n, settings.default_sender)}</span>
                <span class="sender-email">{address}</span>
                <p class="hint">{t!(i18n, settings.default_sender_hint)}</p>
            </li>
        }
        .into_any(),
        None => view! { <li class="hint">{t!(i18n, settings.no_default_sender)}</li> }.into_any(),
    };
    let custom_rows = if senders.is_empty() {
        view! { <li class="empty">{t!(i18n, settings.no_senders)}</li> }.into_any()
    } else {
        senders
            .into_iter()
            .map(|sender| {
                view! {
                    <li class="sender">
                        <span class="sender-name">{sender.display_name}</span>
                        <span class="sender-email">{sender.email}</span>
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };

    view! {
        <ul class="senders">
            {default_row}
            {custom_rows}
        </ul>
    }
}
