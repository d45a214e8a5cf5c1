//! `erd.svg`: the entity-relationship diagram laid out and drawn here, with no external tool.
//!
//! The layout is a small Sugiyama-style layered layout, left to right:
//!
//! 1. Tables are ranked by foreign-key depth: a referenced table sits in a column left of the
//!    tables referencing it (cycles are broken where a depth-first walk finds them).
//! 2. A foreign key spanning several columns gets a placeholder slot in each column it crosses,
//!    so it runs through the gaps between boxes, never through a box.
//! 3. Boxes and slots are ordered within each column by barycentre sweeps, keeping the order
//!    with the fewest crossings.
//! 4. Vertical positions: each box and slot is pulled towards the rows it connects to, under the
//!    column order and minimum gaps, solved exactly per column (pool-adjacent-violators), in
//!    alternating sweeps.
//!
//! Edges run from the referencing column's row to the referenced column's row as cubic curves,
//! with crow's-foot ends. Text widths are estimated generously for the font stacks used, so text
//! stays inside its box whichever font the viewer has. Every number is rounded to one decimal and
//! nothing depends on hash order, so the output is byte-identical on every run.

use std::fmt::Write as _;

use model::{Column, ForeignKey, QualifiedName, Table};

use super::mermaid;
use super::{Cardinality, Docs, Keys, sensitivity_labels};

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

/// The SVG document.
pub fn render(docs: &Docs<'_>) -> String {
    let boxes: Vec<TableBox<'_>> = docs.tables.iter().map(|t| TableBox::new(t)).collect();
    let edges = edges(docs);
    let layout = Layout::compute(&boxes, &edges);
    draw(docs, &boxes, &edges, &layout)
}

/// A table drawn as a box: its size and the text of each row.
#[derive(Debug)]
struct TableBox<'a> {
    table: &'a Table,
    width: f64,
    height: f64,
    key_w: f64,
    badge_w: f64,
}

impl<'a> TableBox<'a> {
    fn new(table: &'a Table) -> Self {
        let key_w = table
            .columns
            .iter()
            .map(|c| key_label(table, c).chars().count())
            .max()
            .unwrap_or(0) as f64
            * MONO_BOLD_10;
        let badges = table
            .columns
            .iter()
            .map(|c| sensitivity_labels(c).len())
            .max()
            .unwrap_or(0) as f64;
        let badge_w = if badges > 0.0 {
            badges * (BADGE_W + BADGE_GAP)
        } else {
            0.0
        };
        let row_w = table
            .columns
            .iter()
            .map(|c| {
                let text = c.name.chars().count() + type_text(c).chars().count();
                PAD_X + key_w + 8.0 + text as f64 * MONO_12 + 18.0 + badge_w + PAD_X
            })
            .fold(0.0, f64::max);
        let header_w = 2.0 * PAD_X + table.display_name().chars().count() as f64 * SANS_BOLD_14;
        TableBox {
            table,
            width: row_w.max(header_w).max(140.0).ceil(),
            height: HEADER_H + table.columns.len() as f64 * ROW_H + BOTTOM_PAD,
            key_w,
            badge_w,
        }
    }

