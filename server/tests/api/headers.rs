use reqwest::Response;

use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
}

/// Returns the nonce of the policy's `script-src` directive.
fn policy_nonce(policy: &str) -> String {
    let start = policy.find("'nonce-").expect("the policy has a nonce") + "'nonce-".len();
    let length = policy[start..].find('\'').unwrap();
    policy[start..start + length].to_string()
}

#[tokio::test]
async fn pages_carry_a_nonce_policy() {
    let app = spawn_app().await;
    app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;

    let response = app.get("/settings").await;

    assert_eq!(response.status(), 200);
    let policy = header(&response, "content-security-policy").to_string();
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert!(policy.contains("script-src 'self' 'nonce-"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "x-frame-options"), "DENY");
    assert_eq!(header(&response, "referrer-policy"), "same-origin");
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert!(response.headers().get("strict-transport-security").is_none());

    let nonce = policy_nonce(&policy);
    // The renderer leaves an empty `<script></script>` at the end of the body. Browsers never run an
    // empty inline script, so it needs no nonce.
    let html = response.text().await.unwrap().replace("<script></script>", "");
    let script_tags: Vec<&str> = html
        .match_indices("<script")
        .map(|(start, _)| &html[start..start + html[start..].find('>').unwrap() + 1])
        .filter(|tag| tag.starts_with("<script ") || tag.starts_with("<script>"))
        .collect();
    assert!(!script_tags.is_empty(), "{html}");
    for tag in script_tags {
        assert!(tag.contains(&format!(" nonce=\"{nonce}\"")), "{tag} has no nonce");
    }
}

#[tokio::test]
async fn each_response_gets_a_new_nonce() {
    let app = spawn_app().await;

    let first = app.get("/sign-in").await;
    let second = app.get("/sign-in").await;

    let first = policy_nonce(header(&first, "content-security-policy"));
    let second = policy_nonce(header(&second, "content-security-policy"));
    assert_ne!(first, second);
    assert!(first.len() >= 22, "at least 128 bits: {first}");
}

#[tokio::test]
async fn server_function_responses_are_not_stored() {
    let app = spawn_app().await;

    let response = app.sign_up("Ana Lopes", "ana@example.com", PASSWORD).await;

    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(
        header(&response, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn static_files_may_be_cached() {
    let app = spawn_app().await;

    let response = app.get("/favicon.svg").await;

    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_ne!(
        response
            .headers()
            .get("cache-control")
            .map(|value| value.to_str().unwrap()),
        Some("no-store")
    );
}

#[tokio::test]
async fn https_public_url_adds_hsts() {
    let app = spawn_app_with(&[("RELAIS_PUBLIC_URL", "https://relais.example".to_string())]).await;

    let response = app.get("/sign-in").await;

    assert_eq!(header(&response, "strict-transport-security"), "max-age=31536000");
}
