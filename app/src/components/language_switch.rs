use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::account::SetLocale;
use crate::i18n::*;

/// Offers the other language as a plain form, which needs no script. The server saves the
/// choice and sends back the page it came from, now in that language.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let other = match i18n.get_locale_untracked() {
        Locale::fr => Locale::en,
        Locale::en => Locale::fr,
    };
    let other_name = match other {
        Locale::fr => t_string!(i18n, lang.fr),
        Locale::en => t_string!(i18n, lang.en),
    };
    let label = t_string!(i18n, lang.label, name = other_name).to_string();

    view! {
        <form class="language-switch" method="post" action=SetLocale::url()>
            <input type="hidden" name="locale" value=other.as_str() />
            <button type="submit" lang=other.as_str() aria-label=label>
                {other_name}
            </button>
        </form>
    }
}
