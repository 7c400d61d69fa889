//! Google and Microsoft as OAuth 2.0 providers: endpoints, scopes and the SMTP server each
//! sender of that provider uses. Every URL can be overridden so tests point at local servers.

use app::senders::settings::Security;

use crate::smtp::SecretString;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Google,
    Microsoft,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Google, Provider::Microsoft];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|provider| provider.as_str() == value)
    }

    /// Prefix of this provider's `RELAIS_*` variables.
    fn variable_prefix(self) -> &'static str {
        match self {
            Provider::Google => "RELAIS_GOOGLE",
            Provider::Microsoft => "RELAIS_MICROSOFT",
        }
    }
}

/// One configured provider. It exists only when the operator set both client id and secret.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub provider: Provider,
    pub client_id: String,
    pub client_secret: SecretString,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    /// Scopes requested; `required_scope` must be granted for sending.
    pub scopes: Vec<String>,
    pub required_scope: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: Security,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}={value:?}: expected {expected}")]
pub struct ProviderConfigError {
    pub variable: String,
    pub value: String,
    pub expected: &'static str,
}

/// Reads a provider's settings. Returns `Ok(None)` when its client id or secret is missing,
/// which leaves the provider disabled.
pub fn read_provider(
    provider: Provider,
    read: &impl Fn(&str) -> Option<String>,
) -> Result<Option<ProviderConfig>, ProviderConfigError> {
    let prefix = provider.variable_prefix();
    let variable = |suffix: &str| format!("{prefix}_{suffix}");
    let value = |suffix: &str| read(&variable(suffix)).filter(|value| !value.trim().is_empty());

    let (client_id, client_secret) = match (value("CLIENT_ID"), value("CLIENT_SECRET")) {
        (Some(client_id), Some(client_secret)) => (client_id, client_secret),
        (None, None) => return Ok(None),
        // Half a configuration is a mistake, not a wish to leave the provider off.
        (Some(_), None) => {
            return Err(ProviderConfigError {
                variable: variable("CLIENT_SECRET"),
                value: String::new(),
                expected: "the client secret, which the client id needs",
            });
        }
        (None, Some(_)) => {
            return Err(ProviderConfigError {
                variable: variable("CLIENT_ID"),
                value: String::new(),
                expected: "the client id, which the client secret needs",
            });
        }
    };

    let tenant = value("TENANT").unwrap_or_else(|| "common".to_string());
    let tenant_is_valid = tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
    if !tenant_is_valid {
        return Err(ProviderConfigError {
            variable: variable("TENANT"),
            value: tenant,
            expected: "common, organizations, consumers, a tenant id or a domain such as contoso.onmicrosoft.com",
        });
    }
    let defaults = Defaults::for_provider(provider, &tenant);
    let url = |suffix: &str, default: &str| -> Result<String, ProviderConfigError> {
        let chosen = value(suffix).unwrap_or_else(|| default.to_string());
        match url::Url::parse(&chosen) {
            Ok(parsed) if matches!(parsed.scheme(), "https" | "http") => Ok(chosen),
            _ => Err(ProviderConfigError {
                variable: variable(suffix),
                value: chosen,
                expected: "an http or https URL",
            }),
        }
    };

    let (smtp_host, smtp_port) = match value("SMTP") {
        None => (defaults.smtp_host.to_string(), defaults.smtp_port),
        Some(pair) => parse_host_port(&pair).ok_or(ProviderConfigError {
            variable: variable("SMTP"),
            value: pair,
            expected: "host:port such as smtp.gmail.com:465",
        })?,
    };
    let security = match value("SMTP_SECURITY") {
        None => defaults.security,
        Some(chosen) => Security::parse(&chosen).ok_or(ProviderConfigError {
            variable: variable("SMTP_SECURITY"),
            value: chosen,
            expected: "tls, starttls or none",
        })?,
    };

    Ok(Some(ProviderConfig {
        provider,
        client_id,
        client_secret: SecretString::new(client_secret),
        authorize_url: url("AUTHORIZE_URL", &defaults.authorize_url)?,
        token_url: url("TOKEN_URL", &defaults.token_url)?,
        revoke_url: match (defaults.revoke_url, value("REVOKE_URL")) {
            (Some(default), _) => Some(url("REVOKE_URL", default)?),
            (None, Some(_)) => Some(url("REVOKE_URL", "")?),
            (None, None) => None,
        },
        scopes: defaults.scopes.iter().map(|scope| scope.to_string()).collect(),
        required_scope: defaults.required_scope.to_string(),
        smtp_host,
        smtp_port,
        security,
    }))
}

struct Defaults {
    authorize_url: String,
    token_url: String,
    revoke_url: Option<&'static str>,
    scopes: &'static [&'static str],
    required_scope: &'static str,
    smtp_host: &'static str,
    smtp_port: u16,
    security: Security,
}

