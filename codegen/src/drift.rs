//! Drift detection: the same schema in several states (`schema.yaml`, the replayed migrations, a
//! live database) compared pairwise with [`model::compare::compare`], as text for people and as
//! JSON for tools. Pure: `main.rs` loads the states.

use model::Catalog;
use model::compare::{Difference, compare};
use serde::Serialize;

/// One state of the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct State {
    /// Short name used in the report: `schema.yaml`, `migrations`, `database`.
    pub name: String,
    /// Where it was read from (a path, a redacted URL).
    pub source: String,
}

/// The differences between two states; `a` and `b` name them (the `a`/`b` values of each
/// difference belong to these states).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub differences: Vec<Difference>,
}

/// The drift report, serialised as documented in the README:
/// `{"drift": bool, "states": [{name, source}], "comparisons": [{a, b, differences: [...]}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// True when any comparison found a difference.
    pub drift: bool,
    pub states: Vec<State>,
    pub comparisons: Vec<Comparison>,
}

/// Compares every pair of states: neighbours first, in the order given (`schema.yaml` vs
/// `migrations`, `migrations` vs `database`), then the pairs further apart (`schema.yaml` vs
/// `database`).
pub fn report(states: &[(State, &Catalog)]) -> Report {
    let mut pairs = Vec::new();
    for distance in 1..states.len() {
        for i in 0..states.len() - distance {
            pairs.push((i, i + distance));
        }
    }
    let comparisons: Vec<Comparison> = pairs
        .into_iter()
        .map(|(i, j)| Comparison {
            a: states[i].0.name.clone(),
            b: states[j].0.name.clone(),
            differences: compare(states[i].1, states[j].1),
        })
        .collect();
    Report {
        drift: comparisons.iter().any(|c| !c.differences.is_empty()),
        states: states.iter().map(|(s, _)| s.clone()).collect(),
        comparisons,
    }
}

impl Report {
    /// The report for people: each comparison with its differences, one per line.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for c in &self.comparisons {
            let n = c.differences.len();
            if n == 0 {
                out.push_str(&format!("{} vs {}: no differences\n", c.a, c.b));
                continue;
            }
            let plural = if n == 1 { "" } else { "s" };
            out.push_str(&format!("{} vs {}: {n} difference{plural}\n", c.a, c.b));
            for d in &c.differences {
                out.push_str(&format!("  - {}\n", d.describe(&c.a, &c.b)));
            }
        }
        let names: Vec<&str> = self.states.iter().map(|s| s.name.as_str()).collect();
        if self.drift {
            out.push_str(&format!("drift: {} disagree\n", names.join(", ")));
        } else {
            out.push_str(&format!("no drift: {} agree\n", names.join(", ")));
        }
        out
    }

    /// The report as pretty-printed JSON.
    pub fn render_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::catalog::EnumType;

    fn state(name: &str) -> State {
        State {
            name: name.into(),
            source: format!("{name} source"),
        }
    }

    #[test]
    fn pairs_neighbours_first_and_renders_both_ways() {
        let clean = Catalog::default();
        let mut changed = Catalog::default();
        changed.enums.push(EnumType {
            schema: model::DEFAULT_SCHEMA.into(),
            name: "mood".into(),
            values: vec!["ok".into()],
            comment: None,
        });
        let report = report(&[
            (state("schema.yaml"), &clean),
            (state("migrations"), &clean),
            (state("database"), &changed),
        ]);
        let pairs: Vec<(&str, &str, usize)> = report
            .comparisons
            .iter()
            .map(|c| (c.a.as_str(), c.b.as_str(), c.differences.len()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("schema.yaml", "migrations", 0),
                ("migrations", "database", 1),
                ("schema.yaml", "database", 1),
            ]
        );
        assert!(report.drift);
        assert_eq!(
            report.render_text(),
            "schema.yaml vs migrations: no differences\n\
             migrations vs database: 1 difference\n  - enum mood: only in database (ok)\n\
             schema.yaml vs database: 1 difference\n  - enum mood: only in database (ok)\n\
             drift: schema.yaml, migrations, database disagree\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&report.render_json()).expect("valid JSON");
        assert_eq!(json["drift"], true);
        assert_eq!(json["states"][2]["name"], "database");
        assert_eq!(
            json["comparisons"][1]["differences"][0],
            serde_json::json!({
                "object": "enum",
                "name": "mood",
                "change": "only_in_b",
                "property": null,
                "a": null,
                "b": "ok",
            })
        );
        let quiet = super::report(&[(state("a"), &clean), (state("b"), &clean)]);
        assert!(!quiet.drift);
        assert!(quiet.render_text().ends_with("no drift: a, b agree\n"));
    }
}
