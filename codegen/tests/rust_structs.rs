//! The generated Rust crate (`generated/rust`): snapshot of every file for the repository's
//! schema, determinism, and the corner cases of names and types.

use codegen::rust;
use e2e::schema::{assert_has, file, load, repo_catalog};

#[test]
fn snapshot_of_the_generated_crate() {
    for f in rust::generate(&repo_catalog()) {
        let name = f.path.display().to_string().replace('/', "__");
        insta::assert_snapshot!(name, f.contents);
    }
}

#[test]
fn every_file_has_the_do_not_edit_header_and_parses() {
    let files = rust::generate(&repo_catalog());
    assert!(files.len() > 3);
    for f in &files {
        assert!(f.contents.contains("DO NOT EDIT"), "{}", f.path.display());
        if f.path.extension().is_some_and(|e| e == "rs") {
            syn::parse_file(&f.contents).unwrap_or_else(|e| panic!("{}: {e}", f.path.display()));
            assert!(
                !f.contents.contains("compile_error!"),
                "{}",
                f.path.display()
            );
        }
    }
}

/// Only a key whose default is `gen_random_uuid()` may be drawn by the repository; another
/// default stays the database's.
#[test]
fn only_a_random_uuid_default_makes_a_random_uuid_key() {
    let yaml = "tables:\n  drawn:\n    columns:\n      id: { type: uuid, primary_key: true, default: gen_random_uuid() }\n  timed:\n    columns:\n      id: { type: uuid, primary_key: true, default: uuidv7() }\n  given:\n    columns:\n      id: { type: uuid, primary_key: true }\n";
    let files = rust::generate(&load(yaml));
    for (path, attrs) in [
        ("rust/src/drawn.rs", "#[repo(primary_key, random_uuid)]"),
        ("rust/src/timed.rs", "#[repo(primary_key, default)]"),
        ("rust/src/given.rs", "#[repo(primary_key)]"),
    ] {
        let source = file(&files, path);
        assert!(
            source.contains(&format!("{attrs}\n    pub id: uuid::Uuid,")),
            "{source}"
        );
    }
}

/// Reordering the YAML's tables and enums does not change a byte.
#[test]
fn output_does_not_depend_on_declaration_order() {
    let a = "enums:\n  b_kind: [x, y]\n  a_kind: [p]\ntables:\n  zs:\n    columns:\n      id: { type: uuid, primary_key: true }\n      k: b_kind\n  as:\n    columns:\n      id: { type: uuid, primary_key: true }\n      k: a_kind\n";
    let b = "enums:\n  a_kind: [p]\n  b_kind: [x, y]\ntables:\n  as:\n    columns:\n      id: { type: uuid, primary_key: true }\n      k: a_kind\n  zs:\n    columns:\n      id: { type: uuid, primary_key: true }\n      k: b_kind\n";
    assert_eq!(rust::generate(&load(a)), rust::generate(&load(b)));
}

#[test]
fn the_repositorys_tables_get_the_expected_attributes() {
    let files = rust::generate(&repo_catalog());
    let cases = file(&files, "rust/src/cases.rs");
    for expected in [
        "#[repo(table = \"cases\")]",
        "#[repo(primary_key, random_uuid)]\n    pub id: uuid::Uuid,",
        "#[repo(phi, find)]\n    pub patient_id: String,",
        "#[repo(phi, encrypted)]\n    pub title: Option<String>,",
        "#[repo(default, jsonb, phi)]\n    pub case_metadata: serde_json::Value,",
        "#[repo(read_only, sort_key)]\n    pub created_at: chrono::DateTime<chrono::Utc>,",
        "#[repo(soft_delete)]\n    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,",
        "pub status: crate::enums::CaseStatus,",
        "/// Clinical metadata (scanner, referral, tooth chart).",
    ] {
        assert!(cases.contains(expected), "missing {expected:?} in\n{cases}");
    }
    let users = file(&files, "rust/src/users.rs");
    assert_has(users, "#[repo(pii)]\n    pub email: String,");
    // The audit trail has a struct but no repository.
    let audit = file(&files, "rust/src/audit_logs.rs");
    assert!(!audit.contains("Repository"), "{audit}");
    assert_has(audit, "pub ip_address: Option<std::net::IpAddr>,");
    let enums = file(&files, "rust/src/enums.rs");
    for expected in [
        "#[postgres(name = \"case_status\", allow_mismatch)]",
        "#[postgres(name = \"in_progress\")]\n    #[serde(rename = \"in_progress\")]\n    InProgress,",
    ] {
        assert_has(enums, expected);
    }
    let cargo = file(&files, "rust/Cargo.toml");
    assert_has(cargo, "name = \"dental-schema\"");
}

