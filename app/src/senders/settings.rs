//! The sender form and its validation, shared by the browser (checks as the user types) and
//! the server (checks again before anything is tested or stored).

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::validation::{normalize_display_name, normalize_email};

/// No single field may exceed this many bytes.
pub const FIELD_MAX_BYTES: usize = 1024;
/// RFC 1035 limit for a domain name in text form.
pub const HOST_MAX_CHARS: usize = 253;

/// Connection security towards the SMTP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Security {
    /// TLS from the first byte, usually on port 465.
    Tls,
    /// Plain connection upgraded with STARTTLS, usually on port 587.
    StartTls,
    /// No encryption, usually on port 25.
    None,
}

impl Security {
    pub const ALL: [Security; 3] = [Security::Tls, Security::StartTls, Security::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::StartTls => "starttls",
            Security::None => "none",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|security| security.as_str() == value)
    }

    /// Returns the port this mode is normally served on.
    pub fn usual_port(self) -> u16 {
        match self {
            Security::Tls => 465,
            Security::StartTls => 587,
            Security::None => 25,
        }
    }
}

/// True for port and security pairs that almost never work, such as STARTTLS on 465.
pub fn is_unusual_pair(port: u16, security: Security) -> bool {
    matches!(
        (port, security),
        (465, Security::StartTls | Security::None) | (587, Security::Tls)
    )
}

/// The values of the sender dialog, as typed. An empty `password` when editing means "keep the
/// stored password".
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderForm {
    pub sender_id: Option<String>,
    pub version: Option<i64>,
    pub display_name: String,
    pub email: String,
    pub reply_to: String,
    pub smtp_host: String,
    pub smtp_port: String,
    pub security: String,
    pub username: String,
    pub password: String,
    /// The pending OAuth grant a new Google or Microsoft sender is made from. The server takes
    /// the address and the connection from the grant and ignores the SMTP fields.
    pub oauth_grant: Option<String>,
}

impl std::fmt::Debug for SenderForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderForm")
            .field("sender_id", &self.sender_id)
            .field("email", &self.email)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("security", &self.security)
            .field("oauth_grant", &self.oauth_grant)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    DisplayName,
    Email,
    ReplyTo,
    SmtpHost,
    SmtpPort,
    Security,
    Username,
    Password,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Problem {
    Missing,
    TooLong,
    ControlCharacter,
    EmailInvalid,
    HostHasScheme,
    HostHasPort,
    HostHasSpaces,
    HostInvalid,
    PortInvalid,
    SecurityInvalid,
    /// Host, port, security or username changed, so the stored password cannot be reused.
    PasswordRequiredForNewServer,
    /// A password over an unencrypted connection, which the operator has not allowed.
    PlaintextPasswordRefused,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: Field,
    pub problem: Problem,
}

/// The form once every field is valid. The password is not part of it: it stays in the form
/// until the server wraps it in a secret type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidSender {
    pub display_name: String,
    pub email: String,
    pub reply_to: Option<String>,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: Security,
    pub username: String,
}

/// Connection settings of the stored sender, which validation compares against when editing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredConnection {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: Security,
    pub username: String,
    pub has_password: bool,
}

impl ValidSender {
    /// True when the connection settings that a stored password belongs to are unchanged.
    pub fn same_server_as(&self, stored: &StoredConnection) -> bool {
        self.smtp_host.eq_ignore_ascii_case(&stored.smtp_host)
            && self.smtp_port == stored.smtp_port
            && self.security == stored.security
            && self.username == stored.username
    }
}

