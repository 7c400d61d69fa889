#![recursion_limit = "256"]

//! The browser entry point: hydrates the server-rendered page.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    mark_hydrated();
}

/// Records the end of hydration: a `relais-hydrated` performance mark for page-load
/// measurements, and `data-hydrated` on `<body>` for browser tests to wait on.
fn mark_hydrated() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(performance) = window.performance() {
        let _ = performance.mark("relais-hydrated");
    }
    if let Some(body) = window.document().and_then(|document| document.body()) {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
