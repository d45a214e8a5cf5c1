//! `docs/README.md`: what is where, the tables and enums at a glance.

use std::fmt::Write as _;

use model::{Column, Table};

use super::*;
use crate::docs::parts::Overview;
use crate::docs::{Docs, MARKDOWN_HEADER, page, sensitivity_labels};

/// `docs/README.md`: what is where, the tables and enums at a glance.
pub fn index(docs: &Docs<'_>, overview: &Overview) -> String {
    let catalog = docs.catalog;
    let mut out = String::from(MARKDOWN_HEADER);
    let fk_count = docs.foreign_keys().len();
    let diagrams = match overview {
        Overview::Whole => {
            "- [Entity-relationship diagram](ERD.md) (Mermaid, rendered by GitHub)\n\
             - [Entity-relationship diagram as an image](erd.svg)\n\
             - One page per table under [`tables/`](tables/)\n\n\
             [![Entity-relationship diagram of every table](erd.svg)](erd.svg)\n"
                .to_string()
        }
        Overview::Parts { parts, .. } => format!(
            "- [Entity-relationship diagrams](ERD.md): the schema in {} of at most {} tables \
             (Mermaid, rendered by GitHub, and SVG)\n\
             - One page per table under [`tables/`](tables/), each with a diagram of the table's \
             neighbours\n",
            count(parts.len(), "part"),
            crate::docs::parts::READABLE_TABLES
        ),
    };
    let _ = write!(
        out,
        "\n# Database schema\n\n\
         Generated from [`schema.yaml`](../../schema.yaml): {} in {}, {}, {}.\n\n{diagrams}",
        count(
            catalog.tables.iter().map(|t| t.columns.len()).sum(),
            "column"
        ),
        count(catalog.tables.len(), "table"),
        count(fk_count, "foreign key"),
        count(catalog.enums.len(), "enum type"),
    );

    out.push_str("\n## Tables\n\n");
    let rows = docs
        .tables
        .iter()
        .map(|t| {
            vec![
                format!(
                    "[`{}`](tables/{}.md)",
                    t.display_name(),
                    page(&t.display_name())
                ),
                t.columns.len().to_string(),
                referenced_tables(t, "tables/"),
                t.comment.as_deref().map(text).unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &mut out,
        &["Table", "Columns", "References", "Description"],
        rows,
    );

    if !catalog.enums.is_empty() {
        out.push_str("\n## Enums\n\n");
        let rows = enums_by_name(catalog)
            .into_iter()
            .map(|e| {
                let users = docs
                    .tables
                    .iter()
                    .flat_map(|t| {
                        t.columns
                            .iter()
                            .filter(|c| c.data_type.enum_name() == Some(&e.qualified_name()))
                            .map(move |c| {
                                let shown = t.display_name();
                                format!("[`{shown}`](tables/{}.md).`{}`", page(&shown), c.name)
                            })
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                vec![code(&e.qualified_name().display()), enum_values(e), users]
            })
            .collect();
        table(&mut out, &["Enum", "Values", "Used by"], rows);
    }

    let sensitive: Vec<(&Table, &Column)> = docs
        .tables
        .iter()
        .flat_map(|t| t.columns.iter().map(move |c| (*t, c)))
        .filter(|(_, c)| c.sensitivity.is_sensitive())
        .collect();
    if !sensitive.is_empty() {
        out.push_str(
            "\n## Sensitive columns\n\n\
             Columns holding personally identifiable (PII, GDPR) or protected health information \
             (PHI, HIPAA). The flags are stored in the column comments, so the database carries them too.\n\n",
        );
        let rows = sensitive
            .into_iter()
            .map(|(t, c)| {
                vec![
                    format!(
                        "[`{}`](tables/{}.md)",
                        t.display_name(),
                        page(&t.display_name())
                    ),
                    code(&c.name),
                    sensitivity_labels(c).join(", "),
                    c.comment.as_deref().map(text).unwrap_or_default(),
                ]
            })
            .collect();
        table(&mut out, &["Table", "Column", "Flags", "Comment"], rows);
    }

    access_matrix(&mut out, docs);
    compliance_summary(&mut out, docs);

    if !catalog.functions.is_empty() {
        out.push_str("\n## Functions\n\n");
        let mut functions: Vec<_> = catalog.functions.iter().collect();
        functions.sort_by(|a, b| a.name.cmp(&b.name));
        let rows = functions
            .into_iter()
            .map(|f| {
                let users = docs
                    .tables
                    .iter()
                    .filter(|t| {
                        t.triggers
                            .iter()
                            .any(|tr| tr.function == f.qualified_name())
                    })
                    .map(|t| {
                        format!(
                            "[`{}`](tables/{}.md)",
                            t.display_name(),
                            page(&t.display_name())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let arguments: Vec<String> = f
                    .arguments
                    .iter()
                    .map(|a| format!("{} {}", a.name, a.data_type))
                    .collect();
                let callers = if f.execute.is_empty() {
                    "owner only".to_string()
                } else {
                    f.execute
                        .iter()
                        .map(|r| code(r))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                vec![
                    code(&format!("{}({})", f.name, arguments.join(", "))),
                    code(&f.returns),
                    if f.security_definer {
                        format!("{}, security definer", code(&f.language))
                    } else {
                        code(&f.language)
                    },
                    callers,
                    users,
                ]
            })
            .collect();
        table(
            &mut out,
            &[
                "Function",
                "Returns",
                "Language",
                "Callable by",
                "Triggers on",
            ],
            rows,
        );
    }
    out
}

/// Which role may do what on each table.
fn access_matrix(out: &mut String, docs: &Docs<'_>) {
    let roles = docs.catalog.roles();
    if roles.is_empty() {
        return;
    }
    out.push_str(
        "\n## Access control\n\n\
         Privileges of the database roles (NOLOGIN groups: applications sign in as members). \
         S = select, I = insert, U = update, D = delete; a blank cell is no access.\n\n",
    );
    let mut headers = vec!["Table"];
    headers.extend(roles.iter().copied());
    let rows = docs
        .tables
        .iter()
        .map(|t| {
            let mut row = vec![format!(
                "[`{}`](tables/{}.md)",
                t.display_name(),
                page(&t.display_name())
            )];
            for role in &roles {
                let letters: String = t
                    .privileges_of(role)
                    .iter()
                    .map(|p| match p {
                        model::Privilege::Select => "S",
                        model::Privilege::Insert => "I",
                        model::Privilege::Update => "U",
                        model::Privilege::Delete => "D",
                        model::Privilege::Truncate => "T",
                        model::Privilege::References => "R",
                        model::Privilege::Trigger => "t",
                    })
                    .collect();
                row.push(letters);
            }
            row
        })
        .collect();
    table(out, &headers, rows);
}

/// Retention, erasure and consent per table.
fn compliance_summary(out: &mut String, docs: &Docs<'_>) {
    let rows: Vec<Vec<String>> = docs
        .tables
        .iter()
        .filter(|t| {
            t.flags
                != model::TableFlags {
                    soft_delete: t.flags.soft_delete,
                    ..Default::default()
                }
        })
        .map(|t| {
            let f = &t.flags;
            vec![
                format!(
                    "[`{}`](tables/{}.md)",
                    t.display_name(),
                    page(&t.display_name())
                ),
                f.retention
                    .as_ref()
                    .map(|r| format!("{} after `{}`", r.period, r.column))
                    .unwrap_or_default(),
                f.erasure
                    .map(|e| e.as_str().to_string())
                    .unwrap_or_default(),
                if f.append_only { "yes" } else { "" }.to_string(),
                f.consent
                    .as_ref()
                    .map(|c| format!("recorded in `{c}`"))
                    .or_else(|| {
                        f.requires_consent
                            .as_ref()
                            .map(|c| format!("required via `{c}`"))
                    })
                    .unwrap_or_default(),
            ]
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "\n## Compliance\n\n\
         Declared in `schema.yaml` and enforced by generated functions and triggers (see each table's page).\n\n",
    );
    table(
        out,
        &["Table", "Retention", "Erasure", "Append-only", "Consent"],
        rows,
    );
}
