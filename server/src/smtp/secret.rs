use std::fmt;

/// A password or token that must never reach a log, a page or an error message.
///
/// It has no `Display` and no `Serialize`, and its `Debug` output hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the value, for the code that sends it to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmtpCredentials {
    Password {
        username: String,
        password: SecretString,
    },
    /// Signs in with XOAUTH2.
    OAuth2 {
        username: String,
        access_token: SecretString,
    },
}

impl SmtpCredentials {
    pub fn username(&self) -> &str {
        match self {
            Self::Password { username, .. } | Self::OAuth2 { username, .. } => username,
        }
    }

    pub fn secret(&self) -> &SecretString {
        match self {
            Self::Password { password, .. } => password,
            Self::OAuth2 { access_token, .. } => access_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let secret = SecretString::new("hunter2-very-secret");

        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret:#?}"), "***");
    }

    #[test]
    fn debug_of_credentials_hides_password_and_token() {
        let password = SmtpCredentials::Password {
            username: "ada@example.org".to_owned(),
            password: SecretString::new("hunter2-very-secret"),
        };
        let oauth = SmtpCredentials::OAuth2 {
            username: "ada@example.org".to_owned(),
            access_token: SecretString::new("ya29.token-value"),
        };

        let printed = format!("{password:?} {oauth:#?}");

        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("ya29"), "{printed}");
        assert!(printed.contains("***"), "{printed}");
        assert!(printed.contains("ada@example.org"), "{printed}");
    }
}
