//! The test message, written in the account's language.

use app::i18n::{Locale, td_string};
use app::senders::settings::{Security, ValidSender};

use crate::smtp::OutgoingMessage;

pub fn build(sender: &ValidSender, recipient: &str, locale: &str) -> OutgoingMessage {
    let locale = locale.parse::<Locale>().unwrap_or_default();
    let security = match sender.security {
        Security::Tls => "SSL/TLS",
        Security::StartTls => "STARTTLS",
        Security::None => "-",
    };
    let username = if sender.username.is_empty() {
        "-"
    } else {
        sender.username.as_str()
    };

    OutgoingMessage {
        from_name: sender.display_name.clone(),
        from_email: sender.email.clone(),
        reply_to: sender.reply_to.clone(),
        to_email: recipient.to_string(),
        subject: td_string!(locale, test_email.subject, email = sender.email.as_str()).to_string(),
        text_body: td_string!(
            locale,
            test_email.body,
            email = sender.email.as_str(),
            host = sender.smtp_host.as_str(),
            port = sender.smtp_port,
            security = security,
            username = username
        )
        .to_string(),
    }
}
