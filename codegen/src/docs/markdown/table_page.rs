//! `docs/tables/<table>.md`: one table in full, with a diagram of its neighbours.

use std::fmt::Write as _;

use model::ident::quote;
use model::{Catalog, Column, DataType, EnumType, ForeignKey, Index, Table};

use super::*;
use crate::docs::mermaid;
use crate::docs::parts::Overview;
use crate::docs::{Cardinality, Docs, Keys, MARKDOWN_HEADER, page, sensitivity_labels};

/// `docs/tables/<table>.md`.
pub fn table_page(
    docs: &Docs<'_>,
    t: &Table,
    overview: &Overview,
    around: &mermaid::Around<'_>,
) -> String {
    let catalog = docs.catalog;
    let mut out = String::from(MARKDOWN_HEADER);
    let (erd, image) = match overview {
        Overview::Whole => ("../ERD.md".to_string(), "../erd.svg".to_string()),
        Overview::Parts { parts, part_of } => {
            let part = docs
                .position(&t.qualified_name())
                .map_or("", |p| parts[part_of[p]].name.as_str());
            (format!("../erd/{part}.md"), format!("../erd/{part}.svg"))
        }
    };
    let _ = write!(
        out,
        "\n# `{}`\n\n[Schema](../README.md) · [ERD]({erd}) · [Diagram]({image})\n\n",
        t.display_name()
    );
    if let Some(comment) = &t.comment {
        let _ = writeln!(out, "{}\n", text(comment));
    }
    let mut notes = Vec::new();
    if t.flags.soft_delete {
        notes.push(
            "**Soft delete**: rows are marked deleted by setting `deleted_at` rather than removed."
                .to_string(),
        );
    }
    for trigger in &t.triggers {
        if trigger
            .function
            .is(model::DEFAULT_SCHEMA, model::yaml::SET_UPDATED_AT)
        {
            notes.push(format!(
                "**Timestamps**: `updated_at` is kept current by the trigger `{}`.",
                trigger.name
            ));
        }
    }
    let sensitive: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.sensitivity.is_sensitive())
        .map(|c| format!("`{}` ({})", c.name, sensitivity_labels(c).join(", ")))
        .collect();
    if !sensitive.is_empty() {
        notes.push(format!("**Sensitive columns**: {}.", sensitive.join(", ")));
    }
    notes.extend(compliance_notes(docs.catalog, t));
    for note in notes {
        let _ = writeln!(out, "- {note}");
    }
    if !t.grants.is_empty() {
        out.push_str("\n## Access\n\nPrivileges granted to roles (the owner has all; nobody else has any).\n\n");
        let rows = t
            .grants
            .iter()
            .map(|g| {
                let privileges: Vec<&str> = g.privileges.iter().map(|p| p.as_str()).collect();
                vec![code(&g.role), privileges.join(", ")]
            })
            .collect();
        table(&mut out, &["Role", "Privileges"], rows);
    }

    out.push_str("\n## Columns\n\n");
    let rows = t
        .columns
        .iter()
        .map(|c| {
            vec![
                code(&c.name),
                type_cell(catalog, &c.data_type),
                if c.nullable { "yes" } else { "no" }.to_string(),
                value_cell(c),
                key_cell(t, c),
                sensitivity_labels(c).join(", "),
                c.comment.as_deref().map(text).unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            "Name", "Type", "Nullable", "Default", "Keys", "PII/PHI", "Comment",
        ],
        rows,
    );

    out.push_str("\n## Indexes\n\n");
    let mut rows: Vec<Vec<String>> = unique_keys(t)
        .map(|key| {
            vec![
                code(key.name),
                "btree".to_string(),
                code(&key.columns.join(", ")),
                String::new(),
                "yes".to_string(),
                String::new(),
                key.purpose.to_string(),
            ]
        })
        .collect();
    for ix in &t.indexes {
        rows.push(vec![
            code(&ix.name),
            ix.method.as_sql().to_string(),
            code(&index_keys(ix)),
            if ix.include.is_empty() {
                String::new()
            } else {
                code(&ix.include.join(", "))
            },
            if ix.unique { "yes" } else { "no" }.to_string(),
            ix.predicate.as_deref().map(code).unwrap_or_default(),
            index_purpose(t, ix),
        ]);
    }
    table(
        &mut out,
        &[
            "Name", "Method", "Columns", "Include", "Unique", "Where", "Serves",
        ],
        rows,
    );

    let mut rows: Vec<Vec<String>> = unique_keys(t)
        .map(|key| {
            let definition = format!("{} ({})", key.sql, columns_sql(key.columns));
            vec![code(key.name), key.sql.to_string(), code(&definition)]
        })
        .collect();
    for check in &t.checks {
        rows.push(vec![
            code(&check.name),
            "CHECK".to_string(),
            code(&format!("CHECK ({})", check.expression)),
        ]);
    }
    for fk in &t.foreign_keys {
        rows.push(vec![
            code(&fk.name),
            "FOREIGN KEY".to_string(),
            code(&foreign_key_sql(fk)),
        ]);
    }
    out.push_str("\n## Constraints\n\n");
    table(&mut out, &["Name", "Type", "Definition"], rows);

    out.push_str("\n## Relationships\n\n");
    out.push_str("### References\n\n");
    if t.foreign_keys.is_empty() {
        let _ = writeln!(out, "`{}` references no table.", t.display_name());
    } else {
        let rows = t
            .foreign_keys
            .iter()
            .map(|fk| {
                let card = Cardinality::of(t, fk);
                let references = format!(
                    "{} ({})",
                    table_link(&fk.ref_table.display(), ""),
                    code(&fk.ref_columns.join(", "))
                );
                let mut row = vec![
                    code(&fk.columns.join(", ")),
                    references,
                    card.parent_words().to_string(),
                ];
                row.extend(foreign_key_cells(fk));
                row
            })
            .collect();
        let headers = ["Columns", "References", "Each row has"];
        table(
            &mut out,
            &[&headers[..], &FOREIGN_KEY_HEADERS].concat(),
            rows,
        );
    }
    out.push_str("\n### Referenced by\n\n");
    let incoming = docs.incoming(t);
    if incoming.is_empty() {
        let _ = writeln!(out, "No table references `{}`.", t.display_name());
    } else {
        let rows = incoming
            .iter()
            .map(|(child, fk)| {
                let card = Cardinality::of(child, fk);
                let mut row = vec![
                    table_link(&child.display_name(), ""),
                    code(&fk.columns.join(", ")),
                    code(&fk.ref_columns.join(", ")),
                    format!("{} `{}`", card.child_words(), child.display_name()),
                ];
                row.extend(foreign_key_cells(fk));
                row
            })
            .collect();
        let headers = ["Table", "Columns", "Referenced columns", "Each row has"];
        table(
            &mut out,
            &[&headers[..], &FOREIGN_KEY_HEADERS].concat(),
            rows,
        );
    }

    let mut used: Vec<&EnumType> = Vec::new();
    for column in &t.columns {
        if let Some(e) = column
            .data_type
            .enum_name()
            .and_then(|n| catalog.enum_named(n))
            && !used.iter().any(|u| u.name == e.name)
        {
            used.push(e);
        }
    }
    if !used.is_empty() {
        out.push_str("\n## Enums\n\n");
        used.sort_by(|a, b| a.name.cmp(&b.name));
        let rows = used
            .into_iter()
            .map(|e| {
                let columns = t
                    .columns
                    .iter()
                    .filter(|c| c.data_type.enum_name() == Some(&e.qualified_name()))
                    .map(|c| code(&c.name))
                    .collect::<Vec<_>>()
                    .join(", ");
                vec![code(&e.name), columns, enum_values(e)]
            })
            .collect();
        table(&mut out, &["Enum", "Columns", "Values"], rows);
    }

    if !t.triggers.is_empty() {
        out.push_str("\n## Triggers\n\n");
        let rows = t
            .triggers
            .iter()
            .map(|tr| {
                let events = tr.events_sql();
                let timing = tr.timing.as_sql();
                vec![
                    code(&tr.name),
                    timing.to_string(),
                    events,
                    "FOR EACH ROW".to_string(),
                    code(&format!("{}()", tr.function.display())),
                ]
            })
            .collect();
        table(
            &mut out,
            &["Name", "Timing", "Events", "Level", "Function"],
            rows,
        );
        let mut shown: Vec<&model::QualifiedName> = Vec::new();
        for trigger in &t.triggers {
            if shown.contains(&&trigger.function) {
                continue;
            }
            shown.push(&trigger.function);
            if let Some(f) = catalog.function_named(&trigger.function) {
                let _ = write!(
                    out,
                    "\n<details><summary>Function <code>{}()</code></summary>\n\n```sql\n{}\n```\n\n</details>\n",
                    html(&f.name),
                    crate::sql::create_function(f).trim_end()
                );
            }
        }
    }

    out.push_str("\n## Diagram\n\n");
    if around.total == 0 {
        let _ = writeln!(out, "`{}` has no relationships.\n", t.display_name());
    } else {
        let _ = writeln!(
            out,
            "`{}` and the tables it references or is referenced by (their key columns only).\n",
            t.display_name()
        );
    }
    if around.shown < around.total {
        let _ = writeln!(
            out,
            "The diagram shows {} of the {} related tables, the first in table order; \
             [Relationships](#relationships) lists them all.\n",
            around.shown, around.total
        );
    }
    if around.columns_cut {
        let _ = writeln!(
            out,
            "The table has more columns than one Mermaid diagram can hold on GitHub; \
             [Columns](#columns) lists them all.\n"
        );
    }
    out.push_str("```mermaid\n");
    out.push_str(&around.text);
    out.push_str("```\n");
    let _ = writeln!(
        out,
        "\n![`{}` and its neighbours]({}.svg)",
        t.display_name(),
        page(&t.display_name())
    );
    out
}

