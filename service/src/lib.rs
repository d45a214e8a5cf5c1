//! The seed's HTTP service (`make run`): `GET /health` and `GET /config` over a pool of
//! database connections, and the API on the audited repositories (`api`, `auth`). `main.rs`
//! reads the environment, binds and serves; everything else is here, so tests drive the router
//! as the binary does.

pub mod api;
pub mod auth;
pub mod config;
pub mod health;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use repo_runtime::{AuditKey, DataKey};

pub use config::Config;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// What every handler sees.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    /// The repositories' keys; without them the API answers 503 (`/health` and `/config` work).
    pub keys: Option<Arc<Keys>>,
}

/// The keys every actor carries: the audit key scrubs PII/PHI out of audit rows (and seals
/// cursors), the data key encrypts the encrypted columns.
#[derive(Debug)]
pub struct Keys {
    pub audit: AuditKey,
    pub data: DataKey,
}

impl Keys {
    /// `AUDIT_HMAC_KEY` and `DATA_ENCRYPTION_KEY` from the environment: `Ok(None)` when either
    /// is unset, an error naming the variable when one is malformed.
    pub fn from_env() -> Result<Option<Keys>, String> {
        let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
        if !set(AuditKey::ENV_VAR) || !set(DataKey::ENV_VAR) {
            return Ok(None);
        }
        Ok(Some(Keys {
            audit: AuditKey::from_env().map_err(|e| e.to_string())?,
            data: DataKey::from_env().map_err(|e| e.to_string())?,
        }))
    }
}

/// The request's id: the client's `X-Request-Id` when it is a plain token of at most 128
/// characters, else a new UUID; in every audit row and log line of the request, and echoed.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const REQUEST_ID_HEADER: &str = "x-request-id";

/// How long opening or handing out a connection may take before a request gives up on it.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// The connection pool `config` asks for. It opens connections on first use, so a database
/// that is down does not keep the service from starting (`/health` then says so).
pub fn pool(config: &Config) -> Result<Pool, String> {
    let info = pgconn::ConnInfo::parse(&config.database_url).map_err(|e| e.to_string())?;
    let (mut pg_config, tls) = info.async_parts().map_err(|e| e.to_string())?;
    if pg_config.get_connect_timeout().is_none() {
        pg_config.connect_timeout(CONNECTION_TIMEOUT);
    }
    if pg_config.get_application_name().is_none() {
        pg_config.application_name("dental-service");
    }
    let manager = Manager::from_config(
        pg_config,
        tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(config.pool_max_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(CONNECTION_TIMEOUT))
        .create_timeout(Some(CONNECTION_TIMEOUT))
        .recycle_timeout(Some(CONNECTION_TIMEOUT))
        .build()
        .map_err(|e| format!("cannot build the connection pool: {e}"))
}

/// The service's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/config", get(config))
        .route("/cases", post(api::create_case).get(api::list_cases))
        .route(
            "/cases/{id}",
            get(api::get_case)
                .patch(api::update_case)
                .delete(api::delete_case),
        )
        .route("/jobs", post(api::enqueue_job))
        .route("/jobs/claim", post(api::claim_job))
        .route("/jobs/{id}/complete", post(api::complete_job))
        .route("/jobs/{id}/fail", post(api::fail_job))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Response {
    let report = health::check(
        &state.pool,
        &pgconn::redact(&state.config.database_url),
        EXPECTED_MIGRATIONS,
        state.config.health_timeout,
    )
    .await;
    let status = if report.is_ok() {
        StatusCode::OK
    } else {
        tracing::warn!(problems = ?report.problems, "health check failed");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

async fn config(State(state): State<AppState>) -> Json<config::PublicConfig> {
    Json(state.config.public_view())
}

async fn not_found(request: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({
            "error": "not found",
            "path": request.uri().path(),
            "routes": ["/health", "/config", "/cases", "/cases/{id}", "/jobs", "/jobs/claim", "/jobs/{id}/complete", "/jobs/{id}/fail"],
        })),
    )
        .into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(serde_json::json!({
            "error": format!("{} is not allowed on {}", request.method(), request.uri().path()),
            "status": 405,
        })),
    )
        .into_response()
}

/// One log line per request: method, path (never a query string or body: they may carry
/// personal data), status, time taken and the request id (which finds its audit rows).
async fn log_request(mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            (1..=repo_runtime::MAX_REQUEST_ID).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let started = Instant::now();
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(
        %method,
        path,
        request_id,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1_000.0,
        "request"
    );
    response
}
