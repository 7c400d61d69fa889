//! Settings read from `RELAIS_*` environment variables, validated once at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

use crate::client_address::TrustedProxies;
use crate::oauth::providers::{Provider, ProviderConfig, read_provider};

/// Each variable with its default and meaning, printed by `relais --help`.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "RELAIS_LISTEN_ADDR",
        "127.0.0.1:3000",
        "IP address and port the HTTP server listens on.",
    ),
    (
        "RELAIS_DATABASE_URL",
        "sqlite://<RELAIS_DATA_DIR>/relais.db",
        "Database URL: sqlite://FILE, or postgres://USER:PASSWORD@HOST/DATABASE. Migrated at start-up.",
    ),
    (
        "RELAIS_DATABASE_MAX_CONNECTIONS",
        "8 (SQLite), 4 per CPU core up to 32 (PostgreSQL)",
        "Size of the database connection pool. A request that waits 5 s for a connection gets 503.",
    ),
    (
        "RELAIS_DATA_DIR",
        "data",
        "Directory for the SQLite database and the keyring file (relais.key), created on first run while the \
         database holds no credential.",
    ),
    (
        "RELAIS_PUBLIC_URL",
        "http://<RELAIS_LISTEN_ADDR>",
        "URL users open in their browser. With https, cookies are marked Secure.",
    ),
    (
        "RELAIS_TRUSTED_PROXIES",
        "(none)",
        "Comma-separated IP addresses or CIDR networks of reverse proxies whose X-Forwarded-For header \
         gives the client address, e.g. 10.0.0.0/8. Other peers are the client themselves.",
    ),
    (
        "RELAIS_DEFAULT_SENDER",
        "(none)",
        "Platform default sender address, shown to accounts that have no sender of their own.",
    ),
    (
        "RELAIS_LOG_FORMAT",
        "text",
        "Log format on standard output: text or json.",
    ),
    (
        "RELAIS_SECRET_KEY",
        "(read from relais.key)",
        "Keyring that encrypts stored credentials, instead of the key file: id:base64 entries of 32 random bytes \
         separated by commas, the current key first. A bare base64 value is key k1.",
    ),
    (
        "RELAIS_SITE_ROOT",
        "target/site",
        "Directory with the built browser assets (pkg/, favicon).",
    ),
    (
        "RELAIS_BENCH_STATIC_PAGE",
        "(none)",
        "For scripts/bench only: an HTML file served from memory at /bench/static-page, the baseline that the \
         settings page is compared with.",
    ),
    ("RELAIS_MAX_SENDERS", "50", "Maximum number of senders per account."),
    (
        "RELAIS_TEST_SEND_TIMEOUT_SECS",
        "20",
        "Upper bound, in seconds, on one test send, whatever the server does.",
    ),
    (
        "RELAIS_TEST_SENDS_PER_10_MIN",
        "10",
        "Test sends allowed per account in any 10 minutes, failures included.",
    ),
    (
        "RELAIS_SMTP_ALLOWED_TARGETS",
        "(none)",
        "Comma-separated host:port pairs that may be private or loopback addresses, e.g. mail.internal:25.",
    ),
    (
        "RELAIS_SMTP_EXTRA_CA_FILE",
        "(none)",
        "PEM file of certificate authorities trusted for SMTP, in addition to the public ones.",
    ),
    (
        "RELAIS_ALLOW_PLAINTEXT_SMTP_PASSWORD",
        "false",
        "true lets senders send a password over an unencrypted SMTP connection.",
    ),
    (
        "RELAIS_GOOGLE_CLIENT_ID",
        "(none)",
        "OAuth client id of the Google Cloud app; with the secret, enables \"Sign in with Google\".",
    ),
    (
        "RELAIS_GOOGLE_CLIENT_SECRET",
        "(none)",
        "OAuth client secret of the Google Cloud app.",
    ),
    (
        "RELAIS_MICROSOFT_CLIENT_ID",
        "(none)",
        "Application (client) id of the Microsoft Entra app; with the secret, enables \"Sign in with Microsoft\".",
    ),
    (
        "RELAIS_MICROSOFT_CLIENT_SECRET",
        "(none)",
        "Client secret of the Microsoft Entra app.",
    ),
    (
        "RELAIS_MICROSOFT_TENANT",
        "common",
        "Microsoft tenant: common, organizations, consumers, or a tenant id or domain.",
    ),
    (
        "RELAIS_<PROVIDER>_AUTHORIZE_URL, _TOKEN_URL, _REVOKE_URL",
        "(the provider's)",
        "Provider endpoints, for tests or proxies. PROVIDER is GOOGLE or MICROSOFT.",
    ),
    (
        "RELAIS_<PROVIDER>_SMTP, _SMTP_SECURITY",
        "smtp.gmail.com:465 tls, smtp.office365.com:587 starttls",
        "SMTP server (host:port) and security (tls, starttls, none) of the provider's senders.",
    ),
    (
        "RELAIS_OAUTH_TIMEOUT_SECS",
        "10",
        "Time limit, in seconds, of one request to a provider's token or revocation endpoint.",
    ),
    (
        "RUST_LOG",
        "info",
        "Log filter, in tracing-subscriber's EnvFilter syntax.",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone)]