/// Where a column's value comes from when none is given: its default, its identity
/// (`GENERATED ALWAYS AS IDENTITY`) or its generation expression (`GENERATED ALWAYS AS (...)
/// STORED`).
fn value_cell(c: &Column) -> String {
    if let Some(identity) = &c.identity {
        return code(&model::compare::describe_identity(identity));
    }
    if let Some(expression) = &c.generated {
        return code(&format!("GENERATED ALWAYS AS ({expression}) STORED"));
    }
    c.default.as_deref().map(code).unwrap_or_default()
}

/// What the table's compliance flags promise, one bullet each.
fn compliance_notes(catalog: &Catalog, t: &Table) -> Vec<String> {
    use model::compliance::{ERASE_FUNCTION, EXPORT_FUNCTION, PURGE_FUNCTION};
    let mut notes = Vec::new();
    let f = &t.flags;
    if f.append_only {
        notes.push(format!(
            "**Append-only**: `UPDATE`, `DELETE` and `TRUNCATE` fail for every role (no grant, and the trigger `{}` refuses them); only `{PURGE_FUNCTION}()` removes expired rows.",
            model::compliance::append_only_name(&t.name)
        ));
    }
    if let Some(r) = &f.retention {
        notes.push(format!(
            "**Retention**: rows are deleted by `{PURGE_FUNCTION}()` {} after `{}`{}.",
            r.period,
            r.column,
            if t.column(&r.column).is_some_and(|c| c.nullable) {
                " (never while it is NULL)"
            } else {
                ""
            }
        ));
    }
    if let Some(column) = &f.data_subject {
        notes.push(format!(
            "**Data subject**: a patient's data is found by `{column}`; `{ERASE_FUNCTION}()` and `{EXPORT_FUNCTION}()` start here."
        ));
    }
    match f.erasure {
        Some(model::Erasure::Delete) => notes.push(format!(
            "**Right to erasure**: `{ERASE_FUNCTION}()` deletes the patient's rows."
        )),
        Some(model::Erasure::Anonymize) => notes.push(format!(
            "**Right to erasure**: `{ERASE_FUNCTION}()` anonymizes the patient's rows (every PII/PHI column cleared, the row kept and marked deleted)."
        )),
        None => {}
    }
    if let Some(column) = &f.consent {
        notes.push(format!(
            "**Consent**: `{column}` records the patient's consent to processing."
        ));
    }
    if let Some(column) = &f.requires_consent {
        let target = t
            .foreign_keys
            .iter()
            .find(|fk| fk.columns == [column.clone()])
            .map(|fk| fk.ref_table.display().into_owned())
            .unwrap_or_default();
        let consent = catalog
            .tables
            .iter()
            .find(|r| r.display_name() == target)
            .and_then(|r| r.flags.consent.clone())
            .unwrap_or_default();
        notes.push(format!(
            "**Requires consent**: rows can only be written while the [`{target}`]({}.md) row `{column}` points at has `{consent}` granted (trigger `{}`).",
            page(&target),
            model::compliance::consent_guard_name(&t.name)
        ));
    }
    notes
}

