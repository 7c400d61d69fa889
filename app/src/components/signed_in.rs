use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use crate::account::{AccountView, current_account};
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;

/// Renders `render` with the signed-in account, or sends the visitor to sign-in and back here.
///
/// Pages render on the server only, and the server already redirects signed-out page loads.
/// This is the second guard, for a session that ends while the page renders.
#[component]
pub fn SignedIn<F, V>(render: F) -> impl IntoView
where
    F: Fn(AccountView) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let i18n = use_i18n();
    let account = Resource::new(|| (), |_| current_account());
    let location = use_location();

    view! {
        <Suspense fallback=move || view! { <p class="loading">{t!(i18n, loading)}</p> }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match account.await {
                        Ok(Some(account)) => render(account).into_any(),
                        Ok(None) | Err(AppError::NotSignedIn) => {
                            let here = location.pathname.get_untracked();
                            view! { <Redirect path=format!("/sign-in?next={here}") /> }.into_any()
                        }
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
