//! `/health` while the database server goes away and comes back: 503 within the timeout while it
//! is down, 200 again once it is up (the pool replaces its dead connections). One test only: it
//! stops this process's cluster.

mod support;

use std::time::{Duration, Instant};

use e2e::pg;
use support::{Service, migrate};

#[test]
fn health_follows_the_server_down_and_up() {
    let db = pg::cluster().create_database("service_down");
    migrate(&db, None);
    let service = Service::start(&db.url(), &[("HEALTH_TIMEOUT_MS", "2000")]);
    assert_eq!(service.get("/health").0, 200);

    pg::cluster().stop_immediately();
    let (status, body, took) = service.get("/health");
    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["database"], "unreachable", "{body:#}");
    assert!(took < Duration::from_secs(5), "took {took:?}");

    pg::cluster().start_again();
    let started = Instant::now();
    loop {
        let (status, body, _) = service.get("/health");
        if status == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still {status} 10 s after the server came back: {body:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
