use app::error::AppError;

use crate::helpers::{PASSWORD, error_of, spawn_app};

#[tokio::test]
async fn sign_up_signs_in_and_stores_an_argon2id_hash() {
    let app = spawn_app().await;

    let response = app.sign_up("Ana Lopes", "Ana@Example.com", PASSWORD).await;

    assert!(response.status().is_success(), "{}", response.status());
    let (email, hash): (String, String) = sqlx::query_as("SELECT email, password_hash FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(email, "Ana@example.com");
    assert!(hash.starts_with("$argon2id$"));
    assert!(!hash.contains(PASSWORD));
    assert_eq!(app.get("/workspace").await.status(), 200);
}

#[tokio::test]
async fn sign_up_rejects_invalid_input_with_specific_errors() {
    let app = spawn_app().await;
    let long_name = "x".repeat(65);
    let long_email = format!("{}@example.com", "a".repeat(250));
    let cases = [
        ("Ana", "not-an-email", PASSWORD, AppError::EmailInvalid),
        ("Ana", "", PASSWORD, AppError::EmailMissing),
        ("Ana", long_email.as_str(), PASSWORD, AppError::EmailTooLong),
        ("Ana", "ana@example.com", "short", AppError::PasswordTooShort),
        ("", "ana@example.com", PASSWORD, AppError::DisplayNameMissing),
        (
            long_name.as_str(),
            "ana@example.com",
            PASSWORD,
            AppError::DisplayNameTooLong,
        ),
        (
            "Ana\r\nBcc: x",
            "ana@example.com",
            PASSWORD,
            AppError::DisplayNameControl,
        ),
    ];

    for (name, email, password, expected) in cases {
        let response = app.sign_up(name, email, password).await;
        assert_eq!(error_of(response).await, expected, "{name:?} {email:?}");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn sign_up_with_a_taken_email_is_rejected_in_any_case() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let (_, other_browser) = app.new_client();

    let response = other_browser
        .post(app.url("/api/sign_up"))
        .header("Origin", &app.address)
        .form(&[
            ("display_name", "Ana 2"),
            ("email", "ANA@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(error_of(response).await, AppError::EmailTaken);
}

#[tokio::test]
async fn sign_in_with_a_wrong_password_fails_without_saying_which_part() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    app.call("sign_out", &[]).await;

    let wrong_password = app.sign_in("ana@example.com", "not the password").await;
    let unknown_email = app.sign_in("nobody@example.com", PASSWORD).await;

    assert_eq!(error_of(wrong_password).await, AppError::InvalidCredentials);
    assert_eq!(error_of(unknown_email).await, AppError::InvalidCredentials);
    assert_eq!(app.get("/settings").await.status(), 303);
}

#[tokio::test]
async fn sign_in_rotates_the_session_id() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    let first = app.session_cookie().expect("a session cookie after sign-up");

    let response = app.sign_in("ana@example.com", PASSWORD).await;

    assert!(response.status().is_success(), "{}", response.status());
    let second = app.session_cookie().expect("a session cookie after sign-in");
    assert_ne!(first, second);
    let stale = app
        .new_client()
        .1
        .get(app.url("/settings"))
        .header("Cookie", format!("relais_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 303, "the old session id no longer signs in");
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;

    let response = app.sign_up("Ana", "ana@example.com", PASSWORD).await;

    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("relais_session="))
        .expect("a session cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not mark the cookie Secure: {cookie}"
    );
}

#[tokio::test]
async fn repeated_failures_lock_sign_in_for_that_email() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    app.call("sign_out", &[]).await;

    for _ in 0..5 {
        let response = app.sign_in("ana@example.com", "wrong password!").await;
        assert_eq!(error_of(response).await, AppError::InvalidCredentials);
    }
    let locked = app.sign_in("ana@example.com", PASSWORD).await;
    let other_email = app.sign_in("someone@example.com", "wrong password!").await;

    assert!(matches!(error_of(locked).await, AppError::TooManyAttempts { retry_after_secs } if retry_after_secs > 0));
    assert_eq!(error_of(other_email).await, AppError::InvalidCredentials);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;

    app.call("sign_out", &[]).await;

    assert_eq!(app.get("/workspace").await.status(), 303);
}

#[tokio::test]
async fn sign_in_redirects_only_to_local_paths() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    app.call("sign_out", &[]).await;
    let cases = [
        ("/settings", "/settings"),
        ("/settings?tab=senders#senders", "/settings?tab=senders#senders"),
        ("//evil.example", "/workspace"),
        ("///evil.example", "/workspace"),
        ("/\\evil.example", "/workspace"),
        ("\\\\evil.example", "/workspace"),
        ("https://evil.example/settings", "/workspace"),
        ("http:/evil.example", "/workspace"),
        ("javascript:alert(1)", "/workspace"),
        ("  //evil.example", "/workspace"),
        ("/\t/evil.example", "/workspace"),
        ("/\r\nLocation: https://evil.example", "/workspace"),
        ("evil.example", "/workspace"),
    ];

    for (next, expected) in cases {
        let response = app
            .call(
                "sign_in",
                &[("email", "ana@example.com"), ("password", PASSWORD), ("next", next)],
            )
            .await;

        assert_eq!(response.headers()["location"], expected, "next = {next:?}");
        app.call("sign_out", &[]).await;
    }
}

#[tokio::test]
async fn sign_up_redirects_to_next() {
    let app = spawn_app().await;
    let cases = [
        ("ana@example.com", "/settings", "/settings"),
        ("bea@example.com", "//evil.example", "/workspace"),
        ("eva@example.com", "", "/workspace"),
    ];

    for (email, next, expected) in cases {
        let response = app
            .call(
                "sign_up",
                &[
                    ("display_name", "Ana"),
                    ("email", email),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;

        assert_eq!(response.headers()["location"], expected, "next = {next:?}");
        app.call("sign_out", &[]).await;
    }
}

#[tokio::test]
async fn auth_links_keep_next() {
    let app = spawn_app().await;
    let sign_in = app
        .get("/sign-in?next=%2Fsettings%3Fa%3D1%26b%3D2")
        .await
        .text()
        .await
        .unwrap();
    let sign_up = app
        .get("/sign-up?next=%2Fsettings%3Fa%3D1%26b%3D2")
        .await
        .text()
        .await
        .unwrap();

    let encoded = "next=/settings%3Fa%3D1%26b%3D2";
    assert!(sign_in.contains(&format!(r#"href="/sign-up?{encoded}""#)), "{sign_in}");
    assert!(sign_up.contains(&format!(r#"href="/sign-in?{encoded}""#)), "{sign_up}");
    assert!(
        sign_up.contains(r#"name="next" value="/settings?a=1&amp;b=2""#),
        "{sign_up}"
    );
}

#[tokio::test]
async fn language_choice_is_kept_in_the_account() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;

    app.call("set_locale", &[("locale", "en")]).await;
    let unknown = app.call("set_locale", &[("locale", "de")]).await;

    let locale: String = sqlx::query_scalar("SELECT locale FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(locale, "en");
    assert_eq!(error_of(unknown).await, AppError::LocaleUnknown);
}

#[tokio::test]
async fn oversized_body_is_rejected_with_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(1024 * 1024);

    let response = app.sign_up(&huge, "ana@example.com", PASSWORD).await;

    assert_eq!(response.status(), 413);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn user_errors_are_client_errors() {
    let app = spawn_app().await;

    let weak = app.sign_up("Ana", "ana@example.com", "short").await;
    let unknown = app.sign_in("nobody@example.com", PASSWORD).await;

    assert_eq!(weak.status(), 422);
    assert_eq!(unknown.status(), 401);
}
