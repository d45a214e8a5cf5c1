//! `docs/ERD.md`: the diagram of every table, or for a large schema the index of its parts, each
//! part a page under `docs/erd/`.

use std::fmt::Write as _;

use super::*;
use crate::docs::mermaid::Diagram;
use crate::docs::parts::{Overview, Part};
use crate::docs::{Docs, MARKDOWN_HEADER};

/// How to read the Mermaid diagrams.
const HOW_TO_READ: &str = "How to read it: `PK` primary key, `FK` foreign key, `UK` unique; `[PII]`/`[PHI]` mark \
     personal and health data. A line joins a referenced table (left in the source) to the \
     table referencing it and is labelled with the referencing columns. At the referenced \
     end, `||` means exactly one row (NOT NULL columns) and `|o` zero or one (nullable \
     columns); at the referencing end, `o{` means zero or many rows and `o|` zero or one \
     (unique columns). Lines are solid when the foreign key is part of the primary key, \
     dotted otherwise. Types are shown as one word (`varchar(255)` as `varchar_255`, `text[]` \
     as `text_array`), as Mermaid requires.";

/// `docs/ERD.md`: the Mermaid diagram of every table, or the index of the parts.
pub fn erd(docs: &Docs<'_>, overview: &Overview) -> String {
    let mut out = String::from(MARKDOWN_HEADER);
    let parts = match overview {
        Overview::Whole => {
            let _ = write!(
                out,
                "\n# Entity-relationship diagram\n\n\
                 Every table with its columns and every foreign key. Also as an image: [erd.svg](erd.svg); \
                 per-table details under [tables/](tables/); the index is [README.md](README.md).\n\n\
                 {HOW_TO_READ}\n\n"
            );
            out.push_str("```mermaid\n");
            out.push_str(&Diagram::whole(docs).render());
            out.push_str("```\n");
            return out;
        }
        Overview::Parts { parts, .. } => parts,
    };
    let _ = write!(
        out,
        "\n# Entity-relationship diagrams\n\n\
         {} and {} are more than one diagram can show readably, so the diagram is split into {} \
         of at most {} tables: by schema, then by groups of tables joined by foreign keys (a group \
         too large for one part is cut along its chains of references; small groups share a part). \
         Each part is a page with its Mermaid diagram, an SVG image and the foreign keys that \
         cross into other parts. Per-table details, each with a diagram of the table's \
         neighbours, are under [tables/](tables/); the index is [README.md](README.md).\n\n",
        count(docs.tables.len(), "table"),
        count(docs.foreign_keys().len(), "foreign key"),
        count(parts.len(), "part"),
        crate::docs::parts::READABLE_TABLES,
    );
    let rows = parts
        .iter()
        .map(|p| {
            vec![
                format!("[{}](erd/{}.md)", p.name, p.name),
                format!("[SVG](erd/{}.svg)", p.name),
                code(&p.schema),
                p.tables.len().to_string(),
                p.tables
                    .iter()
                    .map(|&t| table_link(&docs.tables[t].display_name(), "tables/"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    table(
        &mut out,
        &["Part", "Image", "Schema", "Tables", "Which"],
        rows,
    );
    out
}

/// `docs/erd/<part>.md`: one part's diagram, and the foreign keys joining it to other parts.
pub fn part_page(
    docs: &Docs<'_>,
    parts: &[Part],
    part_of: &[usize],
    index: usize,
    diagram: &Diagram<'_>,
    text: &str,
) -> String {
    let part = &parts[index];
    let mut out = String::from(MARKDOWN_HEADER);
    let _ = write!(
        out,
        "\n# Entity-relationship diagram, part {} of {}\n\n\
         [Schema](../README.md) · [All parts](../ERD.md) · [Image]({name}.svg)\n\n\
         {} of schema {} with their columns, and the {} between them. {HOW_TO_READ}\n\n",
        index + 1,
        parts.len(),
        count(part.tables.len(), "table"),
        code(&part.schema),
        count(diagram.relationships.len(), "foreign key"),
        name = part.name,
    );
    if diagram
        .entities
        .iter()
        .any(|e| e.columns.len() < e.table.columns.len())
    {
        out.push_str(
            "Some tables have more columns than one Mermaid diagram can hold on GitHub: their \
             first columns are shown, their pages list them all.\n\n",
        );
    }
    out.push_str("```mermaid\n");
    out.push_str(text);
    out.push_str("```\n");
    let _ = write!(
        out,
        "\n[![Entity-relationship diagram, part {}]({name}.svg)]({name}.svg)\n",
        index + 1,
        name = part.name
    );
    // Foreign keys with one end in this part and the other in another part.
    let mut rows = Vec::new();
    for &p in &part.tables {
        let t = docs.tables[p];
        for fk in &t.foreign_keys {
            if let Some(q) = docs.position(&fk.ref_table)
                && part_of[q] != index
            {
                rows.push(crossing(parts, t, fk, part_of[q]));
            }
        }
        for (child, fk) in docs.incoming(t) {
            if let Some(q) = docs.position(&child.qualified_name())
                && part_of[q] != index
            {
                rows.push(crossing(parts, child, fk, part_of[q]));
            }
        }
    }
    out.push_str("\n## Foreign keys to and from other parts\n\n");
    if rows.is_empty() {
        out.push_str("None: no foreign key joins these tables to a table of another part.\n");
    } else {
        table(
            &mut out,
            &[
                "Referencing table",
                "Columns",
                "Referenced table",
                "Other part",
            ],
            rows,
        );
    }
    out
}

/// One row of the foreign keys crossing into part `other`.
fn crossing(
    parts: &[Part],
    child: &model::Table,
    fk: &model::ForeignKey,
    other: usize,
) -> Vec<String> {
    vec![
        table_link(&child.display_name(), "../tables/"),
        code(&fk.columns.join(", ")),
        table_link(&fk.ref_table.display(), "../tables/"),
        format!("[{}]({}.md)", parts[other].name, parts[other].name),
    ]
}
