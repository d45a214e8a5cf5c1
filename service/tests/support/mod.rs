//! Starting the service binary against a throwaway database, and asking it things over HTTP
//! with a real client (ureq).

#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::pg::TestDb;
use migrate::runner::Runner;

/// A running `dental-service`; killed when dropped.
pub struct Service {
    child: Child,
    pub base: String,
}

impl Service {
    /// Starts the service with `DATABASE_URL=url` and `env`; waits for its "listening on" line.
    pub fn start(url: &str, env: &[(&str, &str)]) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dental-service"));
        command
            .env("DATABASE_URL", url)
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env_remove("AUDIT_HMAC_KEY")
            .env_remove("DATA_ENCRYPTION_KEY")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start dental-service");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the service's first line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the service printed `{line}` instead of its address"))
            .to_string();
        Service { child, base }
    }

    /// GET `path`: (status, body as JSON, time taken).
    pub fn get(&self, path: &str) -> (u16, serde_json::Value, Duration) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let started = Instant::now();
        let mut response = agent
            .get(&format!("{}{path}", self.base))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("GET {path}: cannot read the body: {e}"));
        let body: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("GET {path}: the body is not JSON ({e}): {text}"));
        (status, body, started.elapsed())
    }

    /// `method path` with an optional JSON body and optional headers (`Authorization`, ...):
    /// (status, body as JSON or `null` when empty, response headers).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<&str>,
    ) -> (u16, serde_json::Value, ureq::http::HeaderMap) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let sent = match body {
            Some(body) => request.body(body.to_string()).map(|r| agent.run(r)),
            None => request.body(()).map(|r| agent.run(r)),
        };
        let mut response = sent
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| panic!("{method} {path}: cannot read the body: {e}"));
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path}: the body is not JSON ({e}): {text}"))
        };
        (status, json, headers)
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(mut self) -> bool {
        let pid = i32::try_from(self.child.id()).expect("pid");
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the service did not stop within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Applies the first `count` committed migrations (all with `None`) with the runner.
pub fn migrate(db: &TestDb, count: Option<usize>) {
    let mut migrations = e2e::migrations::committed().migrations;
    if let Some(count) = count {
        migrations.truncate(count);
    }
    Runner::connect(&db.url(), migrations)
        .expect("connect the runner")
        .upgrade()
        .expect("apply the migrations");
}
