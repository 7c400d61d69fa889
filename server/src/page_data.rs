//! Loads the data of the settings page before Leptos renders it, so that the page renders in one
//! pass, without resources or the tasks that resolve them.

use std::sync::Arc;

use app::backend::Backend;
use app::senders::SettingsData;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::Method;

/// Adds the signed-in account's senders and activity log to a `GET` or `HEAD /settings` request.
/// `access::guard_pages`, which runs first, has already sent signed-out visitors to sign-in.
pub async fn load_settings_data(State(backend): State<Arc<dyn Backend>>, request: Request, next: Next) -> Response {
    let is_page_load = matches!(*request.method(), Method::GET | Method::HEAD);
    if !is_page_load || request.uri().path() != "/settings" {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let (senders, activity) = tokio::join!(backend.list_senders(&parts), backend.list_activity(&parts));
    parts.extensions.insert(SettingsData { senders, activity });
    next.run(Request::from_parts(parts, body)).await
}
