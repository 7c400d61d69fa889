//! `GET /oauth/{provider}/callback`, where the provider sends the browser back after consent.
//! Every outcome redirects to the settings page, which shows the new grant or the error. The
//! exception is a signed-out browser, which goes to the sign-in page.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, header};

use super::OAuthService;
use super::service::{CallbackQuery, Connected};
use crate::backend::Session;
use crate::client_address::ClientAddress;

pub async fn handle(
    oauth: Arc<OAuthService>,
    session: Session,
    client: ClientAddress,
    provider: String,
    query: CallbackQuery,
) -> Response {
    let Some(account) = &session.user else {
        return Redirect::to("/sign-in?next=/settings").into_response();
    };
    let binding = session
        .session
        .id()
        .map(|id| oauth.session_binding(&id.to_string()))
        .unwrap_or_default();

    let target = match oauth.finish(&account.id, &binding, &provider, query, client).await {
        Ok(Connected::Pending { grant_id }) => format!("/settings?oauth_grant={grant_id}#senders"),
        Ok(Connected::Renewed { sender_id }) => format!("/settings?oauth_renewed={sender_id}#senders"),
        Err(error) => format!("/settings?oauth_error={}#senders", error.as_str()),
    };
    // The callback URL carries the authorization code, so the response must not be cached or
    // send that URL on as a Referer.
    let mut response = Redirect::to(&target).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Extracts the callback's parts. A query that fails to parse counts as a query without state,
/// which the callback rejects as invalid.
pub async fn route(
    oauth: Arc<OAuthService>,
    session: Session,
    Extension(client): Extension<ClientAddress>,
    Path(provider): Path<String>,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    handle(oauth, session, client, provider, query).await
}
