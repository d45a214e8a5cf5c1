//! SQL text for single catalog objects: one object in, one statement out. The one renderer:
//! codegen's migrations and docs print these statements, and the drift descriptions in
//! `compare::describe` share their clauses, written with display names instead of quoted ones
//! ([`Names`]).

use crate::annotations;
use crate::compliance::DEFINER_SEARCH_PATH;
use crate::ident::{quote, quote_literal};
use std::borrow::Cow;

use crate::{
    ArgumentMode, Column, DEFAULT_SCHEMA, EnumType, Extension, FkAction, ForeignKey, Function,
    Index, IndexKey, IndexMethod, PUBLIC, Privilege, QualifiedName, Schema, Sequence, Table,
    Trigger, UniqueConstraint, serial_name, serial_sequence, sql_name,
};

/// How a clause writes names: quoted where PostgreSQL needs it (statements), or as the
/// catalog and findings show them (drift descriptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    Quoted,
    Plain,
}

impl Names {
    fn name<'a>(self, name: &'a str) -> Cow<'a, str> {
        match self {
            Names::Quoted => Cow::Owned(quote(name)),
            Names::Plain => Cow::Borrowed(name),
        }
    }

    fn list(self, names: &[String]) -> String {
        names
            .iter()
            .map(|n| self.name(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn qualified(self, name: &QualifiedName) -> Cow<'_, str> {
        match self {
            Names::Quoted => Cow::Owned(name.sql()),
            Names::Plain => name.display(),
        }
    }
}

/// `(case_id) REFERENCES cases (id) ON DELETE CASCADE`: a foreign key after `FOREIGN KEY`.
pub fn references_clause(fk: &ForeignKey, names: Names) -> String {
    let mut out = format!(
        "({}) REFERENCES {} ({})",
        names.list(&fk.columns),
        names.qualified(&fk.ref_table),
        names.list(&fk.ref_columns)
    );
    if fk.on_delete != FkAction::NoAction {
        out.push_str(&format!(
            " ON DELETE {}",
            fk.on_delete.as_sql().to_uppercase()
        ));
    }
    if fk.on_update != FkAction::NoAction {
        out.push_str(&format!(
            " ON UPDATE {}",
            fk.on_update.as_sql().to_uppercase()
        ));
    }
    out
}

/// One index key: `lower(title) COLLATE "C" text_pattern_ops DESC`.
pub fn index_key(k: &IndexKey, names: Names) -> String {
    let mut key = match &k.expression {
        Some(e) => format!("({e})"),
        None => names.name(&k.column).into_owned(),
    };
    if let Some(collation) = &k.collation {
        key.push_str(&format!(" COLLATE {}", quote(collation)));
    }
    if let Some(opclass) = &k.opclass {
        key.push(' ');
        key.push_str(&names.name(opclass));
    }
    if k.descending {
        key.push_str(" DESC");
    }
    key
}

/// `FOR EACH ROW EXECUTE FUNCTION audit()`: what a trigger runs.
pub fn trigger_action(tr: &Trigger, names: Names) -> String {
    format!(
        "FOR EACH {} EXECUTE FUNCTION {}()",
        if tr.for_each_row { "ROW" } else { "STATEMENT" },
        names.qualified(&tr.function)
    )
}

/// A function's arguments as written in `CREATE FUNCTION`: `(IN n integer DEFAULT 1, OUT r text)`
/// (the mode only when it is not `IN`).
pub fn argument_list(f: &Function) -> String {
    let arguments: Vec<String> = f
        .arguments
        .iter()
        .map(|a| {
            let mut text = match a.mode {
                ArgumentMode::In => String::new(),
                ArgumentMode::Out => "OUT ".to_string(),
                ArgumentMode::InOut => "INOUT ".to_string(),
                ArgumentMode::Variadic => "VARIADIC ".to_string(),
                ArgumentMode::Table => "TABLE ".to_string(),
            };
            if !a.name.is_empty() {
                text.push_str(&quote(&a.name));
                text.push(' ');
            }
            text.push_str(&a.data_type.to_string());
            if let Some(default) = &a.default {
                text.push_str(" DEFAULT ");
                text.push_str(default);
            }
            text
        })
        .collect();
    format!("({})", arguments.join(", "))
}

pub fn create_schema(s: &Schema) -> String {
    format!("CREATE SCHEMA {};", quote(&s.name))
}

pub fn comment_on_schema(s: &Schema) -> String {
    format!(
        "COMMENT ON SCHEMA {} IS {};",
        quote(&s.name),
        s.comment
            .as_deref()
            .map_or("NULL".to_string(), quote_literal)
    )
}

/// Without `CASCADE`: the diff drops what the schema held first, so anything left is something
/// schema.yaml does not describe, and the drop had better fail than take it along.
pub fn drop_schema(s: &Schema) -> String {
    format!("DROP SCHEMA {};", quote(&s.name))
}

/// `IF NOT EXISTS`: an extension is often installed beforehand by someone allowed to.
pub fn create_extension(e: &Extension) -> String {
    let mut out = format!("CREATE EXTENSION IF NOT EXISTS {}", quote(&e.name));
    if e.schema != DEFAULT_SCHEMA {
        out.push_str(&format!(" SCHEMA {}", quote(&e.schema)));
    }
    if let Some(version) = &e.version {
        out.push_str(&format!(" VERSION {}", quote_literal(version)));
    }
    out.push(';');
    out
}

pub fn alter_extension_schema(e: &Extension) -> String {
    format!(
        "ALTER EXTENSION {} SET SCHEMA {};",
        quote(&e.name),
        quote(&e.schema)
    )
}

pub fn update_extension(e: &Extension) -> String {
    match &e.version {
        Some(version) => format!(
            "ALTER EXTENSION {} UPDATE TO {};",
            quote(&e.name),
            quote_literal(version)
        ),
        None => format!("ALTER EXTENSION {} UPDATE;", quote(&e.name)),
    }
}

pub fn drop_extension(e: &Extension) -> String {
    format!("DROP EXTENSION {};", quote(&e.name))
}

pub fn create_enum(e: &EnumType) -> String {
    let values: Vec<String> = e
        .values
        .iter()
        .map(|v| format!("    {}", quote_literal(v)))
        .collect();
    format!(
        "CREATE TYPE {} AS ENUM (\n{}\n);",
        e.sql_name(),
        values.join(",\n")
    )
}

pub fn drop_enum(e: &EnumType) -> String {
    format!("DROP TYPE {};", e.sql_name())
}

pub fn create_function(f: &Function) -> String {
    // The dollar-quote tag must not occur in the body.
    let mut tag = String::from("$$");
    let mut n = 0;
    while f.body.contains(&tag) {
        n += 1;
        tag = format!("$fn{n}$");
    }
    let arguments = argument_list(f);
    let security = if f.security_definer {
        format!("\n    SECURITY DEFINER\n    SET search_path = {DEFINER_SEARCH_PATH}")
    } else {
        String::new()
    };
    if f.sql_standard_body {
        // `RETURN ...` or `BEGIN ATOMIC ... END`, after the options and without quotes.
        return format!(
            "CREATE FUNCTION {}{arguments} RETURNS {}\n    LANGUAGE {}{security}\n    {};",
            sql_name(&f.schema, &f.name),
            f.returns,
            f.language,
            f.body
        );
    }
    format!(
        "CREATE FUNCTION {}{arguments} RETURNS {}\n    LANGUAGE {}{security}\n    AS {tag}{}{tag};",
        sql_name(&f.schema, &f.name),
        f.returns,
        f.language,
        f.body
    )
}

/// `name(type, ...)`, how `GRANT`, `REVOKE` and `DROP` name a function.
fn function_signature(f: &Function) -> String {
    format!("{}{}", sql_name(&f.schema, &f.name), f.signature_types())
}

pub fn drop_function(f: &Function) -> String {
    format!("DROP FUNCTION {};", function_signature(f))
}

/// `GRANT`/`REVOKE EXECUTE` on a function for one role (or `PUBLIC`).
pub fn function_execute(f: &Function, role: &str, grant: bool) -> String {
    let (verb, preposition) = if grant {
        ("GRANT", "TO")
    } else {
        ("REVOKE", "FROM")
    };
    format!(
        "{verb} EXECUTE ON FUNCTION {} {preposition} {};",
        function_signature(f),
        grantee(role)
    )
}

/// `GRANT`/`REVOKE` table privileges for one role, in the privileges' canonical order.
pub fn table_privileges(t: &Table, role: &str, privileges: &[Privilege], grant: bool) -> String {
    let (verb, preposition) = if grant {
        ("GRANT", "TO")
    } else {
        ("REVOKE", "FROM")
    };
    let names: Vec<String> = privileges
        .iter()
        .map(|p| p.as_str().to_uppercase())
        .collect();
    format!(
        "{verb} {} ON TABLE {} {preposition} {};",
        names.join(", "),
        t.sql_name(),
        grantee(role)
    )
}

fn grantee(role: &str) -> String {
    if role == PUBLIC {
        "PUBLIC".to_string()
    } else {
        quote(role)
    }
}

/// Creates a group role unless it exists. Roles are cluster-wide, so another database (or an
/// administrator) may have made it already, possibly at the same moment: both outcomes are
/// fine. `NOLOGIN`: applications sign in as their own users, made members of these roles.
pub fn ensure_role(role: &str) -> String {
    format!(
        "DO $$\nBEGIN\n    CREATE ROLE {} NOLOGIN;\nEXCEPTION WHEN duplicate_object OR unique_violation THEN\n    NULL;\nEND\n$$;",
        quote(role)
    )
}

/// `CREATE TABLE` with columns, primary key, unique and check constraints. Foreign keys are
/// added separately so tables can be created in any order, cycles included.
/// A column that owns its `serial` sequence (one of `sequences`) is written as `serial`, which
/// creates the sequence with it.
pub fn create_table(t: &Table, sequences: &[Sequence]) -> String {
    let width = t
        .columns
        .iter()
        .map(|c| quote(&c.name).len())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let serial = serial_sequence(sequences, t, c).is_some();
            format!("    {}", column_definition(c, width, serial))
        })
        .collect();
    if let Some(pk) = &t.primary_key {
        lines.push(format!(
            "    CONSTRAINT {} PRIMARY KEY ({})",
            quote(&pk.name),
            column_list(&pk.columns)
        ));
    }
    let folded = folded_uniques(t);
    for u in t.uniques.iter().filter(|u| !folded.contains(u)) {
        lines.push(format!(
            "    CONSTRAINT {} UNIQUE ({})",
            quote(&u.name),
            column_list(&u.columns)
        ));
    }
    for c in &t.checks {
        lines.push(format!(
            "    CONSTRAINT {} CHECK ({})",
            quote(&c.name),
            c.expression
        ));
    }
    let partitioned = match &t.partition_by {
        Some(p) => {
            let keys: Vec<String> = p
                .keys
                .iter()
                .map(|k| {
                    if k.starts_with('(') {
                        k.clone()
                    } else {
                        quote(k)
                    }
                })
                .collect();
            format!(
                " PARTITION BY {} ({})",
                p.strategy.as_sql(),
                keys.join(", ")
            )
        }
        None => String::new(),
    };
    format!(
        "CREATE TABLE {} (\n{}\n){partitioned};",
        t.sql_name(),
        lines.join(",\n")
    )
}

