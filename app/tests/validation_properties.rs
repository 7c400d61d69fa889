//! Property tests for the input rules shared by the browser and the server: no input panics,
//! and every accepted value is free of the characters that could break a header or a command.

use app::senders::settings::{Field, FieldProblem, Problem, SenderForm, validate_sender_form};
use app::validation::{
    DISPLAY_NAME_MAX_CHARS, EMAIL_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, check_new_password,
    normalize_display_name, normalize_email, safe_return_path,
};
use proptest::prelude::*;

/// Strings biased towards the characters that matter here: separators, line breaks, NUL,
/// Unicode line separators, bidi controls and non-Latin letters.
fn tricky_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("@".to_string()),
        Just(".".to_string()),
        Just(":".to_string()),
        Just("/".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("%".to_string()),
        Just(" ".to_string()),
        Just("\r\n".to_string()),
        Just("\0".to_string()),
        Just("\u{85}".to_string()),
        Just("\u{2028}".to_string()),
        Just("\u{202e}".to_string()),
        Just("\"".to_string()),
        Just(",".to_string()),
        "[a-zA-Z0-9-]{1,8}",
        "[äéø日本語пример]{1,4}",
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|pieces| pieces.concat())
}

fn has_line_break_or_control(value: &str) -> bool {
    value
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn form_with(field: Field, value: &str) -> SenderForm {
    let mut form = SenderForm {
        display_name: "Ana".into(),
        email: "ana@example.com".into(),
        smtp_host: "smtp.example.com".into(),
        smtp_port: "587".into(),
        security: "starttls".into(),
        username: "ana@example.com".into(),
        password: "app password".into(),
        ..SenderForm::default()
    };
    let slot = match field {
        Field::DisplayName => &mut form.display_name,
        Field::Email => &mut form.email,
        Field::ReplyTo => &mut form.reply_to,
        Field::SmtpHost => &mut form.smtp_host,
        Field::SmtpPort => &mut form.smtp_port,
        Field::Security => &mut form.security,
        Field::Username => &mut form.username,
        Field::Password => &mut form.password,
    };
    *slot = value.to_string();
    form
}

proptest! {
    #[test]
    fn email_accepts_only_clean_addresses(input in tricky_text()) {
        if let Ok(email) = normalize_email(&input) {
            prop_assert!(!email.chars().any(|c| c.is_whitespace() || c.is_control()), "{email:?}");
            prop_assert!(email.chars().count() <= EMAIL_MAX_CHARS);
            prop_assert_eq!(email.matches('@').count(), 1);
            prop_assert_eq!(normalize_email(&email), Ok(email.clone()));
        }
    }

    #[test]
    fn display_name_accepts_only_one_line(input in tricky_text()) {
        if let Ok(name) = normalize_display_name(&input) {
            prop_assert!(!name.chars().any(char::is_control), "{name:?}");
            prop_assert!(!name.chars().any(is_bidi_control), "{name:?}");
            prop_assert!(!name.is_empty() && name.chars().count() <= DISPLAY_NAME_MAX_CHARS);
            prop_assert_eq!(name.trim(), name.as_str());
        }
    }

    #[test]
    fn password_length_bounds(length in 0usize..300, filler in any::<char>()) {
        let password: String = std::iter::repeat_n(filler, length).collect();

        let accepted = check_new_password(&password).is_ok();

        prop_assert_eq!(accepted, (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&length));
    }

    #[test]
    fn return_path_stays_on_site(input in tricky_text()) {
        let path = safe_return_path(Some(&input));

        prop_assert!(path.starts_with('/'));
        prop_assert!(!path.starts_with("//") && !path.starts_with("/\\"));
        prop_assert!(!path.chars().any(|c| c.is_control() || c == '\\'));
    }

    #[test]
    fn port_accepts_exactly_1_to_65535(port in any::<u32>()) {
        let result = validate_sender_form(&form_with(Field::SmtpPort, &port.to_string()), None, false);

        prop_assert_eq!(result.map(|valid| u32::from(valid.smtp_port)).ok(), (1..=65535).contains(&port).then_some(port));
    }

    #[test]
    fn accepted_host_is_a_bare_name(input in tricky_text()) {
        if let Ok(valid) = validate_sender_form(&form_with(Field::SmtpHost, &input), None, false) {
            let host = valid.smtp_host;
            prop_assert!(!host.is_empty() && host.chars().count() <= 253, "{host:?}");
            prop_assert!(!host.chars().any(|c| c.is_whitespace() || c.is_control()), "{host:?}");
            prop_assert!(!host.contains("://") && !host.contains('/') && !host.contains('@'), "{host:?}");
            let is_ipv6 = host.parse::<std::net::Ipv6Addr>().is_ok();
            prop_assert!(is_ipv6 || !host.contains(':'), "{host:?}");
        }
    }

    #[test]
    fn accepted_fields_have_no_line_breaks(field_index in 0usize..6, input in tricky_text()) {
        let field = [Field::DisplayName, Field::Email, Field::ReplyTo, Field::SmtpHost, Field::Username, Field::Password][field_index];

        let result = validate_sender_form(&form_with(field, &input), None, false);

        // Fields other than the password are trimmed, so only inner line breaks must be reported.
        if input.trim().contains(['\r', '\n', '\0']) {
            let problems = result.clone().err().unwrap_or_default();
            prop_assert!(problems.iter().any(|problem| problem.field == field), "{field:?} {input:?}: {result:?}");
        }
        if let Ok(valid) = result {
            let reply_to = valid.reply_to.clone().unwrap_or_default();
            for value in [&valid.display_name, &valid.email, &reply_to, &valid.smtp_host, &valid.username] {
                prop_assert!(!value.chars().any(char::is_control), "{value:?}");
            }
            for address in [&valid.email, &reply_to, &valid.smtp_host] {
                prop_assert!(!has_line_break_or_control(address), "{address:?}");
            }
        }
    }

    #[test]
    fn oversized_field_is_too_long(field_index in 0usize..7, extra in 1usize..64) {
        let field = [Field::DisplayName, Field::Email, Field::ReplyTo, Field::SmtpHost, Field::SmtpPort, Field::Username, Field::Password][field_index];
        let value = "a".repeat(app::senders::settings::FIELD_MAX_BYTES + extra);

        let problems = validate_sender_form(&form_with(field, &value), None, false).err().unwrap_or_default();

        prop_assert_eq!(problems, vec![FieldProblem { field, problem: Problem::TooLong }]);
    }
}
