//! Differences within a table (and a view): its properties, columns, keys, constraints, indexes
//! and triggers.

use std::collections::BTreeSet;

use super::describe::{
    self, describe_column, describe_foreign_key, describe_index, describe_primary_key,
    describe_trigger,
};
use super::{Differences, ObjectKind, same_expression};
use crate::catalog::*;

pub(super) fn compare_tables(out: &mut Differences, t: &str, a: &Table, b: &Table) {
    out.property(
        ObjectKind::Table,
        t,
        "comment",
        &a.comment,
        &b.comment,
        Clone::clone,
    );
    out.property(
        ObjectKind::Table,
        t,
        "soft_delete",
        &a.flags.soft_delete,
        &b.flags.soft_delete,
        |v| Some(v.to_string()),
    );
    out.property(ObjectKind::Table, t, "flags", &a.flags, &b.flags, |f| {
        crate::annotations::table_comment(None, f)
    });
    out.property(
        ObjectKind::Table,
        t,
        "grants",
        &a.grants,
        &b.grants,
        |grants| {
            let described: Vec<String> = grants
                .iter()
                .map(|g| {
                    let privileges: Vec<&str> = g.privileges.iter().map(|p| p.as_str()).collect();
                    format!("{}: {}", g.role, privileges.join(", "))
                })
                .collect();
            Some(described.join("; "))
        },
    );
    out.property(
        ObjectKind::Table,
        t,
        "partition by",
        &a.partition_by,
        &b.partition_by,
        |p| {
            p.as_ref()
                .map(|p| format!("{} ({})", p.strategy.as_sql(), p.keys.join(", ")))
        },
    );
    out.property(
        ObjectKind::Table,
        t,
        "partition of",
        &a.partition_of,
        &b.partition_of,
        |p| {
            p.as_ref()
                .map(|p| format!("{} {}", p.parent.display(), p.bound))
        },
    );
    out.property(
        ObjectKind::Table,
        t,
        "inherits",
        &a.inherits,
        &b.inherits,
        |parents| {
            let names: Vec<String> = parents.iter().map(|p| p.display().into_owned()).collect();
            Some(names.join(", "))
        },
    );

    for name in names(&a.columns, &b.columns, |c| &c.name) {
        let qualified = format!("{t}.{name}");
        let kind = ObjectKind::Column;
        match (a.column(&name), b.column(&name)) {
            (Some(x), Some(y)) => {
                out.property(kind, &qualified, "type", &x.data_type, &y.data_type, |d| {
                    Some(d.to_string())
                });
                out.property(
                    kind,
                    &qualified,
                    "nullable",
                    &x.nullable,
                    &y.nullable,
                    |v| Some(v.to_string()),
                );
                out.expression(
                    kind,
                    &qualified,
                    "default",
                    x.default.as_ref(),
                    y.default.as_ref(),
                );
                out.property(
                    kind,
                    &qualified,
                    "identity",
                    &x.identity,
                    &y.identity,
                    |i| i.as_ref().map(describe::describe_identity),
                );
                out.expression(
                    kind,
                    &qualified,
                    "generated",
                    x.generated.as_ref(),
                    y.generated.as_ref(),
                );
                out.property(
                    kind,
                    &qualified,
                    "comment",
                    &x.comment,
                    &y.comment,
                    Clone::clone,
                );
                out.property(
                    kind,
                    &qualified,
                    "pii",
                    &x.sensitivity.pii,
                    &y.sensitivity.pii,
                    |v| Some(v.to_string()),
                );
                out.property(
                    kind,
                    &qualified,
                    "phi",
                    &x.sensitivity.phi,
                    &y.sensitivity.phi,
                    |v| Some(v.to_string()),
                );
            }
            (x, y) => out.presence(kind, &qualified, x, y, describe_column),
        }
    }

    match (&a.primary_key, &b.primary_key) {
        (Some(x), Some(y)) => out.property(ObjectKind::PrimaryKey, t, "definition", x, y, |pk| {
            Some(describe_primary_key(pk))
        }),
        (x, y) => out.presence(
            ObjectKind::PrimaryKey,
            t,
            x.as_ref(),
            y.as_ref(),
            describe_primary_key,
        ),
    }

    for name in names(&a.uniques, &b.uniques, |u| &u.name) {
        let qualified = format!("{t}.{name}");
        match (
            by_name(&a.uniques, &name, |u| &u.name),
            by_name(&b.uniques, &name, |u| &u.name),
        ) {
            (Some(x), Some(y)) => {
                out.property(
                    ObjectKind::Unique,
                    &qualified,
                    "columns",
                    &x.columns,
                    &y.columns,
                    |c| Some(c.join(", ")),
                );
            }
            (x, y) => out.presence(ObjectKind::Unique, &qualified, x, y, |u| {
                format!("UNIQUE ({})", u.columns.join(", "))
            }),
        }
    }

    for name in names(&a.checks, &b.checks, |c| &c.name) {
        let qualified = format!("{t}.{name}");
        match (
            by_name(&a.checks, &name, |c| &c.name),
            by_name(&b.checks, &name, |c| &c.name),
        ) {
            (Some(x), Some(y)) => {
                out.expression(
                    ObjectKind::Check,
                    &qualified,
                    "expression",
                    Some(&x.expression),
                    Some(&y.expression),
                );
            }
            (x, y) => out.presence(ObjectKind::Check, &qualified, x, y, |c| {
                format!("CHECK ({})", c.expression)
            }),
        }
    }

    for name in names(&a.foreign_keys, &b.foreign_keys, |f| &f.name) {
        let qualified = format!("{t}.{name}");
        let kind = ObjectKind::ForeignKey;
        match (
            by_name(&a.foreign_keys, &name, |f| &f.name),
            by_name(&b.foreign_keys, &name, |f| &f.name),
        ) {
            (Some(x), Some(y)) => {
                out.property(kind, &qualified, "columns", &x.columns, &y.columns, |c| {
                    Some(c.join(", "))
                });
                let target = |f: &ForeignKey| (f.ref_table.clone(), f.ref_columns.clone());
                out.property(
                    kind,
                    &qualified,
                    "references",
                    &target(x),
                    &target(y),
                    |r| Some(format!("{} ({})", r.0.display(), r.1.join(", "))),
                );
                out.property(
                    kind,
                    &qualified,
                    "on_delete",
                    &x.on_delete,
                    &y.on_delete,
                    |a| Some(a.as_sql().to_string()),
                );
                out.property(
                    kind,
                    &qualified,
                    "on_update",
                    &x.on_update,
                    &y.on_update,
                    |a| Some(a.as_sql().to_string()),
                );
            }
            (x, y) => out.presence(kind, &qualified, x, y, describe_foreign_key),
        }
    }

    compare_indexes(out, t, &a.indexes, &b.indexes);

    for name in names(&a.triggers, &b.triggers, |g| &g.name) {
        let qualified = format!("{t}.{name}");
        match (
            by_name(&a.triggers, &name, |g| &g.name),
            by_name(&b.triggers, &name, |g| &g.name),
        ) {
            (Some(x), Some(y)) => {
                out.property(ObjectKind::Trigger, &qualified, "definition", x, y, |g| {
                    Some(describe_trigger(g))
                });
            }
            (x, y) => out.presence(ObjectKind::Trigger, &qualified, x, y, describe_trigger),
        }
    }
}