/// The unique constraints `CREATE TABLE` would silently fold into an earlier key on the same
/// columns in the same order (the primary key, or another unique constraint): PostgreSQL keeps
/// one index for them there, so they are added after the table ([`add_unique`]).
pub fn folded_uniques(t: &Table) -> Vec<&UniqueConstraint> {
    let mut seen: Vec<&[String]> = t.primary_key.iter().map(|pk| &pk.columns[..]).collect();
    let mut out = Vec::new();
    for u in &t.uniques {
        if seen.contains(&&u.columns[..]) {
            out.push(u);
        } else {
            seen.push(&u.columns);
        }
    }
    out
}

pub fn add_unique(t: &Table, u: &UniqueConstraint) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
        t.sql_name(),
        quote(&u.name),
        column_list(&u.columns)
    )
}

pub fn drop_table(t: &Table) -> String {
    format!("DROP TABLE {};", t.sql_name())
}

/// `name type [NOT NULL] [DEFAULT expr]`, with the type aligned to `width`. A `serial` column
/// (see [`serial_sequence`]) is `name serial`: PostgreSQL adds the sequence, the NOT NULL and
/// the default.
pub fn column_definition(c: &Column, width: usize, serial: bool) -> String {
    if let Some(pseudo_type) = serial.then(|| serial_name(&c.data_type)).flatten() {
        return format!("{:width$} {pseudo_type}", quote(&c.name));
    }
    let mut out = format!("{:width$} {}", quote(&c.name), c.data_type);
    if !c.nullable {
        out.push_str(" NOT NULL");
    }
    if let Some(default) = &c.default {
        out.push_str(&format!(" DEFAULT {default}"));
    }
    if let Some(identity) = &c.identity {
        out.push(' ');
        out.push_str(&crate::compare::describe_identity(identity));
    }
    if let Some(generated) = &c.generated {
        out.push_str(&format!(" GENERATED ALWAYS AS ({generated}) STORED"));
    }
    out
}

