//! The document shell and the router.

use leptos::prelude::*;
use leptos_i18n::Locale as _;
use leptos_meta::{HashedStylesheet, Html, Link, MetaTags, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::i18n::*;
use crate::pages::{NotFound, SettingsPage, SignInPage, SignUpPage, WorkspacePage};

/// Renders the HTML document around [`App`] on the server.
///
/// Pages render on the server only, and the browser hydrates just the islands (`#[island]`).
/// Links load the next page in full. Leptos's islands router, which swaps pages in place,
/// keeps the islands of the page it leaves, so it would mix two pages here.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HashedStylesheet options=options.clone() id="relais" />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <I18nContextProvider set_lang_attr_on_html=false set_dir_attr_on_html=false>
            <DocumentLanguage />
            <Router>
                <Routes fallback=NotFound>
                    <Route path=path!("/sign-in") view=SignInPage />
                    <Route path=path!("/sign-up") view=SignUpPage />
                    <Route path=path!("/workspace") view=WorkspacePage ssr=SsrMode::Async />
                    <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                </Routes>
            </Router>
        </I18nContextProvider>
    }
}

/// Sets `lang` and `dir` on `<html>` to the page's language.
///
/// The server writes the `<html>` tag after the page has rendered, when the page's reactive
/// values may no longer be readable under concurrent requests. So the language is read once,
/// while the page renders.
#[component]
fn DocumentLanguage() -> impl IntoView {
    let locale = use_i18n().get_locale_untracked();
    view! { <Html attr:lang=locale.as_str() attr:dir=locale.direction().as_str() /> }
}
