use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::account::SignIn;
use crate::components::LanguageSwitch;
use crate::error::ErrorMessage;
use crate::i18n::*;

#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let sign_in = ServerAction::<SignIn>::new();
    let query = use_query_map();

    let next = move || query.read().get("next").unwrap_or_default();
    let sign_up_href = move || match query.read().get("next") {
        Some(next) => format!("/sign-up?next={next}"),
        None => "/sign-up".to_string(),
    };
    let error = move || sign_in.value().get().and_then(Result::err);

    view! {
        <Title text=super::page_title(move || t_string!(i18n, sign_in.title)) />
        <main id="main" class="narrow auth">
            <LanguageSwitch />
            <h1>{t!(i18n, sign_in.title)}</h1>
            <ActionForm action=sign_in>
                <input type="hidden" name="next" value=next />
                <label>
                    {t!(i18n, sign_in.email)}
                    <input type="email" name="email" autocomplete="username" required />
                </label>
                <label>
                    {t!(i18n, sign_in.password)}
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                {move || error().map(|error| view! { <ErrorMessage error /> })}
                <button type="submit" disabled=move || sign_in.pending().get()>
                    {t!(i18n, sign_in.submit)}
                </button>
            </ActionForm>
            <p>
                {t!(i18n, sign_in.no_account)} " "
                <A href=sign_up_href>{t!(i18n, sign_in.create_account)}</A>
            </p>
        </main>
    }
}
