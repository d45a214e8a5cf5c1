//! What `schema.yaml` cannot say: which objects of a catalog are left out of the written file,
//! each named once with the reason, and how to take exactly that object out of a catalog.
//!
//! [`plan`] decides, [`Omitted::remove_from`] removes. The writer writes the catalog with every
//! omission removed, so a database rebuilt from the file introspects into that catalog: what a
//! round trip loses is exactly this list.

use std::collections::BTreeSet;

use crate::catalog::*;
use crate::ident::check_plain;
use crate::types::DataType;
use crate::yaml::SET_UPDATED_AT;

/// One object (or property) of the catalog the file leaves out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Omitted {
    Extension(String),
    Domain(QualifiedName),
    CompositeType(QualifiedName),
    Sequence(QualifiedName),
    /// A function, by name and input argument types (`(text, uuid)`).
    Function {
        name: QualifiedName,
        signature: String,
    },
    View(QualifiedName),
    /// An enum's comment (the enum itself is written).
    EnumComment(QualifiedName),
    /// A whole table, with everything that belongs to it.
    Table(QualifiedName),
    Column {
        table: QualifiedName,
        column: String,
    },
    /// A column whose type is a domain: written with the domain's base type instead.
    ColumnDomain {
        table: QualifiedName,
        column: String,
    },
    /// A column's default (the column is written without it).
    ColumnDefault {
        table: QualifiedName,
        column: String,
    },
    /// A generated column's expression (the column is written as a plain column).
    ColumnGeneration {
        table: QualifiedName,
        column: String,
    },
    Unique {
        table: QualifiedName,
        name: String,
    },
    Check {
        table: QualifiedName,
        name: String,
    },
    ForeignKey {
        table: QualifiedName,
        name: String,
    },
    Index {
        table: QualifiedName,
        name: String,
    },
    Trigger {
        table: QualifiedName,
        name: String,
    },
    /// A role's privileges on a table.
    Grant {
        table: QualifiedName,
        role: String,
    },
}

/// An omission and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub what: Omitted,
    /// A sentence naming the object and saying why the file cannot hold it.
    pub reason: String,
}

