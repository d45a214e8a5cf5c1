//! `dental-service`: serves `/health`, `/config` and the API on `HOST`:`PORT` (127.0.0.1:8000) for the
//! database at `DATABASE_URL` (the seed's default). Stops gracefully on Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use dental_service::{AppState, Config, Keys, pool, router};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> Result<(), String> {
    let config = Config::from_vars(|name| std::env::var(name).ok())?;
    let pool = pool(&config)?;
    let keys = Keys::from_env()?;
    if keys.is_none() {
        tracing::warn!(
            "AUDIT_HMAC_KEY or DATA_ENCRYPTION_KEY is not set: the API answers 503, /health and /config work"
        );
    }
    let address = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e} (set HOST and PORT)"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    tracing::info!(
        database = %pgconn::redact(&config.database_url),
        "listening on http://{bound}"
    );
    // The line tests and scripts wait for (PORT=0 picks a free port).
    println!("listening on http://{bound}");
    let app = router(AppState {
        pool,
        config: Arc::new(config),
        keys: keys.map(Arc::new),
    });
    // The peer address goes into the audit rows (`audit_logs.ip_address`).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("the server stopped: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, exit.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
