//! Comparing two catalogs: every difference between two states of one schema, at the level of
//! schemas, extensions, types, sequences, functions, tables (columns, keys, checks, foreign keys,
//! indexes, triggers, partitioning) and views.
//!
//! This is the engine of drift detection (`schema.yaml` vs the replayed migrations vs a live
//! database): [`compare`] is pure, deterministic (it walks both catalogs in name order) and its
//! [`Difference`]s serialise to JSON. Objects are named as people read them: `name` in
//! `public`, `schema.name` elsewhere; what belongs to a table is qualified with the table.
//!
//! SQL expressions (defaults, check constraints, index predicates) are compared through
//! [`comparable_expression`], not as text. PostgreSQL stores expressions in an elaborated form and
//! prints them back differently from how they were written: it casts literals to the type they
//! were resolved to (`confidence >= 0` comes back as `confidence >= (0)::double precision`,
//! `status = 'pending'` as `status = 'pending'::job_status`), prints the implicit casts it adds
//! to operator operands (`tooth_number % 10` as `(tooth_number)::integer % 10`), expands
//! `BETWEEN` into two comparisons and `IN (...)` into `= ANY (ARRAY[...])`, and adds
//! parentheses. Such pairs mean the same and compare equal; the differences reported show each
//! side's text as it is. The price is that a change made only of such a cast (`x::bigint > 0`
//! vs `x > 0`) is not reported.

mod describe;
mod tables;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::catalog::*;
pub use crate::expr::comparable_expression;
pub use describe::{
    describe_column, describe_foreign_key, describe_identity, describe_index, describe_sequence,
};

/// The kind of schema object a [`Difference`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Schema,
    Extension,
    Enum,
    Domain,
    CompositeType,
    Sequence,
    Function,
    Table,
    Column,
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Index,
    Trigger,
    View,
}

impl ObjectKind {
    /// How the kind reads in a sentence (`foreign key`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Enum => "enum",
            ObjectKind::Domain => "domain",
            ObjectKind::CompositeType => "composite type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Function => "function",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::PrimaryKey => "primary key",
            ObjectKind::Unique => "unique constraint",
            ObjectKind::Check => "check constraint",
            ObjectKind::ForeignKey => "foreign key",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
            ObjectKind::View => "view",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to the object between the two catalogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The object exists in the first catalog only.
    OnlyInA,
    /// The object exists in the second catalog only.
    OnlyInB,
    /// The object exists in both, but `property` differs.
    Differs,
}

/// One difference between two catalogs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub object: ObjectKind,
    /// The object's name (`schema.name` outside `public`); objects that belong to a table are
    /// qualified with it (`jobs.priority`, `cases.cases_title_idx`). A primary key is named by
    /// its table.
    pub name: String,
    pub change: Change,
    /// The property that differs (`default`, `values`, `definition`, ...); `None` when the whole
    /// object exists on one side only.
    pub property: Option<String>,
    /// The value in the first catalog: the property's value, or a one-line description of an
    /// object that exists only there. `None` when the first catalog has no object or no value
    /// (a column without a default).
    pub a: Option<String>,
    /// The value in the second catalog, as for `a`.
    pub b: Option<String>,
}

impl Difference {
    /// One readable line, naming the two catalogs (`schema.yaml`, `database`).
    pub fn describe(&self, a_name: &str, b_name: &str) -> String {
        let subject = format!("{} {}", self.object, self.name);
        let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_string());
        match self.change {
            Change::OnlyInA => format!("{subject}: only in {a_name} ({})", value(&self.a)),
            Change::OnlyInB => format!("{subject}: only in {b_name} ({})", value(&self.b)),
            Change::Differs => format!(
                "{subject}: {} differs: {a_name} has `{}`, {b_name} has `{}`",
                self.property.as_deref().unwrap_or("definition"),
                value(&self.a),
                value(&self.b)
            ),
        }
    }
}

