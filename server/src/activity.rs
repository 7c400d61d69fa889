//! SQL for the per-account activity log. Each account keeps at most [`MAX_ENTRIES`] entries,
//! none older than [`MAX_AGE_SECS`]: every insert deletes the account's entries beyond that.

use app::senders::activity::{ActivityEntry, ActivityKind, TestOutcome};
use sqlx::{AnyConnection, AnyPool};

use crate::client_address::ClientAddress;

/// Entries kept per account.
pub const MAX_ENTRIES: i64 = 500;
/// Age after which an entry is deleted: 180 days.
pub const MAX_AGE_SECS: i64 = 180 * 24 * 3600;

/// An event to record, about one sender of one account.
pub struct Event<'a> {
    pub account_id: &'a str,
    pub kind: ActivityKind,
    pub sender_id: Option<&'a str>,
    pub sender_email: &'a str,
    pub test_outcome: Option<TestOutcome>,
    pub client: ClientAddress,
}

/// Inserts the event and deletes the account's entries beyond the retention bounds. Runs on
/// `connection`, so a caller inside a transaction records the event with its change.
pub async fn record(connection: &mut AnyConnection, event: &Event<'_>) -> sqlx::Result<()> {
    let now = crate::db::now();
    let detail = event
        .test_outcome
        .map(|outcome| serde_json::to_string(&outcome).expect("a test outcome serializes to JSON"));
    sqlx::query(
        "INSERT INTO activity_events (account_id, occurred_at, kind, sender_id, sender_email, detail, client_address)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.account_id)
    .bind(now)
    .bind(event.kind.as_str())
    .bind(event.sender_id)
    .bind(event.sender_email)
    .bind(detail)
    .bind(event.client.to_string())
    .execute(&mut *connection)
    .await?;

    sqlx::query(
        "DELETE FROM activity_events WHERE account_id = $1 AND (occurred_at < $2 OR id NOT IN (
             SELECT id FROM activity_events WHERE account_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $3))",
    )
    .bind(event.account_id)
    .bind(now - MAX_AGE_SECS)
    .bind(MAX_ENTRIES)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    occurred_at: i64,
    kind: String,
    sender_email: String,
    detail: Option<String>,
    client_address: String,
}

/// Returns the account's newest `limit` entries, newest first. Rows this version cannot read
/// (an unknown kind or detail) are skipped.
pub async fn list(pool: &AnyPool, account_id: &str, limit: u32) -> sqlx::Result<Vec<ActivityEntry>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT occurred_at, kind, sender_email, detail, client_address FROM activity_events
         WHERE account_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;

    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let kind = ActivityKind::parse(&row.kind)?;
            let test_outcome = match row.detail {
                Some(detail) => Some(serde_json::from_str(&detail).ok()?),
                None => None,
            };
            Some(ActivityEntry {
                occurred_at: row.occurred_at,
                kind,
                sender_email: row.sender_email,
                test_outcome,
                client_address: row.client_address,
            })
        })
        .collect())
}
