//! The async side of the tests and benches: a tokio runtime and deadpool pools on a test database.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::pg::TestDb;

/// A multi-threaded runtime with two workers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A pool of up to `size` plain connections to `db`, recycled without a check query.
pub fn pool(db: &TestDb, size: usize) -> Pool {
    let config: tokio_postgres::Config = db.conn_string().parse().expect("config");
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager).max_size(size).build().expect("pool")
}
