//! Per-rule fixtures: `tests/fixtures/<rule>/bad*.sql` must trigger the rule (and their whole
//! human report is pinned by an insta snapshot), `good*.sql` must not. Every rule of the
//! registry has both.

mod common;

use common::{fixtures_dir, split_fixture};
use lint::registry::RULES;
use lint::render::{Format, render};

fn fixtures(rule: &str) -> Vec<(String, String)> {
    let dir = fixtures_dir().join(rule);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().to_string();
            (name, std::fs::read_to_string(p).expect("read fixture"))
        })
        .collect()
}

#[test]
fn every_rule_has_fixtures_that_trigger_it_and_fixtures_that_do_not() {
    for rule in RULES {
        let all = fixtures(rule.name);
        assert!(
            all.iter().any(|(n, _)| n.starts_with("bad")),
            "{} has no bad*.sql fixture",
            rule.name
        );
        assert!(
            all.iter().any(|(n, _)| n.starts_with("good")),
            "{} has no good*.sql fixture",
            rule.name
        );
    }
    let dirs = std::fs::read_dir(fixtures_dir()).expect("fixtures").count();
    assert_eq!(dirs, RULES.len(), "a fixture directory names no rule");
}

#[test]
fn bad_fixtures_trigger_their_rule_and_good_ones_do_not() {
    let mut failures = Vec::new();
    for rule in RULES {
        for (name, text) in fixtures(rule.name) {
            let files = split_fixture(&format!("{}/{name}", rule.name), &text);
            let report = lint::lint_sources(files, &common::fixture_config(rule.name), 2);
            let hits = report
                .findings
                .iter()
                .filter(|f| f.finding.rule == rule.name)
                .count();
            let output = render(&report, Format::Human, false);
            if name.starts_with("bad") {
                if hits == 0 {
                    failures.push(format!(
                        "{}/{name} does not trigger it:\n{output}",
                        rule.name
                    ));
                }
                let stem = name.trim_end_matches(".sql");
                insta::assert_snapshot!(format!("{}__{stem}", rule.name), output);
            } else if hits > 0 {
                failures.push(format!("{}/{name} triggers it:\n{output}", rule.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
