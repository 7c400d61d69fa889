//! The language of an island's text.

use leptos::prelude::*;

use crate::i18n::Locale;

/// Gives the components of an island the page's language.
///
/// On the server an island renders inside the page's i18n context. In the browser each
/// island hydrates on its own, so this creates a context there, which reads the language from
/// the `lang` attribute that the server set on `<html>`.
pub fn provide_page_language() {
    if cfg!(all(feature = "hydrate", not(feature = "ssr"))) {
        provide_context(leptos_i18n::context::init_i18n_subcontext::<Locale>(None));
    }
}
