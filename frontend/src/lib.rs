#![recursion_limit = "256"]

//! The browser entry point: hydrates the islands of the server-rendered page.

// Links the application crate, whose `#[island]` components are exported to the page's script.
extern crate app;

use std::time::Duration;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs once the WebAssembly module is loaded. Leptos's island script then hydrates the
/// page's islands in promise callbacks, which all run before any timer. So a zero-delay timer
/// set here fires after the last island.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    leptos::prelude::set_timeout(mark_hydrated, Duration::ZERO);
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
