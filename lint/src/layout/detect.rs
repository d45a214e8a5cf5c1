//! Recognising a directory's layout from its file names and contents.

use super::*;

pub(super) fn detect(entries: &[Entry]) -> (Layout, String, Vec<Layout>) {
    if entries
        .iter()
        .any(|e| file_name(&e.path) == "migration_lock.toml" && depth(&e.path) <= 2)
    {
        return (Layout::Prisma, "`migration_lock.toml`".to_string(), vec![]);
    }
    if entries
        .iter()
        .any(|e| key(Layout::Prisma, &e.path).is_some())
    {
        return (
            Layout::Prisma,
            "`<timestamp>_<name>/migration.sql` directories".to_string(),
            vec![],
        );
    }
    if entries
        .iter()
        .any(|e| key(Layout::Diesel, &e.path).is_some())
    {
        return (
            Layout::Diesel,
            "`<version>_<name>/up.sql` directories".to_string(),
            vec![],
        );
    }
    if entries
        .iter()
        .any(|e| key(Layout::Flyway, &e.path).is_some())
    {
        return (
            Layout::Flyway,
            "`V<version>__<description>.sql` files".to_string(),
            vec![],
        );
    }
    let top: Vec<&Entry> = entries
        .iter()
        .filter(|e| depth(&e.path) == 1 && is_up_sql(&e.path))
        .collect();
    let numbered: Vec<&Entry> = top
        .iter()
        .copied()
        .filter(|e| numbered_name(&e.path, &['_', '-']).is_some())
        .collect();
    let any_text =
        |test: &dyn Fn(&str) -> bool| numbered.iter().any(|e| e.text.as_deref().is_some_and(test));
    // A substring search first: line by line only for the files that may hold a directive.
    if any_text(&|t| t.contains("+goose") && t.lines().any(|l| goose_directive(l).is_some())) {
        return (
            Layout::Goose,
            "`-- +goose Up` annotations".to_string(),
            vec![],
        );
    }
    if any_text(&|t| t.contains("migrate:") && t.lines().any(|l| dbmate_directive(l).is_some())) {
        return (
            Layout::Dbmate,
            "`-- migrate:up` sections".to_string(),
            vec![],
        );
    }
    if any_text(&|t| first_line(t) == POSTGRES_MIGRATIONS_MARKER) {
        return (
            Layout::PostgresMigrations,
            "`-- postgres-migrations disable-transaction` markers".to_string(),
            vec![],
        );
    }
    let ups: Vec<&Entry> = numbered
        .iter()
        .copied()
        .filter(|e| key(Layout::GolangMigrate, &e.path).is_some())
        .collect();
    if !ups.is_empty() {
        if entries.iter().any(|e| e.path == "codegen.sum") {
            return (Layout::Codegen, "`codegen.sum`".to_string(), vec![]);
        }
        if any_text(&|t| codegen_transaction(t) == Transaction::None) {
            return (
                Layout::Codegen,
                "`-- codegen:no-transaction` markers".to_string(),
                vec![],
            );
        }
        if any_text(&|t| first_line(t) == SQLX_MARKER) {
            return (
                Layout::Sqlx,
                "`-- no-transaction` markers".to_string(),
                vec![],
            );
        }
        let four_digits = ups
            .iter()
            .all(|e| numbered_name(&e.path, &['_']).is_some_and(|(n, _)| n.len() == 4));
        if four_digits {
            return (
                Layout::Codegen,
                "`NNNN_name.up.sql` files".to_string(),
                vec![Layout::GolangMigrate, Layout::Sqlx],
            );
        }
        return (
            Layout::GolangMigrate,
            "`<N>_<name>.up.sql` files".to_string(),
            vec![Layout::Sqlx],
        );
    }
    if !numbered.is_empty() {
        if any_text(&|t| first_line(t) == SQLX_MARKER) {
            return (
                Layout::Sqlx,
                "`-- no-transaction` markers".to_string(),
                vec![],
            );
        }
        if numbered
            .iter()
            .any(|e| numbered_name(&e.path, &['-']).is_some())
        {
            return (
                Layout::PostgresMigrations,
                "`<N>-<name>.sql` files".to_string(),
                vec![],
            );
        }
    }
    if !top.is_empty() && top.iter().all(|e| e.text.as_deref().is_some_and(is_dump)) {
        return (Layout::PgDump, "pg_dump's header".to_string(), vec![]);
    }
    let alternatives = if numbered.is_empty() {
        vec![]
    } else {
        vec![Layout::Sqlx, Layout::PostgresMigrations]
    };
    (
        Layout::Plain,
        "no migration tool's layout recognised: *.sql by name, *.down.sql skipped".to_string(),
        alternatives,
    )
}

/// Whether a text is a `pg_dump` output (Rails' `db/structure.sql` is one with the header
/// comments taken out): its header comment, or its `SET` preamble.
pub fn is_dump(text: &str) -> bool {
    let head: Vec<&str> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(40)
        .collect();
    head.contains(&"-- PostgreSQL database dump")
        || (head.contains(&"SET statement_timeout = 0;")
            && head.iter().any(|l| {
                l.starts_with("SET client_encoding") || l.contains("set_config('search_path'")
            }))
}
