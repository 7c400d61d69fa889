//! Provider buttons at the top of the add dialog ("Se connecter avec Google", "Se connecter
//! avec Microsoft"). A provider that the operator has not configured gets a disabled button
//! and a line that points to the SMTP fields. The operator's guide (docs/oauth-providers)
//! lists the settings that enable a provider.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::oauth::{OAuthAvailability, OAuthProvider, start_oauth};

/// Starts an authorization and sends the browser to the provider's sign-in page. A failure is
/// set in `error`.
pub fn connect(provider: OAuthProvider, sender_id: Option<String>, error: RwSignal<Option<AppError>>) {
    spawn_local(async move {
        match start_oauth(provider, sender_id).await {
            Ok(url) => {
                if window().location().set_href(&url).is_err() {
                    error.set(Some(AppError::Internal));
                }
            }
            Err(failure) => error.set(Some(failure)),
        }
    });
}

#[component]
pub fn ProviderButtons(availability: Signal<OAuthAvailability>) -> impl IntoView {
    let i18n = use_i18n();
    let error = RwSignal::new(None::<AppError>);
    let redirecting = RwSignal::new(None::<OAuthProvider>);

    let button = move |provider: OAuthProvider| {
        let label = match provider {
            OAuthProvider::Google => t_string!(i18n, oauth.connect_google),
            OAuthProvider::Microsoft => t_string!(i18n, oauth.connect_microsoft),
        };
        let offered = move || availability.get().offers(provider);
        let explanation_id = format!("oauth-{}-unavailable", provider.as_str());
        let explanation = {
            let explanation_id = explanation_id.clone();
            move || {
                (!offered()).then(|| {
                    let text = t_string!(i18n, oauth.not_configured, provider = provider.name()).to_string();
                    view! { <p id=explanation_id.clone() class="hint">{text}</p> }
                })
            }
        };
        view! {
            <div class="provider">
                <button
                    type="button"
                    class=format!("provider-button {}", provider.as_str())
                    disabled=move || !offered() || redirecting.get().is_some()
                    aria-describedby=move || (!offered()).then(|| explanation_id.clone())
                    on:click=move |_| {
                        redirecting.set(Some(provider));
                        error.set(None);
                        connect(provider, None, error);
                    }
                >
                    {label}
                </button>
                {explanation}
            </div>
        }
    };

    Effect::new(move |_| {
        if error.get().is_some() {
            redirecting.set(None);
        }
    });

    view! {
        <div class="providers">
            <p>{t!(i18n, oauth.intro)}</p>
            {button(OAuthProvider::Google)}
            {button(OAuthProvider::Microsoft)}
            {move || redirecting.get().map(|provider| {
                let text = t_string!(i18n, oauth.redirecting, provider = provider.name()).to_string();
                view! { <p class="progress" role="status">{text}</p> }
            })}
            {move || error.get().map(|error| view! { <ErrorMessage error /> })}
            <p class="hint">{t!(i18n, oauth.or_smtp)}</p>
        </div>
    }
}