/// The type, linked to the enum section when it is one of the catalog's enums.
fn type_cell(catalog: &Catalog, data_type: &DataType) -> String {
    match data_type.enum_name() {
        Some(name) if catalog.enum_named(name).is_some() => {
            format!("[{}](#enums)", code(&data_type.to_string()))
        }
        _ => code(&data_type.to_string()),
    }
}

fn key_cell(t: &Table, c: &Column) -> String {
    let keys = Keys::of(t, c);
    let mut parts = Vec::new();
    if keys.pk {
        parts.push("PK".to_string());
    }
    for fk in t
        .foreign_keys
        .iter()
        .filter(|fk| fk.columns.contains(&c.name))
    {
        parts.push(format!("FK → {}", table_link(&fk.ref_table.display(), "")));
    }
    if keys.uk {
        parts.push("UK".to_string());
    }
    parts.join(", ")
}

fn index_keys(ix: &Index) -> String {
    ix.keys
        .iter()
        .map(|k| {
            let mut s = k.column.clone();
            if let Some(collation) = &k.collation {
                s.push_str(&format!(" COLLATE {}", model::ident::quote(collation)));
            }
            if let Some(opclass) = &k.opclass {
                s.push(' ');
                s.push_str(opclass);
            }
            if k.descending {
                s.push_str(" DESC");
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why an index is there, when that follows from the schema's rules.
fn index_purpose(t: &Table, ix: &Index) -> String {
    let keys: Vec<&str> = ix.keys.iter().map(|k| k.column.as_str()).collect();
    let fk = t.foreign_keys.iter().find(|fk| {
        ix.method == model::IndexMethod::Btree
            && ix.predicate.is_none()
            && fk.columns.len() <= keys.len()
            && fk
                .columns
                .iter()
                .all(|c| keys[..fk.columns.len()].contains(&c.as_str()))
    });
    if let Some(fk) = fk {
        return format!("foreign key to {}", table_link(&fk.ref_table.display(), ""));
    }
    if ix.method == model::IndexMethod::Gin
        && keys.len() == 1
        && t.column(keys[0]).is_some_and(|c| c.data_type.is_jsonb())
    {
        return "JSONB containment (`@>`)".to_string();
    }
    if ix.predicate.is_some() {
        return "partial index".to_string();
    }
    String::new()
}

/// The last columns of both relationship tables, a foreign key's actions and name.
const FOREIGN_KEY_HEADERS: [&str; 3] = ["On delete", "On update", "Constraint"];

fn foreign_key_cells(fk: &ForeignKey) -> [String; 3] {
    [
        fk.on_delete.as_sql().to_string(),
        fk.on_update.as_sql().to_string(),
        code(&fk.name),
    ]
}

/// A primary key or unique constraint: each is a constraint and a unique btree index.
struct UniqueKey<'t> {
    name: &'t str,
    columns: &'t [String],
    /// The constraint's SQL keyword.
    sql: &'static str,
    /// What the index serves.
    purpose: &'static str,
}

/// The table's primary key, then its unique constraints.
fn unique_keys(t: &Table) -> impl Iterator<Item = UniqueKey<'_>> {
    let primary = t.primary_key.iter().map(|k| UniqueKey {
        name: &k.name,
        columns: &k.columns,
        sql: "PRIMARY KEY",
        purpose: "primary key",
    });
    primary.chain(t.uniques.iter().map(|u| UniqueKey {
        name: &u.name,
        columns: &u.columns,
        sql: "UNIQUE",
        purpose: "unique constraint",
    }))
}

fn columns_sql(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn foreign_key_sql(fk: &ForeignKey) -> String {
    crate::sql::foreign_key_clause(fk)
}
