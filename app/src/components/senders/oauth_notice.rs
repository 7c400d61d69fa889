//! Notice on the settings page after the browser returns from Google or Microsoft. It opens
//! the dialog for a new grant, confirms a renewal by the refresh button ("Actualiser"), or
//! shows why the authorization failed.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use super::OpenDialog;
use super::texts::callback_error_text;
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::oauth::{CallbackError, oauth_grant};

/// Query parameters that the OAuth callback adds to its redirect.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OAuthReturn {
    error: Option<CallbackError>,
    grant_id: Option<String>,
    renewed: bool,
}

impl OAuthReturn {
    /// Reads the parameters once, when the page is rendered on the server.
    pub fn from_query() -> Self {
        leptos_router::hooks::use_query_map().with_untracked(|query| OAuthReturn {
            error: query.get("oauth_error").as_deref().and_then(CallbackError::parse),
            grant_id: query.get("oauth_grant").filter(|id| !id.is_empty()),
            renewed: query.get("oauth_renewed").is_some(),
        })
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[component]
pub fn OAuthNotice(returned: OAuthReturn, open: RwSignal<OpenDialog>) -> impl IntoView {
    let i18n = use_i18n();
    let grant_error = RwSignal::new(None::<AppError>);

    // In the browser, open the dialog for a new grant, then remove the parameters from the URL
    // so that a reload does not repeat them.
    let pending = returned.clone();
    Effect::new(move |_| {
        if pending.is_empty() {
            return;
        }
        if let Some(grant_id) = pending.grant_id.clone() {
            spawn_local(async move {
                match oauth_grant(grant_id).await {
                    Ok(grant) => open.set(OpenDialog::Connect(grant)),
                    Err(error) => grant_error.set(Some(error)),
                }
            });
        }
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some("/settings#senders"));
        }
    });

    let error = returned.error.map(|error| {
        view! {
            <div class="notice error" role="alert">
                <strong>{t!(i18n, oauth_error.title)}</strong>
                " "
                {callback_error_text(i18n, error)}
            </div>
        }
    });
    let renewed = returned
        .renewed
        .then(|| view! { <p class="notice success" role="status">{t!(i18n, senders.refreshed)}</p> });

    view! {
        {error}
        {renewed}
        {move || grant_error.get().map(|error| view! { <ErrorMessage error /> })}
    }
}
