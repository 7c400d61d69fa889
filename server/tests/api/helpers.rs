use std::collections::HashMap;
use std::sync::Arc;

use relais::config::Config;
use relais::sessions::SessionStorage;
use relais::startup::Application;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Response, Url, redirect};
use sqlx::AnyPool;

use crate::test_database::TestDatabase;

pub const PASSWORD: &str = "correct horse battery";
pub const DEFAULT_SENDER: &str = "noreply@relais.example";

pub struct TestApp {
    pub address: String,
    pub pool: AnyPool,
    pub sessions: SessionStorage,
    pub jar: Arc<Jar>,
    pub client: reqwest::Client,
    // Declared before the data directory, so the database is dropped first.
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
}

/// Starts the application with a fresh data directory and returns a client with its own cookies.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Same as [`spawn_app`], with extra or overriding `RELAIS_*` variables.
pub async fn spawn_app_with(extra: &[(&'static str, String)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let database = TestDatabase::create().await;
    spawn_app_on(database, data_dir, extra).await
}

/// Starts the application on an existing database and data directory, as a restart does.
pub async fn spawn_app_on(
    database: TestDatabase,
    data_dir: tempfile::TempDir,
    extra: &[(&'static str, String)],
) -> TestApp {
    let application = Application::build(test_config(&database, &data_dir, extra))
        .await
        .expect("the application builds");
    let address = format!("http://{}", application.address());
    let pool = application.pool.clone();
    let sessions = application.sessions.clone();
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    let jar = Arc::new(Jar::default());
    TestApp {
        client: client_with(jar.clone()),
        address,
        pool,
        sessions,
        jar,
        _database: database,
        _data_dir: data_dir,
    }
}

/// Builds the configuration of a test application on `database` and `data_dir`.
pub fn test_config(database: &TestDatabase, data_dir: &tempfile::TempDir, extra: &[(&'static str, String)]) -> Config {
    let mut variables = HashMap::from([
        ("RELAIS_LISTEN_ADDR", "127.0.0.1:0".to_string()),
        ("RELAIS_DATA_DIR", data_dir.path().display().to_string()),
        ("RELAIS_DATABASE_URL", database.url_or_file_in(data_dir.path())),
        ("RELAIS_DEFAULT_SENDER", DEFAULT_SENDER.to_string()),
    ]);
    variables.extend(extra.iter().cloned());
    Config::from_lookup(|name| variables.get(name).cloned()).expect("a valid test configuration")
}

fn client_with(jar: Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(redirect::Policy::none())
        .build()
        .expect("a reqwest client")
}

impl TestApp {
    /// Returns the database and data directory, to start the application again on them. This
    /// server keeps running.
    pub fn into_storage(self) -> (TestDatabase, tempfile::TempDir) {
        (self._database, self._data_dir)
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.address)).unwrap()
    }

    /// Returns a second browser: same server, no cookies.
    pub fn new_client(&self) -> (Arc<Jar>, reqwest::Client) {
        let jar = Arc::new(Jar::default());
        (jar.clone(), client_with(jar))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET succeeds")
    }

    /// Calls a server function the way a same-origin browser form does.
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url(&format!("/api/{function}")))
            .header("Origin", &self.address)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("POST succeeds")
    }

    pub async fn sign_up(&self, display_name: &str, email: &str, password: &str) -> Response {
        self.call(
            "sign_up",
            &[("display_name", display_name), ("email", email), ("password", password)],
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.call("sign_in", &[("email", email), ("password", password)]).await
    }

    /// Returns the value of the session cookie the client stores, if any.
    pub fn session_cookie(&self) -> Option<String> {
        let header = self.jar.cookies(&self.url("/"))?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|pair| pair.strip_prefix("relais_session=").map(str::to_string))
    }
}

/// Returns the server function's error, decoded from its JSON body.
pub async fn error_of(response: Response) -> app::error::AppError {
    assert!(
        !response.status().is_success(),
        "expected an error, got {}",
        response.status()
    );
    let body = response.text().await.unwrap();
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("not an AppError: {body}"))
}
