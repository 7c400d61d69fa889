//! An active session outlives the inactivity limit counted from sign-in.

use time::{Duration, OffsetDateTime};
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};

use crate::helpers::{PASSWORD, TestApp, spawn_app};

#[tokio::test]
async fn active_session_gets_new_end_date() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    // Six days pass: the session, last extended at sign-up, would end tomorrow.
    let mut record = stored_session(&app).await;
    record.expiry_date = OffsetDateTime::now_utc() + Duration::days(1);
    app.sessions.save(&record).await.expect("the session is saved");

    let page = app.get("/workspace").await;

    assert_eq!(page.status(), 200, "the session still signs in");
    assert!(sets_session_cookie(&page), "the cookie's lifetime starts again");
    let time_left = stored_session(&app).await.expiry_date - OffsetDateTime::now_utc();
    assert!(
        time_left > Duration::days(6),
        "the session ends a week from now: {time_left}"
    );
    let next_page = app.get("/workspace").await;
    assert!(
        !sets_session_cookie(&next_page),
        "a session extended just now is not saved again"
    );
}

#[tokio::test]
async fn new_session_is_not_saved_per_page() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let end_after_sign_up = stored_session(&app).await.expiry_date;

    let page = app.get("/workspace").await;

    assert_eq!(page.status(), 200);
    assert!(!sets_session_cookie(&page));
    assert_eq!(stored_session(&app).await.expiry_date, end_after_sign_up);
}

/// Returns the stored session of the app's client.
async fn stored_session(app: &TestApp) -> Record {
    let id: Id = app
        .session_cookie()
        .expect("a session cookie")
        .parse()
        .expect("a session id");
    app.sessions
        .load(&id)
        .await
        .expect("the session store loads")
        .expect("a stored session")
}

fn sets_session_cookie(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|value| value.as_bytes().starts_with(b"relais_session="))
}