pub struct Config {
    pub listen_addr: SocketAddr,
    pub database_url: String,
    pub database_max_connections: u32,
    pub data_dir: PathBuf,
    pub public_url: Url,
    /// True when `RELAIS_PUBLIC_URL` is unset, so the URL follows the bound address.
    pub public_url_is_default: bool,
    pub default_sender: Option<String>,
    /// Peers whose `X-Forwarded-For` header gives the client address.
    pub trusted_proxies: TrustedProxies,
    pub log_format: LogFormat,
    /// Base64 key from the environment; `None` means the key file in `data_dir` is used.
    pub secret_key: Option<String>,
    pub site_root: PathBuf,
    /// HTML served at `/bench/static-page` as the benchmark's baseline, when set.
    pub bench_static_page: Option<PathBuf>,
    pub senders: SenderLimits,
    /// Google and Microsoft, when the operator configured them.
    pub oauth_providers: Vec<ProviderConfig>,
    pub oauth_timeout: std::time::Duration,
}

/// Limits and network policy for senders and their test sends.
#[derive(Debug, Clone)]
pub struct SenderLimits {
    pub max_senders: u32,
    pub test_send_timeout: std::time::Duration,
    pub test_sends_per_window: u32,
    /// Lower-case `host:port` pairs exempt from the private-address check.
    pub smtp_allowed_targets: Vec<(String, u16)>,
    pub smtp_extra_ca_file: Option<PathBuf>,
    pub allow_plaintext_password: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen_addr", &self.listen_addr)
            .field("database_url", &"(set)")
            .field("database_max_connections", &self.database_max_connections)
            .field("data_dir", &self.data_dir)
            .field("public_url", &self.public_url.as_str())
            .field("default_sender", &self.default_sender)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("log_format", &self.log_format)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "(set)"))
            .field("site_root", &self.site_root)
            .field("senders", &self.senders)
            .field("oauth_providers", &self.oauth_providers)
            .field("oauth_timeout", &self.oauth_timeout)
            .finish()
    }
}

