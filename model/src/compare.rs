//! Comparing two catalogs: every difference between two states of one schema, at the level of
//! enums, functions, tables, columns, keys, checks, foreign keys, indexes and triggers.
//!
//! This is the engine of drift detection (`schema.yaml` vs the replayed migrations vs a live
//! database): [`compare`] is pure, deterministic (it walks both catalogs in name order) and its
//! [`Difference`]s serialise to JSON.
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

use std::collections::BTreeSet;
use std::fmt;

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AExprKind, BoolExprType, CoercionForm, Node, a_const};
use serde::Serialize;

use crate::catalog::*;
use crate::expr::deparse_expression;

/// The kind of schema object a [`Difference`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Enum,
    Function,
    Table,
    Column,
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Index,
    Trigger,
}

impl ObjectKind {
    /// How the kind reads in a sentence (`foreign key`).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Enum => "enum",
            ObjectKind::Function => "function",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::PrimaryKey => "primary key",
            ObjectKind::Unique => "unique constraint",
            ObjectKind::Check => "check constraint",
            ObjectKind::ForeignKey => "foreign key",
            ObjectKind::Index => "index",
            ObjectKind::Trigger => "trigger",
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
    /// The object's name; objects that belong to a table are qualified with it
    /// (`jobs.priority`, `cases.cases_title_idx`). A primary key is named by its table.
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

/// Every difference between `a` and `b`, in a fixed order: enums, functions, then tables by name
/// and within a table its own properties, columns, primary key, unique constraints, checks,
/// foreign keys, indexes and triggers, each by name. Column order is not compared (see
/// [`Catalog::normalized`]). Empty when the two catalogs describe the same schema.
pub fn compare(a: &Catalog, b: &Catalog) -> Vec<Difference> {
    let (a, b) = (a.normalized(), b.normalized());
    let mut out = Differences(Vec::new());

    for name in names(&a.enums, &b.enums, |e| &e.name) {
        match (a.enum_type(&name), b.enum_type(&name)) {
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

    for name in names(&a.functions, &b.functions, |f| &f.name) {
        match (a.function(&name), b.function(&name)) {
            (Some(x), Some(y)) => {
                let kind = ObjectKind::Function;
                out.property(kind, &name, "returns", &x.returns, &y.returns, |v| {
                    Some(v.clone())
                });
                out.property(kind, &name, "language", &x.language, &y.language, |v| {
                    Some(v.clone())
                });
                out.property(kind, &name, "body", &x.body, &y.body, |b| {
                    Some(b.trim().to_string())
                });
                out.property(kind, &name, "arguments", x, y, |f| {
                    Some(f.signature_types())
                });
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

    for name in names(&a.tables, &b.tables, |t| &t.name) {
        match (a.table(&name), b.table(&name)) {
            (Some(x), Some(y)) => compare_tables(&mut out, x, y),
            (x, y) => out.presence(ObjectKind::Table, &name, x, y, |t| {
                let columns: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
                format!("columns {}", columns.join(", "))
            }),
        }
    }
    out.0
}

/// The same catalog with every SQL expression in its [`comparable_expression`] form, normalized:
/// two catalogs describe the same schema exactly when their comparable forms are equal.
pub fn comparable(catalog: &Catalog) -> Catalog {
    let mut c = catalog.normalized();
    for table in &mut c.tables {
        for column in &mut table.columns {
            column.default = column.default.as_deref().map(comparable_expression);
        }
        for check in &mut table.checks {
            check.expression = comparable_expression(&check.expression);
        }
        for index in &mut table.indexes {
            index.predicate = index.predicate.as_deref().map(comparable_expression);
        }
    }
    c
}

/// Every name on either side, sorted.
fn names<T>(a: &[T], b: &[T], name: impl Fn(&T) -> &String) -> BTreeSet<String> {
    a.iter().chain(b).map(|x| name(x).clone()).collect()
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

fn compare_tables(out: &mut Differences, a: &Table, b: &Table) {
    let t = a.name.as_str();
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
                if !same_expression(x.default.as_deref(), y.default.as_deref()) {
                    out.differs(
                        kind,
                        &qualified,
                        "default",
                        x.default.clone(),
                        y.default.clone(),
                    );
                }
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
                if !same_expression(Some(&x.expression), Some(&y.expression)) {
                    out.differs(
                        ObjectKind::Check,
                        &qualified,
                        "expression",
                        Some(x.expression.clone()),
                        Some(y.expression.clone()),
                    );
                }
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
                    |r| Some(format!("{} ({})", r.0, r.1.join(", "))),
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

    for name in names(&a.indexes, &b.indexes, |i| &i.name) {
        let qualified = format!("{t}.{name}");
        match (
            by_name(&a.indexes, &name, |i| &i.name),
            by_name(&b.indexes, &name, |i| &i.name),
        ) {
            (Some(x), Some(y)) => {
                let same = x.method == y.method
                    && x.unique == y.unique
                    && x.keys == y.keys
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

fn by_name<'a, T>(items: &'a [T], name: &str, key: fn(&T) -> &String) -> Option<&'a T> {
    items.iter().find(|item| key(item) == name)
}

fn same_expression(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || comparable_expression(a) == comparable_expression(b),
        _ => false,
    }
}

/// `text NOT NULL DEFAULT now()`, for a column that exists on one side only.
pub fn describe_column(c: &Column) -> String {
    let mut text = c.data_type.to_string();
    if !c.nullable {
        text.push_str(" NOT NULL");
    }
    if let Some(d) = &c.default {
        text.push_str(&format!(" DEFAULT {d}"));
    }
    text
}

fn describe_primary_key(pk: &PrimaryKey) -> String {
    format!("{} PRIMARY KEY ({})", pk.name, pk.columns.join(", "))
}

/// `(case_id) REFERENCES cases (id) ON DELETE CASCADE`.
pub fn describe_foreign_key(f: &ForeignKey) -> String {
    let mut text = format!(
        "({}) REFERENCES {} ({})",
        f.columns.join(", "),
        f.ref_table,
        f.ref_columns.join(", ")
    );
    if f.on_delete != FkAction::NoAction {
        text.push_str(&format!(
            " ON DELETE {}",
            f.on_delete.as_sql().to_uppercase()
        ));
    }
    if f.on_update != FkAction::NoAction {
        text.push_str(&format!(
            " ON UPDATE {}",
            f.on_update.as_sql().to_uppercase()
        ));
    }
    text
}

/// `unique btree (priority DESC, scheduled_at) INCLUDE (x) WHERE status = 'pending'`.
pub fn describe_index(ix: &Index) -> String {
    let keys: Vec<String> = ix
        .keys
        .iter()
        .map(|k| {
            let mut key = k.column.clone();
            if let Some(opclass) = &k.opclass {
                key.push(' ');
                key.push_str(opclass);
            }
            if k.descending {
                key.push_str(" DESC");
            }
            key
        })
        .collect();
    let mut text = format!(
        "{}{} ({})",
        if ix.unique { "unique " } else { "" },
        ix.method.as_sql(),
        keys.join(", ")
    );
    if !ix.include.is_empty() {
        text.push_str(&format!(" INCLUDE ({})", ix.include.join(", ")));
    }
    if let Some(p) = &ix.predicate {
        text.push_str(&format!(" WHERE {p}"));
    }
    text
}

fn describe_trigger(g: &Trigger) -> String {
    let timing = g.timing.as_sql();
    let events = g.events_sql();
    format!(
        "{timing} {} FOR EACH {} EXECUTE FUNCTION {}()",
        events,
        if g.for_each_row { "ROW" } else { "STATEMENT" },
        g.function
    )
}

// ---------------------------------------------------------------------------------------------
// Expressions

/// A form of a SQL expression in which the ways PostgreSQL prints a stored expression back and
/// the ways it is usually written coincide: casts on literals are dropped (`(0)::double
/// precision` is `0`, `'pending'::job_status` is `'pending'`), and so are casts of a column to
/// a type values are implicitly widened to (`integer`, `bigint`, `numeric`, `double
/// precision`, `text`, `timestamp`, `timestamptz`), `a BETWEEN x AND y` is
/// `a >= x AND a <= y`, `a IN (x, y)` is `a = ANY (ARRAY[x, y])`, `LIKE` is `~~`, nested `AND`s
/// and `OR`s are flattened, `pg_catalog.` is dropped from function names, and parentheses are
/// the deparser's. For comparison only: it is not meant to be executed. Text that does not parse
/// is returned trimmed.
pub fn comparable_expression(text: &str) -> String {
    let Ok(parsed) = pgparse::parse(&format!("SELECT ({text})")) else {
        return text.trim().to_string();
    };
    let target = parsed
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|s| match s.node.as_ref() {
            Some(NodeEnum::SelectStmt(select)) => select.target_list.first().and_then(|t| match t
                .node
                .as_ref()
            {
                Some(NodeEnum::ResTarget(target)) => target.val.as_deref().cloned(),
                _ => None,
            }),
            _ => None,
        });
    let Some(mut node) = target else {
        return text.trim().to_string();
    };
    normalize(&mut node);
    node.node
        .as_ref()
        .and_then(deparse_expression)
        .unwrap_or_else(|| text.trim().to_string())
}

fn normalize_all(nodes: &mut [Node]) {
    nodes.iter_mut().for_each(normalize);
}

fn normalize_boxed(node: &mut Option<Box<Node>>) {
    if let Some(n) = node {
        normalize(n);
    }
}

/// Normalizes the children first, then the node itself.
fn normalize(node: &mut Node) {
    let Some(inner) = node.node.as_mut() else {
        return;
    };
    match inner {
        NodeEnum::AExpr(e) => {
            normalize_boxed(&mut e.lexpr);
            normalize_boxed(&mut e.rexpr);
        }
        NodeEnum::BoolExpr(e) => normalize_all(&mut e.args),
        NodeEnum::TypeCast(e) => normalize_boxed(&mut e.arg),
        NodeEnum::FuncCall(e) => {
            normalize_all(&mut e.args);
            if e.funcname.len() == 2 && string_of(&e.funcname[0]) == Some("pg_catalog") {
                e.funcname.remove(0);
                e.funcformat = CoercionForm::CoerceExplicitCall as i32;
            }
        }
        NodeEnum::NullTest(e) => normalize_boxed(&mut e.arg),
        NodeEnum::BooleanTest(e) => normalize_boxed(&mut e.arg),
        NodeEnum::AArrayExpr(e) => normalize_all(&mut e.elements),
        NodeEnum::List(l) => normalize_all(&mut l.items),
        NodeEnum::CaseExpr(e) => {
            normalize_boxed(&mut e.arg);
            normalize_all(&mut e.args);
            normalize_boxed(&mut e.defresult);
        }
        NodeEnum::CaseWhen(e) => {
            normalize_boxed(&mut e.expr);
            normalize_boxed(&mut e.result);
        }
        NodeEnum::CoalesceExpr(e) => normalize_all(&mut e.args),
        NodeEnum::MinMaxExpr(e) => normalize_all(&mut e.args),
        NodeEnum::RowExpr(e) => normalize_all(&mut e.args),
        NodeEnum::SubLink(e) => normalize_boxed(&mut e.testexpr),
        NodeEnum::CollateClause(e) => normalize_boxed(&mut e.arg),
        NodeEnum::AIndirection(e) => normalize_boxed(&mut e.arg),
        _ => {}
    }
    if let Some(replacement) = rewrite(inner) {
        node.node = Some(replacement);
    }
}

fn string_of(node: &Node) -> Option<&str> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

fn string_node(text: &str) -> Node {
    Node {
        node: Some(NodeEnum::String(protobuf::String {
            sval: text.to_string(),
        })),
    }
}

fn wrap(node: NodeEnum) -> Node {
    Node { node: Some(node) }
}

fn operator(kind: AExprKind, name: &str, left: Node, right: Node) -> Node {
    wrap(NodeEnum::AExpr(Box::new(protobuf::AExpr {
        kind: kind as i32,
        name: vec![string_node(name)],
        lexpr: Some(Box::new(left)),
        rexpr: Some(Box::new(right)),
        ..Default::default()
    })))
}

fn bool_expr(op: BoolExprType, args: Vec<Node>) -> NodeEnum {
    NodeEnum::BoolExpr(Box::new(protobuf::BoolExpr {
        boolop: op as i32,
        args,
        ..Default::default()
    }))
}

const NUMERIC_TYPES: [&str; 6] = ["int2", "int4", "int8", "numeric", "float4", "float8"];

/// Types PostgreSQL implicitly casts narrower values to when an operator needs it.
const WIDENING_TARGETS: [&str; 7] = [
    "int4",
    "int8",
    "numeric",
    "float8",
    "text",
    "timestamp",
    "timestamptz",
];

/// The rewrite of one node whose children are already normalized, if it has one.
fn rewrite(node: &mut NodeEnum) -> Option<NodeEnum> {
    match node {
        // A literal with a cast: the literal. A numeric cast of a string (`'-1'::integer`, as
        // PostgreSQL prints negative numbers) gives the number. A column cast to a type its
        // value is implicitly widened to: the column (PostgreSQL prints the implicit casts it
        // adds to operator operands: `(tooth_number)::integer % 10` for a smallint).
        NodeEnum::TypeCast(cast) => {
            let target = cast
                .type_name
                .as_ref()
                .filter(|t| t.array_bounds.is_empty() && t.typmods.is_empty())
                .and_then(|t| t.names.last())
                .and_then(string_of)
                .unwrap_or_default()
                .to_string();
            let arg = cast.arg.as_ref().and_then(|a| a.node.as_ref());
            if let Some(column @ NodeEnum::ColumnRef(_)) = arg {
                return WIDENING_TARGETS
                    .contains(&target.as_str())
                    .then(|| column.clone());
            }
            let Some(NodeEnum::AConst(constant)) = arg else {
                return None;
            };
            let mut constant = constant.clone();
            let numeric = NUMERIC_TYPES.contains(&target.as_str());
            if let (true, Some(a_const::Val::Sval(s))) = (numeric, &constant.val) {
                let text = s.sval.trim().to_string();
                if let Ok(i) = text.parse::<i32>() {
                    constant.val = Some(a_const::Val::Ival(protobuf::Integer { ival: i }));
                } else if text.parse::<f64>().is_ok_and(f64::is_finite) {
                    constant.val = Some(a_const::Val::Fval(protobuf::Float { fval: text }));
                }
            }
            Some(NodeEnum::AConst(constant))
        }
        NodeEnum::AExpr(e) => {
            let kind = AExprKind::try_from(e.kind).unwrap_or(AExprKind::Undefined);
            let name = e
                .name
                .last()
                .and_then(string_of)
                .unwrap_or_default()
                .to_string();
            match kind {
                // `- 1` is the literal -1.
                AExprKind::AexprOp if name == "-" && e.lexpr.is_none() => {
                    let Some(NodeEnum::AConst(c)) = e.rexpr.as_ref().and_then(|r| r.node.as_ref())
                    else {
                        return None;
                    };
                    let val = match &c.val {
                        Some(a_const::Val::Ival(i)) => {
                            a_const::Val::Ival(protobuf::Integer { ival: -i.ival })
                        }
                        Some(a_const::Val::Fval(f)) if !f.fval.starts_with('-') => {
                            a_const::Val::Fval(protobuf::Float {
                                fval: format!("-{}", f.fval),
                            })
                        }
                        _ => return None,
                    };
                    Some(NodeEnum::AConst(protobuf::AConst {
                        val: Some(val),
                        ..c.clone()
                    }))
                }
                AExprKind::AexprBetween | AExprKind::AexprNotBetween => {
                    let subject = e.lexpr.as_deref()?.clone();
                    let Some(NodeEnum::List(bounds)) =
                        e.rexpr.as_ref().and_then(|r| r.node.as_ref())
                    else {
                        return None;
                    };
                    let [low, high] = bounds.items.as_slice() else {
                        return None;
                    };
                    let between = kind == AExprKind::AexprBetween;
                    let (low_op, high_op, op) = if between {
                        (">=", "<=", BoolExprType::AndExpr)
                    } else {
                        ("<", ">", BoolExprType::OrExpr)
                    };
                    Some(bool_expr(
                        op,
                        vec![
                            operator(AExprKind::AexprOp, low_op, subject.clone(), low.clone()),
                            operator(AExprKind::AexprOp, high_op, subject, high.clone()),
                        ],
                    ))
                }
                AExprKind::AexprIn => {
                    let subject = e.lexpr.as_deref()?.clone();
                    let Some(NodeEnum::List(items)) =
                        e.rexpr.as_ref().and_then(|r| r.node.as_ref())
                    else {
                        return None;
                    };
                    let array = wrap(NodeEnum::AArrayExpr(protobuf::AArrayExpr {
                        elements: items.items.clone(),
                        ..Default::default()
                    }));
                    let any = if name == "<>" {
                        AExprKind::AexprOpAll
                    } else {
                        AExprKind::AexprOpAny
                    };
                    operator(any, &name, subject, array).node
                }
                AExprKind::AexprLike | AExprKind::AexprIlike => {
                    e.kind = AExprKind::AexprOp as i32;
                    None
                }
                _ => None,
            }
        }
        NodeEnum::BoolExpr(e) => {
            let op = e.boolop;
            if op == BoolExprType::NotExpr as i32 {
                return None;
            }
            let mut flat = Vec::new();
            for arg in std::mem::take(&mut e.args) {
                match arg.node {
                    Some(NodeEnum::BoolExpr(inner)) if inner.boolop == op => {
                        flat.extend(inner.args)
                    }
                    other => flat.push(Node { node: other }),
                }
            }
            e.args = flat;
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataType;

    #[test]
    fn expressions_as_postgresql_prints_them_compare_equal_to_how_they_were_written() {
        // Written (schema.yaml), and as pg_get_expr / pg_get_constraintdef print them back.
        for (written, printed) in [
            (
                "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
                "((confidence IS NULL) OR ((confidence >= (0)::double precision) AND (confidence <= (1)::double precision)))",
            ),
            (
                "tooth_number IS NULL OR (tooth_number BETWEEN 11 AND 48 AND tooth_number % 10 BETWEEN 1 AND 8)",
                "((tooth_number IS NULL) OR ((tooth_number >= 11) AND (tooth_number <= 48) AND (((tooth_number)::integer % 10) >= 1) AND (((tooth_number)::integer % 10) <= 8)))",
            ),
            (
                "position('@' in email) > 1",
                "(POSITION(('@'::text) IN (email)) > 1)",
            ),
            (
                "jsonb_typeof(tags) = 'array'",
                "(jsonb_typeof(tags) = 'array'::text)",
            ),
            (
                "checksum ~ '^[0-9a-f]{64}$'",
                "(checksum ~ '^[0-9a-f]{64}$'::text)",
            ),
            ("status = 'pending'", "(status = 'pending'::job_status)"),
            (
                "status IN ('new', 'open')",
                "(status = ANY (ARRAY['new'::case_status, 'open'::case_status]))",
            ),
            ("name LIKE 'a%'", "(name ~~ 'a%'::text)"),
            ("x > -1", "(x > '-1'::integer)"),
            ("pg_catalog.now()", "now()"),
            ("'[]'", "'[]'::jsonb"),
        ] {
            assert_eq!(
                comparable_expression(written),
                comparable_expression(printed),
                "{written}  vs  {printed}"
            );
        }
    }

    #[test]
    fn different_expressions_stay_different() {
        for (a, b) in [
            ("x > 0", "x > 1"),
            ("x > 0", "x >= 0"),
            ("status = 'pending'", "status = 'paused'"),
            ("a AND b", "a OR b"),
            ("x BETWEEN 1 AND 2", "x NOT BETWEEN 1 AND 2"),
            ("'5'::text", "5"),
            ("x::date > '2020-01-01'", "x > '2020-01-01'"),
            ("now()", "clock_timestamp()"),
        ] {
            assert_ne!(
                comparable_expression(a),
                comparable_expression(b),
                "{a} vs {b}"
            );
        }
    }

    fn table(name: &str) -> Table {
        Table {
            name: name.into(),
            comment: None,
            columns: vec![Column {
                name: "id".into(),
                data_type: DataType::Uuid,
                nullable: false,
                default: Some("gen_random_uuid()".into()),
                comment: None,
                sensitivity: Sensitivity::default(),
            }],
            primary_key: Some(PrimaryKey {
                name: format!("{name}_pkey"),
                columns: vec!["id".into()],
            }),
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            triggers: Vec::new(),
            grants: Vec::new(),
            flags: TableFlags::default(),
        }
    }

    #[test]
    fn every_kind_of_difference_is_named() {
        let mut a = Catalog {
            enums: vec![EnumType {
                name: "job_status".into(),
                values: vec!["pending".into(), "done".into()],
                comment: None,
            }],
            functions: Vec::new(),
            tables: vec![table("jobs"), table("gone")],
        };
        let mut b = a.clone();
        b.enums[0].values.push("paused".into());
        b.tables.retain(|t| t.name != "gone");
        let jobs = &mut b.tables[0];
        jobs.columns[0].default = Some("uuidv7()".into());
        jobs.columns.push(Column {
            name: "priority".into(),
            data_type: DataType::SmallInt,
            nullable: false,
            default: Some("0".into()),
            comment: None,
            sensitivity: Sensitivity::default(),
        });
        jobs.indexes.push(Index {
            name: "jobs_priority_idx".into(),
            method: IndexMethod::Btree,
            unique: false,
            keys: vec![IndexKey {
                column: "priority".into(),
                opclass: None,
                descending: true,
            }],
            include: Vec::new(),
            predicate: Some("priority > 0".into()),
        });
        jobs.checks.push(CheckConstraint {
            name: "jobs_priority_check".into(),
            expression: "priority >= 0".into(),
        });
        a.tables[0].checks.push(CheckConstraint {
            name: "jobs_priority_check".into(),
            expression: "priority > 0".into(),
        });
        let differences = compare(&a, &b);
        let lines: Vec<String> = differences.iter().map(|d| d.describe("A", "B")).collect();
        assert_eq!(
            lines,
            [
                "enum job_status: values differs: A has `pending, done`, B has `pending, done, paused`",
                "table gone: only in A (columns id)",
                "column jobs.id: default differs: A has `gen_random_uuid()`, B has `uuidv7()`",
                "column jobs.priority: only in B (smallint NOT NULL DEFAULT 0)",
                "check constraint jobs.jobs_priority_check: expression differs: A has `priority > 0`, B has `priority >= 0`",
                "index jobs.jobs_priority_idx: only in B (btree (priority DESC) WHERE priority > 0)",
            ]
        );
        assert!(compare(&b, &b).is_empty());
        let json = serde_json::to_value(&differences[3]).expect("serialise");
        assert_eq!(
            json,
            serde_json::json!({
                "object": "column",
                "name": "jobs.priority",
                "change": "only_in_b",
                "property": null,
                "a": null,
                "b": "smallint NOT NULL DEFAULT 0",
            })
        );
    }

    #[test]
    fn elaborated_expressions_are_not_differences() {
        let mut a = Catalog {
            tables: vec![table("t")],
            ..Catalog::default()
        };
        a.tables[0].checks.push(CheckConstraint {
            name: "t_x_check".into(),
            expression: "x BETWEEN 1 AND 2".into(),
        });
        let mut b = a.clone();
        b.tables[0].checks[0].expression = "(x >= 1) AND (x <= 2)".into();
        assert_eq!(compare(&a, &b), Vec::new());
        assert_eq!(comparable(&a), comparable(&b));
        assert_ne!(a.normalized(), b.normalized());
    }
}
