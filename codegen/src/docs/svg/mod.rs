//! Diagrams as SVG, laid out and drawn here with no external tool: the entity-relationship
//! diagram (`erd.svg`, or one per part of a large schema) and each table with its neighbours.
//!
//! `layout.rs` places boxes and routes links knowing nothing of tables (a layered layout, left
//! to right, referenced tables left of the tables referencing them); `draw.rs` writes the boxes,
//! the edges with crow's-foot ends and the legend. Text widths are estimated generously for the
//! font stacks used, so text stays inside its box whichever font the viewer has. Every number is
//! rounded to one decimal and nothing depends on hash order, so the output is byte-identical on
//! every run.

mod draw;
pub mod layout;

use model::{Column, ForeignKey, Table};

use super::mermaid::{Around, Diagram, Entity};
use super::{Keys, sensitivity_labels};
use layout::{Layout, Link, Node};

const MONO: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace";
const SANS: &str = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif";

/// Estimated advance widths, in px, on the generous side: 12px monospace is 7.2px wide in
/// DejaVu Sans Mono and Menlo, less in Consolas and SF Mono.
const MONO_12: f64 = 7.6;
/// 10px bold monospace (key markers).
const MONO_BOLD_10: f64 = 6.6;
/// 14px bold sans-serif (table names), per character.
const SANS_BOLD_14: f64 = 10.2;
/// 11px sans-serif (legend, subtitle), per character.
const SANS_11: f64 = 7.0;
/// 18px bold sans-serif (title), per character.
const SANS_BOLD_18: f64 = 13.0;

const ROW_H: f64 = 20.0;
const HEADER_H: f64 = 30.0;
const BOTTOM_PAD: f64 = 6.0;
const PAD_X: f64 = 10.0;
const BADGE_W: f64 = 28.0;
const BADGE_GAP: f64 = 4.0;
const MARGIN: f64 = 24.0;
const TITLE_H: f64 = 62.0;
const LEGEND_H: f64 = 46.0;
/// Height of the slot a long edge takes in a column it crosses, and the margins around items.
const SLOT_H: f64 = 8.0;
const NODE_MARGIN: f64 = 18.0;
const SLOT_MARGIN: f64 = 5.0;
/// How far a self-reference loops out of its box.
const LOOP_W: f64 = 56.0;

const EDGE_COLOURS: &[&str] = &[
    "#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626",
];

/// The title lines of a drawing.
#[derive(Debug, Clone)]
pub struct Heading {
    /// The visible title.
    pub title: String,
    /// The line under it.
    pub subtitle: String,
    /// The accessible name (`<title>` of the document).
    pub description: String,
}

impl Heading {
    /// The heading of the entity-relationship diagram of `diagram`'s tables.
    pub fn erd(diagram: &Diagram<'_>) -> Heading {
        let title = "Entity-relationship diagram".to_string();
        Heading {
            subtitle: format!(
                "{} tables, {} foreign keys. Generated from schema.yaml; per-table pages in tables/.",
                diagram.entities.len(),
                diagram.relationships.len()
            ),
            description: format!(
                "{title} of {}",
                diagram
                    .entities
                    .iter()
                    .map(|e| e.table.display_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            title,
        }
    }
}

impl Heading {
    /// The heading of a table page's diagram.
    pub fn around(around: &Around<'_>) -> Heading {
        let own = around
            .diagram
            .entities
            .iter()
            .find(|e| e.full)
            .or(around.diagram.entities.first())
            .map(|e| e.table.display_name().into_owned())
            .unwrap_or_default();
        let others: Vec<String> = around
            .diagram
            .entities
            .iter()
            .filter(|e| !e.full)
            .map(|e| e.table.display_name().into_owned())
            .collect();
        let subtitle = if around.total == 0 {
            "No table references it and it references none.".to_string()
        } else if around.shown < around.total {
            format!(
                "{} of its {} related tables, key columns only; the page lists them all.",
                around.shown, around.total
            )
        } else {
            format!(
                "{} related {}, key columns only. Generated from schema.yaml.",
                around.total,
                if around.total == 1 { "table" } else { "tables" }
            )
        };
        Heading {
            description: if others.is_empty() {
                own.clone()
            } else {
                format!("{own} and its neighbours: {}", others.join(", "))
            },
            title: own,
            subtitle,
        }
    }
}

/// The SVG document of `diagram`.
pub fn render(diagram: &Diagram<'_>, heading: &Heading) -> String {
    let boxes: Vec<TableBox<'_>> = diagram.entities.iter().map(TableBox::new).collect();
    let edges = edges(diagram);
    let nodes: Vec<Node> = boxes
        .iter()
        .map(|b| Node {
            width: b.width,
            height: b.height,
        })
        .collect();
    let links: Vec<Link> = edges
        .iter()
        .map(|e| Link {
            child: e.child,
            parent: e.parent,
            child_port: boxes[e.child].row_y(first(&e.fk.columns)),
            parent_port: boxes[e.parent].row_y(first(&e.fk.ref_columns)),
        })
        .collect();
    let layout = Layout::compute(&nodes, &links);
    draw::draw(heading, &boxes, &edges, &layout)
}

/// A table drawn as a box: its size and the columns it shows.
#[derive(Debug)]
struct TableBox<'a> {
    table: &'a Table,
    columns: &'a [&'a Column],
    width: f64,
    height: f64,
    key_w: f64,
    badge_w: f64,
}

