//! Tests of the catalog comparison.

use super::*;
use crate::types::DataType;

fn table(name: &str) -> Table {
    Table {
        columns: vec![Column {
            nullable: false,
            default: Some("gen_random_uuid()".into()),
            ..Column::new("id", DataType::Uuid)
        }],
        primary_key: Some(PrimaryKey {
            name: format!("{name}_pkey"),
            columns: vec!["id".into()],
        }),
        ..Table::new(DEFAULT_SCHEMA, name)
    }
}

#[test]
fn every_kind_of_difference_is_named() {
    let mut a = Catalog {
        enums: vec![EnumType {
            schema: DEFAULT_SCHEMA.into(),
            name: "job_status".into(),
            values: vec!["pending".into(), "done".into()],
            comment: None,
        }],
        tables: vec![table("jobs"), table("gone")],
        ..Catalog::default()
    };
    let mut b = a.clone();
    b.enums[0].values.push("paused".into());
    b.tables.retain(|t| t.name != "gone");
    let jobs = &mut b.tables[0];
    jobs.columns[0].default = Some("uuidv7()".into());
    jobs.columns.push(Column {
        nullable: false,
        default: Some("0".into()),
        ..Column::new("priority", DataType::SmallInt)
    });
    jobs.indexes.push(Index {
        name: "jobs_priority_idx".into(),
        method: IndexMethod::Btree,
        unique: false,
        keys: vec![IndexKey {
            descending: true,
            ..IndexKey::on("priority")
        }],
        include: Vec::new(),
        predicate: Some("priority > 0".into()),
    });
    jobs.checks.push(CheckConstraint {
        name: "jobs_priority_check".into(),
        expression: "priority >= 0".into(),
    });
    a.tables[0].checks.push(CheckConstraint {
        name: "jobs_priority_check".into(),
        expression: "priority > 0".into(),
    });
    let differences = compare(&a, &b);
    let lines: Vec<String> = differences.iter().map(|d| d.describe("A", "B")).collect();
    assert_eq!(
        lines,
        [
            "enum job_status: values differs: A has `pending, done`, B has `pending, done, paused`",
            "table gone: only in A (columns id)",
            "column jobs.id: default differs: A has `gen_random_uuid()`, B has `uuidv7()`",
            "column jobs.priority: only in B (smallint NOT NULL DEFAULT 0)",
            "check constraint jobs.jobs_priority_check: expression differs: A has `priority > 0`, B has `priority >= 0`",
            "index jobs.jobs_priority_idx: only in B (btree (priority DESC) WHERE priority > 0)",
        ]
    );
    assert!(compare(&b, &b).is_empty());
    let json = serde_json::to_value(&differences[3]).expect("serialise");
    assert_eq!(
        json,
        serde_json::json!({
            "object": "column",
            "name": "jobs.priority",
            "change": "only_in_b",
            "property": null,
            "a": null,
            "b": "smallint NOT NULL DEFAULT 0",
        })
    );
}

#[test]
fn elaborated_expressions_are_not_differences() {
    let mut a = Catalog {
        tables: vec![table("t")],
        ..Catalog::default()
    };
    a.tables[0].checks.push(CheckConstraint {
        name: "t_x_check".into(),
        expression: "x BETWEEN 1 AND 2".into(),
    });
    let mut b = a.clone();
    b.tables[0].checks[0].expression = "(x >= 1) AND (x <= 2)".into();
    assert_eq!(compare(&a, &b), Vec::new());
    assert_eq!(comparable(&a), comparable(&b));
    assert_ne!(a.normalized(), b.normalized());
}