pub fn comment_on_table(t: &Table) -> Option<String> {
    let text = annotations::table_comment(t.comment.as_deref(), &t.flags)?;
    Some(format!(
        "COMMENT ON TABLE {} IS {};",
        t.sql_name(),
        quote_literal(&text)
    ))
}

pub fn comment_on_column(t: &Table, c: &Column) -> Option<String> {
    let text = annotations::column_comment(c.comment.as_deref(), c.sensitivity)?;
    Some(format!(
        "COMMENT ON COLUMN {}.{} IS {};",
        t.sql_name(),
        quote(&c.name),
        quote_literal(&text)
    ))
}

/// How a `CREATE INDEX` builds its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexBuild {
    /// In one statement, under a lock that blocks writes to the table (a new table's indexes).
    Plain,
    /// `CONCURRENTLY IF NOT EXISTS`: an existing table's, without blocking writes.
    Concurrently,
    /// `IF NOT EXISTS ... ON ONLY`: a partitioned table's, on the parent alone. It builds nothing
    /// and stays invalid until every partition has its own attached, which the runner builds
    /// concurrently (PostgreSQL cannot build a partitioned table's index concurrently).
    ParentOnly,
}

pub fn create_index(t: &Table, ix: &Index) -> String {
    create_index_as(t, ix, IndexBuild::Plain)
}

