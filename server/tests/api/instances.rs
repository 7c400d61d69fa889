//! Two `relais` processes on one database, as behind a load balancer: sessions, OAuth flows,
//! senders, token refreshes and rate limits are shared, because all of them live in the
//! database.

use std::process::Stdio;
use std::time::Duration;

use app::error::AppError;
use app::senders::SenderList;
use app::senders::test_send::TestEvent;
use reqwest::cookie::Jar;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::PASSWORD;
use crate::oauth_harness::{ProviderHarness, authorize};
use crate::oauth_senders::oauth_form;
use crate::senders::{Form, MAILBOX};
use crate::smtp_harness::{CERTIFICATES, Harness, with_certificate};
use crate::test_database::TestDatabase;

pub const SHARED_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// One running `relais` process, stopped when dropped.
pub struct Instance {
    pub child: Child,
    pub address: String,
    _data_dir: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Instance {
    /// Starts the binary on `port` with `variables`, and waits until `/healthz` returns 200.
    pub async fn start(port: u16, variables: &[(&'static str, String)]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_relais"));
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("RELAIS_")) {
            command.env_remove(name);
        }
        command
            .env("RELAIS_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("RELAIS_DATA_DIR", data_dir.path())
            .env("RUST_LOG", "warn")
            .envs(variables.iter().cloned())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        let child = command.spawn().expect("the relais binary starts");
        let address = format!("http://127.0.0.1:{port}");

        let health = format!("{address}/healthz");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(&health).await
                && response.status().is_success()
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "relais on port {port} did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Instance {
            child,
            address,
            _data_dir: data_dir,
        }
    }
}

/// A browser that talks to both instances through the shared public URL.
pub struct Browser {
    pub client: reqwest::Client,
    pub public_url: String,
}

impl Browser {
    pub async fn call(&self, instance: &Instance, function: &str, form: &[(String, String)]) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{function}", instance.address))
            .header("Origin", &self.public_url)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn test_send(&self, instance: &Instance, form: &Form) -> Vec<TestEvent> {
        let response = self.call(instance, "test_sender", &form.encoded()).await;
        let body = response.text().await.unwrap();
        body.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }
}

pub fn pairs(form: &[(&str, &str)]) -> Vec<(String, String)> {
    form.iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

pub fn succeeded(events: &[TestEvent]) -> bool {
    matches!(events.last(), Some(TestEvent::Succeeded { .. }))
}

#[tokio::test]
async fn two_processes_share_everything_through_the_database() {
    let provider = ProviderHarness::start("google", MAILBOX).await;
    let options = json!({"tls": "starttls", "xoauth2": {"verifyUrl": provider.verify_url()}});
    let smtp = Harness::start(with_certificate(options, &CERTIFICATES.localhost)).await;
    let database = TestDatabase::create().await;
    let shared_dir = tempfile::tempdir().unwrap();
    let (first_port, second_port) = (free_port(), free_port());
    let public_url = format!("http://127.0.0.1:{first_port}");

    let mut variables = provider.variables();
    variables.extend([
        ("RELAIS_DATABASE_URL", database.url_or_file_in(shared_dir.path())),
        ("RELAIS_SECRET_KEY", SHARED_KEY.to_string()),
        ("RELAIS_PUBLIC_URL", public_url.clone()),
        ("RELAIS_GOOGLE_SMTP", format!("localhost:{}", smtp.port)),
        ("RELAIS_GOOGLE_SMTP_SECURITY", "starttls".to_string()),
        ("RELAIS_SMTP_ALLOWED_TARGETS", format!("localhost:{}", smtp.port)),
        ("RELAIS_SMTP_EXTRA_CA_FILE", CERTIFICATES.ca_file.display().to_string()),
        ("RELAIS_TEST_SENDS_PER_10_MIN", "6".to_string()),
    ]);
    let first = Instance::start(first_port, &variables).await;
    let second = Instance::start(second_port, &variables).await;
    // Cookies are matched by host, not port, so the session cookie reaches both instances.
    let browser = Browser {
        client: reqwest::Client::builder()
            .cookie_provider(std::sync::Arc::new(Jar::default()))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        public_url,
    };

    // A session made on the first instance works on the second.
    let signed_up = browser
        .call(
            &first,
            "sign_up",
            &pairs(&[
                ("display_name", "Ana Lopes"),
                ("email", "ana@example.com"),
                ("password", PASSWORD),
            ]),
        )
        .await;
    assert!(signed_up.status().is_success(), "{}", signed_up.status());
    let settings = browser
        .client
        .get(format!("{}/settings", second.address))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 200);

    // An authorization started on the first instance finishes on the second.
    let started = browser
        .call(&first, "start_oauth", &pairs(&[("provider", "Google")]))
        .await;
    let provider_url: String = started.json().await.unwrap();
    let mut callback = authorize(&provider_url).await;
    callback.set_port(Some(second_port)).unwrap();
    let response = browser.client.get(callback).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let grant_id = location
        .strip_prefix("/settings?oauth_grant=")
        .and_then(|rest| rest.strip_suffix("#senders"))
        .unwrap_or_else(|| panic!("expected a pending grant, got {location}"))
        .to_string();

    // A sender tested on the second instance, saved on the first, is listed by the second.
    let form = oauth_form(Some(&grant_id), None);
    assert!(succeeded(&browser.test_send(&second, &form).await));
    let saved = browser.call(&first, "save_sender", &form.encoded()).await;
    assert!(saved.status().is_success(), "{}", saved.status());
    let saved: app::senders::SenderView = saved.json().await.unwrap();
    let listed: SenderList = browser.call(&second, "list_senders", &[]).await.json().await.unwrap();
    assert_eq!(listed.senders, vec![saved.clone()]);

    // Both instances need a fresh token at once: the provider receives one refresh request.
    sqlx::query("UPDATE oauth_grants SET access_expires_at = $1")
        .bind(relais::db::now() + 30)
        .execute(&connect(&database, shared_dir.path()).await)
        .await
        .unwrap();
    provider.control(json!({"delayNextTokenMs": 400})).await;
    let stored = oauth_form(None, Some(&saved));
    let (on_first, on_second) = tokio::join!(browser.test_send(&first, &stored), browser.test_send(&second, &stored));
    assert!(succeeded(&on_first), "{on_first:?}");
    assert!(succeeded(&on_second), "{on_second:?}");
    assert_eq!(provider.refresh_count().await, 1);

    // The limit of 6 test sends counts the sends of both instances: 3 so far.
    for instance in [&first, &second, &first] {
        assert!(succeeded(&browser.test_send(instance, &stored).await));
    }
    let rejected = browser.test_send(&second, &stored).await;
    assert!(
        matches!(
            rejected.last(),
            Some(TestEvent::Refused(AppError::TestRateLimited { .. }))
        ),
        "{rejected:?}"
    );
}

/// Opens a pool on the test database, to adjust rows the way time would.
pub async fn connect(database: &TestDatabase, dir: &std::path::Path) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&database.url_or_file_in(dir)).await.unwrap()
}
