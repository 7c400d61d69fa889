//! Server replies as they may be shown to the user and stored.

use base64::{Engine, engine::general_purpose::STANDARD};

use super::secret::SmtpCredentials;

const MAX_REPLY_CHARS: usize = 500;
const REDACTED: &str = "***";

/// Joins a server reply on one line and removes credentials from it.
///
/// Multi-line replies are joined by single spaces and lines that start with `AUTH` are dropped.
/// The password or token, its base64 forms and anything that looks like a base64 payload become
/// `***`, and the result is cut to 500 characters. Returns `None` when nothing is left.
pub fn sanitize_reply(text: &str, credentials: Option<&SmtpCredentials>) -> Option<String> {
    let kept_lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !starts_with_auth(line))
        .collect();
    // Control characters and runs of white space are removed before the secrets are searched,
    // so that removing them afterwards cannot join the pieces of a secret again.
    let mut joined = collapse(&kept_lines.join(" "));

    if let Some(credentials) = credentials {
        for secret_form in secret_forms(credentials) {
            let secret_form = collapse(&secret_form);
            if !secret_form.is_empty() {
                joined = joined.replace(&secret_form, REDACTED);
            }
        }
    }

    // The payload of an echoed "AUTH <MECHANISM> <payload>" command is redacted.
    let mut words: Vec<&str> = Vec::new();
    let mut after_auth = AfterAuth::No;
    for word in joined.split_whitespace() {
        let is_auth_payload = after_auth == AfterAuth::Mechanism;
        after_auth = match after_auth {
            _ if word.eq_ignore_ascii_case("AUTH") => AfterAuth::Keyword,
            AfterAuth::Keyword if is_mechanism_name(word) => AfterAuth::Mechanism,
            _ => AfterAuth::No,
        };
        let redact = is_auth_payload || looks_like_base64_payload(word);
        words.push(if redact { REDACTED } else { word });
    }

    let cleaned = words.join(" ");
    if cleaned.is_empty() {
        return None;
    }
    Some(truncate_chars(&cleaned, MAX_REPLY_CHARS))
}

/// Removes control characters other than white space, then joins the words with single spaces.
fn collapse(text: &str) -> String {
    let visible: String = text.chars().filter(|c| c.is_whitespace() || !c.is_control()).collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AfterAuth {
    No,
    Keyword,
    Mechanism,
}

fn is_mechanism_name(word: &str) -> bool {
    word.bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

fn starts_with_auth(line: &str) -> bool {
    line.get(..4).is_some_and(|start| start.eq_ignore_ascii_case("AUTH"))
        && line[4..].chars().next().is_none_or(char::is_whitespace)
}

/// Lists the secret and every form in which an AUTH exchange carries it.
fn secret_forms(credentials: &SmtpCredentials) -> Vec<String> {
    let username = credentials.username();
    let secret = credentials.secret().expose();

    vec![
        secret.to_owned(),
        STANDARD.encode(secret),
        STANDARD.encode(format!("\0{username}\0{secret}")),
        STANDARD.encode(format!("user={username}\x01auth=Bearer {secret}\x01\x01")),
        STANDARD.encode(username),
    ]
}

/// Checks for a long word of base64 characters with mixed case and a digit or symbol. Such words
/// are session identifiers or encoded payloads rather than words a person wrote.
fn looks_like_base64_payload(word: &str) -> bool {
    let base64_alphabet = word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    let has_lower = word.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = word.bytes().any(|b| b.is_ascii_uppercase());
    let has_digit_or_symbol = word
        .bytes()
        .any(|b| b.is_ascii_digit() || matches!(b, b'+' | b'/' | b'='));

    word.len() >= 16 && base64_alphabet && has_lower && has_upper && has_digit_or_symbol
}

fn truncate_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut truncated: String = text.chars().take(max_chars - 1).collect();
    truncated.push('…');
    truncated
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::secret::SecretString;

    fn password(username: &str, password: &str) -> SmtpCredentials {
        SmtpCredentials::Password {
            username: username.to_owned(),
            password: SecretString::new(password),
        }
    }

    #[test]
    fn joins_multi_line_replies_with_single_spaces() {
        let text = "5.7.8 Username and Password not accepted. For more information, go to\r\n5.7.8  https://support.google.com/mail/?p=BadCredentials d2e1a72b8c94-v6sm1 - gsmtp\r\n";

        assert_eq!(
            sanitize_reply(text, None).as_deref(),
            Some(
                "5.7.8 Username and Password not accepted. For more information, go to 5.7.8 https://support.google.com/mail/?p=BadCredentials d2e1a72b8c94-v6sm1 - gsmtp"
            )
        );
    }

    #[test]
    fn drops_lines_that_start_with_auth() {
        let text = "5.7.8 Authentication failed\nAUTH PLAIN AGFkYQBodW50ZXIy\nauth login\nAuthentication unsuccessful";

        assert_eq!(
            sanitize_reply(text, None).as_deref(),
            Some("5.7.8 Authentication failed Authentication unsuccessful")
        );
    }

    #[test]
    fn redacts_the_secret_and_its_base64_forms() {
        let credentials = password("ada@example.org", "hunter2-long");
        let plain_payload = STANDARD.encode("\0ada@example.org\0hunter2-long");
        let text = format!(
            "5.7.8 rejected hunter2-long {plain_payload} {}",
            STANDARD.encode("hunter2-long")
        );

        let reply = sanitize_reply(&text, Some(&credentials)).unwrap();

        assert_eq!(reply, "5.7.8 rejected *** *** ***");
    }

    #[test]
    fn redacts_an_auth_payload_echoed_mid_line() {
        let reply = sanitize_reply("5.5.2 Syntax error in AUTH PLAIN AGE= ignored", None).unwrap();

        assert_eq!(reply, "5.5.2 Syntax error in AUTH PLAIN *** ignored");
    }

    #[test]
    fn keeps_ordinary_word_after_auth() {
        let reply = sanitize_reply("5.7.0 Must issue AUTH command before MAIL", None).unwrap();

        assert_eq!(reply, "5.7.0 Must issue AUTH command before MAIL");
    }

    #[test]
    fn redacts_words_that_look_like_base64() {
        let reply = sanitize_reply("5.7.0 token dXNlcj1hZGEBYXV0aD1CZWFyZXIgeWEyOQEB refused", None).unwrap();

        assert_eq!(reply, "5.7.0 token *** refused");
    }

    #[test]
    fn keeps_ordinary_long_words() {
        let text = "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. [SN4PR0601CA0012.namprd06.prod.outlook.com 08DC123456789ABC]";

        assert_eq!(sanitize_reply(text, None).as_deref(), Some(text));
    }

    #[test]
    fn caps_the_length_at_500_characters() {
        let text = "é".repeat(300) + " " + &"x".repeat(300);

        let reply = sanitize_reply(&text, None).unwrap();

        assert_eq!(reply.chars().count(), 500);
        assert!(reply.ends_with('…'));
    }

    #[test]
    fn empty_reply_is_none() {
        assert_eq!(sanitize_reply(" \r\n ", None), None);
        assert_eq!(sanitize_reply("AUTH PLAIN abc", None), None);
    }
}