/// Checks every field and returns all problems at once, so the dialog can mark each field.
pub fn validate_sender_form(
    form: &SenderForm,
    stored: Option<&StoredConnection>,
    allow_plaintext_password: bool,
) -> Result<ValidSender, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let oversized = [
        (Field::DisplayName, &form.display_name),
        (Field::Email, &form.email),
        (Field::ReplyTo, &form.reply_to),
        (Field::SmtpHost, &form.smtp_host),
        (Field::SmtpPort, &form.smtp_port),
        (Field::Username, &form.username),
        (Field::Password, &form.password),
    ]
    .into_iter()
    .filter(|(_, value)| value.len() > FIELD_MAX_BYTES)
    .map(|(field, _)| FieldProblem {
        field,
        problem: Problem::TooLong,
    });
    problems.extend(oversized);
    if !problems.is_empty() {
        return Err(problems);
    }

    let reply_to = match form.reply_to.trim() {
        "" => Ok(None),
        value => check_email(value).map(Some),
    };
    let checked = (
        check_display_name(&form.display_name).map_err(|problem| (Field::DisplayName, problem)),
        check_email(&form.email).map_err(|problem| (Field::Email, problem)),
        reply_to.map_err(|problem| (Field::ReplyTo, problem)),
        check_host(&form.smtp_host).map_err(|problem| (Field::SmtpHost, problem)),
        check_port(&form.smtp_port).map_err(|problem| (Field::SmtpPort, problem)),
        Security::parse(&form.security).ok_or((Field::Security, Problem::SecurityInvalid)),
        check_free_text(&form.username).map_err(|problem| (Field::Username, problem)),
    );
    if form.password.contains(['\r', '\n', '\0']) {
        problems.push(FieldProblem {
            field: Field::Password,
            problem: Problem::ControlCharacter,
        });
    }

    let (Ok(display_name), Ok(email), Ok(reply_to), Ok(smtp_host), Ok(smtp_port), Ok(security), Ok(username)) =
        checked.clone()
    else {
        let (a, b, c, d, e, f, g) = checked;
        let failures = [a.err(), b.err(), c.err(), d.err(), e.err(), f.err(), g.err()];
        problems.extend(
            failures
                .into_iter()
                .flatten()
                .map(|(field, problem)| FieldProblem { field, problem }),
        );
        return Err(problems);
    };
    let valid = ValidSender {
        display_name,
        email,
        reply_to,
        smtp_host,
        smtp_port,
        security,
        username,
    };
    let mut report = |field, problem| problems.push(FieldProblem { field, problem });

    let keeps_stored_password = form.password.is_empty() && stored.is_some_and(|stored| stored.has_password);
    if keeps_stored_password && !stored.is_some_and(|stored| valid.same_server_as(stored)) {
        report(Field::Password, Problem::PasswordRequiredForNewServer);
    }
    if !form.password.is_empty() && !keeps_stored_password && valid.username.is_empty() {
        report(Field::Username, Problem::Missing);
    }
    if !valid.username.is_empty() && form.password.is_empty() && stored.is_none() {
        report(Field::Password, Problem::Missing);
    }
    let sends_password = !form.password.is_empty() || keeps_stored_password;
    if valid.security == Security::None && sends_password && !allow_plaintext_password {
        report(Field::Security, Problem::PlaintextPasswordRefused);
    }

    if problems.is_empty() { Ok(valid) } else { Err(problems) }
}

/// The fields a user can change on a Google or Microsoft sender: the rest comes from the grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthSenderFields {
    pub display_name: String,
    pub reply_to: Option<String>,
}

/// Checks the display name and reply-to address of a Google or Microsoft sender.
pub fn validate_oauth_form(form: &SenderForm) -> Result<OAuthSenderFields, Vec<FieldProblem>> {
    let oversized: Vec<FieldProblem> = [
        (Field::DisplayName, &form.display_name),
        (Field::ReplyTo, &form.reply_to),
    ]
    .into_iter()
    .filter(|(_, value)| value.len() > FIELD_MAX_BYTES)
    .map(|(field, _)| FieldProblem {
        field,
        problem: Problem::TooLong,
    })
    .collect();
    if !oversized.is_empty() {
        return Err(oversized);
    }
    let reply_to = match form.reply_to.trim() {
        "" => Ok(None),
        value => check_email(value).map(Some),
    };
    match (check_display_name(&form.display_name), reply_to) {
        (Ok(display_name), Ok(reply_to)) => Ok(OAuthSenderFields { display_name, reply_to }),
        (display_name, reply_to) => Err([
            display_name.err().map(|problem| FieldProblem {
                field: Field::DisplayName,
                problem,
            }),
            reply_to.err().map(|problem| FieldProblem {
                field: Field::ReplyTo,
                problem,
            }),
        ]
        .into_iter()
        .flatten()
        .collect()),
    }
}

