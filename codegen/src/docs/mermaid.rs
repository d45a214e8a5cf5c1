//! Mermaid `erDiagram` text, written to what Mermaid's grammar (and GitHub's renderer) accepts.
//!
//! The grammar is stricter than SQL: an attribute type or name is one word of letters, digits and
//! `_` (older Mermaid versions refuse spaces, parentheses, brackets and commas), comments are
//! double-quoted with no double quote inside, and some words (`one`, `many`, `to`, `class`, ...)
//! are tokens of their own, so an entity with such a name is quoted.

use std::fmt::Write as _;

use model::{Column, DataType, ForeignKey, Table};

use super::{Cardinality, Docs, Keys, sensitivity_labels};

/// GitHub's Mermaid renderer refuses a diagram whose source is longer than this (Mermaid's
/// `maxTextSize`, 50,000 characters by default, which GitHub keeps).
pub const MAX_TEXT: usize = 50_000;
/// ... or that has more edges than this (Mermaid's `maxEdges`, 500 by default).
pub const MAX_EDGES: usize = 500;

/// The most neighbours a table page's diagram shows.
pub const MAX_NEIGHBOURS: usize = 24;

/// A table page's diagram: the table and (some of) its neighbours, within GitHub's limits.
#[derive(Debug, Clone)]
pub struct Around<'a> {
    pub diagram: Diagram<'a>,
    /// The Mermaid source of `diagram`.
    pub text: String,
    /// How many neighbours are drawn, of how many.
    pub shown: usize,
    pub total: usize,
    /// Whether the table's own columns had to be cut to fit.
    pub columns_cut: bool,
}

impl<'a> Around<'a> {
    /// At most [`MAX_NEIGHBOURS`] neighbours, fewer while the text is over GitHub's limits, and
    /// as a last resort the table's columns cut to the first that fit.
    pub fn of(docs: &Docs<'a>, table: &'a Table) -> Self {
        let total = docs.neighbours(table).len();
        let mut limit = MAX_NEIGHBOURS.min(total);
        loop {
            let diagram = Diagram::neighbourhood(docs, table, limit);
            let text = diagram.render();
            if diagram.fits(&text) {
                return Around {
                    diagram,
                    text,
                    shown: limit,
                    total,
                    columns_cut: false,
                };
            }
            if limit == 0 {
                return Self::cut(diagram, total);
            }
            limit /= 2;
        }
    }

    /// The table alone, its columns cut to the first ones that fit.
    fn cut(mut diagram: Diagram<'a>, total: usize) -> Self {
        let text = diagram.cut_to_fit();
        Around {
            diagram,
            text,
            shown: 0,
            total,
            columns_cut: true,
        }
    }
}

/// A table in a diagram: all its columns, or (a neighbour) only the ones the diagram's
/// relationships and its primary key use.
#[derive(Debug, Clone)]
pub struct Entity<'a> {
    pub table: &'a Table,
    pub columns: Vec<&'a Column>,
    /// Whether every column is shown.
    pub full: bool,
}

/// What to draw: tables (in table order) and the relationships between them.
#[derive(Debug, Clone)]
pub struct Diagram<'a> {
    pub entities: Vec<Entity<'a>>,
    pub relationships: Vec<(&'a Table, &'a ForeignKey)>,
}

impl<'a> Diagram<'a> {
    /// Every table and foreign key.
    pub fn whole(docs: &Docs<'a>) -> Self {
        Diagram::part(docs, &(0..docs.tables.len()).collect::<Vec<_>>())
    }

    /// The tables at `positions` (ascending, in [`Docs::tables`]) with all their columns, and the
    /// foreign keys between them.
    pub fn part(docs: &Docs<'a>, positions: &[usize]) -> Self {
        let mut inside = vec![false; docs.tables.len()];
        for &p in positions {
            inside[p] = true;
        }
        let relationships = positions
            .iter()
            .flat_map(|&p| {
                let t = docs.tables[p];
                t.foreign_keys.iter().map(move |fk| (t, fk))
            })
            .filter(|(_, fk)| docs.position(&fk.ref_table).is_some_and(|q| inside[q]))
            .collect();
        Diagram {
            entities: positions
                .iter()
                .map(|&p| Entity::full(docs.tables[p]))
                .collect(),
            relationships,
        }
    }

