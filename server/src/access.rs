//! Page-level access rules applied before Leptos renders: signed-out visitors go to sign-in.
//! The `no-store` header of pages with account data is set in `headers`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, header};

use crate::backend::Session;

/// Pages that show account data.
const SIGNED_IN_PAGES: &[&str] = &["/workspace", "/settings"];

pub async fn guard_pages(session: Session, mut request: Request, next: Next) -> Response {
    // The account's language wins over a cookie left by another account or device.
    if let Some(account) = &session.user {
        override_locale_cookie(request.headers_mut(), &account.locale);
    }

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
        return Redirect::to(&format!("/sign-in?next={}", app::validation::encode_query_value(here))).into_response();
    }

    next.run(request).await
}

/// Rewrites the request's cookies so the i18n context reads `locale`.
fn override_locale_cookie(headers: &mut http::HeaderMap, locale: &str) {
    let mut cookies: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty() && !pair.starts_with("i18n_pref_locale="))
        .map(str::to_string)
        .collect();
    cookies.push(format!("i18n_pref_locale={locale}"));

    if let Ok(value) = HeaderValue::from_str(&cookies.join("; ")) {
        headers.remove(header::COOKIE);
        headers.insert(header::COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::{HeaderValue, header, override_locale_cookie};

    #[test]
    fn locale_cookie_is_replaced_and_others_kept() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("relais_session=abc; i18n_pref_locale=fr"),
        );

        override_locale_cookie(&mut headers, "en");

        assert_eq!(headers[header::COOKIE], "relais_session=abc; i18n_pref_locale=en");
    }
}
