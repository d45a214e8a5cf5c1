//! The Markdown pages: the index (`index.rs`), the entity-relationship diagram pages
//! (`erd.rs`: one page, or an index and one page per part of a large schema) and one page per
//! table (`table_page.rs`).

mod erd;
mod index;
mod table_page;

use std::fmt::Write as _;

use model::{Catalog, EnumType, Table};

use super::page;

pub use erd::{erd, part_page};
pub use index::index;
pub use table_page::table_page;

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn enums_by_name(catalog: &Catalog) -> Vec<&EnumType> {
    let mut enums: Vec<&EnumType> = catalog.enums.iter().collect();
    enums.sort_by(|a, b| a.name.cmp(&b.name));
    enums
}

fn enum_values(e: &EnumType) -> String {
    e.values
        .iter()
        .map(|v| code(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The tables `t` references, as links (`prefix` is the path to the table pages).
fn referenced_tables(t: &Table, prefix: &str) -> String {
    let mut names: Vec<String> = Vec::new();
    for fk in &t.foreign_keys {
        let name = fk.ref_table.display().into_owned();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
        .iter()
        .map(|n| table_link(n, prefix))
        .collect::<Vec<_>>()
        .join(", ")
}

fn table_link(name: &str, prefix: &str) -> String {
    format!("[`{name}`]({prefix}{}.md)", page(name))
}

/// A GitHub-flavoured Markdown table. Cells must already be escaped (`code`, `text`).
fn table(out: &mut String, headers: &[&str], rows: Vec<Vec<String>>) {
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        headers.iter().map(|_| " --- |").collect::<String>()
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
}

/// Inline code safe inside a table cell: one line, `|` escaped, a fence longer than any run of
/// backticks inside.
fn code(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let longest_run = one_line
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", one_line.replace('|', "\\|"))
}

/// Free text (comments) safe inside a table cell: one line, `|` escaped, no raw HTML.
fn text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
