//! The database each test runs on: a SQLite file in the test's data directory, or, when
//! `RELAIS_TEST_POSTGRES_URL` is set, a PostgreSQL database created for the test and dropped
//! after it.

use sqlx::{Connection, Executor, PgConnection};

/// The server URL without a database, such as `postgres://postgres@127.0.0.1:5432`.
const POSTGRES_VARIABLE: &str = "RELAIS_TEST_POSTGRES_URL";

pub struct TestDatabase {
    /// The value for `RELAIS_DATABASE_URL`, or `None` for the default SQLite file.
    pub url: Option<String>,
    dropper: Option<Dropper>,
}

struct Dropper {
    server_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let Ok(server_url) = std::env::var(POSTGRES_VARIABLE) else {
            return TestDatabase {
                url: None,
                dropper: None,
            };
        };
        let server_url = server_url.trim_end_matches('/').to_string();
        let name = format!("relais_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&format!("{server_url}/postgres"))
            .await
            .unwrap_or_else(|error| panic!("{POSTGRES_VARIABLE}={server_url} is not reachable: {error}"));
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("the test database is created");
        TestDatabase {
            url: Some(format!("{server_url}/{name}")),
            dropper: Some(Dropper { server_url, name }),
        }
    }

    /// Returns `RELAIS_DATABASE_URL` for a SQLite file in `dir` or for this PostgreSQL database.
    pub fn url_or_file_in(&self, dir: &std::path::Path) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.join("relais.db").display()))
    }
}

/// Returns whether this test run uses PostgreSQL.
pub fn is_postgres() -> bool {
    std::env::var(POSTGRES_VARIABLE).is_ok()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(Dropper { server_url, name }) = self.dropper.take() else {
            return;
        };
        // Drop runs inside the test's runtime, so the drop gets a thread and a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&format!("{server_url}/postgres")).await?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await?;
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("failed to drop a test database: {error}");
        }
    }
}
