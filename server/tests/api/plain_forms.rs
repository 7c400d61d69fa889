//! Forms posted by a browser without script: the server responds to each with a redirect to a
//! page, never with a bare server-function body.

use reqwest::Response;

use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// Posts `form` to the server function as a browser without script does from `page`.
async fn post_from_page(app: &TestApp, function: &str, page: &str, form: &[(&str, &str)]) -> Response {
    post_with_referer(app, function, app.url(page).as_str(), form).await
}

/// Posts `form` to the server function as a browser without script does, with `referer` as
/// the Referer header.
async fn post_with_referer(app: &TestApp, function: &str, referer: &str, form: &[(&str, &str)]) -> Response {
    app.client
        .post(app.url(&format!("/api/{function}")))
        .header("Origin", &app.address)
        .header("Referer", referer)
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .form(form)
        .send()
        .await
        .expect("POST succeeds")
}

fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn failed_sign_in_shows_error_on_form() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;
    app.call("sign_out", &[]).await;

    let response = post_from_page(
        &app,
        "sign_in",
        "/sign-in?next=/settings",
        &[
            ("email", "ana@example.com"),
            ("password", "wrong password"),
            ("next", "/settings"),
        ],
    )
    .await;

    assert_eq!(response.status(), 302);
    let page = location(&response);
    assert!(
        page.contains("/sign-in?next=%2Fsettings") || page.contains("/sign-in?next=/settings"),
        "{page}"
    );
    let html = app.client.get(page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Adresse email ou mot de passe incorrect."), "{html}");
}

#[tokio::test]
async fn failed_sign_up_shows_error_on_form() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;
    app.call("sign_out", &[]).await;

    let response = post_from_page(
        &app,
        "sign_up",
        "/sign-up",
        &[
            ("display_name", "Ana Bis"),
            ("email", "ana@example.com"),
            ("password", PASSWORD),
            ("locale", "fr"),
        ],
    )
    .await;

    assert_eq!(response.status(), 302);
    let html = app
        .client
        .get(location(&response))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Un compte existe déjà avec cette adresse email."),
        "{html}"
    );
}

#[tokio::test]
async fn language_switch_returns_to_clean_page() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;

    let plain = post_from_page(&app, "set_locale", "/settings?", &[("locale", "en")]).await;
    let after_error = post_from_page(
        &app,
        "set_locale",
        "/sign-in?next=/settings&__path=/api/sign_in&__err=IkludmFsaWRDcmVkZW50aWFscyI=",
        &[("locale", "fr")],
    )
    .await;

    assert_eq!(plain.status(), 302);
    assert_eq!(location(&plain), "/settings");
    assert_eq!(location(&after_error), "/sign-in?next=/settings");
}

#[tokio::test]
async fn language_switch_stays_on_this_site() {
    let app = spawn_app().await;
    let foreign = format!("{}//evil.example/path", app.address);

    let response = post_with_referer(&app, "set_locale", &foreign, &[("locale", "en")]).await;

    assert_eq!(location(&response), "/workspace");
}
