//! The schema fixtures under `codegen/tests/fixtures/<fixture>/`: steps of a schema.yaml planned
//! one after another, as `codegen` plans an edit from the replayed history. codegen's tests pin the
//! SQL; the tests here run it on PostgreSQL.

use std::path::Path;

use codegen::migration::{Migration, PlanOptions, plan};
use model::Catalog;
use model::replay::replay_script;
use postgres::Client;

/// One fixture step: its name (the file stem), the migrations planned for it, and the catalog
/// those migrations replay into.
#[derive(Debug, PartialEq)]
pub struct Step {
    pub name: String,
    pub migrations: Vec<Migration>,
    pub catalog: Catalog,
}

/// Migrations as the fixture snapshots pin them: each one's up then down script, under a
/// `==== <id>.up.sql` / `==== <id>.down.sql` line.
pub fn migrations_text(migrations: &[Migration]) -> String {
    let mut text = String::new();
    for m in migrations {
        text.push_str(&format!(
            "==== {}.up.sql\n{}\n==== {}.down.sql\n{}\n",
            m.id, m.up, m.id, m.down
        ));
    }
    text
}

/// Every `*.yaml` under `codegen/tests/fixtures/<fixture>/`, in name order: `(file stem, text)`.
pub fn fixture_steps(fixture: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../codegen/tests/fixtures")
        .join(fixture);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .to_string();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, text)
        })
        .collect()
}

/// The steps of [`fixture_steps`], each planned from the replayed previous steps with destructive
/// changes allowed. Panics naming the step whose plan fails, whose migrations do not replay, or
/// whose replay misses the step's schema.
pub fn evolve(fixture: &str) -> Vec<Step> {
    let mut state = Catalog::default();
    let mut number = 1;
    let mut steps = Vec::new();
    for (name, text) in fixture_steps(fixture) {
        let (target, hints) =
            model::load_schema_with_renames(&name, &text).unwrap_or_else(|e| panic!("{e}"));
        let options = PlanOptions {
            name: None,
            first_number: number,
            allow_destructive: true,
        };
        let migrations =
            plan(&state, &target, &hints, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        for m in &migrations {
            replay_script(&mut state, &m.up)
                .unwrap_or_else(|(pos, e)| panic!("{name}: {}:{}: {e}", pos.line, pos.column));
        }
        assert_eq!(state.normalized(), target.normalized(), "{name}");
        number += u32::try_from(migrations.len()).expect("few migrations per step");
        steps.push(Step {
            name,
            migrations,
            catalog: state.clone(),
        });
    }
    steps
}

/// The three states drift detection compares agree after step `step` of `fixture`: the step's
/// schema.yaml loaded, `replayed` (the migrations replayed), and the database `client` is connected
/// to, introspected (`public` and the schemas the step declares). Returns the introspected
/// catalog.
pub fn assert_no_drift(
    client: &mut Client,
    fixture: &str,
    step: &str,
    replayed: &Catalog,
) -> Catalog {
    let text = fixture_steps(fixture)
        .into_iter()
        .find(|(name, _)| name == step)
        .expect("step")
        .1;
    let yaml = model::load_schema(step, &text).unwrap_or_else(|e| panic!("{e}"));
    let mut schemas = vec!["public".to_string()];
    schemas.extend(yaml.schemas.iter().map(|s| s.name.clone()));
    let live = introspect::introspect_schemas(client, &introspect::Schemas::Existing(schemas))
        .expect("introspect");
    assert_eq!(live.notes, Vec::<String>::new(), "{step}");
    let describe = |a: &Catalog, b: &Catalog| -> Vec<String> {
        model::compare::compare(a, b)
            .iter()
            .map(|d| d.describe("a", "b"))
            .collect()
    };
    assert_eq!(
        describe(&yaml, &live.catalog),
        Vec::<String>::new(),
        "{step}"
    );
    assert_eq!(
        describe(replayed, &live.catalog),
        Vec::<String>::new(),
        "{step}"
    );
    let comparable = model::compare::comparable;
    assert_eq!(comparable(&live.catalog), comparable(&yaml), "{step}");
    live.catalog
}
