use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::account::SignUp;
use crate::components::{LanguageSwitch, provide_page_language};
use crate::error::{AppError, ErrorMessage, form_post_error};
use crate::i18n::*;
use crate::validation::{
    DISPLAY_NAME_MAX_CHARS, EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, encode_query_value,
};

#[component]
pub fn SignUpPage() -> impl IntoView {
    let i18n = use_i18n();
    let next = use_query_map().with_untracked(|query| query.get("next"));
    let sign_in_href = match &next {
        Some(next) => format!("/sign-in?next={}", encode_query_value(next)),
        None => "/sign-in".to_string(),
    };

    view! {
        <Title text=t_string!(i18n, sign_up.title) />
        <main id="main" class="narrow auth">
            <LanguageSwitch />
            <h1>{t!(i18n, sign_up.title)}</h1>
            <SignUpForm next=next.unwrap_or_default() returned_error=form_post_error(SignUp::PATH) />
            <p>
                {t!(i18n, sign_up.have_account)} " "
                <a href=sign_in_href>{t!(i18n, sign_up.sign_in)}</a>
            </p>
        </main>
    }
}

/// Renders the sign-up form in the page's language, which becomes the account's language.
/// The new account lands on `next`, the page that sent the visitor to sign in, if any.
/// `returned_error` is the error of a sign-up posted without script.
#[island]
fn SignUpForm(next: String, returned_error: Option<AppError>) -> impl IntoView {
    provide_page_language();
    let i18n = use_i18n();
    let sign_up = ServerAction::<SignUp>::new();
    let error = move || match sign_up.value().get() {
        Some(result) => result.err(),
        None => returned_error.clone(),
    };
    let locale = move || i18n.get_locale().as_str();

    view! {
        <ActionForm action=sign_up>
            <input type="hidden" name="locale" value=locale />
            <input type="hidden" name="next" value=next />
            <label>
                {t!(i18n, sign_up.display_name)}
                <input
                    type="text"
                    name="display_name"
                    autocomplete="name"
                    maxlength=DISPLAY_NAME_MAX_CHARS
                    required
                />
            </label>
            <label>
                {t!(i18n, sign_in.email)}
                <input
                    type="email"
                    name="email"
                    autocomplete="email"
                    maxlength=EMAIL_MAX_CHARS
                    required
                />
            </label>
            <label>
                {t!(i18n, sign_in.password)}
                <input
                    type="password"
                    name="password"
                    autocomplete="new-password"
                    minlength=PASSWORD_MIN_CHARS
                    maxlength=PASSWORD_MAX_CHARS
                    aria-describedby="password-hint"
                    required
                />
            </label>
            <p id="password-hint" class="hint">
                {t!(i18n, sign_up.password_hint, min = PASSWORD_MIN_CHARS)}
            </p>
            {move || error().map(|error| view! { <ErrorMessage error /> })}
            <button type="submit" disabled=move || sign_up.pending().get()>
                {t!(i18n, sign_up.submit)}
            </button>
        </ActionForm>
    }
}
