use crate::helpers::{PASSWORD, spawn_app};

async fn post_sign_up(app: &crate::helpers::TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.client.post(app.url("/api/sign_up")).form(&[
        ("display_name", "Mallory"),
        ("email", "mallory@example.com"),
        ("password", PASSWORD),
    ]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

async fn account_count(app: &crate::helpers::TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn post_from_another_origin_is_rejected() {
    let app = spawn_app().await;

    let response = post_sign_up(&app, &[("Origin", "https://evil.example")]).await;

    assert_eq!(response.status(), 403);
    assert_eq!(account_count(&app).await, 0);
}

#[tokio::test]
async fn post_marked_cross_site_by_the_browser_is_rejected() {
    let app = spawn_app().await;

    let response = post_sign_up(
        &app,
        &[("Sec-Fetch-Site", "cross-site"), ("Origin", &app.address.clone())],
    )
    .await;

    assert_eq!(response.status(), 403);
    assert_eq!(account_count(&app).await, 0);
}

#[tokio::test]
async fn post_without_origin_is_rejected() {
    let app = spawn_app().await;

    let response = post_sign_up(&app, &[]).await;

    assert_eq!(response.status(), 403);
    assert_eq!(account_count(&app).await, 0);
}

#[tokio::test]
async fn same_origin_post_is_accepted() {
    let app = spawn_app().await;

    let response = post_sign_up(&app, &[("Sec-Fetch-Site", "same-origin")]).await;

    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    assert_eq!(account_count(&app).await, 1);
}

#[tokio::test]
async fn sign_out_from_another_origin_keeps_the_session() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;

    let response = app
        .client
        .post(app.url("/api/sign_out"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 403);
    assert_eq!(app.get("/settings").await.status(), 200);
}

#[tokio::test]
async fn origin_matching_a_forged_host_is_rejected() {
    let app = spawn_app().await;

    let response = post_sign_up(&app, &[("Host", "evil.example"), ("Origin", "http://evil.example")]).await;

    assert_eq!(response.status(), 403);
    assert_eq!(account_count(&app).await, 0);
}

#[tokio::test]
async fn every_server_function_rejects_other_sites() {
    let harness = crate::senders::starttls_server().await;
    let app = crate::senders::app_for(&harness, &[]).await;
    let form = crate::senders::Form::starttls(harness.port);
    app.test_send(&form).await;
    let saved = app.saved(&form).await;
    let paths: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(_, method)| method == http::Method::POST)
        .map(|(path, _)| path)
        .collect();
    assert!(paths.contains(&"/api/delete_sender"), "{paths:?}");
    assert!(paths.len() >= 11, "{paths:?}");

    let attacks: [&[(&str, &str)]; 3] = [
        &[("Origin", "https://evil.example")],
        &[("Origin", "null")],
        &[("Sec-Fetch-Site", "cross-site")],
    ];
    for path in &paths {
        for headers in attacks {
            let mut request = app
                .client
                .post(app.url(path))
                .form(&[("sender_id", saved.id.as_str()), ("locale", "en")]);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "{path} with {headers:?}");
        }
    }

    let listed = app.senders().await;
    assert_eq!(listed.senders.len(), 1, "the sender is still there");
    assert_eq!(app.get("/settings").await.status(), 200, "the session is still valid");
    let locale: String = sqlx::query_scalar("SELECT locale FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(locale, "fr");
}
