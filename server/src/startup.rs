//! Builds the application exactly as `main` runs it; integration tests use the same path.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::backend::Backend;
use app::{App, shell};
use axum::extract::{DefaultBodyLimit, Request};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Router, middleware};
use axum_login::AuthManagerLayerBuilder;
use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use sqlx::AnyPool;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Span;
use url::Url;

use crate::accounts::AccountStore;
use crate::backend::RelaisBackend;
use crate::config::Config;
use crate::csrf::{AllowedOrigin, reject_cross_origin};
use crate::headers::{self, HeaderPolicy};
use crate::keys::Keyring;
use crate::oauth::{self, OAuthService};
use crate::senders::SenderService;
use crate::sessions::{self, SessionStorage};
use crate::smtp::TransportPolicy;
use crate::{access, client_address, db, keys, page_data, static_files};

/// Request bodies above this size are rejected with 413; forms here are a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct Application {
    listener: TcpListener,
    router: Router,
    public_url: Url,
    pub pool: AnyPool,
    pub sessions: SessionStorage,
    /// The keyring after the start-up check: a key that does not match its id carries a
    /// substitute id.
    pub keyring: Keyring,
}

impl Application {
    /// Opens the database and then the keyring, which is checked against the stored
    /// credentials, binds the listener and assembles the router.
    pub async fn build(mut config: Config) -> anyhow::Result<Self> {
        let database = db::connect_and_migrate(&config.database_url, config.database_max_connections).await?;
        let pool = database.pool.clone();
        let (keyring, _) = keys::check::open_keyring(&pool, &config.data_dir, config.secret_key.as_deref()).await?;

        let listener = TcpListener::bind(config.listen_addr)
            .await
            .with_context(|| format!("failed to listen on RELAIS_LISTEN_ADDR={}", config.listen_addr))?;
        let address = listener.local_addr()?;
        if config.public_url_is_default {
            config.public_url = Url::parse(&format!("http://{address}"))?;
        }

        let sessions = SessionStorage::open(&database.sessions)
            .await
            .context("failed to create the session table")?;
        tokio::spawn(delete_expired_sessions(sessions.clone()));
        let router = build_router(&config, &database, sessions.clone(), keyring.clone(), address)?;

        Ok(Self {
            listener,
            router,
            public_url: config.public_url,
            pool,
            sessions,
            keyring,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    /// Serves requests until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

fn build_router(
    config: &Config,
    database: &db::Database,
    sessions: SessionStorage,
    keyring: Keyring,
    address: SocketAddr,
) -> anyhow::Result<Router> {
    let pool = database.pool.clone();
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name("relais_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.is_https())
        .with_expiry(Expiry::OnInactivity(sessions::INACTIVITY_LIMIT));
    let accounts = AccountStore::new(pool.clone());
    let auth_layer = AuthManagerLayerBuilder::new(accounts.clone(), session_layer).build();

    let oauth = Arc::new(OAuthService {
        pool: pool.clone(),
        keyring: keyring.clone(),
        http: provider_http_client(config.oauth_timeout)?,
        providers: config.oauth_providers.clone(),
        public_url: config.public_url.clone(),
        request_timeout: config.oauth_timeout,
    });
    let senders = SenderService {
        pool: pool.clone(),
        keyring,
        limits: config.senders.clone(),
        policy: transport_policy(config)?,
        platform_default: config.default_sender.clone(),
        oauth: oauth.clone(),
    };
    let backend: Arc<dyn Backend> = Arc::new(RelaisBackend {
        pool: pool.clone(),
        accounts,
        senders,
    });
    let page_backend = backend.clone();
    let provide_backend = move || {
        provide_context(backend.clone());
        headers::provide_page_nonce();
    };

    let leptos_options = site_options(config, address)?;
    let routes = route_list();

    let server_functions = {
        let provide_backend = provide_backend.clone();
        move |request: Request| handle_server_fns_with_context(provide_backend.clone(), request)
    };
    let health = {
        let pool = pool.clone();
        move || health_check(pool.clone())
    };

    let mut router = Router::new().route("/healthz", get(health));
    if let Some(file) = &config.bench_static_page {
        let page = read_bench_page(file)?;
        router = router.route(
            "/bench/static-page",
            get(move || async move { axum::response::Html(page) }),
        );
    }
    let router = router
        .route("/api/{*fn_name}", post(server_functions))
        .route(
            "/oauth/{provider}/callback",
            get(move |session, client, provider, query| {
                oauth::callback::route(oauth.clone(), session, client, provider, query)
            }),
        )
        .nest_service("/pkg", static_files::service(&config.site_root))
        .leptos_routes_with_context(&leptos_options, routes, provide_backend.clone(), {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(provide_backend, shell))
        .with_state(leptos_options)
        .layer(middleware::from_fn_with_state(
            page_backend,
            page_data::load_settings_data,
        ))
        .layer(middleware::from_fn(access::guard_pages))
        .layer(middleware::from_fn(malformed_requests_are_client_errors))
        .layer(middleware::from_fn(sessions::extend_active_sessions))
        .layer(auth_layer)
        .layer(middleware::from_fn_with_state(
            Arc::new(config.trusted_proxies.clone()),
            client_address::attach,
        ))
        .layer(middleware::from_fn_with_state(
            AllowedOrigin(config.public_origin()),
            reject_cross_origin,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(oversized_server_function_calls_get_json))
        .layer(middleware::from_fn_with_state(
            HeaderPolicy {
                https: config.is_https(),
            },
            headers::set_security_headers,
        ))
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(request_trace_layer())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));

    Ok(router)
}

/// Returns the Leptos options for the built site in `config.site_root`.
///
/// A release build made with `cargo leptos build --release` puts content hashes in the asset
/// names and lists them in `hash.txt` beside the site. Leptos reads that file relative to the
/// executable, so the path is made absolute. A site without it keeps the plain names.
fn site_options(config: &Config, address: SocketAddr) -> anyhow::Result<LeptosOptions> {
    let site_root = std::path::absolute(&config.site_root)
        .with_context(|| format!("failed to resolve the site root {}", config.site_root.display()))?;
    let hash_file = site_root.join(static_files::HASH_FILE);
    Ok(LeptosOptions::builder()
        .output_name("relais")
        .site_root(site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(address)
        .hash_files(hash_file.is_file())
        .hash_file(Arc::from(hash_file.to_string_lossy()))
        .build())
}

/// Reads the page that `/bench/static-page` returns. scripts/bench compares the settings
/// page with it: same server, same layers, bytes from memory and no rendering.
fn read_bench_page(file: &std::path::Path) -> anyhow::Result<axum::body::Bytes> {
    let page =
        std::fs::read(file).with_context(|| format!("failed to read RELAIS_BENCH_STATIC_PAGE {}", file.display()))?;
    tracing::warn!(file = %file.display(), "serving the benchmark baseline at /bench/static-page");
    Ok(page.into())
}

/// Returns the app's routes, generated once per process.
///
/// Route generation renders the app with resource loading suppressed through a process-wide flag
/// (leptos_server 0.8), so a page rendered by another application in the same process at that
/// moment would wait forever. Tests build many applications in one process; generating once
/// keeps their renders from overlapping a generation.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Builds the network rules for every SMTP connection, once at start-up.
/// Returns 400 instead of 500 for a server-function call whose arguments do not decode. The
/// framework rejects those before the function runs, so the function cannot set the status.
async fn malformed_requests_are_client_errors(request: Request, next: middleware::Next) -> Response {
    let is_server_function = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_function || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    if let Ok(app::error::AppError::Request(_)) = serde_json::from_slice(&bytes) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The text of the error that the server-function framework reports for a body over the limit.
const BODY_LIMIT_MESSAGE: &str = "length limit exceeded";

/// Replaces the body of a 413 response to a server-function call with the JSON error that the
/// browser decodes and shows in the user's language. The body limit layer rejects a request whose
/// `Content-Length` is over the limit with a plain-text body, before any handler runs.
async fn oversized_server_function_calls_get_json(request: Request, next: middleware::Next) -> Response {
    let is_server_function = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_function || response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let error = app::error::AppError::Request(leptos::server_fn::error::ServerFnErrorErr::Deserialization(
        BODY_LIMIT_MESSAGE.to_string(),
    ));
    let body = serde_json::to_vec(&error).expect("an AppError serializes to JSON");
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Builds the HTTP client for provider endpoints: bounded in time, and never following a
/// redirect, so a token request cannot be sent somewhere else.
fn provider_http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("failed to build the HTTP client for OAuth providers")
}

fn transport_policy(config: &Config) -> anyhow::Result<TransportPolicy> {
    let extra_root_certificates = match &config.senders.smtp_extra_ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .with_context(|| format!("failed to read RELAIS_SMTP_EXTRA_CA_FILE={}", path.display()))?;
            let parsed = crate::smtp::extra_roots(std::slice::from_ref(&pem));
            if !parsed.is_ok_and(|certificates| !certificates.is_empty()) {
                anyhow::bail!(
                    "invalid RELAIS_SMTP_EXTRA_CA_FILE={}: expected a PEM file with at least one certificate",
                    path.display()
                );
            }
            vec![pem]
        }
        None => Vec::new(),
    };
    let hello_name = config.public_url.host_str().unwrap_or("localhost").to_string();

    Ok(TransportPolicy {
        timeout: config.senders.test_send_timeout,
        allowed_targets: config.senders.smtp_allowed_targets.clone(),
        extra_root_certificates,
        hello_name,
        resolver: crate::smtp::Resolver::system(),
    })
}

type RequestTraceLayer<MakeSpan, OnResponse> = TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    MakeSpan,
    (),
    OnResponse,
>;

/// Logs each request with its method, path (never the query, which may carry codes), status,
/// latency and request id.
fn request_trace_layer()
-> RequestTraceLayer<impl Fn(&Request) -> Span + Clone, impl Fn(&Response, Duration, &Span) + Clone> {
    TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let request_id = request
                .headers()
                .get("x-request-id")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
        })
        .on_request(())
        .on_response(|response: &Response, latency: Duration, _span: &Span| {
            tracing::info!(
                status = response.status().as_u16(),
                latency_ms = latency.as_millis() as u64,
                "response"
            );
        })
}

/// Returns 200 when the database responds within two seconds, 503 otherwise.
async fn health_check(pool: AnyPool) -> (StatusCode, &'static str) {
    let ping = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&pool);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok"),
        Ok(Err(error)) => {
            tracing::error!(%error, "health check: the database query failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::error!("health check: the database did not respond within 2 s");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn delete_expired_sessions(store: SessionStorage) {
    use tower_sessions::ExpiredDeletion;

    if let Err(error) = store
        .continuously_delete_expired(tokio::time::Duration::from_secs(3600))
        .await
    {
        tracing::error!(%error, "stopped deleting expired sessions");
    }
}
