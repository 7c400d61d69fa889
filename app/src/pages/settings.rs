use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::account::AccountView;
use crate::components::senders::OAuthReturn;
use crate::components::{AppHeader, SenderSettings, SignedIn};
use crate::i18n::*;
use crate::senders::SettingsData;

/// "Paramètres de votre compte": the account details, its sender addresses and its activity log.
/// Only the senders and the log are interactive, in the [`SenderSettings`] island.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let returned = OAuthReturn::from_query();
    let data = SettingsData::of_request();

    view! {
        <Title text=t_string!(i18n, settings.title) />
        <SignedIn render=move |account| {
            view! {
                <AppHeader account=account.clone() />
                <main id="main">
                    <h1>{t!(i18n, settings.title)}</h1>
                    <AccountDetails account />
                    <noscript>
                        <p class="notice">{t!(i18n, settings.needs_script)}</p>
                    </noscript>
                    <SenderSettings returned data />
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
