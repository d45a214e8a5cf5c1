//! Names that need quoting (`tests/fixtures/names/`): upper and mixed case, white space,
//! reserved words, a leading digit, a dot and a quote in a name, non-ASCII, a name of exactly 63
//! bytes, a schema of the same kind. The SQL quotes them where PostgreSQL's `quote_ident` would
//! (and only there), the Rust crate maps them to snake and Camel case, the docs link their pages.
//! `tests/tests/quoted_names.rs` (crate `e2e`) runs the same plan on PostgreSQL 15 and
//! introspects it back.

use std::path::Path;

use codegen::rust;
use e2e::fixtures::{Step, evolve, fixture_steps};
use model::Catalog;

fn catalog() -> Catalog {
    let steps = fixture_steps("names");
    model::load_schema("names", &steps[0].1).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn migration_snapshot() {
    let steps = evolve("names");
    assert_eq!(steps.len(), 1);
    for Step {
        name, migrations, ..
    } in steps
    {
        insta::assert_snapshot!(name, e2e::fixtures::migrations_text(&migrations));
    }
}

#[test]
fn sql_quotes_only_what_needs_quoting() {
    let up = codegen::migration::initial(&catalog()).up;
    for quoted in [
        "CREATE SCHEMA \"Sales Dept\";",
        "CREATE TYPE \"OrderStatus\" AS ENUM (",
        "CREATE TABLE \"User\" (",
        "\"emailAddress\"",
        "\"First Name\"",
        "\"select\"",
        "\"1st_login\"",
        "\"naïve_score\"",
        "\"say \"\"hi\"\"\"",
        "CREATE TABLE \"order\" (",
        "\"order.total\"",
        "CREATE TABLE \"Sales Dept\".\"Order Lines\" (",
        "\"Sales Dept\".region",
    ] {
        assert!(up.contains(quoted), "{quoted}\n{up}");
    }
    // Unreserved keywords and plain lower-case names stay bare.
    for bare in [
        "\n    type ",
        "\n    self ",
        "\n    id ",
        "\n    status ",
        "order_pkey",
    ] {
        assert!(up.contains(bare), "{bare}\n{up}");
    }
}

#[test]
fn rust_snapshot() {
    let catalog = catalog();
    assert_eq!(rust::check(&catalog), Vec::<String>::new());
    for f in rust::generate(&catalog) {
        if f.path.extension().is_some_and(|e| e == "rs") {
            syn::parse_file(&f.contents).unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
            assert!(!f.contents.contains("compile_error!"), "{}", f.contents);
            let name = format!("rust__{}", f.path.display().to_string().replace('/', "__"));
            insta::assert_snapshot!(name, f.contents);
        }
    }
}

/// Two names for one Rust name: `codegen` warns naming both, and the crate leaves the table out
/// (saying why in `lib.rs`) rather than guess which name keeps the Rust one; the database does
/// not care, so the migrations are planned as usual.
#[test]
fn two_names_for_one_rust_name_are_reported_and_the_table_left_out() {
    let catalog = model::load_schema(
        "schema.yaml",
        "tables:\n  userAccounts:\n    columns:\n      id: { type: uuid, primary_key: true }\n      userId: uuid\n      user_id: uuid\n  user_accounts:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        rust::check(&catalog),
        [
            "table `userAccounts`: columns `userId` and `user_id` both become the Rust field `user_id`; rename one of them",
            "tables `userAccounts` and `user_accounts` both become the Rust module `user_accounts`; rename one of them",
        ]
    );
    let files = rust::generate(&catalog);
    let lib = files
        .iter()
        .find(|f| f.path == Path::new("rust/src/lib.rs"))
        .expect("lib.rs");
    assert!(
        lib.contents.contains("//! - `userAccounts`: columns `userId` and `user_id` both become the Rust field `user_id`; rename one of them\n"),
        "{}",
        lib.contents
    );
    assert_eq!(
        files
            .iter()
            .filter(|f| f.path == Path::new("rust/src/user_accounts.rs"))
            .count(),
        1
    );
}

#[test]
fn docs_link_every_table_page() {
    let files = codegen::docs::generate(&catalog());
    let in_tables: Vec<String> = files
        .iter()
        .filter_map(|f| {
            f.path
                .strip_prefix("docs/tables")
                .ok()
                .map(|p| p.display().to_string())
        })
        .collect();
    // A page and a neighbourhood image per table, under the same safe name.
    assert_eq!(
        in_tables,
        [
            "User.md",
            "User.svg",
            "order.md",
            "order.svg",
            "Sales_Dept.Order_Lines-ed22a2eb.md",
            "Sales_Dept.Order_Lines-ed22a2eb.svg"
        ]
    );
    let pages: Vec<String> = in_tables
        .into_iter()
        .filter(|p| p.ends_with(".md"))
        .collect();
    let index = files
        .iter()
        .find(|f| f.path == Path::new("docs/README.md"))
        .expect("index");
    for page in &pages {
        assert!(
            index.contents.contains(&format!("(tables/{page})")),
            "{page}\n{}",
            index.contents
        );
    }
}
