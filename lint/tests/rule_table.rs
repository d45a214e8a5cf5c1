//! The rule table in docs/linting.md is generated from the registry: this test fails when it is
//! stale and, with `UPDATE_RULE_TABLE=1`, rewrites it.

use std::path::Path;

use lint::registry::{RULE_TABLE_END, RULE_TABLE_START, rule_table};

#[test]
fn the_documented_rule_table_is_the_registry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/linting.md");
    let text = std::fs::read_to_string(&path).expect("read docs/linting.md");
    let start = text
        .find(RULE_TABLE_START)
        .unwrap_or_else(|| panic!("docs/linting.md lacks the line `{RULE_TABLE_START}`"))
        + RULE_TABLE_START.len();
    let end = text[start..]
        .find(RULE_TABLE_END)
        .unwrap_or_else(|| panic!("docs/linting.md lacks the line `{RULE_TABLE_END}`"))
        + start;
    let expected = format!("\n{}", rule_table());
    if text[start..end] == expected {
        return;
    }
    if std::env::var_os("UPDATE_RULE_TABLE").is_some() {
        let updated = format!("{}{expected}{}", &text[..start], &text[end..]);
        std::fs::write(&path, updated).expect("write docs/linting.md");
        return;
    }
    panic!(
        "the rule table in docs/linting.md is stale: run `UPDATE_RULE_TABLE=1 cargo test -p lint --test rule_table` and commit the result\n--- documented\n{}\n--- registry\n{expected}",
        &text[start..end]
    );
}
