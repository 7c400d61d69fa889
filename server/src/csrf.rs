//! Rejects state-changing requests that another site makes a browser send.
//!
//! Browsers mark every request with `Sec-Fetch-Site` and every POST with `Origin`. A request
//! whose method can change state is accepted only when `Sec-Fetch-Site` is `same-origin`, or,
//! for clients that do not send that header, when `Origin` is this site's origin.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode, header};

#[derive(Clone)]
pub struct AllowedOrigin(pub String);

pub async fn reject_cross_origin(State(allowed): State<AllowedOrigin>, request: Request, next: Next) -> Response {
    if is_safe_method(request.method()) || is_same_origin(&request, &allowed.0) {
        return next.run(request).await;
    }

    tracing::warn!(
        method = %request.method(),
        path = %request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        sec_fetch_site = ?request.headers().get("sec-fetch-site"),
        "rejected a cross-origin request"
    );
    (StatusCode::FORBIDDEN, "Cross-origin request rejected.").into_response()
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_same_origin(request: &Request, allowed_origin: &str) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return site == "same-origin";
    }

    headers
        .get(header::ORIGIN)
        .is_some_and(|origin| origin == allowed_origin)
}
