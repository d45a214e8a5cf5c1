//! What the tests that drive the `codegen` binary share: running it, reading its output, and a
//! scratch project with a small schema; `runner` for the tests of `codegen db` on a database.

#![allow(dead_code)] // each test file uses part of it

pub mod markdown;
pub mod runner;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `codegen` in `dir` with `args`, with `DATABASE_URL` set to `database_url` or unset.
pub fn codegen(dir: &Path, args: &[&str], database_url: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codegen"));
    cmd.current_dir(dir).args(args).env_remove("DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().expect("run codegen")
}

/// Standard output then standard error, as text.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh scratch directory `codegen-<kind>-<name>-<pid>` holding a one-table `schema.yaml`.
pub fn project(kind: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("codegen-{kind}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(
        dir.join("schema.yaml"),
        "tables:\n  notes:\n    columns:\n      id: { type: uuid, primary_key: true, default: gen_random_uuid() }\n      body: text\n",
    )
    .expect("schema");
    dir
}
