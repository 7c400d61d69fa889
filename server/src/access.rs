//! Page-level access rules applied before Leptos renders: signed-out visitors go to sign-in,
//! and pages with account data are never cached.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, header};

use crate::backend::Session;

/// Pages that show account data.
const SIGNED_IN_PAGES: &[&str] = &["/workspace", "/settings"];

pub async fn guard_pages(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let signed_in = session.user.is_some();

    if path == "/" {
        let target = if signed_in { "/workspace" } else { "/sign-in" };
        return Redirect::to(target).into_response();
    }
    if matches!(path, "/sign-in" | "/sign-up") && signed_in {
        return Redirect::to("/workspace").into_response();
    }
    if !SIGNED_IN_PAGES.contains(&path) {
        return next.run(request).await;
    }
    if !signed_in {
        let here = request.uri().path_and_query().map_or(path, |value| value.as_str());
        return Redirect::to(&format!("/sign-in?next={}", encode_query_value(here))).into_response();
    }

    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::encode_query_value;

    #[test]
    fn query_value_encoding_keeps_paths_readable() {
        assert_eq!(encode_query_value("/settings"), "/settings");
        assert_eq!(
            encode_query_value("/settings?a=1&b=é"),
            "/settings%3Fa%3D1%26b%3D%C3%A9"
        );
    }
}
