use crate::helpers::{DEFAULT_SENDER, PASSWORD, spawn_app};

#[tokio::test]
async fn signed_out_settings_redirects_to_sign_in_and_back() {
    let app = spawn_app().await;

    let response = app.get("/settings").await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/sign-in?next=/settings");
}

#[tokio::test]
async fn settings_page_is_server_rendered_with_the_sender_section() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;

    let response = app.get("/settings").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("Paramètres de votre compte"), "{html}");
    assert!(
        html.contains("Emails de l'expéditeur") || html.contains("Emails de l&#x27;expéditeur"),
        "{html}"
    );
    assert!(html.contains(DEFAULT_SENDER));
    assert!(html.contains("ana@example.com"));
    assert!(
        html.contains(r#"<noscript><p class="notice">Ajouter, modifier ou tester un expéditeur demande JavaScript."#),
        "a browser without script is told why the sender buttons do nothing: {html}"
    );
}

#[tokio::test]
async fn settings_page_serves_head_requests() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;

    let response = app.client.head(app.url("/settings")).send().await.unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn workspace_shows_the_avatar_menu() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;

    let html = app.get("/workspace").await.text().await.unwrap();

    assert!(html.contains("Mon Espace de Travail"));
    assert!(
        html.contains(r#"href="/settings" target="_blank" rel="noopener""#),
        "{html}"
    );
    assert!(html.contains("Se déconnecter"));
    assert!(html.contains(">AL<"), "initials are shown: {html}");
}

#[tokio::test]
async fn english_is_served_when_the_browser_asks_for_it() {
    let app = spawn_app().await;

    let html = app
        .client
        .get(app.url("/sign-in"))
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(html.contains("<h1>Sign in</h1>"), "{html}");
}

#[tokio::test]
async fn unknown_page_is_a_404() {
    let app = spawn_app().await;

    let response = app.get("/no-such-page").await;

    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn account_language_wins_over_the_cookie() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;
    app.call("set_locale", &[("locale", "en")]).await;
    let session = app.session_cookie().unwrap();

    let html = app
        .new_client()
        .1
        .get(app.url("/workspace"))
        .header("Cookie", format!("relais_session={session}; i18n_pref_locale=fr"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(html.contains("My Workspace"), "{html}");
}

#[tokio::test]
async fn pages_keep_the_language_cookie() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;
    let chosen = app.call("set_locale", &[("locale", "en")]).await;
    assert!(
        set_cookies(&chosen)
            .iter()
            .any(|cookie| cookie.starts_with("i18n_pref_locale=en;") && cookie.contains("Max-Age=31536000"))
    );

    for path in ["/workspace", "/settings", "/sign-in"] {
        let page = app.get(path).await;

        let rewritten: Vec<_> = set_cookies(&page)
            .into_iter()
            .filter(|cookie| cookie.starts_with("i18n_pref_locale="))
            .collect();
        assert!(
            rewritten.is_empty(),
            "{path} must not replace the year-long cookie: {rewritten:?}"
        );
    }
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect()
}