/// Every difference between `a` and `b`, in a fixed order: schemas, extensions, enums, domains,
/// composite types, sequences, functions, tables, views, each kind by schema and name, and within
/// a table its own properties, columns, primary key, unique constraints, checks, foreign keys,
/// indexes and triggers, each by name. Column order is not compared (see
/// [`Catalog::normalized`]). Empty when the two catalogs describe the same schema.
pub fn compare(a: &Catalog, b: &Catalog) -> Vec<Difference> {
    let (a, b) = (a.normalized(), b.normalized());
    let mut out = Differences(Vec::new());

    for (name, x, y) in pairs(&a.schemas, &b.schemas, |s| ("", &s.name)) {
        match (x, y) {
            (Some(x), Some(y)) => {
                out.property(
                    ObjectKind::Schema,
                    &name,
                    "comment",
                    &x.comment,
                    &y.comment,
                    Clone::clone,
                );
            }
            (x, y) => out.presence(ObjectKind::Schema, &name, x, y, |_| "schema".into()),
        }
    }

    for (name, x, y) in pairs(&a.extensions, &b.extensions, |e| ("", &e.name)) {
        match (x, y) {
            (Some(x), Some(y)) => out.property(
                ObjectKind::Extension,
                &name,
                "schema",
                &x.schema,
                &y.schema,
                |s| Some(s.clone()),
            ),
            (x, y) => out.presence(ObjectKind::Extension, &name, x, y, |e| {
                format!("in schema {}", e.schema)
            }),
        }
    }

    for (name, x, y) in pairs(&a.enums, &b.enums, |e| (&e.schema, &e.name)) {
        match (x, y) {
            (Some(x), Some(y)) => {
                out.property(
                    ObjectKind::Enum,
                    &name,
                    "values",
                    &x.values,
                    &y.values,
                    |v| Some(v.join(", ")),
                );
                out.property(
                    ObjectKind::Enum,
                    &name,
                    "comment",
                    &x.comment,
                    &y.comment,
                    Clone::clone,
                );
            }
            (x, y) => out.presence(ObjectKind::Enum, &name, x, y, |e| e.values.join(", ")),
        }
    }

    for (name, x, y) in pairs(&a.domains, &b.domains, |d| (&d.schema, &d.name)) {
        let kind = ObjectKind::Domain;
        match (x, y) {
            (Some(x), Some(y)) => {
                out.property(kind, &name, "base", &x.base, &y.base, |t| {
                    Some(t.to_string())
                });
                out.property(kind, &name, "nullable", &x.nullable, &y.nullable, |v| {
                    Some(v.to_string())
                });
                out.expression(
                    kind,
                    &name,
                    "default",
                    x.default.as_ref(),
                    y.default.as_ref(),
                );
                let checks = |d: &Domain| -> Vec<String> {
                    d.checks
                        .iter()
                        .map(|c| {
                            format!(
                                "{} CHECK ({})",
                                c.name,
                                comparable_expression(&c.expression)
                            )
                        })
                        .collect()
                };
                out.property(kind, &name, "checks", &checks(x), &checks(y), |c| {
                    Some(c.join("; "))
                });
            }
            (x, y) => out.presence(kind, &name, x, y, |d| d.base.to_string()),
        }
    }

    for (name, x, y) in pairs(&a.composite_types, &b.composite_types, |t| {
        (&t.schema, &t.name)
    }) {
        let describe = |t: &CompositeType| {
            let attributes: Vec<String> = t
                .attributes
                .iter()
                .map(|a| format!("{} {}", a.name, a.data_type))
                .collect();
            format!("({})", attributes.join(", "))
        };
        match (x, y) {
            (Some(x), Some(y)) => {
                out.property(ObjectKind::CompositeType, &name, "attributes", x, y, |t| {
                    Some(describe(t))
                })
            }
            (x, y) => out.presence(ObjectKind::CompositeType, &name, x, y, describe),
        }
    }

    for (name, x, y) in pairs(&a.sequences, &b.sequences, |s| (&s.schema, &s.name)) {
        match (x, y) {
            (Some(x), Some(y)) => {
                out.property(ObjectKind::Sequence, &name, "definition", x, y, |s| {
                    Some(describe::describe_sequence(s))
                })
            }
            (x, y) => out.presence(
                ObjectKind::Sequence,
                &name,
                x,
                y,
                describe::describe_sequence,
            ),
        }
    }

    for (name, x, y) in pairs(&a.functions, &b.functions, |f| (&f.schema, &f.name)) {
        match (x, y) {
            (Some(x), Some(y)) => {
                let kind = ObjectKind::Function;
                out.property(kind, &name, "returns", &x.returns, &y.returns, |v| {
                    Some(v.clone())
                });
                out.property(kind, &name, "language", &x.language, &y.language, |v| {
                    Some(v.clone())
                });
                out.property(
                    kind,
                    &name,
                    "body",
                    &comparable_body(x),
                    &comparable_body(y),
                    |b| Some(b.clone()),
                );
                // Names, modes and defaults too: the signature alone may be equal.
                if x.arguments != y.arguments {
                    out.differs(
                        kind,
                        &name,
                        "arguments",
                        Some(describe::describe_arguments(x)),
                        Some(describe::describe_arguments(y)),
                    );
                }
                out.property(
                    kind,
                    &name,
                    "security definer",
                    &x.security_definer,
                    &y.security_definer,
                    |v| Some(v.to_string()),
                );
                out.property(kind, &name, "execute", &x.execute, &y.execute, |roles| {
                    Some(roles.join(", "))
                });
            }
            (x, y) => out.presence(ObjectKind::Function, &name, x, y, |f| {
                format!("returns {} language {}", f.returns, f.language)
            }),
        }
    }

    for (name, x, y) in pairs(&a.tables, &b.tables, |t| (&t.schema, &t.name)) {
        match (x, y) {
            (Some(x), Some(y)) => tables::compare_tables(&mut out, &name, x, y),
            (x, y) => out.presence(ObjectKind::Table, &name, x, y, |t| {
                let columns: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
                format!("columns {}", columns.join(", "))
            }),
        }
    }

    for (name, x, y) in pairs(&a.views, &b.views, |v| (&v.schema, &v.name)) {
        match (x, y) {
            (Some(x), Some(y)) => tables::compare_views(&mut out, &name, x, y),
            (x, y) => out.presence(ObjectKind::View, &name, x, y, describe::describe_view),
        }
    }
    out.0
}