/// Applies the account display-name rules and reports them as field problems.
fn check_display_name(value: &str) -> Result<String, Problem> {
    normalize_display_name(value).map_err(|error| match error {
        AppError::DisplayNameMissing => Problem::Missing,
        AppError::DisplayNameControl => Problem::ControlCharacter,
        _ => Problem::TooLong,
    })
}

fn check_email(value: &str) -> Result<String, Problem> {
    if value.trim().is_empty() {
        return Err(Problem::Missing);
    }
    if value.chars().any(char::is_control) {
        return Err(Problem::ControlCharacter);
    }
    normalize_email(value).map_err(|error| match error {
        AppError::EmailTooLong => Problem::TooLong,
        _ => Problem::EmailInvalid,
    })
}

fn check_free_text(value: &str) -> Result<String, Problem> {
    if value.chars().any(char::is_control) {
        return Err(Problem::ControlCharacter);
    }
    Ok(value.trim().to_string())
}

/// Accepts a host name (internationalized names included), an IPv4 address or an IPv6 address
/// with or without brackets, as typed without scheme, port or path. An IPv6 address is returned
/// in its canonical form without brackets.
fn check_host(value: &str) -> Result<String, Problem> {
    let host = value.trim().trim_end_matches('.');
    if host.is_empty() {
        return Err(Problem::Missing);
    }
    if host.contains("://") {
        return Err(Problem::HostHasScheme);
    }
    if host.chars().any(char::is_whitespace) {
        return Err(Problem::HostHasSpaces);
    }
    if host.chars().any(char::is_control) {
        return Err(Problem::ControlCharacter);
    }
    if host.contains(':') || host.starts_with('[') {
        return check_ipv6_literal(host);
    }
    if host.chars().count() > HOST_MAX_CHARS {
        return Err(Problem::TooLong);
    }

    let labels_are_valid = host.split('.').all(|label| {
        !label.is_empty()
            && label.chars().count() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    });
    if !labels_are_valid {
        return Err(Problem::HostInvalid);
    }
    Ok(host.to_string())
}

/// Accepts an IPv6 address, bracketed or not. One colon after a name, or a colon after the
/// closing bracket, means a port was typed into the host field. Anything else is invalid.
fn check_ipv6_literal(host: &str) -> Result<String, Problem> {
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = unbracketed.parse::<std::net::Ipv6Addr>() {
        return Ok(ip.to_string());
    }
    if host.matches(':').count() == 1 || host.contains("]:") {
        return Err(Problem::HostHasPort);
    }
    Err(Problem::HostInvalid)
}

