use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::account::SignIn;
use crate::components::{LanguageSwitch, provide_page_language};
use crate::error::{AppError, ErrorMessage, form_post_error};
use crate::i18n::*;
use crate::validation::encode_query_value;

#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let next = use_query_map().with_untracked(|query| query.get("next"));
    let sign_up_href = match &next {
        Some(next) => format!("/sign-up?next={}", encode_query_value(next)),
        None => "/sign-up".to_string(),
    };

    view! {
        <Title text=t_string!(i18n, sign_in.title) />
        <main id="main" class="narrow auth">
            <LanguageSwitch />
            <h1>{t!(i18n, sign_in.title)}</h1>
            <SignInForm next=next.unwrap_or_default() returned_error=form_post_error(SignIn::PATH) />
            <p>
                {t!(i18n, sign_in.no_account)} " "
                <a href=sign_up_href>{t!(i18n, sign_in.create_account)}</a>
            </p>
        </main>
    }
}

/// Renders the sign-in form. A wrong address or password shows its error in place.
/// `returned_error` is the error of a sign-in posted without script.
#[island]
fn SignInForm(next: String, returned_error: Option<AppError>) -> impl IntoView {
    provide_page_language();
    let i18n = use_i18n();
    let sign_in = ServerAction::<SignIn>::new();
    let error = move || match sign_in.value().get() {
        Some(result) => result.err(),
        None => returned_error.clone(),
    };

    view! {
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
    }
}