impl<'a> TableBox<'a> {
    fn new(entity: &'a Entity<'a>) -> Self {
        let table = entity.table;
        let columns = entity.columns.as_slice();
        let key_w = columns
            .iter()
            .map(|c| key_label(table, c).chars().count())
            .max()
            .unwrap_or(0) as f64
            * MONO_BOLD_10;
        let badges = columns
            .iter()
            .map(|c| sensitivity_labels(c).len())
            .max()
            .unwrap_or(0) as f64;
        let badge_w = if badges > 0.0 {
            badges * (BADGE_W + BADGE_GAP)
        } else {
            0.0
        };
        let row_w = columns
            .iter()
            .map(|c| {
                let text = c.name.chars().count() + type_text(c).chars().count();
                PAD_X + key_w + 8.0 + text as f64 * MONO_12 + 18.0 + badge_w + PAD_X
            })
            .fold(0.0, f64::max);
        let header_w = 2.0 * PAD_X + table.display_name().chars().count() as f64 * SANS_BOLD_14;
        TableBox {
            table,
            columns,
            width: row_w.max(header_w).max(140.0).ceil(),
            height: HEADER_H + columns.len() as f64 * ROW_H + BOTTOM_PAD,
            key_w,
            badge_w,
        }
    }

    /// The vertical offset of a column's row centre from the top of the box.
    fn row_y(&self, column: &str) -> f64 {
        let index = self
            .columns
            .iter()
            .position(|c| c.name == column)
            .unwrap_or(0);
        HEADER_H + index as f64 * ROW_H + ROW_H / 2.0
    }
}

fn key_label(table: &Table, column: &Column) -> String {
    Keys::of(table, column).labels().join(",")
}

fn type_text(column: &Column) -> String {
    column.data_type.to_string()
}

fn first(columns: &[String]) -> &str {
    columns.first().map_or("", String::as_str)
}

/// A foreign key between two boxes (by index in the diagram) and the rows it joins.
#[derive(Debug)]
struct Edge<'a> {
    child: usize,
    parent: usize,
    child_table: &'a Table,
    fk: &'a ForeignKey,
}

fn edges<'a>(diagram: &Diagram<'a>) -> Vec<Edge<'a>> {
    let index =
        |name: &model::QualifiedName| diagram.entities.iter().position(|e| e.table.is(name));
    diagram
        .relationships
        .iter()
        .filter_map(|&(t, fk)| {
            Some(Edge {
                child: index(&t.qualified_name())?,
                parent: index(&fk.ref_table)?,
                child_table: t,
                fk,
            })
        })
        .collect()
}

/// A number with at most one decimal, `-0` as `0`, written where it is formatted (no string of
/// its own: a diagram writes thousands).
fn num(x: f64) -> Num {
    Num(round1(x))
}

#[derive(Debug, Clone, Copy)]
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // In tenths, as integers: float formatting was a tenth of a table page's cost.
        let tenths = (self.0 * 10.0).round() as i64;
        if tenths % 10 == 0 {
            write!(f, "{}", tenths / 10)
        } else {
            let sign = if tenths < 0 { "-" } else { "" };
            let abs = tenths.unsigned_abs();
            write!(f, "{sign}{}.{}", abs / 10, abs % 10)
        }
    }
}

fn round1(x: f64) -> f64 {
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 { 0.0 } else { r }
}

/// Text escaped for XML, written where it is formatted.
fn xml(text: &str) -> Xml<'_> {
    Xml(text)
}

#[derive(Debug, Clone, Copy)]
struct Xml<'a>(&'a str);

impl std::fmt::Display for Xml<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut plain = 0;
        for (i, c) in self.0.char_indices() {
            let escaped = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                c if (c as u32) < 0x20 && c != '\n' && c != '\t' => " ",
                _ => continue,
            };
            f.write_str(&self.0[plain..i])?;
            f.write_str(escaped)?;
            plain = i + c.len_utf8();
        }
        f.write_str(&self.0[plain..])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_at_most_one_decimal_and_no_negative_zero() {
        let shown: Vec<String> = [0.0, -0.0, -0.04, 1.0, 12.34, 12.36, -0.5, -1.25, 1e6, 99.96]
            .iter()
            .map(|&x| num(x).to_string())
            .collect();
        assert_eq!(
            shown,
            [
                "0", "0", "0", "1", "12.3", "12.4", "-0.5", "-1.3", "1000000", "100"
            ]
        );
    }

    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            xml("a<b & \"c\" 'd'>\u{1}é").to_string(),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt; é"
        );
    }
}
