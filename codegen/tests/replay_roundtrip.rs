//! Replaying generated SQL with PostgreSQL's parser gives back the catalog it was generated from:
//! the property the incremental diff and the linter stand on.

use model::Catalog;
use model::replay::replay_script;

use e2e::schema::repo_catalog;

fn replayed(sql: &str) -> Catalog {
    let mut catalog = Catalog::default();
    replay_script(&mut catalog, sql)
        .unwrap_or_else(|(pos, e)| panic!("{}:{}: {e}", pos.line, pos.column));
    catalog
}

#[test]
fn replaying_the_first_migration_gives_the_yaml_catalog() {
    let catalog = repo_catalog();
    let m = codegen::migration::initial(&catalog);
    let back = replayed(&m.up);
    let (expected, actual) = (catalog.normalized(), back.normalized());
    for (e, a) in expected.tables.iter().zip(&actual.tables) {
        assert_eq!(e, a, "table {}", e.name);
    }
    assert_eq!(expected, actual);
}

#[test]
fn replaying_up_then_down_gives_an_empty_catalog() {
    let m = codegen::migration::initial(&repo_catalog());
    let both = format!("{}\n{}", m.up.clone(), m.down.clone());
    assert_eq!(replayed(&both), Catalog::default());
}
