//! Codegen speed: load + plan (which replays every script to verify it) + render, for the
//! repository's seven tables and for a generated 1,000-table schema. The baseline, measured in
//! the same run, is PostgreSQL's parser (pg_query) merely parsing the SQL codegen produced: the
//! ratio says how much work codegen does beyond reading its own output once.
//!
//! Run: `cargo bench -p codegen --bench plan`

use std::hint::black_box;
use std::time::{Duration, Instant};

use codegen::migration::{PlanOptions, plan};
use model::{Catalog, RenameHints};

/// A schema of `n` tables in the style of the real one: a UUID key, text, an enum, JSONB and a
/// foreign key to the previous table.
fn synthetic_schema(n: usize) -> String {
    let mut yaml = String::from("enums:\n  state: [new, active, done]\ntables:\n");
    for i in 0..n {
        yaml.push_str(&format!("  t{i:04}:\n    timestamps: true\n    columns:\n"));
        yaml.push_str("      id: { type: uuid, primary_key: true, default: gen_random_uuid() }\n");
        yaml.push_str("      name: { type: text, comment: A name. }\n");
        yaml.push_str("      state: { type: state, default: new, index: true }\n");
        yaml.push_str("      doc: { type: jsonb, default: \"'{}'::jsonb\" }\n");
        yaml.push_str("      amount: { type: \"numeric(12,2)\", nullable: true }\n");
        if i > 0 {
            yaml.push_str(&format!(
                "      parent_id: {{ type: uuid, nullable: true, references: t{:04} }}\n",
                i - 1
            ));
        }
    }
    yaml
}

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn measure(label: &str, yaml: &str, runs: usize) -> Duration {
    let full = median(runs, || {
        let (catalog, _) =
            model::load_schema_with_renames("schema.yaml", yaml).expect("valid schema");
        let migrations = plan(
            &Catalog::default(),
            &catalog,
            &RenameHints::default(),
            &PlanOptions {
                first_number: 1,
                ..Default::default()
            },
        )
        .expect("plan");
        let mut files = codegen::generate(&catalog);
        files.truncate(usize::MAX);
        black_box((migrations, files));
    });
    let (catalog, _) = model::load_schema_with_renames("schema.yaml", yaml).expect("valid schema");
    let sql = codegen::migration::initial(&catalog).up;
    let parse_only = median(runs, || {
        black_box(pg_query::parse(&sql, 0).expect("parses"));
    });
    println!(
        "{label:>12}: load+plan+verify+render {:>9.2} ms | pg_query parse of the output {:>8.2} ms | ratio {:>5.1}x | {} bytes of SQL",
        full.as_secs_f64() * 1e3,
        parse_only.as_secs_f64() * 1e3,
        full.as_secs_f64() / parse_only.as_secs_f64(),
        sql.len()
    );
    full
}

fn main() {
    let seven = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.yaml"))
        .expect("schema.yaml");
    let small = measure("7 tables", &seven, 21);
    let big = measure("1000 tables", &synthetic_schema(1000), 3);
    println!(
        "1000-table / 7-table time ratio: {:.0}x",
        big.as_secs_f64() / small.as_secs_f64()
    );
}
