//! The `codegen` binary as a user runs it: generate, edit, generate again, check, tamper, and the
//! `db` subcommands against a throwaway PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{codegen, text};

/// A scratch project directory with a small schema.
fn project(name: &str) -> PathBuf {
    common::project("cli", name)
}

#[test]
fn generate_edit_check_and_tamper() {
    let dir = project("flow");
    let first = codegen(&dir, &[], None);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        dir.join("generated/migrations/0001_initial.up.sql")
            .is_file()
    );
    assert!(dir.join("generated/migrations/codegen.sum").is_file());

    // Nothing changed: nothing new, and --check agrees.
    let again = codegen(&dir, &[], None);
    assert!(
        text(&again).contains("no schema changes"),
        "{}",
        text(&again)
    );
    assert_eq!(codegen(&dir, &["--check"], None).status.code(), Some(0));

    // An edit is pending until generated.
    let schema = dir.join("schema.yaml");
    let edited = std::fs::read_to_string(&schema).expect("read")
        + "      title: { type: text, nullable: true }\n";
    std::fs::write(&schema, edited).expect("edit");
    let check = codegen(&dir, &["--check"], None);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(
        text(&check).contains("pending") && text(&check).contains("cargo run -p codegen"),
        "{}",
        text(&check)
    );
    let second = codegen(&dir, &["--name", "add title"], None);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        dir.join("generated/migrations/0002_add_title.up.sql")
            .is_file(),
        "{}",
        text(&second)
    );
    assert_eq!(codegen(&dir, &["--check"], None).status.code(), Some(0));

    // Editing an old migration by hand is caught.
    let old = dir.join("generated/migrations/0001_initial.up.sql");
    let body = std::fs::read_to_string(&old).expect("read");
    std::fs::write(
        &old,
        body.replace("body text NOT NULL", "body varchar(10) NOT NULL"),
    )
    .expect("tamper");
    let tampered = codegen(&dir, &["--check"], None);
    assert_eq!(tampered.status.code(), Some(2), "{}", text(&tampered));
    assert!(
        text(&tampered).contains("0001_initial.up.sql` was changed after it was generated"),
        "{}",
        text(&tampered)
    );

    // A broken schema names file, line and column.
    std::fs::write(
        &schema,
        "tables:\n  notes:\n    columns:\n      id: { type: uuidd, primary_key: true }\n",
    )
    .expect("break");
    let broken = codegen(&dir, &["--rehash"], None);
    assert_eq!(broken.status.code(), Some(2));
    assert!(
        text(&broken).contains("schema.yaml:4:19"),
        "{}",
        text(&broken)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn destructive_edits_need_the_flag() {
    let dir = project("destructive");
    assert!(codegen(&dir, &[], None).status.success());
    std::fs::write(
        dir.join("schema.yaml"),
        "tables:\n  notes:\n    columns:\n      id: { type: uuid, primary_key: true, default: gen_random_uuid() }\n",
    )
    .expect("drop column");
    let refused = codegen(&dir, &[], None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused).contains("drops column `notes.body`"),
        "{}",
        text(&refused)
    );
    assert!(
        !dir.join("generated/migrations/0002_drop_notes_body.up.sql")
            .exists()
    );
    let allowed = codegen(&dir, &["--allow-destructive"], None);
    assert!(allowed.status.success(), "{}", text(&allowed));
    assert!(
        dir.join("generated/migrations/0002_drop_notes_body.up.sql")
            .is_file(),
        "{}",
        text(&allowed)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn db_subcommands() {
    let dir = project("db");
    assert!(codegen(&dir, &[], None).status.success());
    let db = e2e::pg::cluster().create_database("cli_db");
    let url = db.url();
    let check = codegen(&dir, &["db", "check"], Some(&url));
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("server version: 15")
            && text(&check).contains("pending migrations: 1"),
        "{}",
        text(&check)
    );
    let up = codegen(&dir, &["db", "upgrade"], Some(&url));
    assert!(
        up.status.success() && text(&up).contains("applied  0001_initial"),
        "{}",
        text(&up)
    );
    let current = codegen(&dir, &["db", "current"], Some(&url));
    assert_eq!(
        String::from_utf8_lossy(&current.stdout).trim(),
        "0001_initial"
    );
    let history = codegen(&dir, &["db", "history"], Some(&url));
    assert!(
        text(&history).starts_with("applied  0001_initial  sha256:"),
        "{}",
        text(&history)
    );
    let reset = codegen(&dir, &["db", "reset"], Some(&url));
    assert_eq!(
        reset.status.code(),
        Some(2),
        "reset without --yes is refused"
    );
    assert!(
        codegen(&dir, &["db", "reset", "--yes"], Some(&url))
            .status
            .success()
    );
    let down = codegen(&dir, &["db", "downgrade"], Some(&url));
    assert!(down.status.success(), "{}", text(&down));
    let current = codegen(&dir, &["db", "current"], Some(&url));
    assert!(String::from_utf8_lossy(&current.stdout).contains("none"));
    let unreachable = codegen(
        &dir,
        &["db", "check"],
        Some("postgresql://u:pw@127.0.0.1:1/x?connect_timeout=2"),
    );
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(
        text(&unreachable).contains("cannot connect to postgresql://u:***@127.0.0.1:1/x"),
        "{}",
        text(&unreachable)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `db purge` on the repository's own schema and migrations: the counts as JSON, audited; on a
/// schema without `retention` it fails saying why.
#[test]
fn db_purge_runs_the_retention_purge() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = project("purge");
    std::fs::copy(root.join("schema.yaml"), dir.join("schema.yaml")).expect("schema");
    let migrations = dir.join("generated/migrations");
    std::fs::create_dir_all(&migrations).expect("dir");
    for entry in std::fs::read_dir(root.join("generated/migrations")).expect("migrations") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), migrations.join(entry.file_name())).expect("copy");
    }
    let db = e2e::pg::cluster().create_database("cli_purge");
    let url = db.url();
    let up = codegen(&dir, &["db", "upgrade"], Some(&url));
    assert!(up.status.success(), "{}", text(&up));
    let purge = codegen(&dir, &["db", "purge"], Some(&url));
    assert!(purge.status.success(), "{}", text(&purge));
    assert_eq!(
        String::from_utf8_lossy(&purge.stdout).trim(),
        r#"{"cases": 0, "files": 0, "segments": 0, "audit_logs": 0}"#
    );
    let bad_actor = codegen(&dir, &["db", "purge", "--actor", "nobody"], Some(&url));
    assert_eq!(bad_actor.status.code(), Some(2), "{}", text(&bad_actor));
    assert!(text(&bad_actor).contains("uuid"), "{}", text(&bad_actor));

    let plain = project("purge_none");
    assert!(codegen(&plain, &[], None).status.success());
    let db = e2e::pg::cluster().create_database("cli_purge_none");
    assert!(
        codegen(&plain, &["db", "upgrade"], Some(&db.url()))
            .status
            .success()
    );
    let missing = codegen(&plain, &["db", "purge"], Some(&db.url()));
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing).contains("no table declares `retention`"),
        "{}",
        text(&missing)
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&plain);
}

/// The setup guide's make targets exist and call the matching commands.
#[test]
fn make_targets_match_the_setup_guide() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (target, expected) in [
        ("build", "cargo build --workspace"),
        ("migrate", "db upgrade"),
        ("db-show", "db history"),
        ("db-rollback", "db downgrade 1"),
        ("resetdb", "db reset --yes"),
        ("db-current", "db current"),
        ("test", "cargo test --workspace"),
    ] {
        let out = Command::new("make")
            .current_dir(&root)
            .args(["-n", target])
            .output()
            .expect("make");
        assert!(out.status.success(), "make -n {target}: {}", text(&out));
        assert!(
            text(&out).contains(expected),
            "make {target} should run `{expected}`:\n{}",
            text(&out)
        );
    }
    let out = Command::new("make")
        .current_dir(&root)
        .args(["-n", "db-revision", "message=add due dates"])
        .output()
        .expect("make");
    assert!(
        text(&out).contains("--name \"add due dates\""),
        "{}",
        text(&out)
    );
}