fn check_port(value: &str) -> Result<u16, Problem> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Problem::Missing);
    }
    match value.parse::<u32>() {
        Ok(port @ 1..=65535) => Ok(port as u16),
        _ => Err(Problem::PortInvalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SenderForm {
        SenderForm {
            display_name: "Ana Lopes".into(),
            email: "ana@example.com".into(),
            smtp_host: "smtp.example.com".into(),
            smtp_port: "587".into(),
            security: "starttls".into(),
            username: "ana@example.com".into(),
            password: "app password".into(),
            ..SenderForm::default()
        }
    }

    fn problems_of(form: &SenderForm) -> Vec<FieldProblem> {
        validate_sender_form(form, None, false).err().unwrap_or_default()
    }

    fn has(form: &SenderForm, field: Field, problem: Problem) -> bool {
        problems_of(form).contains(&FieldProblem { field, problem })
    }

    #[test]
    fn complete_form_is_valid() {
        let valid = validate_sender_form(&form(), None, false).unwrap();
        assert_eq!(valid.smtp_port, 587);
        assert_eq!(valid.security, Security::StartTls);
        assert_eq!(valid.reply_to, None);
    }

    #[test]
    fn host_rules() {
        let cases = [
            ("https://smtp.example.com", Problem::HostHasScheme),
            ("smtp.example.com:587", Problem::HostHasPort),
            ("[2001:db8::1]:587", Problem::HostHasPort),
            ("smtp example.com", Problem::HostHasSpaces),
            ("", Problem::Missing),
            ("-bad.example.com", Problem::HostInvalid),
            ("a..example.com", Problem::HostInvalid),
            ("smtp.example.com/path", Problem::HostInvalid),
        ];
        for (host, problem) in cases {
            let form = SenderForm {
                smtp_host: host.into(),
                ..form()
            };
            assert!(
                has(&form, Field::SmtpHost, problem),
                "{host:?}: {:?}",
                problems_of(&form)
            );
        }
        let long = SenderForm {
            smtp_host: format!("{}.com", "a.".repeat(126)),
            ..form()
        };
        assert!(has(&long, Field::SmtpHost, Problem::TooLong));
    }

    #[test]
    fn host_accepts_idn_and_ipv4() {
        for host in ["smtp.exämple.fr", "mail.例え.jp", "192.0.2.10", "smtp.example.com."] {
            let form = SenderForm {
                smtp_host: host.into(),
                ..form()
            };
            assert!(validate_sender_form(&form, None, false).is_ok(), "{host}");
        }
    }

    #[test]
    fn host_accepts_ipv6_literals() {
        let cases = [
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:DB8:0::1", "2001:db8::1"),
            ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ];
        for (host, expected) in cases {
            let form = SenderForm {
                smtp_host: host.into(),
                ..form()
            };
            let valid = validate_sender_form(&form, None, false);
            assert_eq!(valid.map(|valid| valid.smtp_host), Ok(expected.to_string()), "{host}");
        }
    }

    #[test]
    fn host_with_other_colons_is_invalid() {
        for host in ["fe80::1%eth0", "[smtp.example.com]", "a:b:c"] {
            let form = SenderForm {
                smtp_host: host.into(),
                ..form()
            };
            assert!(
                has(&form, Field::SmtpHost, Problem::HostInvalid),
                "{host}: {:?}",
                problems_of(&form)
            );
        }
    }

    #[test]
    fn port_rules() {
        for port in ["0", "65536", "abc", "-1", "5 87"] {
            let form = SenderForm {
                smtp_port: port.into(),
                ..form()
            };
            assert!(has(&form, Field::SmtpPort, Problem::PortInvalid), "{port}");
        }
        for port in ["1", "65535", " 465 "] {
            let form = SenderForm {
                smtp_port: port.into(),
                ..form()
            };
            assert!(validate_sender_form(&form, None, false).is_ok(), "{port}");
        }
    }

    #[test]
    fn address_and_name_rules() {
        assert!(has(
            &SenderForm {
                email: "nope".into(),
                ..form()
            },
            Field::Email,
            Problem::EmailInvalid
        ));
        assert!(has(
            &SenderForm {
                reply_to: "nope".into(),
                ..form()
            },
            Field::ReplyTo,
            Problem::EmailInvalid
        ));
        assert!(has(
            &SenderForm {
                display_name: "a\r\nBcc: x".into(),
                ..form()
            },
            Field::DisplayName,
            Problem::ControlCharacter
        ));
        assert!(has(
            &SenderForm {
                display_name: "x".repeat(65),
                ..form()
            },
            Field::DisplayName,
            Problem::TooLong
        ));
        assert!(has(
            &SenderForm {
                email: "a@example.com\r\nBcc: b@example.com".into(),
                ..form()
            },
            Field::Email,
            Problem::ControlCharacter
        ));
        assert!(has(
            &SenderForm {
                username: "ana\n".into(),
                ..form()
            },
            Field::Username,
            Problem::ControlCharacter
        ));
        assert!(has(
            &SenderForm {
                password: "pa\r\nss".into(),
                ..form()
            },
            Field::Password,
            Problem::ControlCharacter
        ));
    }

    #[test]
    fn long_addresses_are_too_long() {
        let long = format!("{}@example.com", "a".repeat(243));
        let form = SenderForm {
            email: long.clone(),
            reply_to: long,
            ..form()
        };

        assert!(has(&form, Field::Email, Problem::TooLong));
        assert!(has(&form, Field::ReplyTo, Problem::TooLong));
    }

    #[test]
    fn display_name_keeps_quotes_commas_and_scripts() {
        let name = "\"Ana\", Ł 李 🚀";
        let valid = validate_sender_form(
            &SenderForm {
                display_name: name.into(),
                ..form()
            },
            None,
            false,
        )
        .unwrap();
        assert_eq!(valid.display_name, name);
    }

    #[test]
    fn oversized_fields_are_rejected_before_other_checks() {
        let form = SenderForm {
            password: "x".repeat(FIELD_MAX_BYTES + 1),
            ..form()
        };
        assert_eq!(
            problems_of(&form),
            vec![FieldProblem {
                field: Field::Password,
                problem: Problem::TooLong
            }]
        );
    }

    #[test]
    fn plaintext_password_needs_operator_consent() {
        let plain = SenderForm {
            security: "none".into(),
            smtp_port: "25".into(),
            ..form()
        };
        assert!(has(&plain, Field::Security, Problem::PlaintextPasswordRefused));
        assert!(validate_sender_form(&plain, None, true).is_ok());

        let no_auth = SenderForm {
            username: String::new(),
            password: String::new(),
            ..plain
        };
        assert!(validate_sender_form(&no_auth, None, false).is_ok());
    }

    #[test]
    fn new_sender_with_username_needs_a_password() {
        let form = SenderForm {
            password: String::new(),
            ..form()
        };
        assert!(has(&form, Field::Password, Problem::Missing));
    }

    #[test]
    fn stored_password_is_kept_only_for_the_same_server() {
        let stored = StoredConnection {
            smtp_host: "smtp.example.com".into(),
            smtp_port: 587,
            security: Security::StartTls,
            username: "ana@example.com".into(),
            has_password: true,
        };
        let renamed = SenderForm {
            display_name: "Ana L.".into(),
            password: String::new(),
            ..form()
        };
        assert!(validate_sender_form(&renamed, Some(&stored), false).is_ok());

        let changes = [
            SenderForm {
                smtp_host: "smtp.other.com".into(),
                ..renamed.clone()
            },
            SenderForm {
                smtp_port: "465".into(),
                security: "tls".into(),
                ..renamed.clone()
            },
            SenderForm {
                username: "other".into(),
                ..renamed.clone()
            },
        ];
        for changed in changes {
            let problems = validate_sender_form(&changed, Some(&stored), false).unwrap_err();
            assert!(
                problems.contains(&FieldProblem {
                    field: Field::Password,
                    problem: Problem::PasswordRequiredForNewServer
                }),
                "{changed:?}"
            );
        }
    }

    #[test]
    fn unusual_pairs_are_flagged() {
        assert!(is_unusual_pair(465, Security::StartTls));
        assert!(is_unusual_pair(587, Security::Tls));
        assert!(!is_unusual_pair(465, Security::Tls));
        assert!(!is_unusual_pair(587, Security::StartTls));
        assert!(!is_unusual_pair(2525, Security::StartTls));
    }

    #[test]
    fn form_debug_hides_the_password() {
        assert!(!format!("{:?}", form()).contains("app password"));
    }

    #[test]
    fn oauth_form_checks_only_name_and_reply_to() {
        let oauth = SenderForm {
            display_name: "Ana".into(),
            reply_to: " ".into(),
            oauth_grant: Some("grant".into()),
            ..SenderForm::default()
        };
        assert_eq!(
            validate_oauth_form(&oauth),
            Ok(OAuthSenderFields {
                display_name: "Ana".into(),
                reply_to: None
            })
        );
        let broken = SenderForm {
            display_name: String::new(),
            reply_to: "not an address".into(),
            ..oauth
        };
        let problems = validate_oauth_form(&broken).unwrap_err();
        assert_eq!(
            problems,
            vec![
                FieldProblem {
                    field: Field::DisplayName,
                    problem: Problem::Missing
                },
                FieldProblem {
                    field: Field::ReplyTo,
                    problem: Problem::EmailInvalid
                },
            ]
        );
    }
}