#[test]
fn odd_names_and_unmapped_types() {
    let files = rust::generate(&load(
        "enums:
  mood: [ok, self, 3d]
tables:
  results:
    columns:
      id: { type: uuid, primary_key: true }
      type: text
      self: { type: integer, nullable: true }
      moods: { type: mood, nullable: true }
      tags: { type: \"text[]\", default: \"'{}'\" }
  ledgers:
    columns:
      id: { type: uuid, primary_key: true }
      amount: numeric(10,2)
  moods_log:
    columns:
      id: { type: uuid, primary_key: true }
      history: \"mood[]\"
  pairs:
    primary_key: [a, b]
    columns:
      a: integer
      b: integer
",
    ));
    let results = file(&files, "rust/src/results.rs");
    // `Result` would shadow the prelude: the row type takes a suffix.
    assert_has(results, "pub struct ResultRow {");
    assert_has(results, "pub r#type: String,");
    assert_has(
        results,
        "#[repo(column = \"self\")]\n    pub self_column: Option<i32>,",
    );
    assert_has(results, "#[repo(default)]\n    pub tags: Vec<String>,");
    let enums = file(&files, "rust/src/enums.rs");
    assert!(
        enums.contains("SelfValue,") && enums.contains("V3d,"),
        "{enums}"
    );
    // A composite key: a struct, no repository.
    let pairs = file(&files, "rust/src/pairs.rs");
    assert_has(pairs, "No repository: a composite primary key.");
    assert!(!pairs.contains("Repository"), "{pairs}");
    // No mapping: no file, and the crate documentation says why.
    assert!(
        files
            .iter()
            .all(|f| !f.path.ends_with("ledgers.rs") && !f.path.ends_with("moods_log.rs"))
    );
    let lib = file(&files, "rust/src/lib.rs");
    assert_has(
        lib,
        "//! - `ledgers`: column `amount`: `numeric(10,2)` has no Rust mapping yet",
    );
    assert_has(lib, "//! - `moods_log`: column `history`: `mood[]`");
}

#[test]
fn identity_and_generated_columns_are_never_written_and_other_schemas_get_no_repository() {
    let catalog = load(
        "schemas: [storage]\ntables:\n  orders:\n    columns:\n      id: { type: uuid, primary_key: true, default: gen_random_uuid() }\n      number: { type: bigint, identity: always }\n      price: integer\n      quantity: integer\n      total: { type: integer, generated: \"price * quantity\" }\n  storage.orders:\n    columns:\n      id: { type: bigint, primary_key: true, identity: by default }\n",
    );
    let files = rust::generate(&catalog);
    let orders = file(&files, "rust/src/orders.rs");
    assert_has(orders, "#[repo(read_only)]\n    pub number: i64,");
    assert_has(orders, "#[repo(read_only)]\n    pub total: i32,");
    assert_has(orders, "`GENERATED ALWAYS AS IDENTITY`");
    assert_has(orders, "generated as `price * quantity`");
    let storage = file(&files, "rust/src/storage_orders.rs");
    assert_has(storage, "pub struct OrderRow {");
    assert_has(
        storage,
        "No repository: the table is in schema `storage`, and the repositories address tables in `public` only.",
    );
    let lib = file(&files, "rust/src/lib.rs");
    assert_has(lib, "pub mod storage_orders;");
    assert_has(lib, "pub use storage_orders::OrderRow;");
}