/// Index differences of a table or materialized view named `t`.
fn compare_indexes(out: &mut Differences, t: &str, a: &[Index], b: &[Index]) {
    for name in names(a, b, |i| &i.name) {
        let qualified = format!("{t}.{name}");
        match (
            by_name(a, &name, |i| &i.name),
            by_name(b, &name, |i| &i.name),
        ) {
            (Some(x), Some(y)) => {
                let same_keys = x.keys.len() == y.keys.len()
                    && x.keys.iter().zip(&y.keys).all(|(k, l)| {
                        k.column == l.column
                            && k.opclass == l.opclass
                            && k.collation == l.collation
                            && k.descending == l.descending
                            && same_expression(k.expression.as_deref(), l.expression.as_deref())
                    });
                let same = x.method == y.method
                    && x.unique == y.unique
                    && same_keys
                    && x.include == y.include
                    && same_expression(x.predicate.as_deref(), y.predicate.as_deref());
                if !same {
                    out.differs(
                        ObjectKind::Index,
                        &qualified,
                        "definition",
                        Some(describe_index(x)),
                        Some(describe_index(y)),
                    );
                }
            }
            (x, y) => out.presence(ObjectKind::Index, &qualified, x, y, describe_index),
        }
    }
}

/// Differences of a view named `v` that exists on both sides. The query is compared as the
/// deparser prints it; columns by name and type.
pub(super) fn compare_views(out: &mut Differences, v: &str, a: &View, b: &View) {
    let kind = ObjectKind::View;
    out.property(
        kind,
        v,
        "materialized",
        &a.materialized,
        &b.materialized,
        |m| Some(m.to_string()),
    );
    out.property(kind, v, "columns", &a.columns, &b.columns, |columns| {
        let described: Vec<String> = columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.data_type))
            .collect();
        Some(described.join(", "))
    });
    if canonical_query(&a.query) != canonical_query(&b.query) {
        out.differs(
            kind,
            v,
            "query",
            Some(a.query.clone()),
            Some(b.query.clone()),
        );
    }
    out.property(kind, v, "comment", &a.comment, &b.comment, Clone::clone);
    compare_indexes(out, v, &a.indexes, &b.indexes);
}

/// A query as PostgreSQL's deparser prints it, whitespace and trailing semicolon aside.
fn canonical_query(query: &str) -> String {
    crate::expr::canonical_statement(query)
}

/// Every name on either side, sorted.
fn names<T>(a: &[T], b: &[T], name: impl Fn(&T) -> &String) -> BTreeSet<String> {
    a.iter().chain(b).map(|x| name(x).clone()).collect()
}

fn by_name<'a, T>(items: &'a [T], name: &str, key: fn(&T) -> &String) -> Option<&'a T> {
    items.iter().find(|item| key(item) == name)
}
