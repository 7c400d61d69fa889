//! The document title of each page.

use leptos::text_prop::TextProp;

/// Returns a page title that follows the language switch in the browser.
///
/// The server reads the title after the page has rendered. Under concurrent requests the
/// page's reactive values may no longer be readable then, and a read panics ("already been
/// disposed", seen at 50 connections). So the server evaluates `title` once, while the page
/// renders, and only the browser keeps it reactive.
pub fn page_title(title: impl Fn() -> &'static str + Send + Sync + 'static) -> TextProp {
    if cfg!(feature = "ssr") {
        TextProp::from(title())
    } else {
        TextProp::from(title)
    }
}
