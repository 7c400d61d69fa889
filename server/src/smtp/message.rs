//! The message as it goes on the wire, and its envelope.

use lettre::{
    Address, Message,
    address::Envelope,
    message::{Mailbox, header::ContentType},
};

use super::{address_policy::host_to_ascii, failure::FailureKind, settings::OutgoingMessage};

pub(crate) struct PreparedMessage {
    pub sender: Address,
    pub recipient: Address,
    /// Whether a local part is not ASCII, so that the server has to support SMTPUTF8.
    pub needs_smtputf8: bool,
    pub formatted: Vec<u8>,
}

/// Builds the message and its envelope.
///
/// lettre encodes the display name and the subject as RFC 2047 words when needed, and every
/// address domain is converted to punycode.
pub(crate) fn prepare(message: &OutgoingMessage) -> Result<PreparedMessage, FailureKind> {
    let sender = address_with_ascii_domain(&message.from_email).ok_or(FailureKind::SenderNotAllowed)?;
    let recipient = address_with_ascii_domain(&message.to_email).ok_or(FailureKind::RecipientRejected)?;

    let from_name = single_line(&message.from_name);
    let from_name = (!from_name.trim().is_empty()).then(|| from_name.trim().to_owned());
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4(), sender.domain());

    let mut builder = Message::builder()
        .from(Mailbox::new(from_name, sender.clone()))
        .to(Mailbox::new(None, recipient.clone()))
        .subject(single_line(&message.subject))
        .message_id(Some(message_id))
        .header(ContentType::TEXT_PLAIN)
        .envelope(Envelope::new(Some(sender.clone()), vec![recipient.clone()]).map_err(|_| FailureKind::Rejected)?);

    let mut needs_smtputf8 = !sender.user().is_ascii() || !recipient.user().is_ascii();
    if let Some(reply_to) = message
        .reply_to
        .as_deref()
        .filter(|reply_to| !reply_to.trim().is_empty())
    {
        let reply_to = address_with_ascii_domain(reply_to).ok_or(FailureKind::Rejected)?;
        needs_smtputf8 |= !reply_to.user().is_ascii();
        builder = builder.reply_to(Mailbox::new(None, reply_to));
    }

    let built = builder
        .body(message.text_body.clone())
        .map_err(|_| FailureKind::Rejected)?;

    Ok(PreparedMessage {
        sender,
        recipient,
        needs_smtputf8,
        formatted: built.formatted(),
    })
}

/// Parses the address and converts its domain to punycode, the form that the envelope and the
/// headers carry.
fn address_with_ascii_domain(email: &str) -> Option<Address> {
    let (local_part, domain) = email.trim().rsplit_once('@')?;
    let domain = if domain.starts_with('[') {
        domain.to_owned()
    } else {
        host_to_ascii(domain)?
    };
    Address::new(local_part, domain).ok()
}

/// Replaces line breaks in a header value typed by a user, which would otherwise start new headers.
fn single_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(from_name: &str, from_email: &str, to_email: &str) -> OutgoingMessage {
        OutgoingMessage {
            from_name: from_name.to_owned(),
            from_email: from_email.to_owned(),
            reply_to: None,
            to_email: to_email.to_owned(),
            subject: "Test".to_owned(),
            text_body: "Hello".to_owned(),
        }
    }

    fn headers(prepared: &PreparedMessage) -> String {
        let text = String::from_utf8(prepared.formatted.clone()).unwrap();
        text.split("\r\n\r\n").next().unwrap().to_owned()
    }

    #[test]
    fn domains_are_punycoded_in_envelope_and_headers() {
        let prepared = prepare(&outgoing("Ada", "ada@exämple.fr", "bob@bücher.example")).unwrap();

        assert_eq!(prepared.sender.to_string(), "ada@xn--exmple-cua.fr");
        assert_eq!(prepared.recipient.to_string(), "bob@xn--bcher-kva.example");
        assert!(!prepared.needs_smtputf8);
        assert!(
            headers(&prepared).contains("To: bob@xn--bcher-kva.example"),
            "{}",
            headers(&prepared)
        );
    }

    #[test]
    fn non_ascii_local_part_needs_smtputf8() {
        let prepared = prepare(&outgoing("Ada", "ada@example.org", "jörg@example.org")).unwrap();

        assert!(prepared.needs_smtputf8);
    }

    #[test]
    fn display_name_is_rfc2047_encoded() {
        let mut message = outgoing("Zoë \"Z\" O'Brien, Ltd 🚀", "ada@example.org", "bob@example.org");
        message.reply_to = Some("help@example.org".to_owned());

        let prepared = prepare(&message).unwrap();
        let headers = headers(&prepared);

        assert!(headers.contains("From: =?utf-8?"), "{headers}");
        assert!(headers.contains("Reply-To: help@example.org"), "{headers}");
        assert!(headers.contains("Content-Type: text/plain; charset=utf-8"), "{headers}");
        assert!(prepared.formatted.is_ascii());
    }

    #[test]
    fn line_breaks_cannot_add_headers() {
        let mut message = outgoing("Ada\r\nBcc: victim@example.org", "ada@example.org", "bob@example.org");
        message.subject = "Hi\r\nBcc: victim@example.org".to_owned();

        let headers = headers(&prepare(&message).unwrap());

        assert!(!headers.contains("\r\nBcc:"), "{headers}");
    }

    #[test]
    fn invalid_addresses_are_rejected() {
        assert_eq!(
            prepare(&outgoing("Ada", "not-an-address", "bob@example.org")).err(),
            Some(FailureKind::SenderNotAllowed)
        );
        assert_eq!(
            prepare(&outgoing("Ada", "ada@example.org", "bob@")).err(),
            Some(FailureKind::RecipientRejected)
        );
    }
}