impl Omitted {
    /// Removes exactly this object (or property) from `catalog`; `false` when the catalog has no
    /// such object.
    pub fn remove_from(&self, catalog: &mut Catalog) -> bool {
        fn retain<T>(items: &mut Vec<T>, keep: impl Fn(&T) -> bool) -> bool {
            let before = items.len();
            items.retain(keep);
            items.len() != before
        }
        fn table_mut<'c>(catalog: &'c mut Catalog, name: &QualifiedName) -> Option<&'c mut Table> {
            catalog.tables.iter_mut().find(|t| t.is(name))
        }
        match self {
            Omitted::Extension(name) => retain(&mut catalog.extensions, |e| &e.name != name),
            Omitted::Domain(name) => retain(&mut catalog.domains, |d| d.qualified_name() != *name),
            Omitted::CompositeType(name) => retain(&mut catalog.composite_types, |c| {
                QualifiedName::new(&c.schema, &c.name) != *name
            }),
            Omitted::Sequence(name) => {
                retain(&mut catalog.sequences, |s| s.qualified_name() != *name)
            }
            Omitted::Function { name, signature } => retain(&mut catalog.functions, |f| {
                !(f.qualified_name() == *name && f.signature_types() == *signature)
            }),
            Omitted::View(name) => retain(&mut catalog.views, |v| v.qualified_name() != *name),
            Omitted::EnumComment(name) => match catalog
                .enums
                .iter_mut()
                .find(|e| e.qualified_name() == *name)
            {
                Some(e) => e.comment.take().is_some(),
                None => false,
            },
            Omitted::Table(name) => retain(&mut catalog.tables, |t| !t.is(name)),
            Omitted::Column { table, column } => table_mut(catalog, table)
                .is_some_and(|t| retain(&mut t.columns, |c| &c.name != column)),
            Omitted::ColumnDomain { table, column } => {
                let Some(c) = table_mut(catalog, table)
                    .and_then(|t| t.columns.iter_mut().find(|c| &c.name == column))
                else {
                    return false;
                };
                let base = without_domains(&c.data_type);
                let changed = base != c.data_type;
                if let Some(default) = &c.default {
                    c.default = Some(default_without_domains(default, &c.data_type));
                }
                c.data_type = base;
                changed
            }
            Omitted::ColumnDefault { table, column } => table_mut(catalog, table)
                .and_then(|t| t.columns.iter_mut().find(|c| &c.name == column))
                .is_some_and(|c| c.default.take().is_some()),
            Omitted::ColumnGeneration { table, column } => table_mut(catalog, table)
                .and_then(|t| t.columns.iter_mut().find(|c| &c.name == column))
                .is_some_and(|c| c.generated.take().is_some()),
            Omitted::Unique { table, name } => table_mut(catalog, table)
                .is_some_and(|t| retain(&mut t.uniques, |u| &u.name != name)),
            Omitted::Check { table, name } => table_mut(catalog, table)
                .is_some_and(|t| retain(&mut t.checks, |c| &c.name != name)),
            Omitted::ForeignKey { table, name } => table_mut(catalog, table)
                .is_some_and(|t| retain(&mut t.foreign_keys, |f| &f.name != name)),
            Omitted::Index { table, name } => table_mut(catalog, table)
                .is_some_and(|t| retain(&mut t.indexes, |i| &i.name != name)),
            Omitted::Trigger { table, name } => table_mut(catalog, table)
                .is_some_and(|t| retain(&mut t.triggers, |tr| &tr.name != name)),
            Omitted::Grant { table, role } => table_mut(catalog, table)
                .is_some_and(|t| retain(&mut t.grants, |g| &g.role != role)),
        }
    }
}

/// `catalog` without everything in `left_out`.
pub fn without(catalog: &Catalog, left_out: &[LeftOut]) -> Catalog {
    let mut out = catalog.clone();
    for l in left_out {
        l.what.remove_from(&mut out);
    }
    out
}

/// A type with every domain replaced by its base type.
pub fn without_domains(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Domain { base, .. } => without_domains(base),
        DataType::Array(element) => DataType::Array(Box::new(without_domains(element))),
        other => other.clone(),
    }
}

/// A default of a domain column with its casts to the domain made casts to the base type, as
/// PostgreSQL prints the same default of a column of the base type (`'{}'::document` becomes
/// `'{}'::jsonb`).
pub fn default_without_domains(default: &str, data_type: &DataType) -> String {
    let mut out = default.to_string();
    let mut t = data_type;
    loop {
        match t {
            DataType::Domain { name, base } => {
                out = out.replace(
                    &format!("::{}", name.sql()),
                    &format!("::{}", without_domains(base)),
                );
                t = base;
            }
            DataType::Array(element) => t = element,
            _ => return out,
        }
    }
}

/// Whether `schema.yaml` can spell the type: the built-in types the model knows, the catalog's
/// enums, and arrays of them.
fn writable(catalog: &Catalog, data_type: &DataType) -> bool {
    match data_type {
        DataType::Other(_) | DataType::Unknown | DataType::Composite(_) => false,
        DataType::Enum(name) => catalog.enum_named(name).is_some(),
        DataType::Array(element) => {
            !matches!(**element, DataType::Array(_)) && writable(catalog, element)
        }
        DataType::Domain { base, .. } => writable(catalog, base),
        _ => true,
    }
}

fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '"'))
        .any(|word| word.trim_matches('"') == column)
}

/// Why partitioning, inheritance or a missing primary key leaves a whole table out: the format
/// has no place for the first two, and a table without a primary key does not load.
/// Why a whole object of `kind` (e.g. "domain") is left out: `{kind} `{name}` is left out: {why}`.
fn object_left_out(kind: &str, name: &str, why: &str) -> String {
    format!("{kind} `{name}` is left out: {why}")
}