pub fn create_index_as(t: &Table, ix: &Index, build: IndexBuild) -> String {
    let mut out = String::from("CREATE ");
    if ix.unique {
        out.push_str("UNIQUE ");
    }
    let (how, only) = match build {
        IndexBuild::Plain => ("", ""),
        IndexBuild::Concurrently => ("CONCURRENTLY IF NOT EXISTS ", ""),
        IndexBuild::ParentOnly => ("IF NOT EXISTS ", "ONLY "),
    };
    out.push_str(&format!(
        "INDEX {how}{} ON {only}{}",
        quote(&ix.name),
        t.sql_name()
    ));
    if ix.method != IndexMethod::Btree {
        out.push_str(&format!(" USING {}", ix.method.as_sql()));
    }
    let keys: Vec<String> = ix
        .keys
        .iter()
        .map(|k| index_key(k, Names::Quoted))
        .collect();
    out.push_str(&format!(" ({})", keys.join(", ")));
    if !ix.include.is_empty() {
        out.push_str(&format!(" INCLUDE ({})", column_list(&ix.include)));
    }
    if let Some(predicate) = &ix.predicate {
        out.push_str(&format!(" WHERE ({predicate})"));
    }
    out.push(';');
    out
}

pub fn create_trigger(t: &Table, tr: &Trigger) -> String {
    let timing = tr.timing.as_sql();
    let events = tr.events_sql();
    format!(
        "CREATE TRIGGER {} {timing} {} ON {} {};",
        quote(&tr.name),
        events,
        t.sql_name(),
        trigger_action(tr, Names::Quoted)
    )
}

pub fn add_foreign_key(t: &Table, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} {};",
        t.sql_name(),
        quote(&fk.name),
        foreign_key_clause(fk)
    )
}

/// `FOREIGN KEY (...) REFERENCES t (...) [ON DELETE ...] [ON UPDATE ...]`, also shown in the docs.
pub fn foreign_key_clause(fk: &ForeignKey) -> String {
    format!("FOREIGN KEY {}", references_clause(fk, Names::Quoted))
}

pub fn drop_constraint(t: &Table, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {};",
        t.sql_name(),
        quote(name)
    )
}

fn column_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ")
}
