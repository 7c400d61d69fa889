//! Signals behind the sender dialog's inputs, and the sender or grant that the dialog edits.

use leptos::prelude::*;

use super::OpenDialog;
use super::texts::problem_text;
use crate::i18n::*;
use crate::senders::SenderView;
use crate::senders::oauth::{OAuthGrantView, OAuthProvider};
use crate::senders::settings::{Field, FieldProblem, Security, SenderForm, StoredConnection};

/// Sender or grant that the open sender dialog edits.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A new SMTP sender. The dialog also offers the provider buttons.
    New,
    Stored(SenderView),
    /// A new Google or Microsoft sender, from a grant that the provider just returned.
    Grant(OAuthGrantView),
}

impl Target {
    pub fn of(open: &OpenDialog) -> Option<Self> {
        match open {
            OpenDialog::Edit(None) => Some(Target::New),
            OpenDialog::Edit(Some(sender)) => Some(Target::Stored(sender.clone())),
            OpenDialog::Connect(grant) => Some(Target::Grant(grant.clone())),
            OpenDialog::Closed | OpenDialog::Delete(_) => None,
        }
    }

    pub fn sender(&self) -> Option<&SenderView> {
        match self {
            Target::Stored(sender) => Some(sender),
            _ => None,
        }
    }

    /// Returns the provider and mailbox of a Google or Microsoft sender, whose address is
    /// fixed.
    pub fn oauth(&self) -> Option<(OAuthProvider, String)> {
        match self {
            Target::Grant(grant) => Some((grant.provider, grant.email.clone())),
            Target::Stored(sender) => sender
                .kind
                .oauth_provider()
                .map(|provider| (provider, sender.email.clone())),
            Target::New => None,
        }
    }

    pub fn stored_connection(&self) -> Option<StoredConnection> {
        self.sender().map(|sender| StoredConnection {
            smtp_host: sender.smtp_host.clone(),
            smtp_port: sender.smtp_port,
            security: sender.security,
            username: sender.username.clone(),
            has_password: sender.has_password,
        })
    }
}

/// Signals behind the dialog's inputs.
#[derive(Clone, Copy)]
pub struct FormFields {
    pub display_name: RwSignal<String>,
    pub email: RwSignal<String>,
    pub reply_to: RwSignal<String>,
    pub smtp_host: RwSignal<String>,
    pub smtp_port: RwSignal<String>,
    pub security: RwSignal<String>,
    pub username: RwSignal<String>,
    pub password: RwSignal<String>,
    /// Whether the port was typed by the user or loaded from a stored sender. Choosing a
    /// security mode then keeps it instead of setting the usual port.
    pub port_typed: RwSignal<bool>,
}

impl FormFields {
    pub fn new() -> Self {
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

    pub fn load(&self, target: &Target) {
        let sender = target.sender();
        let text = |value: Option<&str>| value.unwrap_or_default().to_string();
        self.display_name.set(text(sender.map(|s| s.display_name.as_str())));
        self.email.set(match target {
            Target::Grant(grant) => grant.email.clone(),
            _ => text(sender.map(|s| s.email.as_str())),
        });
        self.reply_to.set(text(sender.and_then(|s| s.reply_to.as_deref())));
        self.smtp_host.set(text(sender.map(|s| s.smtp_host.as_str())));
        self.smtp_port.set(sender.map_or(587, |s| s.smtp_port).to_string());
        self.security
            .set(sender.map_or(Security::StartTls, |s| s.security).as_str().to_string());
        self.username.set(text(sender.map(|s| s.username.as_str())));
        self.password.set(String::new());
        self.port_typed.set(sender.is_some());
    }

    pub fn form(&self, target: Option<&Target>) -> SenderForm {
        let sender = target.and_then(Target::sender);
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
            oauth_grant: match target {
                Some(Target::Grant(grant)) => Some(grant.id.clone()),
                _ => None,
            },
        }
    }
}

/// Renders the problem found in one field, if any, under that field.
#[component]
pub fn FieldError(problems: RwSignal<Vec<FieldProblem>>, field: Field) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        problems
            .get()
            .iter()
            .find(|found| found.field == field)
            .map(|found| view! { <span class="field-error">{problem_text(i18n, field, found.problem)}</span> })
    }
}
