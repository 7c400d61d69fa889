//! Security headers on every response, and the Content-Security-Policy nonce of each page.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderValue;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use leptos::prelude::{provide_context, use_context};
use rand::RngCore;

use crate::static_files;

/// The per-response value that lets the page's inline hydration scripts run under the policy.
#[derive(Clone, Debug)]
pub struct CspNonce(String);

impl CspNonce {
    fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// Response settings fixed at start-up.
#[derive(Clone, Copy, Debug)]
pub struct HeaderPolicy {
    /// Whether to send Strict-Transport-Security, which only makes sense when the public URL is https.
    pub https: bool,
}

/// Builds the policy for an HTML page. Scripts must carry the nonce (the hydration loader and
/// the serialized resources) or come from this origin (the module it imports), and
/// `wasm-unsafe-eval` lets that module compile the WebAssembly. Nothing may frame the page.
fn page_policy(nonce: &CspNonce) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        nonce.0
    )
}

/// Policy for everything that is not a page: JSON, redirects, files.
const RESOURCE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
const HSTS: &str = "max-age=31536000";

/// Gives each request a fresh nonce and sets the security headers on its response.
///
/// Everything except the static files under `/pkg/` and the favicon is marked `no-store`,
/// because pages and server-function responses contain account data. Static files get the
/// lifetime chosen by [`static_files::cache_control`].
pub async fn set_security_headers(State(policy): State<HeaderPolicy>, mut request: Request, next: Next) -> Response {
    let nonce = CspNonce::generate();
    let static_path = is_static_file(request.uri().path()).then(|| request.uri().path().to_owned());
    request.extensions_mut().insert(nonce.clone());

    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));

    let succeeded = response.status().is_success();
    let headers = response.headers_mut();
    let content_policy = if is_html {
        page_policy(&nonce)
    } else {
        RESOURCE_POLICY.to_string()
    };
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&content_policy).expect("the policy is ASCII"),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A handler may have set a stricter policy (the OAuth callback sends no Referer at all).
    headers
        .entry(REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if policy.https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    match static_path {
        None => {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Some(path) if succeeded => {
            headers.insert(CACHE_CONTROL, static_files::cache_control(&path));
        }
        Some(_) => {}
    }
    response
}

fn is_static_file(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Hands the request's nonce to the renderer, which adds it to the inline scripts it writes.
/// Runs inside the Leptos context of a page render, where the request parts are available.
pub fn provide_page_nonce() {
    let nonce = use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}
