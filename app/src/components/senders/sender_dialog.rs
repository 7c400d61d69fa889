use futures::StreamExt;
use leptos::html::Dialog;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::OpenDialog;
use super::test_report::{TestReport, TestState};
use super::texts::problem_text;
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::settings::{
    Field, FieldProblem, Security, SenderForm, StoredConnection, is_unusual_pair, validate_sender_form,
};
use crate::senders::test_send::TestEvent;
use crate::senders::{SenderView, save_sender, test_sender};

/// The signals behind the dialog's inputs.
#[derive(Clone, Copy)]
struct FormFields {
    display_name: RwSignal<String>,
    email: RwSignal<String>,
    reply_to: RwSignal<String>,
    smtp_host: RwSignal<String>,
    smtp_port: RwSignal<String>,
    security: RwSignal<String>,
    username: RwSignal<String>,
    password: RwSignal<String>,
    /// True once the user typed a port, which choosing a security mode must then keep.
    port_typed: RwSignal<bool>,
}

impl FormFields {
    fn new() -> Self {
        Self {
            display_name: RwSignal::new(String::new()),
            email: RwSignal::new(String::new()),
            reply_to: RwSignal::new(String::new()),
            smtp_host: RwSignal::new(String::new()),
            smtp_port: RwSignal::new("587".to_string()),
            security: RwSignal::new(Security::StartTls.as_str().to_string()),
            username: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            port_typed: RwSignal::new(false),
        }
    }

    fn load(&self, sender: Option<&SenderView>) {
        let text = |value: Option<&str>| value.unwrap_or_default().to_string();
        self.display_name.set(text(sender.map(|s| s.display_name.as_str())));
        self.email.set(text(sender.map(|s| s.email.as_str())));
        self.reply_to.set(text(sender.and_then(|s| s.reply_to.as_deref())));
        self.smtp_host.set(text(sender.map(|s| s.smtp_host.as_str())));
        self.smtp_port.set(sender.map_or(587, |s| s.smtp_port).to_string());
        self.security
            .set(sender.map_or(Security::StartTls, |s| s.security).as_str().to_string());
        self.username.set(text(sender.map(|s| s.username.as_str())));
        self.password.set(String::new());
        self.port_typed.set(sender.is_some());
    }

    fn form(&self, sender: Option<&SenderView>) -> SenderForm {
        SenderForm {
            sender_id: sender.map(|s| s.id.clone()),
            version: sender.map(|s| s.version),
            display_name: self.display_name.get(),
            email: self.email.get(),
            reply_to: self.reply_to.get(),
            smtp_host: self.smtp_host.get(),
            smtp_port: self.smtp_port.get(),
            security: self.security.get(),
            username: self.username.get(),
            password: self.password.get(),
        }
    }
}

fn stored_connection(sender: &SenderView) -> StoredConnection {
    StoredConnection {
        smtp_host: sender.smtp_host.clone(),
        smtp_port: sender.smtp_port,
        security: sender.security,
        username: sender.username.clone(),
        has_password: sender.has_password,
    }
}

