//! The first migration generated from the repository's `schema.yaml`.

use codegen::migration;
use e2e::schema::{CYCLIC_TABLES, load, repo_catalog, repo_root, repo_schema_text, table_blocks};

/// The statements of a script, split by PostgreSQL's parser.
fn statements(sql: &str) -> Vec<String> {
    let parsed = model::replay::parse_script(sql).unwrap_or_else(|e| panic!("{e:?}\n{sql}"));
    parsed.iter().map(|s| s.text.to_string()).collect()
}

#[test]
fn snapshot_of_the_first_migration() {
    let m = migration::initial(&repo_catalog());
    insta::assert_snapshot!("0001_initial.up.sql", m.up.clone());
    insta::assert_snapshot!("0001_initial.down.sql", m.down.clone());
}

/// The committed migrations are intact (their integrity file matches) and capture everything in
/// `schema.yaml`: replaying them gives the schema, so `codegen` has nothing new to write.
#[test]
fn committed_migrations_capture_schema_yaml() {
    let migrate::dir::History { migrations, sum } = e2e::migrations::committed();
    let sum = sum.expect("generated/migrations has its integrity file");
    migrate::history::verify_sum(&migrations, &sum).unwrap_or_else(|e| panic!("{e}"));
    let previous = migrate::history::replay(&migrations).unwrap_or_else(|e| panic!("{e}"));
    let (catalog, renames) = model::load_schema_with_renames("schema.yaml", &repo_schema_text())
        .unwrap_or_else(|e| panic!("{e}"));
    let options = migration::PlanOptions {
        first_number: 99,
        ..Default::default()
    };
    let pending =
        migration::plan(&previous, &catalog, &renames, &options).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        pending.is_empty(),
        "schema.yaml has changes no committed migration captures: run `cargo run -p codegen` and commit the result\n{}",
        pending
            .iter()
            .map(|m| m.up.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// `generated/` is committed; it must be exactly what `codegen` writes today.
#[test]
fn committed_generated_files_are_current() {
    for file in codegen::generate(&repo_catalog()) {
        let path = repo_root().join("generated").join(&file.path);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == file.contents,
            "{} is stale or missing: run `cargo run -p codegen` and commit the result",
            path.display()
        );
    }
}

#[test]
fn every_statement_parses_with_postgres_own_parser() {
    let m = migration::initial(&repo_catalog());
    for statement in statements(&m.up).iter().chain(&statements(&m.down)) {
        let parsed = pg_query::parse(statement, 0).unwrap_or_else(|e| panic!("{e}\n{statement}"));
        assert_eq!(parsed.protobuf.stmts.len(), 1, "{statement}");
    }
    // The whole files too, comments and all.
    for text in [m.up.clone(), m.down.clone()] {
        pg_query::parse(&text, 0).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}

#[test]
fn every_statement_parses_with_sqlparser_postgres_dialect() {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    let m = migration::initial(&repo_catalog());
    // sqlparser has no `DO` statement (the idempotent CREATE ROLE blocks); PostgreSQL's own
    // parser checks those above and the end-to-end tests run them.
    let mut all = statements(&m.up);
    all.extend(statements(&m.down));
    let checked: Vec<&String> = all.iter().filter(|s| !s.starts_with("DO $$")).collect();
    assert_eq!(
        all.len() - checked.len(),
        3,
        "only the three role blocks are skipped"
    );
    for statement in checked {
        // Nor the SECURITY and SET clauses of CREATE FUNCTION: the rest of the statement is
        // checked without them.
        let statement = &statement.replace("\n    SECURITY DEFINER", "").replace(
            &format!(
                "\n    SET search_path = {}",
                model::compliance::DEFINER_SEARCH_PATH
            ),
            "",
        );
        let parsed = Parser::parse_sql(&PostgreSqlDialect {}, statement)
            .unwrap_or_else(|e| panic!("{e}\n{statement}"));
        assert_eq!(parsed.len(), 1, "{statement}");
    }
}

/// Reordering the YAML does not change the SQL: tables and enums are emitted in an order of their
/// own (dependencies, then names), never in the order a map happened to iterate.
#[test]
fn output_does_not_depend_on_declaration_order() {
    let text = repo_schema_text();
    let (head, mut blocks) = table_blocks(&text);
    assert_eq!(
        blocks.len(),
        8,
        "expected the seven tables of the seed and encryption_keys"
    );
    blocks.reverse();
    let reordered = format!("{head}\ntables:\n{}", blocks.concat());
    let a = migration::initial(&load(&text));
    let b = migration::initial(&load(&reordered));
    assert_eq!(a.up.clone(), b.up.clone());
    assert_eq!(a.down.clone(), b.down.clone());
}

#[test]
fn tables_come_after_the_tables_they_reference() {
    let catalog = repo_catalog();
    let order: Vec<&str> = migration::creation_order(&catalog)
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "encryption_keys",
            "users",
            "audit_logs",
            "cases",
            "files",
            "jobs",
            "models",
            "segments"
        ]
    );
}

#[test]
fn keywords_and_odd_names_are_quoted() {
    let catalog = load(
        "tables:\n  order:\n    columns:\n      id: { type: uuid, primary_key: true }\n      user: { type: text, index: true }\n      timestamp: timestamptz\n",
    );
    let up = migration::initial(&catalog).up.clone();
    assert!(up.contains("CREATE TABLE \"order\" ("), "{up}");
    assert!(up.contains("    \"user\"      text NOT NULL,"), "{up}");
    assert!(
        up.contains("CREATE INDEX order_user_idx ON \"order\" (\"user\");"),
        "{up}"
    );
    pg_query::parse(&up, 0).unwrap_or_else(|e| panic!("{e}\n{up}"));
}

#[test]
fn cycles_and_self_references_are_created_then_linked() {
    let catalog = load(CYCLIC_TABLES);
    let m = migration::initial(&catalog);
    let up = m.up.clone();
    let create_b = up.find("CREATE TABLE b").expect("b");
    let first_fk = up.find("ADD CONSTRAINT").expect("fk");
    assert!(
        create_b < first_fk,
        "foreign keys come after every table:\n{up}"
    );
    assert!(up.contains("ALTER TABLE a ADD CONSTRAINT a_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES a (id) ON DELETE SET NULL;"));
    // Each FK column got its index.
    for ix in ["a_b_id_idx", "a_parent_id_idx", "b_a_id_idx"] {
        assert!(
            up.contains(&format!("CREATE INDEX {ix} ")),
            "{ix} missing:\n{up}"
        );
    }
    // Down drops the foreign keys before the tables.
    let down = m.down.clone();
    assert!(
        down.find("DROP CONSTRAINT").expect("drop fk")
            < down.find("DROP TABLE").expect("drop table")
    );
}
