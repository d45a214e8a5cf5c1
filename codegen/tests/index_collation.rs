//! An index key's collation (`COLLATE "C"`) from schema.yaml: written into the index's SQL, read
//! back by the replay that verifies the plan, and a changed collation rebuilds the index.

use codegen::migration::{PlanOptions, plan};
use model::RenameHints;

fn schema(key: &str) -> model::Catalog {
    let yaml = format!(
        "tables:\n  words:\n    columns:\n      id: {{ type: uuid, primary_key: true }}\n      word: text\n    indexes:\n      - {{ name: words_word_idx, columns: ['{key}'] }}\n"
    );
    model::load_schema("schema.yaml", &yaml).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_key_collation_is_generated_and_replayed() {
    let catalog = schema(r#"word COLLATE "C" text_pattern_ops DESC"#);
    let migration = codegen::migration::initial(&catalog);
    assert!(
        migration.up.contains(
            r#"CREATE INDEX words_word_idx ON words (word COLLATE "C" text_pattern_ops DESC);"#
        ),
        "{}",
        migration.up
    );
    let mut replayed = model::Catalog::default();
    model::replay::replay_script(&mut replayed, &migration.up).unwrap_or_else(|e| panic!("{e:?}"));
    let differences = model::compare::compare(&catalog, &replayed);
    assert!(differences.is_empty(), "{differences:?}");
}

#[test]
fn a_changed_key_collation_rebuilds_the_index() {
    let options = PlanOptions {
        name: Some("collation".to_string()),
        first_number: 2,
        allow_destructive: false,
    };
    let migrations = plan(
        &schema("word"),
        &schema(r#"word COLLATE "C""#),
        &RenameHints::default(),
        &options,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let up: String = migrations.iter().map(|m| m.up.as_str()).collect();
    assert!(up.contains("DROP INDEX"), "{up}");
    assert!(up.contains(r#"ON words (word COLLATE "C");"#), "{up}");
}