/// Column `column` of `table` (shown as `shown`) is left out for `why`.
fn column_left_out(table: &QualifiedName, shown: &str, column: &str, why: &str) -> LeftOut {
    LeftOut {
        what: Omitted::Column {
            table: table.clone(),
            column: column.to_string(),
        },
        reason: object_left_out("column", &format!("{shown}.{column}"), why),
    }
}

fn whole_table_left_out(t: &Table) -> Option<String> {
    let shown = t.display_name();
    // A table declared with `partitioning` is written with it (its partitions are the
    // maintenance function's and were left out when the database was read).
    let declared_partitioning = t.flags.partitioning.as_ref().is_some_and(|p| {
        t.partition_by.as_ref().is_some_and(|by| {
            by.strategy == crate::PartitionStrategy::Range && by.keys == [p.column.clone()]
        })
    });
    if t.partition_by.is_some() && !declared_partitioning {
        Some(format!(
            "partitioned table `{shown}` is left out: schema.yaml has no partitioning"
        ))
    } else if let Some(p) = &t.partition_of {
        Some(format!(
            "table `{shown}`, a partition of `{}`, is left out: schema.yaml has no partitioning",
            p.parent.display()
        ))
    } else if !t.inherits.is_empty() {
        Some(format!(
            "table `{shown}` inherits from {} and is left out: schema.yaml has no inheritance",
            t.inherits
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    } else if t.primary_key.is_none() {
        Some(format!(
            "table `{shown}` is left out: it has no primary key, which schema.yaml requires"
        ))
    } else {
        None
    }
}

/// Whether `column` is written as `serial`: it owns its sequence as a `serial` column does, and
/// the sequence has the name `schema.yaml` derives (PostgreSQL's, unnumbered); a table renamed
/// after the fact keeps the old name, and its default is left out as any other.
pub fn written_as_serial(catalog: &Catalog, table: &Table, column: &Column) -> bool {
    crate::serial_sequence(&catalog.sequences, table, column).is_some_and(|s| {
        s.name == crate::ident::pg_object_name(&table.name, Some(&column.name), "seq")
    })
}

/// The left-out objects of `catalog`, in a fixed order. `kept_trigger` and `kept_function` say
/// which triggers and functions the file gives back (those `timestamps: true` and the compliance
/// keys generate); they are asked about the tables that are written only.
pub fn plan(
    catalog: &Catalog,
    kept_trigger: &dyn Fn(&Catalog, &Table, &Trigger) -> bool,
    kept_function: &dyn Fn(&Catalog, &Function) -> bool,
) -> Vec<LeftOut> {
    let mut out: Vec<LeftOut> = Vec::new();
    // The functions the file leaves out: an expression calling one cannot be written either, as
    // the rebuilt database would not have the function.
    let lost_functions: Vec<&Function> = catalog
        .functions
        .iter()
        .filter(|f| !kept_function(catalog, f))
        .collect();
    let calls_lost = |expression: &str| -> Option<String> {
        crate::expr::called_functions(expression)
            .iter()
            .find_map(|called| {
                lost_functions.iter().find(|f| {
                    let name = f.qualified_name();
                    match called.split_once('.') {
                        Some((schema, bare)) => name.schema == schema && name.name == bare,
                        None => name.name == *called,
                    }
                })
            })
            .map(|f| format!("{}{}", f.qualified_name().display(), f.signature_types()))
    };
    let mut push = |what: Omitted, reason: String| out.push(LeftOut { what, reason });

    for e in &catalog.extensions {
        if let Err(why) = crate::yaml::check_extension_name(&e.name) {
            let why = format!("schema.yaml refuses its name ({why})");
            let reason = object_left_out("extension", &e.name, &why);
            push(Omitted::Extension(e.name.clone()), reason);
        }
    }
    for e in &catalog.enums {
        if let Some(comment) = &e.comment {
            push(
                Omitted::EnumComment(e.qualified_name()),
                format!(
                    "enum `{}`: its comment ({comment:?}) is left out: schema.yaml has no enum comments",
                    e.qualified_name().display()
                ),
            );
        }
    }
    for d in &catalog.domains {
        let name = d.qualified_name();
        let why = format!(
            "schema.yaml has no domains (columns of it are written with its base type, {})",
            d.base
        );
        push(
            Omitted::Domain(name.clone()),
            object_left_out("domain", &name.display(), &why),
        );
    }
    for c in &catalog.composite_types {
        let name = QualifiedName::new(&c.schema, &c.name);
        let why = "schema.yaml has no composite types";
        let reason = object_left_out("composite type", &name.display(), why);
        push(Omitted::CompositeType(name), reason);
    }
    for s in &catalog.sequences {
        let owner = s.owned_by.as_ref().and_then(|o| {
            let table = catalog.table_named(&o.table)?;
            Some((table, table.column(&o.column)?))
        });
        if owner.is_some_and(|(t, c)| {
            whole_table_left_out(t).is_none() && written_as_serial(catalog, t, c)
        }) {
            continue;
        }
        let name = s.qualified_name();
        let why = "schema.yaml has sequences only as identity columns and as the sequence a serial column owns under the name PostgreSQL gives it";
        let reason = object_left_out("sequence", &name.display(), why);
        push(Omitted::Sequence(name), reason);
    }
    for v in &catalog.views {
        let kind = if v.materialized {
            "materialized view"
        } else {
            "view"
        };
        let name = v.qualified_name();
        let reason = object_left_out(kind, &name.display(), "schema.yaml has no views");
        push(Omitted::View(name), reason);
    }

    // Whole tables: partitioning and inheritance have no place in the format, and a table
    // without a primary key does not load.
    let mut gone: BTreeSet<QualifiedName> = BTreeSet::new();
    for t in &catalog.tables {
        if let Some(why) = whole_table_left_out(t) {
            gone.insert(t.qualified_name());
            push(Omitted::Table(t.qualified_name()), why);
        }
    }

    // Columns the format cannot type; a table whose primary key needs one goes as a whole.
    let mut gone_columns: BTreeSet<(QualifiedName, String)> = BTreeSet::new();
    let mut column_omissions: Vec<(QualifiedName, Vec<LeftOut>)> = Vec::new();
    let structural = gone.clone();
    for t in catalog
        .tables
        .iter()
        .filter(|t| !structural.contains(&t.qualified_name()))
    {
        let name = t.qualified_name();
        let shown = t.display_name();
        let mut omissions = Vec::new();
        let mut lost = Vec::new();
        for c in &t.columns {
            if !writable(catalog, &c.data_type) {
                lost.push(c.name.clone());
                let why = format!("schema.yaml cannot declare its type `{}`", c.data_type);
                omissions.push(column_left_out(&name, &shown, &c.name, &why));
                continue;
            }
            if let DataType::Domain { .. } | DataType::Array(_) = &c.data_type
                && without_domains(&c.data_type) != c.data_type
            {
                omissions.push(LeftOut {
                    what: Omitted::ColumnDomain {
                        table: name.clone(),
                        column: c.name.clone(),
                    },
                    reason: format!(
                        "column `{shown}.{}` is written with type `{}` instead of the domain `{}`: schema.yaml has no domains",
                        c.name,
                        without_domains(&c.data_type),
                        c.data_type
                    ),
                });
            }
            if let Some(default) = c.default.as_deref()
                && !default.contains("nextval(")
                && let Some(function) = calls_lost(default)
            {
                omissions.push(LeftOut {
                    what: Omitted::ColumnDefault {
                        table: name.clone(),
                        column: c.name.clone(),
                    },
                    reason: format!(
                        "column `{shown}.{}`: its default `{default}` calls function `{function}`, which is left out; the column is written without the default",
                        c.name
                    ),
                });
            }
            if let Some(expression) = c.generated.as_deref()
                && let Some(function) = calls_lost(expression)
            {
                omissions.push(LeftOut {
                    what: Omitted::ColumnGeneration {
                        table: name.clone(),
                        column: c.name.clone(),
                    },
                    reason: format!(
                        "column `{shown}.{}`: its generation expression `{expression}` calls function `{function}`, which is left out; the column is written as a plain column",
                        c.name
                    ),
                });
            }
            if let Some(default) = c
                .default
                .as_deref()
                .filter(|d| d.contains("nextval(") && !written_as_serial(catalog, t, c))
            {
                omissions.push(LeftOut {
                    what: Omitted::ColumnDefault {
                        table: name.clone(),
                        column: c.name.clone(),
                    },
                    reason: format!(
                        "column `{shown}.{}`: its default `{default}` draws from a sequence, which schema.yaml cannot declare; left out (an `identity` column is the format's way)",
                        c.name
                    ),
                });
            }
        }
        // A generated column computed from a column that is left out goes too.
        for c in &t.columns {
            if let Some(expression) = &c.generated
                && !lost.contains(&c.name)
                && lost.iter().any(|l| mentions(expression, l))
            {
                lost.push(c.name.clone());
                let why = "it is generated from a column that is";
                omissions.push(column_left_out(&name, &shown, &c.name, why));
            }
        }
        let uses = |cols: &[String]| cols.iter().any(|c| lost.contains(c));
        if t.primary_key.as_ref().is_some_and(|pk| uses(&pk.columns)) {
            gone.insert(name.clone());
            push(
                Omitted::Table(name.clone()),
                format!(
                    "table `{shown}` is left out: its primary key uses a column schema.yaml cannot declare"
                ),
            );
            continue;
        }
        for l in &lost {
            gone_columns.insert((name.clone(), l.clone()));
        }
        for u in t.uniques.iter().filter(|u| uses(&u.columns)) {
            omissions.push(LeftOut {
                what: Omitted::Unique {
                    table: name.clone(),
                    name: u.name.clone(),
                },
                reason: format!(
                    "unique constraint `{shown}.{}` is left out with the column it uses",
                    u.name
                ),
            });
        }
        for k in &t.checks {
            if lost.iter().any(|l| mentions(&k.expression, l)) {
                continue;
            }
            if let Some(function) = calls_lost(&k.expression) {
                omissions.push(LeftOut {
                    what: Omitted::Check {
                        table: name.clone(),
                        name: k.name.clone(),
                    },
                    reason: format!(
                        "check constraint `{shown}.{}` is left out: it calls function `{function}`, which is left out",
                        k.name
                    ),
                });
            }
        }
        for k in t
            .checks
            .iter()
            .filter(|k| lost.iter().any(|l| mentions(&k.expression, l)))
        {
            omissions.push(LeftOut {
                what: Omitted::Check {
                    table: name.clone(),
                    name: k.name.clone(),
                },
                reason: format!(
                    "check constraint `{shown}.{}` is left out with the column it uses",
                    k.name
                ),
            });
        }
        column_omissions.push((name, omissions));
    }
    for (_, omissions) in column_omissions {
        out.extend(omissions);
    }
    let mut push = |what: Omitted, reason: String| out.push(LeftOut { what, reason });

    let kept: Vec<&Table> = catalog
        .tables
        .iter()
        .filter(|t| !gone.contains(&t.qualified_name()))
        .collect();
    for t in &kept {
        let name = t.qualified_name();
        let shown = t.display_name();
        let lost = |column: &str| gone_columns.contains(&(name.clone(), column.to_string()));
        for fk in &t.foreign_keys {
            let target_lost =
                |column: &String| gone_columns.contains(&(fk.ref_table.clone(), column.clone()));
            let why = if gone.contains(&fk.ref_table) {
                Some(format!(
                    "the table it references, `{}`, is",
                    fk.ref_table.display()
                ))
            } else if fk.columns.iter().any(|c| lost(c)) || fk.ref_columns.iter().any(target_lost) {
                Some("a column it uses is".to_string())
            } else {
                None
            };
            if let Some(why) = why {
                push(
                    Omitted::ForeignKey {
                        table: name.clone(),
                        name: fk.name.clone(),
                    },
                    format!(
                        "foreign key `{shown}.{}` is left out: {why} left out",
                        fk.name
                    ),
                );
            }
        }
        // The loader refuses two indexes with one definition: the first is kept.
        let mut seen: Vec<&Index> = Vec::new();
        for ix in &t.indexes {
            let on_lost = ix.keys.iter().any(|k| {
                lost(&k.column)
                    || k.expression.as_deref().is_some_and(|e| {
                        gone_columns
                            .iter()
                            .any(|(tn, c)| *tn == name && mentions(e, c))
                    })
            }) || ix.include.iter().any(|c| lost(c))
                || ix.predicate.as_deref().is_some_and(|p| {
                    gone_columns
                        .iter()
                        .any(|(tn, c)| *tn == name && mentions(p, c))
                });
            let duplicate = seen.iter().find(|k| {
                k.method == ix.method
                    && k.keys == ix.keys
                    && k.include == ix.include
                    && k.predicate == ix.predicate
                    && k.unique == ix.unique
            });
            let why = if on_lost {
                Some("a column it uses is left out".to_string())
            } else if let Some(function) = ix.predicate.as_deref().and_then(&calls_lost) {
                Some(format!(
                    "its predicate calls function `{function}`, which is left out"
                ))
            } else if ix.keys.iter().any(|k| k.expression.is_some()) {
                Some("schema.yaml has no expression keys".to_string())
            } else if !IndexMethod::ALL.contains(&ix.method) {
                Some(format!(
                    "schema.yaml has no `{}` indexes",
                    ix.method.as_sql()
                ))
            } else if let Some(first) = duplicate {
                Some(format!(
                    "it duplicates `{}`, and schema.yaml refuses duplicate indexes (drop one of them in the database)",
                    first.name
                ))
            } else {
                seen.push(ix);
                None
            };
            if let Some(why) = why {
                push(
                    Omitted::Index {
                        table: name.clone(),
                        name: ix.name.clone(),
                    },
                    format!("index `{shown}.{}` is left out: {why}", ix.name),
                );
            }
        }
        for tr in &t.triggers {
            if !kept_trigger(catalog, t, tr) {
                push(
                    Omitted::Trigger {
                        table: name.clone(),
                        name: tr.name.clone(),
                    },
                    format!(
                        "trigger `{shown}.{}` is left out: schema.yaml has no triggers (only the ones `timestamps: true` and the compliance keys create)",
                        tr.name
                    ),
                );
            }
        }
        for g in &t.grants {
            if check_plain(&g.role).is_err() || g.role == PUBLIC || g.role.starts_with("pg_") {
                push(
                    Omitted::Grant {
                        table: name.clone(),
                        role: g.role.clone(),
                    },
                    format!(
                        "the privileges of `{}` on `{shown}` are left out: schema.yaml cannot declare that role",
                        g.role
                    ),
                );
            }
        }
    }
    for f in &catalog.functions {
        if !kept_function(catalog, f) {
            push(
                Omitted::Function {
                    name: f.qualified_name(),
                    signature: f.signature_types(),
                },
                format!(
                    "function `{}{}` is left out: schema.yaml has no functions (only the `{SET_UPDATED_AT}()` that `timestamps: true` creates and the ones its compliance keys generate)",
                    f.qualified_name().display(),
                    f.signature_types()
                ),
            );
        }
    }
    out
}
