//! The seed's HTTP service (`make run`): `GET /health` and `GET /config` over a pool of
//! database connections. `main.rs` reads the environment, binds and serves; everything else is
//! here, so tests drive the router as the binary does.

pub mod config;
pub mod health;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

pub use config::Config;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// What every handler sees.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
}

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
        .fallback(not_found)
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
            "routes": ["/health", "/config"],
        })),
    )
        .into_response()
}

/// One log line per request: method, path (never a query string or body: they may carry
/// personal data), status and time taken.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1_000.0,
        "request"
    );
    response
}
