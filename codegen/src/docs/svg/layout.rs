//! The layout of a diagram, apart from what is drawn: boxes of given sizes joined by links
//! between given points of their sides, placed in columns left to right.
//!
//! A small Sugiyama-style layered layout:
//!
//! 1. Boxes are ranked by link depth: a referenced box sits in a column left of the boxes
//!    referencing it (cycles are broken where a depth-first walk finds them).
//! 2. A link spanning several columns gets a placeholder slot in each column it crosses, so it
//!    runs through the gaps between boxes, never through a box.
//! 3. Boxes and slots are ordered within each column by barycentre sweeps, keeping the order
//!    with the fewest crossings.
//! 4. Vertical positions: each box and slot is pulled towards the rows it connects to, under the
//!    column order and minimum gaps, solved exactly per column (pool-adjacent-violators), in
//!    alternating sweeps.
//!
//! Every position is rounded to one decimal and nothing depends on hash order.

use super::{MARGIN, NODE_MARGIN, SLOT_H, SLOT_MARGIN, round1};

/// A box to place: its size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    pub width: f64,
    pub height: f64,
}

/// A link from a referencing box to a referenced one (indexes into the nodes), with the vertical
/// offsets, from each box's top, of the points it joins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub child: usize,
    pub parent: usize,
    pub child_port: f64,
    pub parent_port: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Node(usize),
    Slot,
}

/// A box or a slot in a column of the layout.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: ItemKind,
    pub layer: usize,
    height: f64,
    pub top: f64,
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
pub struct Layout {
    pub items: Vec<Item>,
    /// Items per column, top to bottom.
    order: Vec<Vec<usize>>,
    /// The item of each table.
    node_item: Vec<usize>,
    /// For each edge that joins two columns, its items from left to right.
    pub chains: Vec<Option<Vec<usize>>>,
    pub layer_x: Vec<f64>,
    pub layer_w: Vec<f64>,
    segments: Vec<Segment>,
    /// Per item, the segments that end at it (indexes into `segments`).
    touching: Vec<Vec<usize>>,
}

