//! The overview of a large schema, split into diagrams a person can read.
//!
//! Up to [`READABLE_TABLES`] tables (and within GitHub's Mermaid limits) the overview is one
//! diagram. Beyond that it is split into parts of at most [`READABLE_TABLES`] tables each:
//! schema by schema; within a schema, by connected group of tables (joined by foreign keys);
//! a group too large for one part is cut along a depth-first walk from its first table, so that
//! chains of references stay together; small groups are packed together, in table order, into
//! parts. A part whose Mermaid text would still exceed GitHub's limits (very wide tables) is
//! halved until it fits.

use super::Docs;
use super::mermaid::Diagram;

/// The most tables one overview diagram holds.
pub const READABLE_TABLES: usize = 30;

/// One diagram of the split overview: tables by position in [`Docs::tables`], ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The file name (without extension) under `docs/erd/`.
    pub name: String,
    /// The schema its tables belong to.
    pub schema: String,
    pub tables: Vec<usize>,
}

/// The overview: one diagram, or parts with, per table position, the index of its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overview {
    Whole,
    Parts {
        parts: Vec<Part>,
        part_of: Vec<usize>,
    },
}

impl Overview {
    pub fn of(docs: &Docs<'_>) -> Overview {
        if docs.tables.len() <= READABLE_TABLES {
            let whole = Diagram::whole(docs);
            if whole.fits(&whole.render()) {
                return Overview::Whole;
            }
        }
        let groups = split(docs, READABLE_TABLES);
        let mut parts = Vec::new();
        for (schema, tables) in groups {
            for tables in fit(docs, tables) {
                parts.push((schema.clone(), tables));
            }
        }
        let width = parts.len().to_string().len().max(2);
        let mut part_of = vec![0; docs.tables.len()];
        let parts: Vec<Part> = parts
            .into_iter()
            .enumerate()
            .map(|(i, (schema, tables))| {
                for &t in &tables {
                    part_of[t] = i;
                }
                Part {
                    name: format!("{}-{:0width$}", super::page(&schema), i + 1),
                    schema,
                    tables,
                }
            })
            .collect();
        Overview::Parts { parts, part_of }
    }
}

/// `tables`, or halves of it until each one's diagram is within GitHub's limits. A single table
/// is kept even when it alone is too large: its page says so.
fn fit(docs: &Docs<'_>, tables: Vec<usize>) -> Vec<Vec<usize>> {
    let diagram = Diagram::part(docs, &tables);
    if tables.len() <= 1 || diagram.fits(&diagram.render()) {
        return vec![tables];
    }
    let mut right = tables;
    let left: Vec<usize> = right.drain(..right.len() / 2).collect();
    let mut out = fit(docs, left);
    out.extend(fit(docs, right));
    out
}

