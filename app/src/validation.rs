//! Input rules shared by the browser and the server, so both reject the same values with the
//! same message.

use crate::error::AppError;

/// RFC 5321 caps a forward path at 256 octets, which leaves 254 for the address itself.
pub const EMAIL_MAX_CHARS: usize = 254;
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Argon2 accepts longer inputs; the cap only bounds the hashing work one request can cause.
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Returns the address trimmed, with its domain in lower case, or the rule it breaks.
///
/// This checks the shape that mail providers accept: one `@`, a dotted domain, no spaces or
/// control characters. It does not try to accept every form that RFC 5322 allows.
pub fn normalize_email(input: &str) -> Result<String, AppError> {
    let email = input.trim();
    if email.is_empty() {
        return Err(AppError::EmailMissing);
    }
    if email.chars().count() > EMAIL_MAX_CHARS {
        return Err(AppError::EmailTooLong);
    }

    let (local, domain) = email.rsplit_once('@').ok_or(AppError::EmailInvalid)?;
    let local_is_valid = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
    if !local_is_valid || !is_valid_domain(domain) {
        return Err(AppError::EmailInvalid);
    }

    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// Checks a mail domain: at least two dot-separated labels of letters, digits and inner hyphens.
/// Non-ASCII letters are allowed because internationalized domain names are.
fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Returns the display name trimmed, or the rule it breaks.
pub fn normalize_display_name(input: &str) -> Result<String, AppError> {
    let name = input.trim();
    if name.chars().all(is_blank) {
        return Err(AppError::DisplayNameMissing);
    }
    if name.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(AppError::DisplayNameControl);
    }
    if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
        return Err(AppError::DisplayNameTooLong);
    }
    Ok(name.to_string())
}

/// Returns true for characters that display nothing: white space, zero-width characters, the
/// soft hyphen and the Hangul fillers. Joiners among them shape some scripts, so only a name of
/// these alone counts as empty.
fn is_blank(c: char) -> bool {
    const BLANK_CHARACTERS: [char; 7] = [
        '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{115F}', '\u{1160}', '\u{3164}', '\u{FFA0}',
    ];
    c.is_whitespace() || ('\u{200B}'..='\u{200D}').contains(&c) || BLANK_CHARACTERS.contains(&c)
}

/// Returns true for the invisible characters that reorder text (U+202A to U+202E and U+2066 to
/// U+2069): in a sender name they can make "Banque" display as something else.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks the length of a new account password. Passwords are never trimmed.
pub fn check_new_password(password: &str) -> Result<(), AppError> {
    let length = password.chars().count();
    if length < PASSWORD_MIN_CHARS {
        return Err(AppError::PasswordTooShort);
    }
    if length > PASSWORD_MAX_CHARS {
        return Err(AppError::PasswordTooLong);
    }
    Ok(())
}

/// Returns `next` when it is a path on this site, otherwise the workspace. This keeps the
/// sign-in redirect from sending users to another site (`//evil.example`, `/\evil.example`,
/// `https://…`).
pub fn safe_return_path(next: Option<&str>) -> String {
    const DEFAULT: &str = "/workspace";

    let Some(next) = next.map(str::trim).filter(|next| !next.is_empty()) else {
        return DEFAULT.to_string();
    };
    let is_local_path = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if is_local_path {
        next.to_string()
    } else {
        DEFAULT.to_string()
    }
}

/// Percent-encodes everything but unreserved characters and `/`, for a return path carried
/// in a query string (`/sign-in?next=…`).
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Returns the initials shown in the avatar: the first letter of the first two words.
pub fn initials(display_name: &str) -> String {
    display_name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_value_encoding_keeps_paths_readable() {
        assert_eq!(encode_query_value("/settings"), "/settings");
        assert_eq!(
            encode_query_value("/settings?a=1&b=é"),
            "/settings%3Fa%3D1%26b%3D%C3%A9"
        );
    }

    #[test]
    fn email_accepts_common_addresses() {
        assert_eq!(normalize_email(" Marie@Exemple.FR ").unwrap(), "Marie@exemple.fr");
        assert_eq!(
            normalize_email("a.b+tag@sub.example.com").unwrap(),
            "a.b+tag@sub.example.com"
        );
        assert_eq!(normalize_email("jose@exámple.es").unwrap(), "jose@exámple.es");
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for bad in [
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "a@exa mple.com",
            "a@-example.com",
            "a@example..com",
            ".a@example.com",
            "a..b@example.com",
            "a@exa\nmple.com",
        ] {
            assert_eq!(normalize_email(bad), Err(AppError::EmailInvalid), "{bad:?}");
        }
    }

    #[test]
    fn email_empty_is_missing() {
        assert_eq!(normalize_email("   "), Err(AppError::EmailMissing));
    }

    #[test]
    fn email_over_limit_is_too_long() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(normalize_email(&long), Err(AppError::EmailTooLong));
    }

    #[test]
    fn display_name_rules() {
        assert_eq!(normalize_display_name("  Ana Lopes "), Ok("Ana Lopes".to_string()));
        assert_eq!(normalize_display_name(" "), Err(AppError::DisplayNameMissing));
        assert_eq!(
            normalize_display_name("\u{200B}\u{FEFF} \u{3164}"),
            Err(AppError::DisplayNameMissing)
        );
        // Zero-width joiners shape Persian words and emoji sequences.
        assert_eq!(
            normalize_display_name("می\u{200C}خواهم"),
            Ok("می\u{200C}خواهم".to_string())
        );
        assert_eq!(normalize_display_name("a\r\nBcc: x"), Err(AppError::DisplayNameControl));
        assert_eq!(
            normalize_display_name("Banque \u{202E}lapyap"),
            Err(AppError::DisplayNameControl)
        );
        assert_eq!(normalize_display_name("فاطمة Ana"), Ok("فاطمة Ana".to_string()));
        assert_eq!(
            normalize_display_name(&"é".repeat(65)),
            Err(AppError::DisplayNameTooLong)
        );
        assert!(normalize_display_name(&"é".repeat(64)).is_ok());
    }

    #[test]
    fn password_length_rules() {
        assert_eq!(check_new_password("123456789"), Err(AppError::PasswordTooShort));
        assert_eq!(check_new_password("1234567890"), Ok(()));
        assert_eq!(check_new_password(&"x".repeat(257)), Err(AppError::PasswordTooLong));
    }

    #[test]
    fn return_path_keeps_only_local_paths() {
        assert_eq!(safe_return_path(Some("/settings")), "/settings");
        assert_eq!(safe_return_path(Some("/settings?tab=senders")), "/settings?tab=senders");
        for unsafe_path in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/a\\b",
            "",
        ] {
            assert_eq!(safe_return_path(Some(unsafe_path)), "/workspace", "{unsafe_path:?}");
        }
        assert_eq!(safe_return_path(None), "/workspace");
    }

    #[test]
    fn initials_from_display_name() {
        assert_eq!(initials("ana lopes dias"), "AL");
        assert_eq!(initials("Émile"), "É");
        assert_eq!(initials(""), "");
    }
}