    /// `table` with its columns, and the first `limit` (in table order) of the tables it
    /// references or is referenced by, with only their key columns.
    pub fn neighbourhood(docs: &Docs<'a>, table: &'a Table, limit: usize) -> Self {
        let Some(own) = docs.position(&table.qualified_name()) else {
            return Diagram {
                entities: vec![Entity::full(table)],
                relationships: Vec::new(),
            };
        };
        let shown: Vec<usize> = docs
            .neighbour_positions(own)
            .iter()
            .copied()
            .take(limit)
            .collect();
        let is_shown = |p: Option<usize>| p.is_some_and(|p| p == own || shown.contains(&p));
        let outgoing = table
            .foreign_keys
            .iter()
            .filter(|fk| is_shown(docs.position(&fk.ref_table)))
            .map(|fk| (table, fk));
        let incoming = docs
            .incoming(table)
            .into_iter()
            .filter(|(child, _)| !child.is(&table.qualified_name()))
            .filter(|(child, _)| is_shown(docs.position(&child.qualified_name())));
        let mut relationships: Vec<(&Table, &ForeignKey)> = outgoing.chain(incoming).collect();
        // In table order of the referencing table, then declaration order, as in the whole ERD.
        relationships.sort_by_key(|(child, fk)| {
            let p = docs.position(&child.qualified_name()).unwrap_or(usize::MAX);
            let k = child
                .foreign_keys
                .iter()
                .position(|f| std::ptr::eq(f, *fk))
                .unwrap_or(0);
            (p, k)
        });
        let mut positions = shown;
        positions.push(own);
        positions.sort_unstable();
        let entities = positions
            .into_iter()
            .map(|p| {
                let t = docs.tables[p];
                if p == own {
                    Entity::full(t)
                } else {
                    Entity::keys(t, &relationships)
                }
            })
            .collect();
        Diagram {
            entities,
            relationships,
        }
    }

    /// The `erDiagram` source, without the Markdown fence.
    pub fn render(&self) -> String {
        let mut out = String::from("erDiagram\n");
        for e in &self.entities {
            let _ = writeln!(out, "    {} {{", entity(&e.table.display_name()));
            for column in &e.columns {
                out.push_str("        ");
                out.push_str(&attribute(e.table, column));
                out.push('\n');
            }
            out.push_str("    }\n");
        }
        for (child, fk) in &self.relationships {
            out.push_str("    ");
            out.push_str(&relationship(child, fk));
            out.push('\n');
        }
        out
    }

    /// The text of the diagram with the columns of its widest table halved until it fits
    /// GitHub's limits (a table of a thousand columns is more than one diagram holds; its page
    /// lists them all). Returns the text.
    pub fn cut_to_fit(&mut self) -> String {
        let edges = self.relationships.len();
        loop {
            let text = self.render();
            let widest = self
                .entities
                .iter_mut()
                .max_by_key(|e| e.columns.len())
                .filter(|e| !e.columns.is_empty());
            match widest {
                Some(e) if !within_limits(&text, edges) => {
                    let keep = e.columns.len() / 2;
                    e.columns.truncate(keep);
                }
                _ => return text,
            }
        }
    }

    /// Whether GitHub renders [`Diagram::render`]'s text.
    pub fn fits(&self, text: &str) -> bool {
        within_limits(text, self.relationships.len())
    }
}

impl<'a> Entity<'a> {
    fn full(table: &'a Table) -> Self {
        Entity {
            table,
            columns: table.columns.iter().collect(),
            full: true,
        }
    }