/// A function's body as compared: a SQL-standard body in its
/// [`comparable_sql_body`](crate::expr::comparable_sql_body) form (which
/// PostgreSQL's printing shares with the text as written), any other trimmed.
fn comparable_body(f: &Function) -> String {
    if f.sql_standard_body {
        crate::expr::comparable_sql_body(&f.body)
    } else {
        f.body.trim().to_string()
    }
}

/// The same catalog with every SQL expression in its [`comparable_expression`] form, normalized:
/// two catalogs describe the same schema exactly when their comparable forms are equal.
pub fn comparable(catalog: &Catalog) -> Catalog {
    let mut c = catalog.normalized();
    let index = |index: &mut Index| {
        index.predicate = index.predicate.as_deref().map(comparable_expression);
        for key in &mut index.keys {
            key.expression = key.expression.as_deref().map(comparable_expression);
        }
    };
    for table in &mut c.tables {
        for column in &mut table.columns {
            column.default = column.default.as_deref().map(comparable_expression);
            column.generated = column.generated.as_deref().map(comparable_expression);
        }
        for check in &mut table.checks {
            check.expression = comparable_expression(&check.expression);
        }
        table.indexes.iter_mut().for_each(index);
    }
    for domain in &mut c.domains {
        domain.default = domain.default.as_deref().map(comparable_expression);
        for check in &mut domain.checks {
            check.expression = comparable_expression(&check.expression);
        }
    }
    for view in &mut c.views {
        view.indexes.iter_mut().for_each(index);
    }
    for function in &mut c.functions {
        if function.sql_standard_body {
            function.body = crate::expr::comparable_sql_body(&function.body);
        }
    }
    c
}

/// Every object on either side, by schema and name, with its display name and each side's
/// object (normalized catalogs hold each name once).
fn pairs<'a, T>(
    a: &'a [T],
    b: &'a [T],
    key: impl Fn(&T) -> (&str, &str),
) -> Vec<(String, Option<&'a T>, Option<&'a T>)> {
    type Sides<'a, T> = (Option<&'a T>, Option<&'a T>);
    let mut by_key: BTreeMap<(String, String), Sides<'a, T>> = BTreeMap::new();
    for x in a {
        let (schema, name) = key(x);
        by_key
            .entry((schema.to_string(), name.to_string()))
            .or_default()
            .0 = Some(x);
    }
    for y in b {
        let (schema, name) = key(y);
        by_key
            .entry((schema.to_string(), name.to_string()))
            .or_default()
            .1 = Some(y);
    }
    by_key
        .into_iter()
        .map(|((schema, name), (x, y))| {
            let shown = if schema.is_empty() {
                name
            } else {
                display_name(&schema, &name).into_owned()
            };
            (shown, x, y)
        })
        .collect()
}

struct Differences(Vec<Difference>);

impl Differences {
    /// Records an object that exists on one side only (nothing when both or neither have it).
    fn presence<T>(
        &mut self,
        object: ObjectKind,
        name: &str,
        a: Option<&T>,
        b: Option<&T>,
        describe: impl Fn(&T) -> String,
    ) {
        let change = match (a, b) {
            (Some(_), None) => Change::OnlyInA,
            (None, Some(_)) => Change::OnlyInB,
            _ => return,
        };
        self.0.push(Difference {
            object,
            name: name.to_string(),
            change,
            property: None,
            a: a.map(&describe),
            b: b.map(&describe),
        });
    }

    /// Records a property whose values differ.
    fn property<T: PartialEq>(
        &mut self,
        object: ObjectKind,
        name: &str,
        property: &str,
        a: &T,
        b: &T,
        show: impl Fn(&T) -> Option<String>,
    ) {
        if a != b {
            self.differs(object, name, property, show(a), show(b));
        }
    }

    /// Records an expression whose values differ other than in form ([`same_expression`]).
    fn expression(
        &mut self,
        object: ObjectKind,
        name: &str,
        property: &str,
        a: Option<&String>,
        b: Option<&String>,
    ) {
        if !same_expression(a.map(String::as_str), b.map(String::as_str)) {
            self.differs(object, name, property, a.cloned(), b.cloned());
        }
    }

    fn differs(
        &mut self,
        object: ObjectKind,
        name: &str,
        property: &str,
        a: Option<String>,
        b: Option<String>,
    ) {
        self.0.push(Difference {
            object,
            name: name.to_string(),
            change: Change::Differs,
            property: Some(property.to_string()),
            a,
            b,
        });
    }
}

fn same_expression(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || comparable_expression(a) == comparable_expression(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