    /// The vertical offset of a column's row centre from the top of the box.
    fn row_y(&self, column: &str) -> f64 {
        let index = self
            .table
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

/// A foreign key between two boxes (by index in table order) and the rows it joins.
#[derive(Debug)]
struct Edge<'a> {
    child: usize,
    parent: usize,
    child_table: &'a Table,
    fk: &'a ForeignKey,
}

fn edges<'a>(docs: &Docs<'a>) -> Vec<Edge<'a>> {
    let index = |name: &QualifiedName| docs.tables.iter().position(|t| t.is(name));
    docs.foreign_keys()
        .into_iter()
        .filter_map(|(t, fk)| {
            Some(Edge {
                child: index(&t.qualified_name())?,
                parent: index(&fk.ref_table)?,
                child_table: t,
                fk,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemKind {
    Node(usize),
    Slot,
}

/// A box or a slot in a column of the layout.
#[derive(Debug, Clone)]
struct Item {
    kind: ItemKind,
    layer: usize,
    height: f64,
    top: f64,
}

/// One step of an edge between adjacent columns: from an item in column `l` to one in `l + 1`,
/// with the vertical offsets of the attachment points within each item.
#[derive(Debug, Clone, Copy)]
struct Segment {
    left: usize,
    right: usize,
    left_port: f64,
    right_port: f64,
}

#[derive(Debug)]
struct Layout {
    items: Vec<Item>,
    /// Items per column, top to bottom.
    order: Vec<Vec<usize>>,
    /// The item of each table.
    node_item: Vec<usize>,
    /// For each edge that joins two columns, its items from left to right.
    chains: Vec<Option<Vec<usize>>>,
    layer_x: Vec<f64>,
    layer_w: Vec<f64>,
    segments: Vec<Segment>,
}

impl Layout {
    fn compute(boxes: &[TableBox<'_>], edges: &[Edge<'_>]) -> Layout {
        let n = boxes.len();
        let rank = ranks(n, edges, boxes);
        let layers = rank.iter().copied().max().map_or(1, |m| m + 1);

        let mut items: Vec<Item> = Vec::new();
        let mut order: Vec<Vec<usize>> = vec![Vec::new(); layers];
        let mut node_item = Vec::with_capacity(n);
        for (i, b) in boxes.iter().enumerate() {
            let id = items.len();
            items.push(Item {
                kind: ItemKind::Node(i),
                layer: rank[i],
                height: b.height,
                top: 0.0,
            });
            order[rank[i]].push(id);
            node_item.push(id);
        }

        let mut chains = Vec::with_capacity(edges.len());
        let mut segments = Vec::new();
        for e in edges {
            if e.child == e.parent {
                chains.push(None);
                continue;
            }
            let child_port = boxes[e.child].row_y(first(&e.fk.columns));
            let parent_port = boxes[e.parent].row_y(first(&e.fk.ref_columns));
            let (low, low_port, high, high_port) = if rank[e.parent] < rank[e.child] {
                (e.parent, parent_port, e.child, child_port)
            } else {
                (e.child, child_port, e.parent, parent_port)
            };
            let mut chain = vec![node_item[low]];
            for (layer, column) in order
                .iter_mut()
                .enumerate()
                .take(rank[high])
                .skip(rank[low] + 1)
            {
                let id = items.len();
                items.push(Item {
                    kind: ItemKind::Slot,
                    layer,
                    height: SLOT_H,
                    top: 0.0,
                });
                column.push(id);
                chain.push(id);
            }
            chain.push(node_item[high]);
            let last = chain.len() - 2;
            for (k, pair) in chain.windows(2).enumerate() {
                segments.push(Segment {
                    left: pair[0],
                    right: pair[1],
                    left_port: if k == 0 { low_port } else { SLOT_H / 2.0 },
                    right_port: if k == last { high_port } else { SLOT_H / 2.0 },
                });
            }
            chains.push(Some(chain));
        }

        let mut layout = Layout {
            items,
            order,
            node_item,
            chains,
            layer_x: Vec::new(),
            layer_w: Vec::new(),
            segments,
        };
        layout.reduce_crossings();
        layout.place_vertically();
        layout.place_horizontally(boxes);
        layout
    }

    fn position(&self) -> Vec<f64> {
        let mut pos = vec![0.0; self.items.len()];
        for column in &self.order {
            for (i, &item) in column.iter().enumerate() {
                pos[item] = i as f64;
            }
        }
        pos
    }

    /// The position of an attachment point for ordering: the item's index plus how far down the
    /// item the point is.
    fn port_position(&self, pos: &[f64], item: usize, port: f64) -> f64 {
        pos[item] + 0.9 * port / self.items[item].height
    }

    fn crossings(&self) -> usize {
        let pos = self.position();
        let ends: Vec<(usize, f64, f64)> = self
            .segments
            .iter()
            .map(|s| {
                (
                    self.items[s.left].layer,
                    self.port_position(&pos, s.left, s.left_port),
                    self.port_position(&pos, s.right, s.right_port),
                )
            })
            .collect();
        let mut count = 0;
        for (i, a) in ends.iter().enumerate() {
            for b in &ends[i + 1..] {
                if a.0 == b.0 && (a.1 - b.1) * (a.2 - b.2) < 0.0 {
                    count += 1;
                }
            }
        }
        count
    }

    fn reduce_crossings(&mut self) {
        let mut best = (self.crossings(), self.order.clone());
        for sweep in 0..24 {
            let layers = self.order.len();
            let forward = sweep % 2 == 0;
            let sequence: Vec<usize> = if forward {
                (1..layers).collect()
            } else {
                (0..layers.saturating_sub(1)).rev().collect()
            };
            for layer in sequence {
                self.reorder(layer, forward);
            }
            let crossings = self.crossings();
            if crossings < best.0 {
                best = (crossings, self.order.clone());
            }
        }
        self.order = best.1;
    }

    /// Sorts one column by the barycentre of each item's neighbours in the column before it
    /// (`from_left`) or after it; items without such neighbours keep their place.
    fn reorder(&mut self, layer: usize, from_left: bool) {
        let pos = self.position();
        let column = self.order[layer].clone();
        let mut movable: Vec<(f64, f64, usize)> = Vec::new();
        for &item in &column {
            let values: Vec<f64> = self
                .segments
                .iter()
                .filter_map(|s| {
                    if from_left && s.right == item {
                        Some(self.port_position(&pos, s.left, s.left_port))
                    } else if !from_left && s.left == item {
                        Some(self.port_position(&pos, s.right, s.right_port))
                    } else {
                        None
                    }
                })
                .collect();
            if !values.is_empty() {
                let bary = values.iter().sum::<f64>() / values.len() as f64;
                movable.push((bary, pos[item], item));
            }
        }
        movable.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut next = movable.into_iter().map(|m| m.2);
        let moving: Vec<bool> = column
            .iter()
            .map(|&item| {
                self.segments
                    .iter()
                    .any(|s| (from_left && s.right == item) || (!from_left && s.left == item))
            })
            .collect();
        let mut new_column = Vec::with_capacity(column.len());
        for (slot, &item) in column.iter().enumerate() {
            if moving[slot] {
                new_column.push(next.next().unwrap_or(item));
            } else {
                new_column.push(item);
            }
        }
        self.order[layer] = new_column;
    }

    fn margin(&self, item: usize) -> f64 {
        match self.items[item].kind {
            ItemKind::Node(_) => NODE_MARGIN,
            ItemKind::Slot => SLOT_MARGIN,
        }
    }

    fn place_vertically(&mut self) {
        // Start stacked from the top.
        for column in self.order.clone() {
            let mut y = 0.0;
            for (i, &item) in column.iter().enumerate() {
                if i > 0 {
                    y += self.margin(column[i - 1]) + self.margin(item);
                }
                self.items[item].top = y;
                y += self.items[item].height;
            }
        }
        let layers = self.order.len();
        for round in 0..60 {
            let sequence: Vec<usize> = if round % 2 == 0 {
                (0..layers).collect()
            } else {
                (0..layers).rev().collect()
            };
            for layer in sequence {
                self.balance(layer);
            }
        }
        let min_top = self
            .items
            .iter()
            .map(|i| i.top)
            .fold(f64::INFINITY, f64::min);
        for item in &mut self.items {
            item.top = round1(item.top - min_top);
        }
    }

    /// Moves the items of one column as close as the gaps allow to where their edges come from:
    /// minimises the weighted squared distance to each item's wish, keeping order and gaps.
    fn balance(&mut self, layer: usize) {
        let column = self.order[layer].clone();
        if column.is_empty() {
            return;
        }
        // Wishes: the top at which each attachment point would be level with the other end.
        let mut wishes: Vec<(f64, f64)> = Vec::with_capacity(column.len());
        for &item in &column {
            let mut sum = 0.0;
            let mut weight = 0.0;
            for s in &self.segments {
                let (own_port, other, other_port) = if s.left == item {
                    (s.left_port, s.right, s.right_port)
                } else if s.right == item {
                    (s.right_port, s.left, s.left_port)
                } else {
                    continue;
                };
                sum += self.items[other].top + other_port - own_port;
                weight += 1.0;
            }
            if weight == 0.0 {
                wishes.push((self.items[item].top, 0.05));
            } else {
                wishes.push((sum / weight, weight));
            }
        }
        // z_i = top_i - offset_i must be non-decreasing: isotonic regression by pooling.
        let mut offsets = Vec::with_capacity(column.len());
        let mut offset = 0.0;
        for (i, &item) in column.iter().enumerate() {
            if i > 0 {
                let prev = column[i - 1];
                offset += self.items[prev].height + self.margin(prev) + self.margin(item);
            }
            offsets.push(offset);
        }
        // Blocks of (total weight, weighted sum, count).
        let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
        for (i, &(wish, weight)) in wishes.iter().enumerate() {
            blocks.push((weight, weight * (wish - offsets[i]), 1));
            while blocks.len() >= 2 {
                let b = blocks[blocks.len() - 1];
                let a = blocks[blocks.len() - 2];
                if a.1 / a.0 > b.1 / b.0 {
                    blocks.pop();
                    blocks.pop();
                    blocks.push((a.0 + b.0, a.1 + b.1, a.2 + b.2));
                } else {
                    break;
                }
            }
        }
        let mut i = 0;
        for (weight, sum, count) in blocks {
            let z = sum / weight;
            for _ in 0..count {
                self.items[column[i]].top = z + offsets[i];
                i += 1;
            }
        }
    }

    fn place_horizontally(&mut self, boxes: &[TableBox<'_>]) {
        let layers = self.order.len();
        self.layer_w = (0..layers)
            .map(|layer| {
                self.order[layer]
                    .iter()
                    .filter_map(|&item| match self.items[item].kind {
                        ItemKind::Node(b) => Some(boxes[b].width),
                        ItemKind::Slot => None,
                    })
                    .fold(60.0, f64::max)
            })
            .collect();
        let mut x = MARGIN;
        self.layer_x = Vec::with_capacity(layers);
        for layer in 0..layers {
            self.layer_x.push(x);
            let crossing = self
                .segments
                .iter()
                .filter(|s| self.items[s.left].layer == layer)
                .count() as f64;
            x += self.layer_w[layer] + (96.0 + 4.0 * crossing).min(160.0);
        }
    }

    fn node_top(&self, node: usize) -> f64 {
        self.items[self.node_item[node]].top
    }

    fn node_x(&self, node: usize) -> f64 {
        self.layer_x[self.items[self.node_item[node]].layer]
    }

    fn node_w(&self, node: usize) -> f64 {
        self.layer_w[self.items[self.node_item[node]].layer]
    }
}

fn first(columns: &[String]) -> &str {
    columns.first().map_or("", String::as_str)
}

/// Ranks by foreign-key depth: every table right of the tables it references. Back edges of
/// cycles are ignored; a table referenced only by tables far to the right moves next to them;
/// tables without any foreign key go to the shortest column.
fn ranks(n: usize, edges: &[Edge<'_>], boxes: &[TableBox<'_>]) -> Vec<usize> {
    // Depth-first walk from each table in order, parent to child, to find the back edges.
    let mut state = vec![0u8; n];
    let mut back = vec![false; edges.len()];
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        // (node, next edge index to try)
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some((i, e)) = edges
                .iter()
                .enumerate()
                .skip(*next)
                .find(|(_, e)| e.parent == node && e.child != node)
            {
                *next = i + 1;
                match state[e.child] {
                    0 => {
                        state[e.child] = 1;
                        stack.push((e.child, 0));
                    }
                    1 => back[i] = true,
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    let dag: Vec<(usize, usize)> = edges
        .iter()
        .enumerate()
        .filter(|(i, e)| !back[*i] && e.child != e.parent)
        .map(|(_, e)| (e.parent, e.child))
        .collect();
    let mut rank = vec![0usize; n];
    for _ in 0..n {
        for &(p, c) in &dag {
            rank[c] = rank[c].max(rank[p] + 1);
        }
    }
    // Sources sit just left of their nearest child.
    for _ in 0..n {
        for node in 0..n {
            let has_parent = dag.iter().any(|&(_, c)| c == node);
            let nearest_child = dag
                .iter()
                .filter(|&&(p, _)| p == node)
                .map(|&(_, c)| rank[c])
                .min();
            if let (false, Some(child_rank)) = (has_parent, nearest_child) {
                rank[node] = rank[node].max(child_rank.saturating_sub(1));
            }
        }
    }
    // Unconnected tables fill the shortest column.
    let connected: Vec<bool> = (0..n)
        .map(|i| {
            edges
                .iter()
                .any(|e| (e.child == i || e.parent == i) && e.child != e.parent)
        })
        .collect();
    let layers = rank
        .iter()
        .enumerate()
        .filter(|(i, _)| connected[*i])
        .map(|(_, r)| r + 1)
        .max()
        .unwrap_or(1);
    let mut heights = vec![0.0; layers];
    for i in (0..n).filter(|i| connected[*i]) {
        heights[rank[i]] += boxes[i].height + 2.0 * NODE_MARGIN;
    }
    for i in (0..n).filter(|i| !connected[*i]) {
        let shortest = (0..layers)
            .min_by(|a, b| heights[*a].total_cmp(&heights[*b]).then(a.cmp(b)))
            .unwrap_or(0);
        rank[i] = shortest;
        heights[shortest] += boxes[i].height + 2.0 * NODE_MARGIN;
    }
    rank
}

/// A number with at most one decimal, `-0` as `0`.
fn num(x: f64) -> String {
    let r = round1(x);
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

fn round1(x: f64) -> f64 {
    let r = (x * 10.0).round() / 10.0;
    if r == 0.0 { 0.0 } else { r }
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn draw(docs: &Docs<'_>, boxes: &[TableBox<'_>], edges: &[Edge<'_>], layout: &Layout) -> String {
    let content_bottom = boxes
        .iter()
        .enumerate()
        .map(|(i, b)| layout.node_top(i) + b.height)
        .fold(0.0, f64::max);
    let last_layer = layout.layer_x.len() - 1;
    let loops = if edges.iter().any(|e| e.child == e.parent) {
        LOOP_W
    } else {
        0.0
    };
    let content_right = layout.layer_x[last_layer] + layout.layer_w[last_layer] + loops;
    let legend = legend_items();
    let legend_w: f64 = legend.iter().map(|l| l.width).sum::<f64>() + 2.0 * MARGIN;
    let title = "Entity-relationship diagram";
    let subtitle = format!(
        "{} tables, {} foreign keys. Generated from schema.yaml; per-table pages in tables/.",
        boxes.len(),
        edges.len()
    );
    let title_w = 2.0 * MARGIN
        + (title.len() as f64 * SANS_BOLD_18).max(subtitle.chars().count() as f64 * SANS_11);
    let width = (content_right + MARGIN).max(legend_w).max(title_w).ceil();
    let height = (TITLE_H + content_bottom + 16.0 + LEGEND_H).ceil();

    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<!-- Generated by codegen from schema.yaml: DO NOT EDIT. Edit schema.yaml and run `cargo run -p codegen`. -->\n",
    );
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"erd-title\">",
        w = num(width),
        h = num(height)
    );
    let _ = writeln!(
        out,
        "<title id=\"erd-title\">{} of {}</title>",
        title,
        xml(&docs
            .tables
            .iter()
            .map(|t| t.display_name())
            .collect::<Vec<_>>()
            .join(", "))
    );
    let _ = writeln!(
        out,
        "<style>\n\
         text {{ font-family: {MONO}; font-size: 12px; fill: #1f2937; }}\n\
         .sans {{ font-family: {SANS}; }}\n\
         .title {{ font-family: {SANS}; font-size: 18px; font-weight: 700; fill: #0f172a; }}\n\
         .subtitle, .legend {{ font-family: {SANS}; font-size: 11px; fill: #475569; }}\n\
         .box {{ fill: #ffffff; }}\n\
         .frame {{ fill: none; stroke: #94a3b8; stroke-width: 1; }}\n\
         .head {{ fill: #1e3a5f; }}\n\
         .name {{ font-family: {SANS}; font-size: 14px; font-weight: 700; fill: #ffffff; }}\n\
         .stripe {{ fill: #f1f5f9; }}\n\
         .type {{ fill: #64748b; }}\n\
         .key {{ font-size: 10px; font-weight: 700; }}\n\
         .pk {{ fill: #b45309; }}\n\
         .fk {{ fill: #2563eb; }}\n\
         .uk {{ fill: #7c3aed; }}\n\
         .badge {{ font-family: {SANS}; font-size: 9px; font-weight: 700; }}\n\
         .pii-bg {{ fill: #fef3c7; stroke: #f59e0b; stroke-width: 0.75; }}\n\
         .pii {{ fill: #92400e; }}\n\
         .phi-bg {{ fill: #fee2e2; stroke: #ef4444; stroke-width: 0.75; }}\n\
         .phi {{ fill: #991b1b; }}\n\
         .enc-bg {{ fill: #dbeafe; stroke: #3b82f6; stroke-width: 0.75; }}\n\
         .enc {{ fill: #1e3a8a; }}\n\
         .edge path {{ fill: none; stroke-width: 1.4; }}\n\
         .edge circle {{ fill: #ffffff; stroke-width: 1.4; }}\n\
         </style>"
    );
    out.push_str("<rect class=\"background\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    let _ = writeln!(
        out,
        "<text class=\"title\" x=\"{}\" y=\"{}\">{title}</text>",
        num(MARGIN),
        num(MARGIN + 10.0)
    );
    let _ = writeln!(
        out,
        "<text class=\"subtitle\" x=\"{}\" y=\"{}\">{}</text>",
        num(MARGIN),
        num(MARGIN + 28.0),
        xml(&subtitle)
    );

    // Edges first, so boxes are drawn over anything that comes close.
    out.push_str("<g class=\"edges\">\n");
    let ports = parent_ports(edges);
    for (i, e) in edges.iter().enumerate() {
        draw_edge(&mut out, boxes, layout, e, i, ports[i]);
    }
    out.push_str("</g>\n");

    out.push_str("<g class=\"tables\">\n");
    for (i, b) in boxes.iter().enumerate() {
        draw_box(
            &mut out,
            b,
            layout.node_x(i),
            TITLE_H + layout.node_top(i),
            layout.node_w(i),
        );
    }
    out.push_str("</g>\n");

    draw_legend(&mut out, &legend, height - LEGEND_H + 14.0);
    out.push_str("</svg>\n");
    out
}

fn draw_box(out: &mut String, b: &TableBox<'_>, x: f64, y: f64, w: f64) {
    let t = b.table;
    let h = b.height;
    let _ = writeln!(
        out,
        "<g class=\"table\" id=\"table-{}\" data-table=\"{}\">",
        xml(&t.display_name()),
        xml(&t.display_name())
    );
    let tooltip = match &t.comment {
        Some(c) => format!("{}: {c}", t.display_name()),
        None => t.display_name().into_owned(),
    };
    let _ = writeln!(out, "<title>{}</title>", xml(&tooltip));
    let _ = writeln!(
        out,
        "<rect class=\"box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\"/>",
        num(x),
        num(y),
        num(w),
        num(h)
    );
    let _ = writeln!(
        out,
        "<path class=\"head\" d=\"M{} {}a6 6 0 0 1 6 -6h{}a6 6 0 0 1 6 6v{}h{}z\"/>",
        num(x),
        num(y + 6.0),
        num(w - 12.0),
        num(HEADER_H - 6.0),
        num(-w)
    );
    let _ = writeln!(
        out,
        "<text class=\"name\" x=\"{}\" y=\"{}\">{}</text>",
        num(x + PAD_X),
        num(y + 20.0),
        xml(&t.display_name())
    );
    for (row, c) in t.columns.iter().enumerate() {
        let top = y + HEADER_H + row as f64 * ROW_H;
        let base = top + 14.0;
        if row % 2 == 1 {
            let _ = writeln!(
                out,
                "<rect class=\"stripe\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                num(x + 1.0),
                num(top),
                num(w - 2.0),
                num(ROW_H)
            );
        }
        let mut tip = format!(
            "{}.{} {}{}",
            t.display_name(),
            c.name,
            c.data_type,
            if c.nullable { " NULL" } else { " NOT NULL" }
        );
        if let Some(comment) = &c.comment {
            tip.push_str(" — ");
            tip.push_str(comment);
        }
        let _ = write!(out, "<g class=\"column\"><title>{}</title>", xml(&tip));
        let keys = Keys::of(t, c);
        if keys != Keys::default() {
            let class = if keys.pk {
                "pk"
            } else if keys.fk {
                "fk"
            } else {
                "uk"
            };
            let _ = write!(
                out,
                "<text class=\"key {class}\" x=\"{}\" y=\"{}\">{}</text>",
                num(x + PAD_X),
                num(base - 0.5),
                xml(&key_label(t, c))
            );
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            num(x + PAD_X + b.key_w + 8.0),
            num(base),
            xml(&c.name)
        );
        let _ = write!(
            out,
            "<text class=\"type\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            num(x + w - PAD_X - b.badge_w),
            num(base),
            xml(&type_text(c))
        );
        let mut bx = x + w - PAD_X - b.badge_w + BADGE_GAP;
        for label in sensitivity_labels(c) {
            // Badges are three letters wide.
            let label = if label == "encrypted" { "ENC" } else { label };
            let class = label.to_ascii_lowercase();
            let _ = write!(
                out,
                "<rect class=\"{class}-bg\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"13\" rx=\"3\"/><text class=\"badge {class}\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
                num(bx),
                num(top + 3.5),
                num(BADGE_W),
                num(bx + BADGE_W / 2.0),
                num(top + 13.3)
            );
            bx += BADGE_W + BADGE_GAP;
        }
        out.push_str("</g>\n");
    }
    let _ = writeln!(
        out,
        "<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\"/>",
        num(x),
        num(y),
        num(w),
        num(h)
    );
    out.push_str("</g>\n");
}

/// The end marks of an edge, drawn at `(x, y)` on a box side, pointing away from the box in
/// direction `d` (+1 right, -1 left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    ExactlyOne,
    ZeroOrOne,
    ZeroOrMany,
}

fn end_marks(end: End, x: f64, y: f64, d: f64, colour: &str, small: bool) -> String {
    // Half the height of a bar or of the crow's foot, and the circle's radius.
    let (half, r) = if small { (3.0, 2.75) } else { (6.0, 4.0) };
    let bar = |at: f64| {
        format!(
            "<path d=\"M{} {}v{}\" stroke=\"{colour}\"/>",
            num(x + d * at),
            num(y - half),
            num(2.0 * half)
        )
    };
    let circle = |at: f64| {
        format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" stroke=\"{colour}\"/>",
            num(x + d * at),
            num(y),
            num(r)
        )
    };
    match end {
        End::ExactlyOne => format!("{}{}", bar(8.0), bar(13.0)),
        End::ZeroOrOne => format!("{}{}", bar(8.0), circle(13.0 + r)),
        End::ZeroOrMany => format!(
            "<path d=\"M{} {}L{} {}M{} {}L{} {}\" stroke=\"{colour}\"/>{}",
            num(x),
            num(y - half),
            num(x + d * 12.0),
            num(y),
            num(x),
            num(y + half),
            num(x + d * 12.0),
            num(y),
            circle(13.0 + r)
        ),
    }
}

/// Where each edge meets its referenced row. Edges of both kinds (exactly one, zero or one)
/// meeting the same row would draw their marks on top of each other, so there the two kinds
/// attach a little above and below the row's centre, with smaller marks. Returns the vertical
/// offset and whether the marks are small, per edge.
fn parent_ports(edges: &[Edge<'_>]) -> Vec<(f64, bool)> {
    let port = |e: &Edge<'_>| (e.parent, first(&e.fk.ref_columns).to_string());
    let kind = |e: &Edge<'_>| ends(Cardinality::of(e.child_table, e.fk)).0;
    edges
        .iter()
        .map(|e| {
            let mut kinds: Vec<End> = edges
                .iter()
                .filter(|o| port(o) == port(e))
                .map(kind)
                .collect();
            kinds.dedup();
            let mixed = kinds.iter().any(|k| *k != kinds[0]);
            match (mixed, kind(e)) {
                (false, _) => (0.0, false),
                (true, End::ExactlyOne) => (-5.0, true),
                (true, _) => (5.0, true),
            }
        })
        .collect()
}

fn ends(card: Cardinality) -> (End, End) {
    let parent = if card.optional_parent {
        End::ZeroOrOne
    } else {
        End::ExactlyOne
    };
    let child = if card.unique_child {
        End::ZeroOrOne
    } else {
        End::ZeroOrMany
    };
    (parent, child)
}

fn draw_edge(
    out: &mut String,
    boxes: &[TableBox<'_>],
    layout: &Layout,
    e: &Edge<'_>,
    i: usize,
    (parent_offset, small): (f64, bool),
) {
    let colour = EDGE_COLOURS[e.parent % EDGE_COLOURS.len()];
    let card = Cardinality::of(e.child_table, e.fk);
    let (parent_end, child_end) = ends(card);
    let _ = write!(
        out,
        "<g class=\"edge\" data-fk=\"{}\" data-from=\"{}\" data-to=\"{}\"><title>{}</title>",
        xml(&e.fk.name),
        xml(&e.child_table.display_name()),
        xml(&e.fk.ref_table.display()),
        xml(&format!(
            "{}.{} → {}.{} ({} to {}; {})",
            e.child_table.display_name(),
            e.fk.columns.join(", "),
            e.fk.ref_table.display(),
            e.fk.ref_columns.join(", "),
            card.child_words(),
            card.parent_words(),
            mermaid::comment_text(&e.fk.name)
        ))
    );
    let child_y = TITLE_H + layout.node_top(e.child) + boxes[e.child].row_y(first(&e.fk.columns));
    let parent_y = TITLE_H
        + layout.node_top(e.parent)
        + boxes[e.parent].row_y(first(&e.fk.ref_columns))
        + parent_offset;
    let Some(chain) = &layout.chains[i] else {
        // A self-reference loops out of the box's right side.
        let x = layout.node_x(e.child) + layout.node_w(e.child);
        let _ = write!(
            out,
            "<path d=\"M{} {}C{} {} {} {} {} {}\" stroke=\"{colour}\"/>",
            num(x),
            num(child_y),
            num(x + LOOP_W),
            num(child_y),
            num(x + LOOP_W),
            num(parent_y),
            num(x),
            num(parent_y)
        );
        out.push_str(&end_marks(child_end, x, child_y, 1.0, colour, false));
        out.push_str(&end_marks(parent_end, x, parent_y, 1.0, colour, small));
        out.push_str("</g>\n");
        return;
    };
    let parent_is_left = layout.items[chain[0]].kind == ItemKind::Node(e.parent);
    let (left_y, right_y) = if parent_is_left {
        (parent_y, child_y)
    } else {
        (child_y, parent_y)
    };
    let right_of = |item: usize| {
        let layer = layout.items[item].layer;
        layout.layer_x[layer] + layout.layer_w[layer]
    };
    let left_of = |item: usize| layout.layer_x[layout.items[item].layer];
    let centre = |item: usize| TITLE_H + layout.items[item].top + SLOT_H / 2.0;
    let mut d = String::new();
    let (mut x1, mut y1) = (right_of(chain[0]), left_y);
    let _ = write!(d, "M{} {}", num(x1), num(y1));
    for (k, &item) in chain.iter().enumerate().skip(1) {
        let last = k == chain.len() - 1;
        let x2 = left_of(item);
        let y2 = if last { right_y } else { centre(item) };
        let dx = (x2 - x1) / 2.0;
        let _ = write!(
            d,
            "C{} {} {} {} {} {}",
            num(x1 + dx),
            num(y1),
            num(x2 - dx),
            num(y2),
            num(x2),
            num(y2)
        );
        if !last {
            x1 = right_of(item);
            y1 = y2;
            let _ = write!(d, "H{}", num(x1));
        }
    }
    let _ = write!(out, "<path d=\"{d}\" stroke=\"{colour}\"/>");
    let left_x = right_of(chain[0]);
    let right_x = left_of(chain[chain.len() - 1]);
    let ((left_end, left_small), (right_end, right_small)) = if parent_is_left {
        ((parent_end, small), (child_end, false))
    } else {
        ((child_end, false), (parent_end, small))
    };
    out.push_str(&end_marks(
        left_end, left_x, left_y, 1.0, colour, left_small,
    ));
    out.push_str(&end_marks(
        right_end,
        right_x,
        right_y,
        -1.0,
        colour,
        right_small,
    ));
    out.push_str("</g>\n");
}

#[derive(Debug)]
struct LegendItem {
    kind: LegendKind,
    label: &'static str,
    width: f64,
}

#[derive(Debug)]
enum LegendKind {
    Key(&'static str, &'static str),
    Badge(&'static str),
    End(End),
}

fn legend_items() -> Vec<LegendItem> {
    let item = |kind: LegendKind, label: &'static str| {
        let mark = match &kind {
            LegendKind::Key(text, _) => text.len() as f64 * MONO_BOLD_10,
            LegendKind::Badge(_) => BADGE_W,
            LegendKind::End(_) => 34.0,
        };
        LegendItem {
            kind,
            label,
            width: mark + 6.0 + label.len() as f64 * SANS_11 + 22.0,
        }
    };
    vec![
        item(LegendKind::Key("PK", "pk"), "primary key"),
        item(LegendKind::Key("FK", "fk"), "foreign key"),
        item(LegendKind::Key("UK", "uk"), "unique"),
        item(LegendKind::Badge("PII"), "personal data"),
        item(LegendKind::Badge("PHI"), "health data"),
        item(LegendKind::Badge("ENC"), "encrypted"),
        item(LegendKind::End(End::ExactlyOne), "exactly one"),
        item(LegendKind::End(End::ZeroOrOne), "zero or one"),
        item(LegendKind::End(End::ZeroOrMany), "zero or many"),
    ]
}

fn draw_legend(out: &mut String, items: &[LegendItem], y: f64) {
    let colour = "#475569";
    let mut x = MARGIN;
    out.push_str("<g class=\"legend-items\">\n");
    for item in items {
        let mark_w = match &item.kind {
            LegendKind::Key(text, class) => {
                let _ = write!(
                    out,
                    "<text class=\"key {class}\" x=\"{}\" y=\"{}\">{text}</text>",
                    num(x),
                    num(y + 4.0)
                );
                text.len() as f64 * MONO_BOLD_10
            }
            LegendKind::Badge(label) => {
                let class = label.to_ascii_lowercase();
                let _ = write!(
                    out,
                    "<rect class=\"{class}-bg\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"13\" rx=\"3\"/><text class=\"badge {class}\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
                    num(x),
                    num(y - 6.5),
                    num(BADGE_W),
                    num(x + BADGE_W / 2.0),
                    num(y + 3.3)
                );
                BADGE_W
            }
            LegendKind::End(end) => {
                let _ = write!(
                    out,
                    "<g class=\"edge-sample\"><path d=\"M{} {}H{}\" stroke=\"{colour}\" fill=\"none\" stroke-width=\"1.4\"/>",
                    num(x),
                    num(y),
                    num(x + 34.0)
                );
                out.push_str(
                    &end_marks(*end, x, y, 1.0, colour, false)
                        .replace("<path ", "<path fill=\"none\" stroke-width=\"1.4\" ")
                        .replace("<circle ", "<circle fill=\"#ffffff\" stroke-width=\"1.4\" "),
                );
                out.push_str("</g>");
                34.0
            }
        };
        let _ = writeln!(
            out,
            "<text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>",
            num(x + mark_w + 6.0),
            num(y + 4.0),
            item.label
        );
        x += item.width;
    }
    out.push_str("</g>\n");
}