/// The tables grouped as described in the module documentation: (schema, positions ascending),
/// schemas in order of their first table, each group at most `max` tables.
pub fn split(docs: &Docs<'_>, max: usize) -> Vec<(String, Vec<usize>)> {
    let n = docs.tables.len();
    let schema_of = |p: usize| docs.tables[p].schema.as_str();
    let mut schemas: Vec<&str> = Vec::new();
    for p in 0..n {
        if !schemas.contains(&schema_of(p)) {
            schemas.push(schema_of(p));
        }
    }
    let mut seen = vec![false; n];
    let mut out = Vec::new();
    for schema in schemas {
        // Connected groups within the schema, each in depth-first order from its first table.
        let mut units: Vec<Vec<usize>> = Vec::new();
        for start in 0..n {
            if seen[start] || schema_of(start) != schema {
                continue;
            }
            let mut order = Vec::new();
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(p) = stack.pop() {
                order.push(p);
                // Pushed in reverse, so the smallest neighbour is visited first.
                for &q in docs.neighbour_positions(p).iter().rev() {
                    if !seen[q] && schema_of(q) == schema {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
            for chunk in order.chunks(max) {
                let mut chunk = chunk.to_vec();
                chunk.sort_unstable();
                units.push(chunk);
            }
        }
        // Small groups packed together.
        let mut current: Vec<usize> = Vec::new();
        for unit in units {
            if !current.is_empty() && current.len() + unit.len() > max {
                current.sort_unstable();
                out.push((schema.to_string(), std::mem::take(&mut current)));
            }
            current.extend(unit);
        }
        if !current.is_empty() {
            current.sort_unstable();
            out.push((schema.to_string(), current));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(yaml: &str) -> model::Catalog {
        model::load_schema("schema.yaml", yaml).expect("valid schema")
    }

    /// `n` tables in `schema` chained by foreign keys in groups of `group` (the first of each
    /// group references nothing).
    fn chains(n: usize, group: usize) -> String {
        let mut yaml = String::from("tables:\n");
        for i in 0..n {
            yaml.push_str(&format!(
                "  t{i:03}:\n    columns:\n      id: {{ type: uuid, primary_key: true }}\n"
            ));
            if i % group != 0 {
                yaml.push_str(&format!(
                    "      up: {{ type: uuid, references: t{:03} }}\n",
                    i - 1
                ));
            }
        }
        yaml
    }

    fn names(docs: &Docs<'_>, tables: &[usize]) -> Vec<String> {
        tables
            .iter()
            .map(|&p| docs.tables[p].name.clone())
            .collect()
    }

    #[test]
    fn a_small_schema_is_one_diagram() {
        let c = catalog(&chains(READABLE_TABLES, 5));
        assert_eq!(Overview::of(&Docs::new(&c)), Overview::Whole);
    }

    #[test]
    fn groups_stay_together_and_small_ones_are_packed() {
        // 12 groups of 5: packed six to a part of 30.
        let c = catalog(&chains(60, 5));
        let docs = Docs::new(&c);
        let Overview::Parts { parts, part_of } = Overview::of(&docs) else {
            panic!("60 tables are split");
        };
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "public-01");
        assert_eq!(parts[1].name, "public-02");
        for part in &parts {
            assert_eq!(part.tables.len(), 30);
        }
        // Every group of five in one part.
        for group in 0..12 {
            let part = |i: usize| {
                let p = docs
                    .tables
                    .iter()
                    .position(|t| t.name == format!("t{i:03}"))
                    .expect("table");
                part_of[p]
            };
            let first = part(group * 5);
            assert!((group * 5..group * 5 + 5).all(|i| part(i) == first));
        }
    }

    #[test]
    fn a_long_chain_is_cut_into_runs_of_neighbours() {
        let c = catalog(&chains(70, 70));
        let docs = Docs::new(&c);
        let groups = split(&docs, 30);
        let sizes: Vec<usize> = groups.iter().map(|(_, t)| t.len()).collect();
        assert_eq!(sizes, [30, 30, 10]);
        assert_eq!(names(&docs, &groups[0].1)[..3], ["t000", "t001", "t002"]);
        assert_eq!(names(&docs, &groups[1].1)[0], "t030");
    }

    #[test]
    fn schemas_are_split_apart() {
        let mut yaml = String::from("schemas: [billing]\ntables:\n");
        for i in 0..20 {
            for schema in ["public", "billing"] {
                let name = if schema == "public" {
                    format!("p{i:02}")
                } else {
                    format!("billing.b{i:02}")
                };
                yaml.push_str(&format!(
                    "  {name}:\n    columns:\n      id: {{ type: uuid, primary_key: true }}\n"
                ));
            }
        }
        let c = catalog(&yaml);
        let docs = Docs::new(&c);
        let Overview::Parts { parts, .. } = Overview::of(&docs) else {
            panic!("40 tables are split");
        };
        let summary: Vec<(String, usize)> = parts
            .iter()
            .map(|p| (p.name.clone(), p.tables.len()))
            .collect();
        assert_eq!(
            summary,
            [
                ("billing-01".to_string(), 20),
                ("public-02".to_string(), 20)
            ]
        );
        for part in &parts {
            assert!(
                part.tables
                    .iter()
                    .all(|&t| docs.tables[t].schema == part.schema)
            );
        }
    }

    #[test]
    fn a_part_too_wide_for_mermaid_is_halved() {
        // 20 tables of 200 columns each: about 20 * 200 * 20 characters, over 50,000.
        let mut yaml = String::from("tables:\n");
        for i in 0..40 {
            yaml.push_str(&format!(
                "  w{i:02}:\n    columns:\n      id: {{ type: uuid, primary_key: true }}\n"
            ));
            for c in 0..200 {
                yaml.push_str(&format!("      column_{c:03}: integer\n"));
            }
        }
        let c = catalog(&yaml);
        let docs = Docs::new(&c);
        let Overview::Parts { parts, .. } = Overview::of(&docs) else {
            panic!("split");
        };
        assert!(parts.len() > 2, "{}", parts.len());
        for part in &parts {
            let diagram = Diagram::part(&docs, &part.tables);
            assert!(diagram.fits(&diagram.render()), "{}", part.name);
        }
        let total: usize = parts.iter().map(|p| p.tables.len()).sum();
        assert_eq!(total, 40);
    }
}
