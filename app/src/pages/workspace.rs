use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{AppHeader, SignedIn};
use crate::i18n::*;

/// "Mon Espace de Travail", the page shown after sign-in.
#[component]
pub fn WorkspacePage() -> impl IntoView {
    let i18n = use_i18n();

    view! {
        <Title text=t_string!(i18n, workspace.title) />
        <SignedIn render=move |account| {
            let name = account.display_name.clone();
            view! {
                <AppHeader account />
                <main id="main">
                    <h1>{t!(i18n, workspace.title)}</h1>
                    <p>{t!(i18n, workspace.welcome, name = move || name.clone())}</p>
                    <p>{t!(i18n, workspace.intro)}</p>
                </main>
            }
        } />
    }
}
