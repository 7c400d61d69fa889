use leptos::either::EitherOf5;
use leptos::prelude::*;

use super::texts::{failure_advice, stage_name, stage_progress};
use crate::error::{AppError, ErrorMessage};
use crate::i18n::*;
use crate::senders::settings::SenderForm;
use crate::senders::test_send::{Stage, TestFailure};

/// State of the dialog's test send.
#[derive(Clone, Debug, PartialEq)]
pub enum TestState {
    Idle,
    Running(Stage),
    /// The server accepted the message; `tested` contains the exact values that passed.
    Succeeded {
        recipient: String,
        tested: Box<SenderForm>,
    },
    Failed(TestFailure),
    Refused(AppError),
}

impl TestState {
    /// Tells whether this is a passed test of exactly `form`.
    pub fn passed_with(&self, form: &SenderForm) -> bool {
        matches!(self, TestState::Succeeded { tested, .. } if **tested == *form)
    }
}

/// Renders the bottom of the dialog: progress while the test runs, then its result.
#[component]
pub fn TestReport(state: RwSignal<TestState>) -> impl IntoView {
    let i18n = use_i18n();

    view! {
        <div class="test-report" aria-live="polite">
            {move || match state.get() {
                TestState::Idle => EitherOf5::A(()),
                TestState::Running(stage) => EitherOf5::B(view! {
                    <p class="progress"><span class="spinner" aria-hidden="true"></span>{stage_progress(i18n, stage)}</p>
                }),
                TestState::Succeeded { recipient, .. } => EitherOf5::C(view! {
                    <p class="success" role="status">{t_string!(i18n, test.success, recipient = recipient).to_string()}</p>
                }),
                TestState::Failed(failure) => EitherOf5::D(view! { <FailureReport failure /> }),
                TestState::Refused(error) => EitherOf5::E(view! { <ErrorMessage error /> }),
            }}
        </div>
    }
}

#[component]
fn FailureReport(failure: TestFailure) -> impl IntoView {
    let i18n = use_i18n();
    let stage = stage_name(i18n, failure.stage);
    let advice = failure_advice(i18n, failure.kind, failure.certificate_subject.as_deref());

    view! {
        <div class="failure" role="alert">
            <p class="error">
                <strong>{t_string!(i18n, test.failed, stage = stage).to_string()}</strong>
                " "
                {advice}
            </p>
            {failure.server_reply.map(|reply| {
                view! {
                    <details class="technical">
                        <summary>{t!(i18n, dialog.details)}</summary>
                        <code>{reply}</code>
                    </details>
                }
            })}
        </div>
    }
}
