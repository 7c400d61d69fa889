//! Address and SMTP connection fields of the sender dialog: email address, server, security,
//! port, username and password.

use leptos::prelude::*;

use super::form_fields::{FieldError, FormFields};
use crate::i18n::*;
use crate::senders::settings::{Field, FieldProblem, Security, is_unusual_pair};

#[component]
pub fn SmtpFields(
    fields: FormFields,
    problems: RwSignal<Vec<FieldProblem>>,
    #[prop(into)] has_stored_password: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();

    let choose_security = move |value: String| {
        if let Some(security) = Security::parse(&value)
            && !fields.port_typed.get_untracked()
        {
            fields.smtp_port.set(security.usual_port().to_string());
        }
        fields.security.set(value);
    };
    let unusual_pair = move || {
        let port = fields.smtp_port.get().trim().parse::<u16>().ok()?;
        let security = Security::parse(&fields.security.get())?;
        is_unusual_pair(port, security)
            .then(|| t_string!(i18n, dialog.unusual_pair, port = port, usual = security.usual_port()).to_string())
    };

    view! {
        <div class="field">
            <label for="sender-email">{t!(i18n, dialog.email)}</label>
            <input id="sender-email" type="email" name="email" bind:value=fields.email autocomplete="email" />
            <FieldError problems field=Field::Email />
        </div>
        <div class="field wide">
            <label for="sender-smtp-host">{t!(i18n, dialog.smtp_host)}</label>
            <input id="sender-smtp-host" type="text" name="smtp_host" bind:value=fields.smtp_host autocapitalize="off" spellcheck="false" aria-describedby="sender-smtp-host-hint" />
            <span id="sender-smtp-host-hint" class="hint">{t!(i18n, dialog.smtp_host_hint)}</span>
            <FieldError problems field=Field::SmtpHost />
        </div>
        <div class="field">
            <label for="sender-security">{t!(i18n, dialog.security)}</label>
            <select id="sender-security" name="security" prop:value=move || fields.security.get() on:change=move |event| choose_security(event_target_value(&event))>
                <option value="tls">{t!(i18n, dialog.security_tls)}</option>
                <option value="starttls">{t!(i18n, dialog.security_starttls)}</option>
                <option value="none">{t!(i18n, dialog.security_none)}</option>
            </select>
            <FieldError problems field=Field::Security />
        </div>
        <div class="field">
            <label for="sender-smtp-port">{t!(i18n, dialog.smtp_port)}</label>
            <input id="sender-smtp-port" type="text" inputmode="numeric" name="smtp_port" prop:value=move || fields.smtp_port.get()
                on:input=move |event| { fields.port_typed.set(true); fields.smtp_port.set(event_target_value(&event)); } />
            <FieldError problems field=Field::SmtpPort />
        </div>
        {move || unusual_pair().map(|warning| view! { <p class="warning wide" role="note">{warning}</p> })}
        <div class="field">
            <label for="sender-username">{t!(i18n, dialog.username)}</label>
            <input id="sender-username" type="text" name="username" bind:value=fields.username autocomplete="off" autocapitalize="off" spellcheck="false" />
            <FieldError problems field=Field::Username />
        </div>
        <div class="field">
            <label for="sender-password">{t!(i18n, dialog.password)}</label>
            <input id="sender-password" type="password" name="password" bind:value=fields.password autocomplete="new-password"
                placeholder=move || has_stored_password.get().then_some("••••••••") />
            {move || has_stored_password.get().then(|| view! { <span class="hint">{t!(i18n, dialog.password_stored)}</span> })}
            <FieldError problems field=Field::Password />
        </div>
    }
}
