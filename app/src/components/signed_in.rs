use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use crate::account::AccountView;
use crate::error::{AppError, ErrorMessage};

/// Renders `render` with the signed-in account, or sends the visitor to sign-in and back here.
///
/// Pages render on the server only, and the server already redirects signed-out page loads.
/// This is the second guard, for a session that ends while the request is on its way. The
/// account comes from the session that the auth layer loaded for this request, so the page
/// renders in one pass, without waiting on a resource.
#[component]
pub fn SignedIn<F, V>(render: F) -> impl IntoView
where
    F: FnOnce(AccountView) -> V,
    V: IntoView + 'static,
{
    match signed_in_account() {
        Ok(Some(account)) => render(account).into_any(),
        Ok(None) | Err(AppError::NotSignedIn) => {
            let path = use_location().pathname.get_untracked();
            view! { <Redirect path=format!("/sign-in?next={path}") /> }.into_any()
        }
        Err(error) => view! { <ErrorMessage error /> }.into_any(),
    }
}

#[cfg(feature = "ssr")]
fn signed_in_account() -> Result<Option<AccountView>, AppError> {
    let (backend, request) = crate::backend::context()?;
    backend.current_account(&request)
}

/// Returns no account: pages are not hydrated, so the browser build never renders this component.
#[cfg(not(feature = "ssr"))]
fn signed_in_account() -> Result<Option<AccountView>, AppError> {
    Ok(None)
}
