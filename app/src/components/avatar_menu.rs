use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

use crate::account::SignOut;
use crate::components::provide_page_language;
use crate::i18n::*;
use crate::validation::initials;

/// Renders the account avatar and its menu. The menu is a disclosure (`<details>`), so it opens with a click,
/// Enter or Space even before hydration. Once the island is hydrated, Escape and a click anywhere
/// else on the page close it.
#[island]
pub fn AvatarMenu(display_name: String) -> impl IntoView {
    provide_page_language();
    let i18n = use_i18n();
    let sign_out = ServerAction::<SignOut>::new();
    let menu = NodeRef::<leptos::html::Details>::new();

    let initials = initials(&display_name);
    let name = display_name;
    let close_on_escape = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape"
            && let Some(details) = menu.get()
        {
            details.set_open(false);
            // Focus would otherwise stay on the hidden menu item, and the browser moves it to the page.
            let avatar = details
                .first_element_child()
                .and_then(|summary| summary.dyn_into::<leptos::web_sys::HtmlElement>().ok());
            if let Some(avatar) = avatar {
                let _ = avatar.focus();
            }
        }
    };
    let close_on_outside_click = window_event_listener(leptos::ev::click, move |event| {
        let Some(details) = menu.get_untracked() else {
            return;
        };
        let target = event
            .target()
            .and_then(|target| target.dyn_into::<leptos::web_sys::Node>().ok());
        if details.open() && !details.contains(target.as_ref()) {
            details.set_open(false);
        }
    });
    on_cleanup(move || close_on_outside_click.remove());

    view! {
        <details class="avatar-menu" node_ref=menu on:keydown=close_on_escape>
            <summary
                class="avatar"
                aria-label=move || t_string!(i18n, menu.open, name = name.clone()).to_string()
            >
                <span aria-hidden="true">{initials}</span>
            </summary>
            <ul class="menu">
                <li>
                    <a href="/settings" target="_blank" rel="noopener">
                        {t!(i18n, menu.settings)}
                        <span class="visually-hidden">" " {t!(i18n, menu.new_tab)}</span>
                    </a>
                </li>
                <li>
                    <ActionForm action=sign_out>
                        <button type="submit">{t!(i18n, menu.sign_out)}</button>
                    </ActionForm>
                </li>
            </ul>
        </details>
    }
}