/// A variable whose value cannot be used, with the form it should have.
#[derive(Debug, thiserror::Error)]
#[error("invalid {variable}={value:?}: expected {expected}")]
pub struct ConfigError {
    pub variable: String,
    pub value: String,
    pub expected: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which returns a variable's value if it is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let listen_addr = match read("RELAIS_LISTEN_ADDR") {
            Some(value) => value.trim().parse().map_err(|_| ConfigError {
                variable: "RELAIS_LISTEN_ADDR".into(),
                value,
                expected: "an IP address and port such as 127.0.0.1:3000 or [::1]:3000".into(),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };

        let data_dir = PathBuf::from(read("RELAIS_DATA_DIR").unwrap_or_else(|| "data".to_string()));

        let database_url = match read("RELAIS_DATABASE_URL") {
            Some(value) if crate::db::Backend::of_url(&value).is_some() => value,
            Some(value) => {
                return Err(ConfigError {
                    variable: "RELAIS_DATABASE_URL".into(),
                    value,
                    expected: "a SQLite or PostgreSQL URL such as sqlite://data/relais.db or \
                               postgres://relais@db.internal/relais"
                        .into(),
                });
            }
            None => format!("sqlite://{}", data_dir.join("relais.db").display()),
        };

        let default_connections = match crate::db::Backend::of_url(&database_url) {
            Some(crate::db::Backend::Postgres) => {
                let cores = std::thread::available_parallelism().map_or(2, usize::from) as u32;
                (4 * cores).min(32)
            }
            _ => 8,
        };
        let database_max_connections =
            parse_number(&read, "RELAIS_DATABASE_MAX_CONNECTIONS", default_connections, 1..=1000)?;

        let public_url_is_default = read("RELAIS_PUBLIC_URL").is_none();
        let public_url = match read("RELAIS_PUBLIC_URL") {
            Some(value) => parse_public_url(&value).ok_or(ConfigError {
                variable: "RELAIS_PUBLIC_URL".into(),
                value,
                expected: "an http or https URL without a path, such as https://relais.example.com".into(),
            })?,
            None => Url::parse(&format!("http://{listen_addr}")).expect("a socket address forms a valid URL"),
        };

        let default_sender = match read("RELAIS_DEFAULT_SENDER") {
            Some(value) => Some(app::validation::normalize_email(&value).map_err(|_| ConfigError {
                variable: "RELAIS_DEFAULT_SENDER".into(),
                value,
                expected: "an email address such as noreply@example.com".into(),
            })?),
            None => None,
        };

        let trusted_proxies = match read("RELAIS_TRUSTED_PROXIES") {
            Some(value) => TrustedProxies::parse(&value).ok_or(ConfigError {
                variable: "RELAIS_TRUSTED_PROXIES".into(),
                value,
                expected: "comma-separated IP addresses or CIDR networks such as 10.0.0.0/8,192.0.2.7".into(),
            })?,
            None => TrustedProxies::default(),
        };

        let log_format = match read("RELAIS_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    variable: "RELAIS_LOG_FORMAT".into(),
                    value: other.to_string(),
                    expected: "text or json".into(),
                });
            }
        };

        let site_root = PathBuf::from(read("RELAIS_SITE_ROOT").unwrap_or_else(|| "target/site".to_string()));

        let senders = SenderLimits {
            max_senders: parse_number(&read, "RELAIS_MAX_SENDERS", 50, 1..=10_000)?,
            test_send_timeout: std::time::Duration::from_secs(parse_number(
                &read,
                "RELAIS_TEST_SEND_TIMEOUT_SECS",
                20,
                1..=300,
            )?),
            test_sends_per_window: parse_number(&read, "RELAIS_TEST_SENDS_PER_10_MIN", 10, 1..=10_000)?,
            smtp_allowed_targets: match read("RELAIS_SMTP_ALLOWED_TARGETS") {
                Some(value) => parse_targets(&value).ok_or(ConfigError {
                    variable: "RELAIS_SMTP_ALLOWED_TARGETS".into(),
                    value,
                    expected: "comma-separated host:port pairs such as mail.internal:25,127.0.0.1:2525".into(),
                })?,
                None => Vec::new(),
            },
            smtp_extra_ca_file: read("RELAIS_SMTP_EXTRA_CA_FILE").map(PathBuf::from),
            allow_plaintext_password: match read("RELAIS_ALLOW_PLAINTEXT_SMTP_PASSWORD").as_deref().map(str::trim) {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(ConfigError {
                        variable: "RELAIS_ALLOW_PLAINTEXT_SMTP_PASSWORD".into(),
                        value: other.to_string(),
                        expected: "true or false".into(),
                    });
                }
            },
        };

        let mut oauth_providers = Vec::new();
        for provider in Provider::ALL {
            let config = read_provider(provider, &read).map_err(|error| ConfigError {
                variable: error.variable,
                value: error.value,
                expected: error.expected.into(),
            })?;
            if let Some(config) = &config
                && config.security == app::senders::settings::Security::None
                && !senders.allow_plaintext_password
            {
                let prefix = match provider {
                    Provider::Google => "RELAIS_GOOGLE",
                    Provider::Microsoft => "RELAIS_MICROSOFT",
                };
                // An access token is a credential like a password, and never crosses the network
                // in clear unless the operator allowed that.
                return Err(ConfigError {
                    variable: format!("{prefix}_SMTP_SECURITY"),
                    value: "none".to_string(),
                    expected: "tls or starttls (none needs RELAIS_ALLOW_PLAINTEXT_SMTP_PASSWORD=true)".into(),
                });
            }
            oauth_providers.extend(config);
        }
        let oauth_timeout =
            std::time::Duration::from_secs(parse_number(&read, "RELAIS_OAUTH_TIMEOUT_SECS", 10, 1..=120)?);

        Ok(Config {
            listen_addr,
            database_url,
            database_max_connections,
            data_dir,
            public_url,
            public_url_is_default,
            default_sender,
            trusted_proxies,
            log_format,
            secret_key: read("RELAIS_SECRET_KEY"),
            site_root,
            bench_static_page: read("RELAIS_BENCH_STATIC_PAGE").map(PathBuf::from),
            senders,
            oauth_providers,
            oauth_timeout,
        })
    }

    /// Whether cookies must carry the `Secure` attribute.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// Returns the origin (`scheme://host[:port]`) that browsers send in the `Origin` header.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

fn parse_number<T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy>(
    read: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError> {
    let Some(value) = read(variable) else {
        return Ok(default);
    };
    match value.trim().parse::<T>() {
        Ok(number) if range.contains(&number) => Ok(number),
        _ => Err(ConfigError {
            variable: variable.into(),
            value,
            expected: format!("a whole number from {} to {}", range.start(), range.end()),
        }),
    }
}

fn parse_targets(value: &str) -> Option<Vec<(String, u16)>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (host, port) = pair.rsplit_once(':')?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            (!host.is_empty()).then_some(())?;
            Some((host.to_ascii_lowercase(), port.parse().ok()?))
        })
        .collect()
}