impl Defaults {
    /// Public endpoints of Google and of the Microsoft identity platform (v2.0).
    fn for_provider(provider: Provider, tenant: &str) -> Self {
        match provider {
            Provider::Google => Defaults {
                authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".to_string(),
                token_url: "https://oauth2.googleapis.com/token".to_string(),
                revoke_url: Some("https://oauth2.googleapis.com/revoke"),
                scopes: &["https://mail.google.com/", "openid", "email"],
                required_scope: "https://mail.google.com/",
                smtp_host: "smtp.gmail.com",
                smtp_port: 465,
                security: Security::Tls,
            },
            Provider::Microsoft => Defaults {
                authorize_url: format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize"),
                token_url: format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
                // The identity platform offers no RFC 7009 revocation endpoint for this flow.
                // Deleting a sender only deletes its grant from Relais, and the user can remove
                // the app from their account's permissions.
                revoke_url: None,
                scopes: &[
                    "https://outlook.office.com/SMTP.Send",
                    "offline_access",
                    "openid",
                    "email",
                ],
                required_scope: "https://outlook.office.com/SMTP.Send",
                smtp_host: "smtp.office365.com",
                smtp_port: 587,
                security: Security::StartTls,
            },
        }
    }
}

fn parse_host_port(value: &str) -> Option<(String, u16)> {
    let (host, port) = value.trim().rsplit_once(':')?;
    let host_is_valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_'));
    let port: u16 = port.parse().ok().filter(|port| *port != 0)?;
    host_is_valid.then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read_with(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let values: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        move |name| values.get(name).cloned()
    }

    #[test]
    fn provider_without_credentials_is_disabled() {
        assert!(read_provider(Provider::Google, &read_with(&[])).unwrap().is_none());
        let half = read_with(&[("RELAIS_GOOGLE_CLIENT_ID", "id")]);
        assert_eq!(
            read_provider(Provider::Google, &half).unwrap_err().variable,
            "RELAIS_GOOGLE_CLIENT_SECRET"
        );
    }

    #[test]
    fn smtp_and_tenant_values_are_checked() {
        let base = [
            ("RELAIS_MICROSOFT_CLIENT_ID", "id"),
            ("RELAIS_MICROSOFT_CLIENT_SECRET", "secret"),
        ];
        for (name, value) in [
            ("RELAIS_MICROSOFT_SMTP", "smtp.example.com:0"),
            ("RELAIS_MICROSOFT_SMTP", "bad host/x:25"),
            ("RELAIS_MICROSOFT_TENANT", "../../evil?x=1#"),
        ] {
            let pairs = [base[0], base[1], (name, value)];
            let read = read_with(&pairs);
            assert_eq!(read_provider(Provider::Microsoft, &read).unwrap_err().variable, name);
        }
    }

    #[test]
    fn google_defaults() {
        let read = read_with(&[
            ("RELAIS_GOOGLE_CLIENT_ID", "id"),
            ("RELAIS_GOOGLE_CLIENT_SECRET", "secret"),
        ]);
        let google = read_provider(Provider::Google, &read).unwrap().unwrap();
        assert_eq!(
            (google.smtp_host.as_str(), google.smtp_port, google.security),
            ("smtp.gmail.com", 465, Security::Tls)
        );
        assert!(google.scopes.contains(&"https://mail.google.com/".to_string()));
        assert!(!format!("{google:?}").contains("secret\""));
    }

    #[test]
    fn microsoft_tenant_and_overrides() {
        let read = read_with(&[
            ("RELAIS_MICROSOFT_CLIENT_ID", "id"),
            ("RELAIS_MICROSOFT_CLIENT_SECRET", "secret"),
            ("RELAIS_MICROSOFT_TENANT", "contoso.onmicrosoft.com"),
            ("RELAIS_MICROSOFT_SMTP", "127.0.0.1:2525"),
        ]);
        let microsoft = read_provider(Provider::Microsoft, &read).unwrap().unwrap();
        assert!(
            microsoft
                .token_url
                .contains("/contoso.onmicrosoft.com/oauth2/v2.0/token")
        );
        assert_eq!((microsoft.smtp_host.as_str(), microsoft.smtp_port), ("127.0.0.1", 2525));
        assert_eq!(microsoft.security, Security::StartTls);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let read = read_with(&[
            ("RELAIS_GOOGLE_CLIENT_ID", "id"),
            ("RELAIS_GOOGLE_CLIENT_SECRET", "secret"),
            ("RELAIS_GOOGLE_TOKEN_URL", "ftp://example.com/token"),
        ]);
        assert_eq!(
            read_provider(Provider::Google, &read).unwrap_err().variable,
            "RELAIS_GOOGLE_TOKEN_URL"
        );
        let read = read_with(&[
            ("RELAIS_MICROSOFT_CLIENT_ID", "id"),
            ("RELAIS_MICROSOFT_CLIENT_SECRET", "secret"),
            ("RELAIS_MICROSOFT_REVOKE_URL", "not a url"),
        ]);
        assert_eq!(
            read_provider(Provider::Microsoft, &read).unwrap_err().variable,
            "RELAIS_MICROSOFT_REVOKE_URL"
        );
    }
}
