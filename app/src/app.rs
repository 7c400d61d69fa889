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
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HashedStylesheet options=options.clone() id="relais" />
                <HydrationScripts options />
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
/// values may no longer be readable under concurrent requests. So the server takes the
/// language once, while the page renders, and only the browser follows the language switch.
#[component]
fn DocumentLanguage() -> impl IntoView {
    let i18n = use_i18n();
    let lang = move || i18n.get_locale().as_str();
    let dir = move || i18n.get_locale().direction().as_str();
    if cfg!(feature = "ssr") {
        view! { <Html attr:lang=lang() attr:dir=dir() /> }.into_any()
    } else {
        view! { <Html attr:lang=lang attr:dir=dir /> }.into_any()
    }
}
