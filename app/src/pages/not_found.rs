use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::*;

#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();

    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }

    view! {
        <Title text=t_string!(i18n, not_found.title) />
        <main id="main" class="narrow">
            <h1>{t!(i18n, not_found.title)}</h1>
            <p>
                <a href="/workspace">{t!(i18n, not_found.back)}</a>
            </p>
        </main>
    }
}
