//! Starts the OAuth provider harness (`end2end/oauth-harness`) and drives its test controls.

use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const CLIENT_ID: &str = "relais";
pub const CLIENT_SECRET: &str = "s3cret";

/// Running OAuth provider harness. Dropping it kills the process.
pub struct ProviderHarness {
    _child: Child,
    pub issuer: String,
    pub name: &'static str,
    http: reqwest::Client,
}

impl ProviderHarness {
    /// Starts a harness that emulates the `name` provider ("google" or "microsoft") and grants
    /// access to the mailbox `email`.
    pub async fn start(name: &'static str, email: &str) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/oauth-harness");
        let options = json!({"provider": name, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "email": email});
        let mut child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .current_dir(&dir)
            .env("OAUTH_HARNESS_OPTIONS", options.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the OAuth harness");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the harness prints its address");
        let listening: Value = serde_json::from_str(&line).unwrap();
        ProviderHarness {
            _child: child,
            issuer: listening["issuer"].as_str().unwrap().to_string(),
            name,
            http: reqwest::Client::new(),
        }
    }

    /// Returns the `RELAIS_*` variables that point Relais at this provider.
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        let names = match self.name {
            "google" => [
                "RELAIS_GOOGLE_CLIENT_ID",
                "RELAIS_GOOGLE_CLIENT_SECRET",
                "RELAIS_GOOGLE_AUTHORIZE_URL",
                "RELAIS_GOOGLE_TOKEN_URL",
                "RELAIS_GOOGLE_REVOKE_URL",
            ],
            _ => [
                "RELAIS_MICROSOFT_CLIENT_ID",
                "RELAIS_MICROSOFT_CLIENT_SECRET",
                "RELAIS_MICROSOFT_AUTHORIZE_URL",
                "RELAIS_MICROSOFT_TOKEN_URL",
                "RELAIS_MICROSOFT_REVOKE_URL",
            ],
        };
        let values = [
            CLIENT_ID.to_string(),
            CLIENT_SECRET.to_string(),
            format!("{}/authorize", self.issuer),
            format!("{}/token", self.issuer),
            format!("{}/revoke", self.issuer),
        ];
        names.into_iter().zip(values).collect()
    }

    pub fn verify_url(&self) -> String {
        format!("{}/_harness/tokens/verify", self.issuer)
    }

    /// Sends a test control, such as `{"revokeAll": true}`.
    pub async fn control(&self, controls: Value) {
        let response = self
            .http
            .post(format!("{}/_harness/control", self.issuer))
            .json(&controls)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "harness rejected control {controls}: HTTP {}",
            response.status()
        );
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_harness/stats", self.issuer))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn refresh_count(&self) -> u64 {
        self.stats().await["tokenRequests"]["refresh_token"]
            .as_u64()
            .unwrap_or(0)
    }
}

/// Follows the provider's authorization URL and returns its redirect location.
pub async fn authorize(url: &str) -> reqwest::Url {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap()
}
