//! A database that stops responding during a save: the user gets "unavailable", nothing is
//! half-written, and the same save works once the database is back, without a restart.

use app::error::AppError;
use sqlx::Executor;

use crate::helpers::error_of;
use crate::senders::{Form, app_for, starttls_server};
use crate::test_database::is_postgres;

#[tokio::test]
async fn save_during_database_outage_is_rejected_then_works() {
    let mut harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;
    let form = Form::starttls(harness.port);
    app.test_send(&form).await;
    harness.next_message().await;

    // Another client holds the write lock, as a stuck migration or a failing disk would.
    let mut blocker = app.pool.acquire().await.unwrap();
    let lock = if is_postgres() {
        "BEGIN; LOCK TABLE senders IN ACCESS EXCLUSIVE MODE;"
    } else {
        "BEGIN EXCLUSIVE;"
    };
    blocker.execute(lock).await.unwrap();

    let rejected = app.save(&form).await;
    assert_eq!(rejected.status(), 503);
    assert_eq!(error_of(rejected).await, AppError::Unavailable);

    blocker.execute("ROLLBACK").await.unwrap();
    drop(blocker);
    let senders = app.senders().await;
    assert!(senders.senders.is_empty(), "nothing was half-written");
    let saved = app.saved(&form).await;
    assert_eq!(app.senders().await.senders, vec![saved]);
}

/// PostgreSQL only: SQLite has no server whose connections could drop.
#[tokio::test]
async fn dropped_postgres_connections_are_replaced() {
    if !is_postgres() {
        return;
    }
    let harness = starttls_server().await;
    let app = app_for(&harness, &[]).await;

    // The server ends every connection of this database, as a restart or a failover does.
    let mut admin = app.pool.acquire().await.unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    // And this connection too, which goes back to the application's pool otherwise.
    let _ = admin.execute("SELECT pg_terminate_backend(pg_backend_pid())").await;
    drop(admin);

    let mut statuses = Vec::new();
    for _ in 0..10 {
        let status = app.call("list_senders", &[]).await.status();
        statuses.push(status.as_u16());
        if status.is_success() {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
    assert!(
        statuses.iter().all(|status| [200, 503].contains(status)),
        "{statuses:?}"
    );
}
