use std::fmt::Write as _;

use crate::catalog::{Catalog, Column, DEFAULT_SCHEMA, ForeignKey, Identity};
use crate::expr::literal_label;
use crate::ident::{is_bare, quote_literal, yaml_name, yaml_name_alone};
use crate::types::DataType;

/// A default as `schema.yaml` writes it: an enum column's `'label'::enum` as the bare label
/// (the loader turns it back into the same literal), anything else as the expression.
pub(super) fn yaml_default(catalog: &Catalog, column: &Column, default: &str) -> String {
    if let DataType::Enum(name) = &column.data_type {
        let label = literal_label(default).filter(|l| {
            is_bare(l)
                && catalog
                    .enum_named(name)
                    .is_some_and(|e| e.values.contains(l))
                && default == format!("{}::{}", quote_literal(l), name.sql())
        });
        if let Some(label) = label {
            return label;
        }
    }
    default.to_string()
}

/// A type as `schema.yaml` spells it: built-in types in their canonical form, enums by their
/// name (`schema.name` outside public, never quoted), a domain as its base type.
pub(super) fn yaml_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Enum(name) => name.yaml(),
        DataType::Array(element) => format!("{}[]", yaml_type(element)),
        DataType::Domain { base, .. } => yaml_type(base),
        other => other.to_string(),
    }
}

/// `identity: always`, or the mapping with the options that are not PostgreSQL's defaults.
pub(super) fn yaml_identity(identity: &Identity) -> String {
    let mode = if identity.always {
        "always"
    } else {
        "by default"
    };
    let o = &identity.options;
    let mut fields = vec![format!("generated: {}", quoted(mode))];
    for (name, value) in [
        ("start", o.start),
        ("increment", o.increment),
        ("min", o.min_value),
        ("max", o.max_value),
        ("cache", o.cache),
    ] {
        if let Some(value) = value {
            fields.push(format!("{name}: {value}"));
        }
    }
    if o.cycle {
        fields.push("cycle: true".to_string());
    }
    if fields.len() == 1 {
        quoted(mode)
    } else {
        format!("{{ {} }}", fields.join(", "))
    }
}

/// A column-level `references`: the table (`table` or `schema.table`) when the key is its primary
/// key, else with the column; spelled out in full (`schema.table.column`, `public.table.column`)
/// where the loader would read the shorter text as something else.
pub(super) fn reference_text(catalog: &Catalog, fk: &ForeignKey) -> String {
    let target = &fk.ref_table;
    let shown = target.yaml();
    let to_key = catalog
        .table_named(target)
        .and_then(|r| r.primary_key.as_ref())
        .is_some_and(|pk| pk.columns == fk.ref_columns);
    let declared = |schema: &str| catalog.has_schema(schema) && schema != DEFAULT_SCHEMA;
    if to_key {
        // `a.b` is a column of public table `a` unless schema `a` has a table `b` or is declared.
        return shown;
    }
    let column = yaml_name(&fk.ref_columns[0]);
    if target.is_public() {
        // `t.c` reads as table `c` of schema `t` when that schema is declared.
        if declared(&target.name) {
            format!("public.{shown}.{column}")
        } else {
            format!("{shown}.{column}")
        }
    } else {
        format!("{shown}.{column}")
    }
}

/// A mapping key: plain when it is a plain identifier (or two, joined by a dot) YAML cannot read
/// as anything else.
pub(super) fn key(name: &str) -> String {
    const SPECIAL: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let plain_part = |part: &str| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    let plain = parts.len() <= 2 && parts.iter().all(|p| plain_part(p)) && !SPECIAL.contains(&name);
    if plain {
        name.to_string()
    } else {
        quoted(name)
    }
}

/// A YAML double-quoted scalar: `"` and `\` escaped, and every control or line-breaking
/// character written as an escape.
pub(super) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let code = u32::from(c);
                if code <= 0xFFFF {
                    let _ = write!(out, "\\u{code:04x}");
                } else {
                    let _ = write!(out, "\\U{code:08x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A list of names, each as `schema.yaml` writes a name standing alone ([`yaml_name_alone`]).
pub(super) fn names(items: &[String]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|i| yaml_name_alone(i).into_owned())
        .collect();
    list(&items)
}

pub(super) fn list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| quoted(i)).collect();
    format!("[{}]", items.join(", "))
}