fn parse_public_url(value: &str) -> Option<Url> {
    let url = Url::parse(value.trim()).ok()?;
    let is_web = matches!(url.scheme(), "http" | "https") && url.host().is_some();
    let is_root = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    (is_web && is_root).then_some(url)
}

/// Returns the text `relais --help` prints.
pub fn help_text() -> String {
    let mut text = String::from(
        "relais: self-hosted management of the sender addresses your mail goes out from.\n\n\
         Usage: relais [--help]\n       relais keys status|rotate|reencrypt|remove\n\n\
         Without arguments, relais runs the server. The keys commands manage the keyring that encrypts \
         stored credentials:\n",
    );
    text.push_str(crate::keys::command::USAGE);
    text.push_str("\nConfiguration is read from environment variables (the keys commands read them too):\n");
    for (name, default, meaning) in VARIABLES {
        text.push_str(&format!("  {name}\n      {meaning}\n      Default: {default}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config_with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let values: HashMap<String, String> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Config::from_lookup(|name| values.get(name).cloned())
    }

    #[test]
    fn defaults_listen_on_loopback_with_sqlite_in_data() {
        let config = config_with(&[]).unwrap();
        assert_eq!(config.listen_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, "sqlite://data/relais.db");
        assert_eq!(config.public_origin(), "http://127.0.0.1:3000");
        assert!(!config.is_https());
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let cases = [
            ("RELAIS_LISTEN_ADDR", "localhost"),
            ("RELAIS_DATABASE_URL", "mysql://db"),
            ("RELAIS_PUBLIC_URL", "ftp://example.com"),
            ("RELAIS_PUBLIC_URL", "https://example.com/relais"),
            ("RELAIS_DEFAULT_SENDER", "not an address"),
            ("RELAIS_LOG_FORMAT", "xml"),
            ("RELAIS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
            ("RELAIS_MAX_SENDERS", "0"),
            ("RELAIS_TEST_SEND_TIMEOUT_SECS", "soon"),
            ("RELAIS_SMTP_ALLOWED_TARGETS", "mail.internal"),
            ("RELAIS_ALLOW_PLAINTEXT_SMTP_PASSWORD", "yes"),
        ];
        for (variable, value) in cases {
            let error = config_with(&[(variable, value)]).err().unwrap();
            assert_eq!(error.variable, variable);
            assert!(error.to_string().contains(variable), "{error}");
        }
    }

    #[test]
    fn provider_plaintext_smtp_needs_opt_in() {
        let google = [
            ("RELAIS_GOOGLE_CLIENT_ID", "id"),
            ("RELAIS_GOOGLE_CLIENT_SECRET", "secret"),
        ];
        let config = config_with(&google).unwrap();
        assert_eq!(config.oauth_providers.len(), 1);
        assert_eq!(config.oauth_timeout.as_secs(), 10);

        let plaintext = [google[0], google[1], ("RELAIS_GOOGLE_SMTP_SECURITY", "none")];
        let error = config_with(&plaintext).err().unwrap();
        assert_eq!(error.variable, "RELAIS_GOOGLE_SMTP_SECURITY");
        let allowed = [
            google[0],
            google[1],
            ("RELAIS_GOOGLE_SMTP_SECURITY", "none"),
            ("RELAIS_ALLOW_PLAINTEXT_SMTP_PASSWORD", "true"),
        ];
        assert!(config_with(&allowed).is_ok());
    }

    #[test]
    fn sender_limits_are_read() {
        let config = config_with(&[
            ("RELAIS_MAX_SENDERS", "3"),
            ("RELAIS_SMTP_ALLOWED_TARGETS", "127.0.0.1:2525, Mail.Internal:25"),
        ])
        .unwrap();
        assert_eq!(config.senders.max_senders, 3);
        assert_eq!(config.senders.test_send_timeout.as_secs(), 20);
        assert_eq!(
            config.senders.smtp_allowed_targets,
            vec![("127.0.0.1".to_string(), 2525), ("mail.internal".to_string(), 25)]
        );
    }

    #[test]
    fn https_public_url_is_secure() {
        let config = config_with(&[("RELAIS_PUBLIC_URL", "https://relais.example.com")]).unwrap();
        assert!(config.is_https());
        assert_eq!(config.public_origin(), "https://relais.example.com");
    }

    #[test]
    fn debug_output_hides_the_secret_key() {
        let config = config_with(&[("RELAIS_SECRET_KEY", "c2VjcmV0")]).unwrap();
        assert!(!format!("{config:?}").contains("c2VjcmV0"));
    }
}