    /// The columns of a neighbour worth showing: its primary key and the columns of the drawn
    /// relationships, in column order.
    fn keys(table: &'a Table, relationships: &[(&Table, &ForeignKey)]) -> Self {
        let columns = table
            .columns
            .iter()
            .filter(|c| {
                Keys::of(table, c).pk
                    || relationships.iter().any(|(t, fk)| {
                        (t.is(&table.qualified_name()) && fk.columns.contains(&c.name))
                            || (table.is(&fk.ref_table) && fk.ref_columns.contains(&c.name))
                    })
            })
            .collect();
        Entity {
            table,
            columns,
            full: false,
        }
    }
}

/// One attribute line: `type name PK, FK "comment"`.
pub fn attribute(table: &Table, column: &Column) -> String {
    let mut out = format!("{} {}", type_word(&column.data_type), word(&column.name));
    let keys = Keys::of(table, column).labels();
    if !keys.is_empty() {
        out.push(' ');
        out.push_str(&keys.join(", "));
    }
    let mut comment = sensitivity_labels(column)
        .iter()
        .map(|l| format!("[{l}]"))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(text) = &column.comment {
        if !comment.is_empty() {
            comment.push(' ');
        }
        comment.push_str(text);
    }
    if !comment.is_empty() {
        out.push_str(&format!(" \"{}\"", comment_text(&comment)));
    }
    out
}

/// One relationship line, the referenced table first: `users ||--o{ cases : "created_by"`.
pub fn relationship(child: &Table, fk: &ForeignKey) -> String {
    let card = Cardinality::of(child, fk);
    let parent_mark = if card.optional_parent { "|o" } else { "||" };
    let line = if card.identifying { "--" } else { ".." };
    let child_mark = if card.unique_child { "o|" } else { "o{" };
    format!(
        "{} {parent_mark}{line}{child_mark} {} : \"{}\"",
        entity(&fk.ref_table.display()),
        entity(&child.display_name()),
        comment_text(&fk.columns.join(", "))
    )
}

/// A type as one attribute word: `double precision` -> `double_precision`, `varchar(255)` ->
/// `varchar_255`, `numeric(10,2)` -> `numeric_10_2`, `text[]` -> `text_array`.
pub fn type_word(data_type: &DataType) -> String {
    let text = match data_type {
        DataType::Array(element) => format!("{}_array", type_word(element)),
        DataType::Enum(name) => name.display().into_owned(),
        other => other.to_string(),
    };
    word(&text)
}

/// Any text as one attribute word: runs of characters other than ASCII letters, digits and `_`
/// become one `_`; a word that Mermaid would read as a key (`PK`, `FK`, `UK`) gets a trailing `_`.
pub fn word(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_string();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if ["pk", "fk", "uk"].contains(&out.to_ascii_lowercase().as_str()) {
        out.push('_');
    }
    out
}

/// An entity name: bare when Mermaid's lexer reads it as a name, double-quoted when it is one of
/// the grammar's keywords (`one`, `many`, `to`, `end`, `class`, `style`, ...), which the lexer
/// tries before names. Keywords only match as whole words, so `tokens` or `classes` stay bare.
pub fn entity(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "one",
        "many",
        "to",
        "end",
        "class",
        "classdef",
        "style",
        "subgraph",
        "erdiagram",
    ];
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && !KEYWORDS.contains(&name.to_ascii_lowercase().as_str());
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace(['"', '%', '\\'], "_"))
    }
}

/// Text for a double-quoted comment or label: one line, no double quote, no characters that end
/// the Markdown fence (backticks) or that Mermaid's lexer reads inside an attribute block (`~`).
pub fn comment_text(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(['"', '`'], "'")
        .replace('~', "-")
}

/// Whether GitHub's Mermaid renders a diagram of this text and number of edges.
fn within_limits(text: &str, edges: usize) -> bool {
    text.chars().count() <= MAX_TEXT && edges <= MAX_EDGES
}
