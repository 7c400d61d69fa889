//! The document shell and the router.

use leptos::prelude::*;
use leptos_i18n::context::{CookieOptions, I18nContextOptions, init_i18n_context_with_options};
use leptos_i18n::{I18nContext, Locale as _};
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
        <DocumentLanguage i18n=provide_page_language() />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/sign-in") view=SignInPage />
                <Route path=path!("/sign-up") view=SignUpPage />
                <Route path=path!("/workspace") view=WorkspacePage ssr=SsrMode::Async />
                <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}

/// Provides the page's language, read from the language cookie or `Accept-Language`.
///
/// Relais writes the language cookie itself when the language changes
/// (`backend::set_locale_cookie`), so the context only reads it. By default leptos_i18n also
/// writes it on every page, without its path and lifetime, which would turn the year-long
/// cookie into one that ends with the browser session.
///
/// The context also contains an effect that would write the cookie. The server runs it as a task of
/// its own, which may start while the request's owner is being disposed and then panics on the
/// disposed language signal. So the context gets an owner of its own, paused right after, where
/// effects do not run. The page keeps that owner alive until it is disposed.
fn provide_page_language() -> I18nContext<Locale> {
    let page = Owner::current().expect("the page renders under an owner");
    let language_owner = page.child();
    let options = I18nContextOptions::<Locale>::default().cookie_options(CookieOptions::default().readonly(true));
    let i18n = language_owner.with(|| init_i18n_context_with_options::<Locale>(options));
    // Pausing reaches the owners of the effects created above. An owner created later under a
    // paused one would not be paused.
    language_owner.pause();
    on_cleanup(move || drop(language_owner));
    provide_context(i18n);
    i18n
}

/// Sets `lang` and `dir` on `<html>` to the page's language.
///
/// The server writes the `<html>` tag after the page has rendered, when the page's reactive
/// values may no longer be readable under concurrent requests. So the language is read once,
/// while the page renders.
#[component]
fn DocumentLanguage(i18n: I18nContext<Locale>) -> impl IntoView {
    let locale = i18n.get_locale_untracked();
    view! { <Html attr:lang=locale.as_str() attr:dir=locale.direction().as_str() /> }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Panics from reading a reactive value after its owner was disposed.
    static DISPOSED_READS: AtomicUsize = AtomicUsize::new(0);

    const WORKERS: usize = 2;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn language_runs_nothing_after_page() {
        let previous_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if format!("{info}").contains("has already been disposed") {
                DISPOSED_READS.fetch_add(1, Ordering::SeqCst);
            }
            previous_hook(info);
        }));
        let _ = any_spawner::Executor::init_tokio();

        for _ in 0..100 {
            // Both workers are busy while the page renders, as on a loaded server, so the tasks
            // that the page spawns start only when it ends.
            let started = Arc::new(AtomicUsize::new(0));
            let released = Arc::new(AtomicBool::new(false));
            for _ in 0..WORKERS {
                let (started, released) = (started.clone(), released.clone());
                tokio::spawn(async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    while !released.load(Ordering::SeqCst) {
                        std::hint::spin_loop();
                    }
                });
            }
            while started.load(Ordering::SeqCst) < WORKERS {
                std::hint::spin_loop();
            }

            let page = Owner::new();
            page.with(provide_page_language);
            released.store(true, Ordering::SeqCst);
            drop(page);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;

        assert_eq!(DISPOSED_READS.load(Ordering::SeqCst), 0);
    }
}
