//! The sign-in throttle per client address. Many failures from one address lock it out across
//! emails, without telling which emails have an account. A forged X-Forwarded-For header moves
//! a client to another address only when its peer is a trusted proxy.

use std::net::IpAddr;

use app::error::AppError;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, error_of, spawn_app, spawn_app_with};

/// Failures allowed per client address before its lock (`throttle::PER_CLIENT`).
const CLIENT_FREE_FAILURES: usize = 20;

impl TestApp {
    /// Signs in from this app's client, with `forwarded_for` as X-Forwarded-For if given.
    async fn sign_in_forwarded(&self, email: &str, password: &str, forwarded_for: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/api/sign_in"))
            .header("Origin", &self.address)
            .header("Accept", "application/json")
            .form(&[("email", email), ("password", password)]);
        if let Some(forwarded_for) = forwarded_for {
            request = request.header("X-Forwarded-For", forwarded_for);
        }
        request.send().await.expect("POST succeeds")
    }
}

/// Returns a cookie-less client whose connections come from `local_address`, a loopback
/// address other than the default 127.0.0.1.
fn client_from(local_address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local_address.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn retry_after(error: AppError) -> u64 {
    match error {
        AppError::TooManyAttempts { retry_after_secs } => retry_after_secs,
        other => panic!("expected TooManyAttempts, got {other:?}"),
    }
}

#[tokio::test]
async fn client_lock_spans_emails_and_headers() {
    let app = spawn_app().await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    app.call("sign_out", &[]).await;

    // Each failure uses another email, so no per-email lock applies, and another forged
    // X-Forwarded-For, which the server must ignore because no proxy is trusted.
    for attempt in 0..CLIENT_FREE_FAILURES {
        let email = format!("guess{attempt}@example.com");
        let forged = format!("198.51.100.{}", attempt + 1);
        let response = app.sign_in_forwarded(&email, "wrong password!", Some(&forged)).await;
        assert_eq!(
            error_of(response).await,
            AppError::InvalidCredentials,
            "attempt {attempt}"
        );
    }
    let unknown = app
        .sign_in_forwarded("nobody@example.com", "wrong password!", Some("203.0.113.50"))
        .await;
    let known = app
        .sign_in_forwarded("ana@example.com", PASSWORD, Some("203.0.113.51"))
        .await;

    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(known.status(), StatusCode::TOO_MANY_REQUESTS);
    let unknown_retry = retry_after(error_of(unknown).await);
    let known_retry = retry_after(error_of(known).await);
    assert!(unknown_retry > 0);
    assert!(
        unknown_retry.abs_diff(known_retry) <= 1,
        "{unknown_retry} vs {known_retry}"
    );

    let other_client = client_from("127.0.0.2");
    let response = other_client
        .post(app.url("/api/sign_in"))
        .header("Origin", &app.address)
        .header("Accept", "application/json")
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn trusted_proxy_forwards_the_client_address() {
    let app = spawn_app_with(&[("RELAIS_TRUSTED_PROXIES", "127.0.0.1/32".to_string())]).await;
    app.sign_up("Ana", "ana@example.com", PASSWORD).await;
    app.call("sign_out", &[]).await;

    for attempt in 0..CLIENT_FREE_FAILURES {
        let email = format!("guess{attempt}@example.com");
        let response = app
            .sign_in_forwarded(&email, "wrong password!", Some("198.51.100.7"))
            .await;
        assert_eq!(
            error_of(response).await,
            AppError::InvalidCredentials,
            "attempt {attempt}"
        );
    }
    let same_client = app
        .sign_in_forwarded("ana@example.com", PASSWORD, Some("198.51.100.7"))
        .await;
    // The client cannot hide behind an address it prepends itself: the proxy appends the real one.
    let prepended = app
        .sign_in_forwarded("ana@example.com", PASSWORD, Some("192.0.2.1, 198.51.100.7"))
        .await;
    let other_client = app
        .sign_in_forwarded("ana@example.com", PASSWORD, Some("198.51.100.8"))
        .await;

    assert_eq!(same_client.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(prepended.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(other_client.status().is_success(), "{}", other_client.status());
}
