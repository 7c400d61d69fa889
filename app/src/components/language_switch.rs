use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::account::SetLocale;
use crate::i18n::*;

/// Offers the other language. Before hydration it is a plain form post; afterwards the page
/// switches language in place and the choice is saved in the background.
#[component]
pub fn LanguageSwitch() -> AnyView {
    let i18n = use_i18n();
    let save_locale = ServerAction::<SetLocale>::new();

    let other = move || match i18n.get_locale() {
        Locale::fr => Locale::en,
        Locale::en => Locale::fr,
    };
    let other_name = move || match other() {
        Locale::fr => t_string!(i18n, lang.fr),
        Locale::en => t_string!(i18n, lang.en),
    };
    let other_tag = move || other().as_str();
    let label = move || format!("{} : {}", t_string!(i18n, lang.label), other_name());

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let locale = other();
        i18n.set_locale(locale);
        save_locale.dispatch(SetLocale {
            locale: locale.as_str().to_string(),
        });
    };

    view! {
        <form class="language-switch" method="post" action=SetLocale::url() on:submit=on_submit>
            <input type="hidden" name="locale" value=other_tag />
            <button type="submit" lang=other_tag aria-label=label>
                {other_name}
            </button>
        </form>
    }
    .into_any()
}
