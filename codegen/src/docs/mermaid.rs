//! Mermaid `erDiagram` text, written to what Mermaid's grammar (and GitHub's renderer) accepts.
//!
//! The grammar is stricter than SQL: an attribute type or name is one word of letters, digits and
//! `_` (older Mermaid versions refuse spaces, parentheses, brackets and commas), comments are
//! double-quoted with no double quote inside, and some words (`one`, `many`, `to`, `class`, ...)
//! are tokens of their own, so an entity with such a name is quoted.

use std::fmt::Write as _;

use model::{Column, DataType, ForeignKey, Table};

use super::{Cardinality, Docs, Keys, sensitivity_labels};

/// What to draw: tables with all their columns, tables reduced to the columns the drawn
/// relationships use, and the relationships.
#[derive(Debug)]
pub struct Diagram<'a> {
    pub full: Vec<&'a Table>,
    pub reduced: Vec<&'a Table>,
    pub relationships: Vec<(&'a Table, &'a ForeignKey)>,
}

impl<'a> Diagram<'a> {
    /// Every table and foreign key.
    pub fn whole(docs: &Docs<'a>) -> Self {
        Diagram {
            full: docs.tables.clone(),
            reduced: Vec::new(),
            relationships: docs.foreign_keys(),
        }
    }

    /// `table` with its columns, and the tables it references or is referenced by with only their
    /// key columns.
    pub fn neighbourhood(docs: &Docs<'a>, table: &'a Table) -> Self {
        let relationships = docs
            .foreign_keys()
            .into_iter()
            .filter(|(t, fk)| t.is(&table.qualified_name()) || table.is(&fk.ref_table))
            .collect();
        Diagram {
            full: vec![table],
            reduced: docs.neighbours(table),
            relationships,
        }
    }

    /// The `erDiagram` source, without the Markdown fence.
    pub fn render(&self, docs: &Docs<'a>) -> String {
        let mut out = String::from("erDiagram\n");
        // Entities in table order, whether full or reduced.
        for table in &docs.tables {
            let name = table.qualified_name();
            let columns: Vec<&Column> = if self.full.iter().any(|t| t.is(&name)) {
                table.columns.iter().collect()
            } else if self.reduced.iter().any(|t| t.is(&name)) {
                self.key_columns(table)
            } else {
                continue;
            };
            let _ = writeln!(out, "    {} {{", entity(&table.display_name()));
            for column in columns {
                out.push_str("        ");
                out.push_str(&attribute(table, column));
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

    /// The columns of a reduced table worth showing: its primary key and the columns of the drawn
    /// relationships, in column order.
    fn key_columns<'t>(&self, table: &'t Table) -> Vec<&'t Column> {
        table
            .columns
            .iter()
            .filter(|c| {
                Keys::of(table, c).pk
                    || self.relationships.iter().any(|(t, fk)| {
                        (t.is(&table.qualified_name()) && fk.columns.contains(&c.name))
                            || (table.is(&fk.ref_table) && fk.ref_columns.contains(&c.name))
                    })
            })
            .collect()
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
