use futures::StreamExt;
use leptos::either::Either;
use leptos::html::Dialog;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::OpenDialog;
use super::form_fields::{FieldError, FormFields, Target};
use super::provider_buttons::ProviderButtons;
use super::smtp_fields::SmtpFields;
use super::test_report::{TestReport, TestState};
use crate::components::ActivityChanged;
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::oauth::OAuthAvailability;
use crate::senders::settings::{Field, FieldProblem, SenderForm, validate_oauth_form, validate_sender_form};
use crate::senders::test_send::{Stage, TestEvent};
use crate::senders::{save_sender, test_sender};

/// "Configuration de l'expéditeur (SMTP)": add or edit a sender. "Enregistrer" is enabled only
/// after a successful test send of exactly the values in the dialog. Google and Microsoft
/// senders show their fixed address instead of the SMTP fields. `refresh` reloads the list
/// after a save, or after a save rejected because the sender changed meanwhile.
#[component]
pub fn SenderDialog(
    open: RwSignal<OpenDialog>,
    availability: Signal<OAuthAvailability>,
    refresh: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let dialog = NodeRef::<Dialog>::new();
    let fields = FormFields::new();
    let problems = RwSignal::new(Vec::<FieldProblem>::new());
    let test_state = RwSignal::new(TestState::Idle);
    let save_error = RwSignal::new(None::<AppError>);
    let save = Action::new(|form: &SenderForm| save_sender(form.clone()));
    let activity = use_context::<ActivityChanged>();
    // Numbers each test send. Any change to the dialog's target or fields also moves it on, so
    // that a test still running from an earlier opening cannot write its result into this one.
    let test_run = StoredValue::new(0_u64);
    // The last passed test of this opening (`Idle` if none), kept while the fields differ from
    // what it tested, so that typing those values back shows its result and allows saving again.
    let last_pass = RwSignal::new(TestState::Idle);

    let target = Memo::new(move |_| Target::of(&open.get()));
    let current_form = move || fields.form(target.get().as_ref());
    let oauth = move || target.get().and_then(|target| target.oauth());

    // Open, fill and close the native dialog as the shared state changes.
    Effect::new(move |_| {
        let Some(element) = dialog.get() else {
            return;
        };
        match target.get() {
            Some(target) => {
                last_pass.set(TestState::Idle);
                fields.load(&target);
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

    // A test result applies only to the values it tested, so any change to the fields hides
    // it, and drops the result of a test still running. A passed test shows again when the
    // fields return to the values it tested.
    Effect::new(move |_| {
        let form = current_form();
        test_run.update_value(|run| *run += 1);
        let state = test_state.get_untracked();
        if state.passed_with(&form) {
            return;
        }
        if matches!(state, TestState::Succeeded { .. }) {
            last_pass.set(state.clone());
        }
        let passed = last_pass.get_untracked();
        if passed.passed_with(&form) {
            test_state.set(passed);
        } else if state != TestState::Idle {
            test_state.set(TestState::Idle);
        }
    });

    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            open.set(OpenDialog::Closed);
            refresh.run(());
        }
        Some(Err(AppError::InvalidSender(found))) => problems.set(found),
        // The stored sender changed, so the passed test no longer allows saving this dialog.
        Some(Err(error @ (AppError::VersionConflict | AppError::SenderNotFound))) => {
            last_pass.set(TestState::Idle);
            test_state.set(TestState::Idle);
            save_error.set(Some(error));
            refresh.run(());
        }
        Some(Err(error)) => save_error.set(Some(error)),
        None => {}
    });

    let can_save = move || test_state.get().passed_with(&current_form()) && !save.pending().get();
    let testing = move || matches!(test_state.get(), TestState::Running(_));

    let run_test = move |_| {
        // A double click can deliver its second click before the button is disabled.
        if testing() {
            return;
        }
        let form = current_form();
        let is_oauth = target.get_untracked().is_some_and(|target| target.oauth().is_some());
        let checked = match target.get_untracked() {
            Some(target) if target.oauth().is_some() => validate_oauth_form(&form).map(|_| ()),
            target => {
                let stored = target.and_then(|target| target.stored_connection());
                validate_sender_form(&form, stored.as_ref(), true).map(|_| ())
            }
        };
        if let Err(found) = checked {
            problems.set(found);
            test_state.set(TestState::Idle);
            return;
        }
        problems.set(Vec::new());
        save_error.set(None);
        // This test replaces the last one, even for the same values.
        last_pass.set(TestState::Idle);
        let first_stage = if is_oauth {
            Stage::Authorizing
        } else {
            Stage::Connecting
        };
        test_state.set(TestState::Running(first_stage));
        test_run.update_value(|run| *run += 1);
        let run = test_run.get_value();
        let is_current = move || test_run.get_value() == run;
        spawn_local(run_test_send(form, is_current, test_state, problems, activity, refresh));
    };

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if can_save() {
            save.dispatch(current_form());
        }
    };

    let has_stored_password = Signal::derive(move || {
        target
            .get()
            .and_then(|target| target.sender().map(|sender| sender.has_password))
            .unwrap_or(false)
    });
    let connection = move || match oauth() {
        Some((provider, email)) => {
            let connected = t_string!(i18n, oauth.connected, provider = provider.name(), email = email).to_string();
            let hint = t_string!(i18n, oauth.connection_hint, provider = provider.name()).to_string();
            Either::Left(view! {
                <div class="oauth-account wide">
                    <p class="connected"><strong>{connected}</strong></p>
                    <p class="hint">{hint}</p>
                </div>
            })
        }
        None => Either::Right(view! { <SmtpFields fields problems has_stored_password /> }),
    };

    view! {
        <dialog node_ref=dialog class="sender-dialog" aria-labelledby="sender-dialog-title" on:close=move |_| open.set(OpenDialog::Closed)>
            <form novalidate on:submit=submit>
                <h2 id="sender-dialog-title">{t!(i18n, dialog.title)}</h2>
                {move || (target.get() == Some(Target::New)).then(|| view! { <ProviderButtons availability /> })}
                <div class="field-grid">
                    <div class="field">
                        <label for="sender-display-name">{t!(i18n, dialog.display_name)}</label>
                        <input id="sender-display-name" type="text" name="display_name" bind:value=fields.display_name autocomplete="name" />
                        <FieldError problems field=Field::DisplayName />
                    </div>
                    {connection}
                    <div class="field wide">
                        <label for="sender-reply-to">{t!(i18n, dialog.reply_to)}</label>
                        <input id="sender-reply-to" type="email" name="reply_to" bind:value=fields.reply_to />
                        <FieldError problems field=Field::ReplyTo />
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

/// Calls the streaming test send and mirrors each event into the dialog while `is_current`
/// returns true. A test that reaches a verdict is recorded in the activity log, so the log
/// reloads afterwards, even when the dialog has moved on. A test of a sender deleted meanwhile
/// reloads the list through `refresh`.
async fn run_test_send(
    form: SenderForm,
    is_current: impl Fn() -> bool + 'static,
    state: RwSignal<TestState>,
    problems: RwSignal<Vec<FieldProblem>>,
    activity: Option<ActivityChanged>,
    refresh: Callback<()>,
) {
    let stream = match test_sender(form.clone()).await {
        Ok(stream) => stream,
        Err(error) => {
            if error == AppError::SenderNotFound {
                refresh.run(());
            }
            if is_current() {
                state.set(TestState::Refused(error));
            }
            return;
        }
    };

    let mut chunks = stream.into_inner();
    let mut buffered = String::new();
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(text) => buffered.push_str(&text),
            Err(error) => {
                if is_current() {
                    state.set(TestState::Refused(error));
                }
                return;
            }
        }
        // A chunk may hold several events, or part of one: events end with a newline.
        while let Some(end) = buffered.find('\n') {
            let line: String = buffered.drain(..=end).collect();
            let Ok(event) = serde_json::from_str::<TestEvent>(line.trim()) else {
                continue;
            };
            if event == TestEvent::Refused(AppError::SenderNotFound) {
                refresh.run(());
            }
            if !is_current() {
                if matches!(event, TestEvent::Succeeded { .. } | TestEvent::Failed(_))
                    && let Some(activity) = activity
                {
                    activity.notify();
                }
                continue;
            }
            match event {
                TestEvent::Stage(stage) => state.set(TestState::Running(stage)),
                TestEvent::Succeeded { recipient } => {
                    state.set(TestState::Succeeded {
                        recipient,
                        tested: Box::new(form.clone()),
                    });
                    if let Some(activity) = activity {
                        activity.notify();
                    }
                }
                TestEvent::Failed(failure) => {
                    state.set(TestState::Failed(failure));
                    if let Some(activity) = activity {
                        activity.notify();
                    }
                }
                TestEvent::Refused(AppError::InvalidSender(found)) => {
                    problems.set(found.clone());
                    state.set(TestState::Refused(AppError::InvalidSender(found)));
                }
                TestEvent::Refused(error) => state.set(TestState::Refused(error)),
            }
        }
    }

    if is_current() && matches!(state.get_untracked(), TestState::Running(_)) {
        state.set(TestState::Refused(AppError::Internal));
    }
}
