//! What codegen writes must lint clean: the committed migrations without a single finding, and
//! every migration planned for the evolution fixtures (`codegen/tests/fixtures/evolution`, as
//! `codegen/tests/diff.rs` plans them) without an error. The evolution deliberately renames,
//! drops and retypes (it is planned with `allow_destructive`), so those steps carry the
//! breaking-change warnings, and nothing else does.

mod common;

use std::path::Path;

use codegen::migration::{PlanOptions, plan};
use lint::SourceFile;
use lint::finding::Severity;
use model::Catalog;
use model::replay::replay_script;

/// The committed migrations' up files, in order.
fn committed_up_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/migrations");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("generated/migrations")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().expect("name").to_string_lossy().to_string();
            name.ends_with(".sql") && !name.ends_with(".down.sql")
        })
        .collect();
    paths.sort();
    paths
}

/// An index added to the partitioned `audit_logs` is planned as `CREATE INDEX ... ON ONLY` in a
/// no-transaction migration (the runner builds and attaches each partition's): after the
/// committed migrations, it lints without a finding.
#[test]
fn an_index_on_the_partitioned_audit_log_lints_without_findings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.yaml");
    let text = std::fs::read_to_string(&path).expect("schema.yaml");
    let edited = text.replacen(
        "request_id: { type: text, nullable: true,",
        "request_id: { type: text, nullable: true, index: true,",
        1,
    );
    assert_ne!(edited, text, "schema.yaml declares audit_logs.request_id");
    let load =
        |yaml: &str| model::load_schema("schema.yaml", yaml).unwrap_or_else(|e| panic!("{e}"));
    let paths = committed_up_files();
    let planned = plan(
        &load(&text),
        &load(&edited),
        &model::RenameHints::default(),
        &PlanOptions {
            name: Some("audit_request_index".to_string()),
            first_number: u32::try_from(paths.len() + 1).expect("few migrations"),
            allow_destructive: false,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(planned.len(), 1);
    assert!(
        planned[0].up.contains(" ON ONLY audit_logs "),
        "{}",
        planned[0].up
    );
    let mut files = common::read_sources(&paths);
    files.push(SourceFile::new(
        format!("{}.up.sql", planned[0].id),
        planned[0].up.clone(),
    ));
    let report = lint::lint_sources(files, &common::project_config(), 2);
    assert!(
        report.findings.is_empty(),
        "{}",
        lint::render::render(&report, lint::render::Format::Human, false)
    );
}

#[test]
fn the_committed_migrations_lint_without_findings() {
    let paths = committed_up_files();
    assert!(!paths.is_empty());
    let files = common::read_sources(&paths);
    // As `cargo run -p lint -- generated/migrations` lints them: with the repository's lint.toml.
    let report = lint::lint_sources(files, &common::project_config(), 2);
    assert!(
        report.findings.is_empty(),
        "{}",
        lint::render::render(&report, lint::render::Format::Human, false)
    );
    assert!(report.statements > 100, "{}", report.statements);
}

fn evolution() -> Vec<SourceFile> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/fixtures/evolution");
    let mut steps: Vec<_> = std::fs::read_dir(&dir)
        .expect("evolution fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    steps.sort();
    let mut state = Catalog::default();
    let mut number = 1;
    let mut files = Vec::new();
    for step in steps {
        let name = step
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        let yaml = std::fs::read_to_string(&step).expect("read");
        let (target, hints) =
            model::load_schema_with_renames(&name, &yaml).unwrap_or_else(|e| panic!("{e}"));
        let options = PlanOptions {
            name: None,
            first_number: number,
            allow_destructive: true,
        };
        let migrations =
            plan(&state, &target, &hints, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        for m in migrations {
            replay_script(&mut state, &m.up).unwrap_or_else(|(p, e)| panic!("{p:?}: {e}"));
            files.push(SourceFile::new(format!("{}.up.sql", m.id), m.up));
            number += 1;
        }
    }
    files
}

#[test]
fn the_evolution_plans_lint_without_errors() {
    let files = evolution();
    assert!(files.len() >= 10, "{}", files.len());
    assert!(files.iter().any(|f| f.no_transaction_marker()));
    let report = lint::lint_sources(files, &common::project_config(), 2);
    let text = lint::render::render(&report, lint::render::Format::Human, false);
    assert_eq!(report.errors(), 0, "{text}");
    let deliberate = [
        "drop-table",
        "drop-column",
        "rename-table",
        "rename-column",
        "column-type-change",
        "unique-without-using-index",
    ];
    for f in &report.findings {
        assert_eq!(f.severity, Severity::Warning);
        assert!(deliberate.contains(&f.finding.rule.as_str()), "{text}");
    }
    // The destructive steps are all seen.
    for rule in [
        "drop-table",
        "drop-column",
        "rename-table",
        "rename-column",
        "column-type-change",
    ] {
        assert!(
            report.findings.iter().any(|f| f.finding.rule == rule),
            "no {rule} in:\n{text}"
        );
    }
}