impl Layout {
    pub fn compute(nodes: &[Node], links: &[Link]) -> Layout {
        let n = nodes.len();
        let rank = ranks(nodes, links);
        let layers = rank.iter().copied().max().map_or(1, |m| m + 1);

        let mut items: Vec<Item> = Vec::new();
        let mut order: Vec<Vec<usize>> = vec![Vec::new(); layers];
        let mut node_item = Vec::with_capacity(n);
        for (i, b) in nodes.iter().enumerate() {
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

        let mut chains = Vec::with_capacity(links.len());
        let mut segments = Vec::new();
        for e in links {
            if e.child == e.parent {
                chains.push(None);
                continue;
            }
            let (child_port, parent_port) = (e.child_port, e.parent_port);
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

        let mut touching = vec![Vec::new(); items.len()];
        for (k, s) in segments.iter().enumerate() {
            touching[s.left].push(k);
            if s.right != s.left {
                touching[s.right].push(k);
            }
        }
        let mut layout = Layout {
            touching,
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
        layout.place_horizontally(nodes);
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
        // Only segments between the same two columns can cross.
        let mut by_layer: Vec<Vec<(f64, f64)>> = vec![Vec::new(); self.order.len()];
        for (layer, a, b) in ends {
            by_layer[layer].push((a, b));
        }
        let mut count = 0;
        for ends in &by_layer {
            for (i, a) in ends.iter().enumerate() {
                for b in &ends[i + 1..] {
                    if (a.0 - b.0) * (a.1 - b.1) < 0.0 {
                        count += 1;
                    }
                }
            }
        }
        count
    }

    fn reduce_crossings(&mut self) {
        let mut best = (self.crossings(), self.order.clone());
        for sweep in 0..24 {
            // Nothing beats no crossing: the order kept would be this one anyway.
            if best.0 == 0 {
                break;
            }
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
            let values: Vec<f64> = self.touching[item]
                .iter()
                .map(|&k| &self.segments[k])
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
                self.touching[item].iter().any(|&k| {
                    let s = &self.segments[k];
                    (from_left && s.right == item) || (!from_left && s.left == item)
                })
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
            let before: Vec<u64> = self.items.iter().map(|i| i.top.to_bits()).collect();
            for layer in sequence {
                self.balance(layer);
            }
            // A round that moved nothing leaves every later round nothing to move.
            if self.items.iter().map(|i| i.top.to_bits()).eq(before) {
                break;
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
            for s in self.touching[item].iter().map(|&k| &self.segments[k]) {
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

    fn place_horizontally(&mut self, nodes: &[Node]) {
        let layers = self.order.len();
        self.layer_w = (0..layers)
            .map(|layer| {
                self.order[layer]
                    .iter()
                    .filter_map(|&item| match self.items[item].kind {
                        ItemKind::Node(b) => Some(nodes[b].width),
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

    pub fn node_top(&self, node: usize) -> f64 {
        self.items[self.node_item[node]].top
    }

    pub fn node_x(&self, node: usize) -> f64 {
        self.layer_x[self.items[self.node_item[node]].layer]
    }

    pub fn node_w(&self, node: usize) -> f64 {
        self.layer_w[self.items[self.node_item[node]].layer]
    }
}

/// Ranks by foreign-key depth: every table right of the tables it references. Back edges of
/// cycles are ignored; a table referenced only by tables far to the right moves next to them;
/// tables without any foreign key go to the shortest column.
fn ranks(nodes: &[Node], edges: &[Link]) -> Vec<usize> {
    let n = nodes.len();
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
        heights[rank[i]] += nodes[i].height + 2.0 * NODE_MARGIN;
    }
    for i in (0..n).filter(|i| !connected[*i]) {
        let shortest = (0..layers)
            .min_by(|a, b| heights[*a].total_cmp(&heights[*b]).then(a.cmp(b)))
            .unwrap_or(0);
        rank[i] = shortest;
        heights[shortest] += nodes[i].height + 2.0 * NODE_MARGIN;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(height: f64) -> Node {
        Node {
            width: 100.0,
            height,
        }
    }

    fn link(child: usize, parent: usize) -> Link {
        Link {
            child,
            parent,
            child_port: 45.0,
            parent_port: 45.0,
        }
    }

    fn column(layout: &Layout, node: usize) -> usize {
        layout.items[layout.node_item[node]].layer
    }

    /// No two items of a column overlap, margins included.
    fn assert_no_overlap(layout: &Layout) {
        for order in &layout.order {
            for pair in order.windows(2) {
                let (a, b) = (&layout.items[pair[0]], &layout.items[pair[1]]);
                let gap = layout.margin(pair[0]) + layout.margin(pair[1]);
                assert!(
                    a.top + a.height + gap <= b.top + 0.11,
                    "{a:?} overlaps {b:?}"
                );
            }
        }
    }

    #[test]
    fn referenced_boxes_sit_left_of_the_boxes_referencing_them() {
        // 0 <- 1 <- 2, and 3 references 0.
        let nodes = vec![node(100.0), node(80.0), node(60.0), node(60.0)];
        let layout = Layout::compute(&nodes, &[link(1, 0), link(2, 1), link(3, 0)]);
        assert_eq!(column(&layout, 0), 0);
        assert_eq!(column(&layout, 1), 1);
        assert_eq!(column(&layout, 2), 2);
        assert_eq!(column(&layout, 3), 1);
        assert!(layout.node_x(0) < layout.node_x(1));
        assert!(layout.node_x(1) + layout.node_w(1) < layout.node_x(2));
        assert_no_overlap(&layout);
    }

    #[test]
    fn a_link_across_columns_runs_through_a_slot_in_each() {
        // 2 references 0 directly and through 1: the direct link crosses column 1.
        let nodes = vec![node(100.0), node(100.0), node(100.0)];
        let layout = Layout::compute(&nodes, &[link(1, 0), link(2, 1), link(2, 0)]);
        let chain = layout.chains[2].as_ref().expect("a chain");
        assert_eq!(chain.len(), 3);
        assert_eq!(layout.items[chain[1]].kind, ItemKind::Slot);
        assert_eq!(layout.items[chain[1]].layer, 1);
        assert_no_overlap(&layout);
    }

    #[test]
    fn a_self_reference_has_no_chain_and_cycles_still_rank() {
        let nodes = vec![node(50.0), node(50.0), node(50.0)];
        let layout = Layout::compute(&nodes, &[link(0, 0), link(1, 2), link(2, 1)]);
        assert!(layout.chains[0].is_none());
        assert_ne!(column(&layout, 1), column(&layout, 2));
    }

    #[test]
    fn unconnected_boxes_fill_the_shortest_column() {
        // Column 0 holds a tall box, column 1 a short one: the loose box joins column 1.
        let nodes = vec![node(400.0), node(40.0), node(40.0)];
        let layout = Layout::compute(&nodes, &[link(1, 0)]);
        assert_eq!(column(&layout, 2), 1);
        assert_no_overlap(&layout);
    }

    #[test]
    fn a_box_lines_up_with_the_box_it_references() {
        // One parent, one child, same ports: the child's row is level with the parent's.
        let nodes = vec![node(200.0), node(100.0)];
        let layout = Layout::compute(&nodes, &[link(1, 0)]);
        assert_eq!(layout.node_top(0), layout.node_top(1));
    }

    #[test]
    fn the_layout_is_deterministic() {
        let nodes: Vec<Node> = (0..12).map(|i| node(40.0 + 10.0 * i as f64)).collect();
        let links: Vec<Link> = (1..12).map(|i| link(i, (i * 5 + 3) % i)).collect();
        let a = Layout::compute(&nodes, &links);
        let b = Layout::compute(&nodes, &links);
        let tops = |l: &Layout| l.items.iter().map(|i| i.top).collect::<Vec<_>>();
        assert_eq!(tops(&a), tops(&b));
        assert_eq!(a.order, b.order);
        assert_no_overlap(&a);
    }
}
