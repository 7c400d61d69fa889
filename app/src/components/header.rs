use leptos::prelude::*;

use crate::account::AccountView;
use crate::components::{AvatarMenu, LanguageSwitch};
use crate::i18n::*;

/// Renders the bar at the top of signed-in pages: the product name, the language switch and the avatar.
#[component]
pub fn AppHeader(account: AccountView) -> AnyView {
    let i18n = use_i18n();

    view! {
        <header class="app-header">
            <a class="skip-link" href="#main">{t!(i18n, skip_to_content)}</a>
            <a class="brand" href="/workspace">{t!(i18n, app_name)}</a>
            <div class="header-tools">
                <LanguageSwitch />
                <AvatarMenu display_name=account.display_name />
            </div>
        </header>
    }
    .into_any()
}
