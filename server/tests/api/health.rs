use std::collections::HashMap;

use relais::config::Config;
use relais::startup::Application;

use crate::helpers::spawn_app;
use crate::test_database::TestDatabase;

#[tokio::test]
async fn health_is_ok_while_the_database_answers() {
    let app = spawn_app().await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn health_is_unavailable_once_the_database_is_gone() {
    let app = spawn_app().await;

    app.pool.close().await;
    let response = app.get("/healthz").await;

    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn newer_schema_stops_start_up() {
    let data_dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create().await;
    let url = database.url_or_file_in(data_dir.path());
    let variables = HashMap::from([
        ("RELAIS_LISTEN_ADDR", "127.0.0.1:0".to_string()),
        ("RELAIS_DATA_DIR", data_dir.path().display().to_string()),
        ("RELAIS_DATABASE_URL", url),
    ]);
    let config = || Config::from_lookup(|name| variables.get(name).cloned()).unwrap();
    let first = Application::build(config()).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(9_999_i64)
    .bind("from a newer Relais")
    .bind(true)
    .bind(vec![0_u8; 48])
    .bind(0_i64)
    .execute(&first.pool)
    .await
    .unwrap();
    drop(first);

    let error = Application::build(config()).await.err().expect("start-up stops");

    let message = format!("{error:#}");
    assert!(message.contains("migrated by a newer Relais"), "{message}");
    assert!(message.contains("9999"), "{message}");
}