/// "Configuration de l'expéditeur (SMTP)": add or edit a sender. "Enregistrer" is enabled only
/// after a successful test send of exactly the values in the dialog.
#[component]
pub fn SenderDialog(open: RwSignal<OpenDialog>, on_saved: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let dialog = NodeRef::<Dialog>::new();
    let fields = FormFields::new();
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let test_state = RwSignal::new(TestState::Idle);
    let save_error = RwSignal::new(None::<AppError>);
    let save = Action::new(|form: &SenderForm| save_sender(form.clone()));

    let editing = Memo::new(move |_| match open.get() {
        OpenDialog::Edit(sender) => Some(sender),
        _ => None,
    });
    let sender = move || editing.get().flatten();
    let current_form = move || fields.form(sender().as_ref());

    // Open, fill and close the native dialog as the shared state changes.
    Effect::new(move |_| {
        let Some(element) = dialog.get() else {
            return;
        };
        match editing.get() {
            Some(sender) => {
                fields.load(sender.as_ref());
                problems.set(Vec::new());
                test_state.set(TestState::Idle);
                save_error.set(None);
                if !element.open() {
                    let _ = element.show_modal();
                }
            }
            None if element.open() => element.close(),
            None => {}
        }
    });

    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            open.set(OpenDialog::Closed);
            on_saved.run(());
        }
        Some(Err(AppError::InvalidSender(found))) => problems.set(found),
        Some(Err(error)) => save_error.set(Some(error)),
        None => {}
    });

    let can_save = move || {
        matches!(test_state.get(), TestState::Succeeded { tested, .. } if tested == current_form())
            && !save.pending().get()
    };
    let testing = move || matches!(test_state.get(), TestState::Running(_));

    let run_test = move |_| {
        let form = current_form();
        let stored = sender().map(|sender| stored_connection(&sender));
        if let Err(found) = validate_sender_form(&form, stored.as_ref(), true) {
            problems.set(found);
            return;
        }
        problems.set(Vec::new());
        save_error.set(None);
        test_state.set(TestState::Running(crate::senders::test_send::Stage::Connecting));
        spawn_local(run_test_send(form, test_state, problems));
    };

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if can_save() {
            save.dispatch(current_form());
        }
    };

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
    let problem_for = move |field: Field| {
        move || {
            problems.get().iter().find(|found| found.field == field).map(|found| {
                view! { <span class="field-error">{problem_text(i18n, found.problem)}</span> }
            })
        }
    };
    let has_stored_password = move || sender().is_some_and(|sender| sender.has_password);

    view! {
        <dialog node_ref=dialog class="sender-dialog" aria-labelledby="sender-dialog-title" on:close=move |_| open.set(OpenDialog::Closed)>
            <form novalidate on:submit=submit>
                <h2 id="sender-dialog-title">{t!(i18n, dialog.title)}</h2>
                <div class="field-grid">
                    <div class="field">
                        <label for="sender-display-name">{t!(i18n, dialog.display_name)}</label>
                        <input id="sender-display-name" type="text" name="display_name" bind:value=fields.display_name maxlength="64" autocomplete="name" />
                        {problem_for(Field::DisplayName)}
                    </div>
                    <div class="field">
                        <label for="sender-email">{t!(i18n, dialog.email)}</label>
                        <input id="sender-email" type="email" name="email" bind:value=fields.email autocomplete="email" />
                        {problem_for(Field::Email)}
                    </div>
                    <div class="field wide">
                        <label for="sender-reply-to">{t!(i18n, dialog.reply_to)}</label>
                        <input id="sender-reply-to" type="email" name="reply_to" bind:value=fields.reply_to />
                        {problem_for(Field::ReplyTo)}
                    </div>
                    <div class="field wide">
                        <label for="sender-smtp-host">{t!(i18n, dialog.smtp_host)}</label>
                        <input id="sender-smtp-host" type="text" name="smtp_host" bind:value=fields.smtp_host autocapitalize="off" spellcheck="false" aria-describedby="sender-smtp-host-hint" />
                        <span id="sender-smtp-host-hint" class="hint">{t!(i18n, dialog.smtp_host_hint)}</span>
                        {problem_for(Field::SmtpHost)}
                    </div>
                    <div class="field">
                        <label for="sender-security">{t!(i18n, dialog.security)}</label>
                        <select id="sender-security" name="security" prop:value=move || fields.security.get() on:change=move |event| choose_security(event_target_value(&event))>
                            <option value="tls">{t!(i18n, dialog.security_tls)}</option>
                            <option value="starttls">{t!(i18n, dialog.security_starttls)}</option>
                            <option value="none">{t!(i18n, dialog.security_none)}</option>
                        </select>
                        {problem_for(Field::Security)}
                    </div>
                    <div class="field">
                        <label for="sender-smtp-port">{t!(i18n, dialog.smtp_port)}</label>
                        <input id="sender-smtp-port" type="text" inputmode="numeric" name="smtp_port" prop:value=move || fields.smtp_port.get()
                            on:input=move |event| { fields.port_typed.set(true); fields.smtp_port.set(event_target_value(&event)); } />
                        {problem_for(Field::SmtpPort)}
                    </div>
                    {move || unusual_pair().map(|warning| view! { <p class="warning wide" role="note">{warning}</p> })}
                    <div class="field">
                        <label for="sender-username">{t!(i18n, dialog.username)}</label>
                        <input id="sender-username" type="text" name="username" bind:value=fields.username autocomplete="off" autocapitalize="off" spellcheck="false" />
                        {problem_for(Field::Username)}
                    </div>
                    <div class="field">
                        <label for="sender-password">{t!(i18n, dialog.password)}</label>
                        <input id="sender-password" type="password" name="password" bind:value=fields.password autocomplete="new-password"
                            placeholder=move || has_stored_password().then_some("••••••••") />
                        {move || has_stored_password().then(|| view! { <span class="hint">{t!(i18n, dialog.password_stored)}</span> })}
                        {problem_for(Field::Password)}
                    </div>
                </div>
                <TestReport state=test_state />
                {move || save_error.get().map(|error| view! { <ErrorMessage error /> })}
                <p class="hint">{t!(i18n, dialog.save_hint)}</p>
                <div class="dialog-actions">
                    <button type="button" class="secondary" on:click=move |_| open.set(OpenDialog::Closed)>
                        {t!(i18n, dialog.cancel)}
                    </button>
                    <button type="button" class="secondary" disabled=testing on:click=run_test>
                        {t!(i18n, dialog.test)}
                    </button>
                    <button type="submit" disabled=move || !can_save()>
                        {t!(i18n, dialog.save)}
                    </button>
                </div>
            </form>
        </dialog>
    }
}

/// Calls the streaming test send and mirrors each event into the dialog.
async fn run_test_send(form: SenderForm, state: RwSignal<TestState>, problems: RwSignal<Vec<FieldProblem>>) {
    let stream = match test_sender(form.clone()).await {
        Ok(stream) => stream,
        Err(error) => {
            state.set(TestState::Refused(error));
            return;
        }
    };

    let mut chunks = stream.into_inner();
    let mut buffered = String::new();
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(text) => buffered.push_str(&text),
            Err(error) => {
                state.set(TestState::Refused(error));
                return;
            }
        }
        // A chunk may hold several events, or part of one: events end with a newline.
        while let Some(end) = buffered.find('\n') {
            let line: String = buffered.drain(..=end).collect();
            let Ok(event) = serde_json::from_str::<TestEvent>(line.trim()) else {
                continue;
            };
            match event {
                TestEvent::Stage(stage) => state.set(TestState::Running(stage)),
                TestEvent::Succeeded { recipient } => {
                    state.set(TestState::Succeeded {
                        recipient,
                        tested: form.clone(),
                    });
                }
                TestEvent::Failed(failure) => state.set(TestState::Failed(failure)),
                TestEvent::Refused(AppError::InvalidSender(found)) => {
                    problems.set(found.clone());
                    state.set(TestState::Refused(AppError::InvalidSender(found)));
                }
                TestEvent::Refused(error) => state.set(TestState::Refused(error)),
            }
        }
    }

    if matches!(state.get_untracked(), TestState::Running(_)) {
        state.set(TestState::Refused(AppError::Internal));
    }
}
