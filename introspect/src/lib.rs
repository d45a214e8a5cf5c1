//! Introspection: one schema of a live PostgreSQL database, read from `pg_catalog` into the
//! [`Catalog`] every other tool uses.
//!
//! The catalog read here compares equal to the one `schema.yaml` loads into and to the one the
//! committed migrations replay into (see `model::compare`): names are the database's, flags
//! PostgreSQL has no syntax for (pii, phi, soft_delete) are decoded from the comments with
//! [`model::annotations`], types are parsed from `format_type` spellings with
//! [`DataType::parse`], and expressions are printed by PostgreSQL (`pg_get_expr`) and then put in
//! canonical form with [`model::expr::canonical`].
//!
//! What the catalog cannot represent is never guessed at. Objects outside the model (views,
//! sequences, expression indexes, functions with arguments, statement-level triggers, ...) are
//! left out and listed in [`Introspection::notes`]; a column whose type the model has no
//! [`DataType`] for is an error, because the catalog would be wrong without it.
//!
//! [`yaml`] writes an introspected catalog back as a `schema.yaml`.

pub mod yaml;

use std::collections::HashMap;
use std::fmt;

use model::annotations::{parse_column_comment, parse_table_comment};
use model::catalog::*;
use model::expr::canonical;
use model::types::{DataType, TypeError};
use postgres::{GenericClient, Row, Transaction};

/// Why introspection failed.
#[derive(Debug)]
pub enum IntrospectError {
    /// A catalog query failed; `query` says which one.
    Query {
        query: &'static str,
        error: postgres::Error,
    },
    /// The schema to introspect does not exist.
    NoSuchSchema(String),
    /// The database holds something the catalog has no way to represent, such as a column of a
    /// type `DataType` does not cover.
    Unsupported { object: String, reason: String },
}

impl fmt::Display for IntrospectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntrospectError::Query { query, error } => {
                write!(f, "introspection query `{query}` failed: ")?;
                match error.as_db_error() {
                    Some(db) => {
                        write!(f, "{}: {}", db.severity(), db.message())?;
                        if let Some(detail) = db.detail() {
                            write!(f, " ({detail})")?;
                        }
                        Ok(())
                    }
                    None => write!(f, "{error}"),
                }
            }
            IntrospectError::NoSuchSchema(schema) => {
                write!(f, "the database has no schema named `{schema}`")
            }
            IntrospectError::Unsupported { object, reason } => {
                write!(f, "{object}: {reason}")
            }
        }
    }
}

impl std::error::Error for IntrospectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IntrospectError::Query { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// An introspected catalog and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    pub catalog: Catalog,
    /// One line per object or property the catalog does not model and that was therefore not
    /// read (`view `active_cases` is not modelled`), in a stable order.
    pub notes: Vec<String>,
}

/// Reads `schema` (usually `public`) of the connected database into a catalog. What the catalog
/// does not model is left out silently; use [`introspect_with_notes`] to hear about it.
pub fn introspect(
    client: &mut impl GenericClient,
    schema: &str,
) -> Result<Catalog, IntrospectError> {
    introspect_with_notes(client, schema).map(|i| i.catalog)
}

/// Reads `schema` into a catalog, with a note for everything left out.
///
/// All queries run in one transaction (a savepoint when `client` is already in one) that is
/// rolled back at the end; `search_path` is set to `schema` inside it only, so that PostgreSQL
/// prints the schema's types and functions unqualified, as the schema's own SQL writes them.
pub fn introspect_with_notes(
    client: &mut impl GenericClient,
    schema: &str,
) -> Result<Introspection, IntrospectError> {
    let mut tx = client.transaction().map_err(query("BEGIN"))?;
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
        .map_err(query("find the schema"))?;
    if exists.is_none() {
        return Err(IntrospectError::NoSuchSchema(schema.to_string()));
    }
    tx.execute(
        "SELECT set_config('search_path', quote_ident($1), true)",
        &[&schema],
    )
    .map_err(query("set search_path"))?;
    let mut reader = Reader {
        tx: &mut tx,
        schema,
        catalog: Catalog::default(),
        notes: Vec::new(),
        tables: HashMap::new(),
    };
    reader.enums()?;
    reader.other_types()?;
    reader.functions()?;
    reader.relations()?;
    reader.columns()?;
    reader.constraints()?;
    reader.indexes()?;
    reader.triggers()?;
    let Reader {
        catalog, mut notes, ..
    } = reader;
    tx.rollback().map_err(query("ROLLBACK"))?;
    notes.sort();
    notes.dedup();
    Ok(Introspection { catalog, notes })
}

fn query(name: &'static str) -> impl Fn(postgres::Error) -> IntrospectError {
    move |error| IntrospectError::Query { query: name, error }
}

/// Excludes objects that belong to an extension (`pg_trgm`'s functions, for instance): they are
/// the extension's, not the schema's.
const NOT_EXTENSION_MEMBER: &str = "NOT EXISTS (SELECT 1 FROM pg_depend dep
     WHERE dep.classid = '{class}'::regclass AND dep.objid = {oid} AND dep.deptype = 'e')";

fn not_extension_member(class: &str, oid: &str) -> String {
    NOT_EXTENSION_MEMBER
        .replace("{class}", class)
        .replace("{oid}", oid)
}

struct Reader<'a, 't> {
    tx: &'a mut Transaction<'t>,
    schema: &'a str,
    catalog: Catalog,
    notes: Vec<String>,
    /// Table oid -> index into `catalog.tables`.
    tables: HashMap<u32, usize>,
}

impl Reader<'_, '_> {
    fn rows(&mut self, name: &'static str, sql: &str) -> Result<Vec<Row>, IntrospectError> {
        self.tx.query(sql, &[&self.schema]).map_err(query(name))
    }

    fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    fn enums(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT t.typname::text,
                    coalesce(array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                             FILTER (WHERE e.enumlabel IS NOT NULL), '{{}}'::text[]),
                    obj_description(t.oid, 'pg_type')
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               LEFT JOIN pg_enum e ON e.enumtypid = t.oid
              WHERE n.nspname = $1 AND t.typtype = 'e' AND {}
              GROUP BY t.oid, t.typname
              ORDER BY t.typname",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("enum types", &sql)? {
            self.catalog.enums.push(EnumType {
                schema: self.schema.to_string(),
                name: row.get(0),
                values: row.get(1),
                comment: row.get(2),
            });
        }
        Ok(())
    }

    fn other_types(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT t.typname::text,
                    CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range type'
                                   WHEN 'c' THEN 'composite type' ELSE 'base type' END
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               LEFT JOIN pg_class c ON c.oid = t.typrelid
              WHERE n.nspname = $1 AND {}
                AND (t.typtype IN ('d', 'r') OR (t.typtype = 'b' AND t.typcategory <> 'A')
                     OR (t.typtype = 'c' AND c.relkind = 'c'))
              ORDER BY t.typname",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("other types", &sql)? {
            let (name, kind): (String, String) = (row.get(0), row.get(1));
            self.note(format!("{kind} `{name}` is not modelled"));
        }
        Ok(())
    }

    fn functions(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT p.proname::text, p.pronargs::int4, p.prokind::text, p.proretset,
                    rt.typname::text, l.lanname::text, p.prosrc,
                    -- prosqlbody (BEGIN ATOMIC bodies) exists from PostgreSQL 14 on.
                    (to_jsonb(p) ->> 'prosqlbody') IS NOT NULL,
                    pg_get_function_identity_arguments(p.oid),
                    ARRAY(SELECT format_type(a.t, NULL)
                            FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)
                           ORDER BY a.i),
                    coalesce(p.proargnames::text[], '{{}}'),
                    p.proargmodes IS NULL AND p.pronargdefaults = 0,
                    p.prosecdef,
                    -- Who may call it besides the owner; a NULL ACL is the default (PUBLIC).
                    ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public'
                                      ELSE pg_get_userbyid(a.grantee)::text END
                            FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                           WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
                           ORDER BY 1)
               FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               JOIN pg_language l ON l.oid = p.prolang
               JOIN pg_type rt ON rt.oid = p.prorettype
              WHERE n.nspname = $1 AND {}
              ORDER BY 1, 9",
            not_extension_member("pg_proc", "p.oid")
        );
        for row in self.rows("functions", &sql)? {
            let name: String = row.get(0);
            let nargs: i32 = row.get(1);
            let kind: String = row.get(2);
            let returns_set: bool = row.get(3);
            let sql_body: bool = row.get(7);
            let arguments: String = row.get(8);
            let types: Vec<String> = row.get(9);
            let names: Vec<String> = row.get(10);
            let plain_in: bool = row.get(11);
            let parsed: Option<Vec<FunctionArgument>> = (names.len() == types.len())
                .then(|| {
                    names
                        .iter()
                        .zip(&types)
                        .map(|(name, t)| {
                            let data_type =
                                DataType::parse(t, &|n| self.catalog.enum_type(n).is_some())
                                    .ok()?;
                            (!name.is_empty()).then(|| FunctionArgument::input(name, data_type))
                        })
                        .collect()
                })
                .flatten();
            let skip = if kind != "f" {
                Some("procedures, aggregates and window functions are")
            } else if nargs != 0 && (!plain_in || parsed.is_none()) {
                Some("functions with OUT, VARIADIC, unnamed or defaulted arguments are")
            } else if returns_set {
                Some("set-returning functions are")
            } else if sql_body {
                Some("SQL-standard function bodies are")
            } else {
                None
            };
            match skip {
                Some(why) => self.note(format!(
                    "function `{name}({arguments})`: {why} not modelled"
                )),
                None => self.catalog.functions.push(Function {
                    schema: self.schema.to_string(),
                    name,
                    arguments: parsed.unwrap_or_default(),
                    // The type's own name (`trigger`, `int4`), as the SQL replay records it.
                    returns: row.get(4),
                    language: row.get(5),
                    body: row.get(6),
                    security_definer: row.get(12),
                    execute: row.get(13),
                }),
            }
        }
        Ok(())
    }

    fn relations(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT c.oid, c.relname::text, c.relkind::text, c.relispartition,
                    obj_description(c.oid, 'pg_class'),
                    EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid),
                    -- Privileges of roles other than the owner, as `role:privilege`.
                    ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public'
                                      ELSE pg_get_userbyid(a.grantee)::text END
                                 || ':' || lower(a.privilege_type)
                            FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
                           WHERE a.grantee <> c.relowner)
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {}
                AND NOT (c.relkind = 'S' AND EXISTS (
                    SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                       AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
              ORDER BY c.relname",
            not_extension_member("pg_class", "c.oid")
        );
        for row in self.rows("tables", &sql)? {
            let oid: u32 = row.get(0);
            let name: String = row.get(1);
            let kind: String = row.get(2);
            let partition: bool = row.get(3);
            let comment: Option<String> = row.get(4);
            let inherits: bool = row.get(5);
            let acl: Vec<String> = row.get(6);
            let what = match kind.as_str() {
                "r" if partition => Some("partition"),
                "r" => None,
                "p" => Some("partitioned table"),
                "v" => Some("view"),
                "m" => Some("materialized view"),
                "f" => Some("foreign table"),
                _ => Some("sequence"),
            };
            if let Some(what) = what {
                self.note(format!("{what} `{name}` is not modelled"));
                continue;
            }
            if inherits {
                self.note(format!(
                    "table `{name}`: inheritance is not modelled; its inherited columns are read as its own"
                ));
            }
            let (comment, flags) = comment
                .as_deref()
                .map(parse_table_comment)
                .unwrap_or_default();
            self.tables.insert(oid, self.catalog.tables.len());
            self.catalog.tables.push(Table {
                comment,
                flags,
                ..Table::new(self.schema, name)
            });
            for entry in &acl {
                let Some((role, privilege)) = entry.rsplit_once(':') else {
                    continue;
                };
                match Privilege::parse(privilege) {
                    Some(p) => {
                        if let Some(table) = self.catalog.tables.last_mut() {
                            table.set_privileges(role, &[p], true);
                        }
                    }
                    None => self.note(format!(
                        "table `{}`: privilege `{privilege}` of `{role}` is not modelled",
                        self.catalog.tables.last().map_or("", |t| t.name.as_str())
                    )),
                }
            }
        }
        Ok(())
    }

    fn table_mut(&mut self, oid: u32) -> Option<&mut Table> {
        let i = *self.tables.get(&oid)?;
        self.catalog.tables.get_mut(i)
    }

    fn columns(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod),
                    t.typtype::text, t.typname::text, tn.nspname::text, t.typcategory::text,
                    et.typtype::text, et.typname::text, etn.nspname::text,
                    a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
                    col_description(a.attrelid, a.attnum), a.attidentity::text,
                    a.attgenerated::text,
                    a.attcollation <> 0 AND a.attcollation <> t.typcollation
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_type t ON t.oid = a.atttypid
               JOIN pg_namespace tn ON tn.oid = t.typnamespace
               LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
               LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
               LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
              WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attrelid, a.attnum";
        for row in self.rows("columns", sql)? {
            let oid: u32 = row.get(0);
            let Some(table_name) = self.table_mut(oid).map(|t| t.name.clone()) else {
                continue;
            };
            let name: String = row.get(1);
            let object = format!("column `{table_name}.{name}`");
            let data_type =
                self.column_type(&row)
                    .map_err(|reason| IntrospectError::Unsupported {
                        object: object.clone(),
                        reason,
                    })?;
            let not_null: bool = row.get(10);
            let expression: Option<String> = row.get(11);
            let comment: Option<String> = row.get(12);
            let identity: String = row.get(13);
            let generated: String = row.get(14);
            let collated: bool = row.get(15);
            let default = if generated.trim().is_empty() {
                expression.as_deref().map(canonical)
            } else {
                self.note(format!(
                    "{object}: generated columns are not modelled; read as a plain column"
                ));
                None
            };
            if !identity.trim().is_empty() {
                self.note(format!(
                    "{object}: identity columns are not modelled; read without the identity"
                ));
            }
            if default.as_deref().is_some_and(|d| d.contains("nextval(")) {
                self.note(format!(
                    "{object}: its default `{}` uses a sequence, which is not modelled",
                    default.as_deref().unwrap_or_default()
                ));
            }
            if collated {
                self.note(format!("{object}: column collations are not modelled"));
            }
            let (comment, sensitivity) = comment
                .as_deref()
                .map(parse_column_comment)
                .unwrap_or_default();
            if let Some(table) = self.table_mut(oid) {
                table.columns.push(Column {
                    nullable: !not_null,
                    default,
                    comment,
                    sensitivity,
                    ..Column::new(name, data_type)
                });
            }
        }
        Ok(())
    }

    /// The column's type: the schema's enums by name, anything else through `DataType::parse` of
    /// the `format_type` spelling (`character varying(255)`, `timestamp with time zone`, ...).
    fn column_type(&self, row: &Row) -> Result<DataType, String> {
        let formatted: String = row.get(2);
        let typtype: String = row.get(3);
        let typname: String = row.get(4);
        let type_schema: String = row.get(5);
        let category: String = row.get(6);
        let element_typtype: Option<String> = row.get(7);
        let element_name: Option<String> = row.get(8);
        let element_schema: Option<String> = row.get(9);
        let enum_in_schema = |name: &str, schema: &str| -> Result<DataType, String> {
            if schema == self.schema && self.catalog.enum_type(name).is_some() {
                Ok(DataType::Enum(QualifiedName::new(schema, name)))
            } else {
                Err(format!(
                    "its type is the enum `{schema}.{name}` of another schema (or of an extension), which is not modelled"
                ))
            }
        };
        if typtype == "e" {
            return enum_in_schema(&typname, &type_schema);
        }
        if category == "A" && element_typtype.as_deref() == Some("e") {
            let element = enum_in_schema(
                element_name.as_deref().unwrap_or_default(),
                element_schema.as_deref().unwrap_or_default(),
            )?;
            return Ok(DataType::Array(Box::new(element)));
        }
        if typtype == "d" || element_typtype.as_deref() == Some("d") {
            return Err(format!(
                "its type `{formatted}` is a domain, which is not modelled"
            ));
        }
        DataType::parse(&formatted, &|_| false).map_err(|e| match e {
            TypeError::Unknown(_) => format!("its type `{formatted}` is not modelled"),
            TypeError::BadModifier(why) => format!("its type `{formatted}` is not modelled: {why}"),
            TypeError::Unsupported { advice, .. } => {
                format!("its type `{formatted}` is not modelled: {advice}")
            }
        })
    }

    fn constraints(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT con.conrelid, con.conname::text, con.contype::text,
                    ARRAY(SELECT a.attname::text
                            FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                           ORDER BY k.ord),
                    rc.relname::text, rn.nspname::text,
                    ARRAY(SELECT a.attname::text
                            FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                            JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                           ORDER BY k.ord),
                    con.confdeltype::text, con.confupdtype::text,
                    pg_get_expr(con.conbin, con.conrelid), pg_get_constraintdef(con.oid)
               FROM pg_constraint con
               JOIN pg_class c ON c.oid = con.conrelid AND c.relkind = 'r'
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_class rc ON rc.oid = con.confrelid
               LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
              WHERE n.nspname = $1
              ORDER BY con.conrelid, con.conname";
        for row in self.rows("constraints", sql)? {
            let oid: u32 = row.get(0);
            let Some(table_name) = self.table_mut(oid).map(|t| t.name.clone()) else {
                continue;
            };
            let name: String = row.get(1);
            let kind: String = row.get(2);
            let columns: Vec<String> = row.get(3);
            let definition: String = row.get(10);
            let object = format!("constraint `{table_name}.{name}`");
            for (marker, what) in [
                (" DEFERRABLE", "deferrable constraints are"),
                (" NOT VALID", "NOT VALID is"),
                (" NO INHERIT", "NO INHERIT is"),
                (" INCLUDE (", "INCLUDE columns of constraints are"),
                (" NULLS NOT DISTINCT", "NULLS NOT DISTINCT is"),
                (" MATCH FULL", "MATCH FULL is"),
                ("SET NULL (", "column lists of SET NULL are"),
                ("SET DEFAULT (", "column lists of SET DEFAULT are"),
            ] {
                if definition.contains(marker) {
                    self.note(format!("{object}: {what} not modelled (`{definition}`)"));
                }
            }
            match kind.as_str() {
                "p" => {
                    if let Some(table) = self.table_mut(oid) {
                        table.primary_key = Some(PrimaryKey { name, columns });
                    }
                }
                "u" => {
                    if let Some(table) = self.table_mut(oid) {
                        table.uniques.push(UniqueConstraint { name, columns });
                    }
                }
                "c" => {
                    let expression: Option<String> = row.get(9);
                    let expression = canonical(expression.as_deref().unwrap_or_default());
                    if let Some(table) = self.table_mut(oid) {
                        table.checks.push(CheckConstraint { name, expression });
                    }
                }
                "f" => {
                    let ref_table: Option<String> = row.get(4);
                    let ref_schema: Option<String> = row.get(5);
                    if ref_schema.as_deref() != Some(self.schema) {
                        self.note(format!(
                            "{object}: it references `{}.{}` in another schema, which is not modelled",
                            ref_schema.unwrap_or_default(),
                            ref_table.unwrap_or_default()
                        ));
                        continue;
                    }
                    let action = |code: String| match code.as_str() {
                        "r" => FkAction::Restrict,
                        "c" => FkAction::Cascade,
                        "n" => FkAction::SetNull,
                        "d" => FkAction::SetDefault,
                        _ => FkAction::NoAction,
                    };
                    let fk = ForeignKey {
                        name,
                        columns,
                        ref_table: QualifiedName::new(
                            ref_schema.unwrap_or_default(),
                            ref_table.unwrap_or_default(),
                        ),
                        ref_columns: row.get(6),
                        on_delete: action(row.get(7)),
                        on_update: action(row.get(8)),
                    };
                    if let Some(table) = self.table_mut(oid) {
                        table.foreign_keys.push(fk);
                    }
                }
                // PostgreSQL 18 records NOT NULL as constraints too; attnotnull already says it.
                "n" => {}
                "x" => self.note(format!(
                    "{object}: exclusion constraints are not modelled (`{definition}`)"
                )),
                _ => self.note(format!(
                    "{object}: constraint triggers are not modelled (`{definition}`)"
                )),
            }
        }
        Ok(())
    }

    fn indexes(&mut self) -> Result<(), IntrospectError> {
        // Opclasses are reported only when they are not the one PostgreSQL picks by default for
        // the column's type and the index method (as pg_get_indexdef prints them): a default
        // opclass is either declared for the exact type or, when none is, for a type the column
        // is binary-coercible to (text_ops for varchar, enum_ops, array_ops).
        let sql = "SELECT i.indrelid, ic.relname::text, am.amname::text, i.indisunique,
                    i.indnkeyatts::int4, i.indkey::int2[], i.indoption::int2[],
                    pg_get_expr(i.indpred, i.indrelid), i.indexprs IS NOT NULL, i.indisvalid,
                    pg_get_indexdef(i.indexrelid),
                    ARRAY(SELECT CASE WHEN oc.opcdefault AND (oc.opcintype = a.atttypid OR NOT EXISTS (
                                          SELECT 1 FROM pg_opclass d
                                           WHERE d.opcmethod = oc.opcmethod AND d.opcdefault
                                             AND d.opcintype = a.atttypid))
                                      THEN '' ELSE oc.opcname::text END
                            FROM unnest(i.indclass::oid[], i.indkey::int2[]) WITH ORDINALITY k(opc, attnum, ord)
                            JOIN pg_opclass oc ON oc.oid = k.opc
                            LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                           ORDER BY k.ord)
               FROM pg_index i
               JOIN pg_class ic ON ic.oid = i.indexrelid
               JOIN pg_class c ON c.oid = i.indrelid AND c.relkind = 'r'
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_am am ON am.oid = ic.relam
              WHERE n.nspname = $1
                AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                                 WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                                   AND con.contype IN ('p', 'u', 'x'))
              ORDER BY i.indrelid, ic.relname";
        // Column names by (table oid, attnum).
        let mut names: HashMap<(u32, i16), String> = HashMap::new();
        let attributes = "SELECT a.attrelid, a.attnum, a.attname::text
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped";
        for row in self.rows("index columns", attributes)? {
            names.insert((row.get(0), row.get(1)), row.get(2));
        }
        for row in self.rows("indexes", sql)? {
            let oid: u32 = row.get(0);
            let Some(table_name) = self.table_mut(oid).map(|t| t.name.clone()) else {
                continue;
            };
            let name: String = row.get(1);
            let method_name: String = row.get(2);
            let unique: bool = row.get(3);
            let key_count = usize::try_from(row.get::<_, i32>(4)).unwrap_or(0);
            let attnums: Vec<i16> = row.get(5);
            let options: Vec<i16> = row.get(6);
            let predicate: Option<String> = row.get(7);
            let has_expressions: bool = row.get(8);
            let valid: bool = row.get(9);
            let definition: String = row.get(10);
            let opclasses: Vec<String> = row.get(11);
            let object = format!("index `{table_name}.{name}`");
            if has_expressions || attnums.contains(&0) {
                self.note(format!(
                    "{object}: expression indexes are not modelled; left out (`{definition}`)"
                ));
                continue;
            }
            let Some(method) = IndexMethod::parse(&method_name) else {
                self.note(format!(
                    "{object}: the `{method_name}` index method is not modelled; left out"
                ));
                continue;
            };
            if !valid {
                self.note(format!(
                    "{object}: the index is invalid (a failed CREATE INDEX CONCURRENTLY?); read anyway"
                ));
            }
            let column = |attnum: i16| names.get(&(oid, attnum)).cloned().unwrap_or_default();
            let mut keys = Vec::new();
            for (k, &attnum) in attnums.iter().take(key_count).enumerate() {
                // INDOPTION_DESC and INDOPTION_NULLS_FIRST.
                let option = options.get(k).copied().unwrap_or(0);
                let descending = option & 1 != 0;
                let nulls_first = option & 2 != 0;
                if descending != nulls_first {
                    self.note(format!(
                        "{object}: NULLS FIRST/LAST ordering is not modelled; read without it"
                    ));
                }
                keys.push(IndexKey {
                    opclass: opclasses.get(k).filter(|o| !o.is_empty()).cloned(),
                    descending,
                    ..IndexKey::on(column(attnum))
                });
            }
            let include = attnums.iter().skip(key_count).map(|&a| column(a)).collect();
            let index = Index {
                name,
                method,
                unique,
                keys,
                include,
                predicate: predicate.as_deref().map(canonical),
            };
            if let Some(table) = self.table_mut(oid) {
                table.indexes.push(index);
            }
        }
        Ok(())
    }

    fn triggers(&mut self) -> Result<(), IntrospectError> {
        // Bits of pg_trigger.tgtype.
        const ROW: i32 = 1;
        const BEFORE: i32 = 1 << 1;
        const INSERT: i32 = 1 << 2;
        const DELETE: i32 = 1 << 3;
        const UPDATE: i32 = 1 << 4;
        const TRUNCATE: i32 = 1 << 5;
        const INSTEAD: i32 = 1 << 6;
        let sql = "SELECT tg.tgrelid, tg.tgname::text, tg.tgtype::int4, p.proname::text,
                    pn.nspname::text, tg.tgnargs::int4,
                    coalesce(array_length(tg.tgattr::int2[], 1), 0) > 0, tg.tgqual IS NOT NULL,
                    tg.tgconstraint <> 0, tg.tgenabled::text, pg_get_triggerdef(tg.oid)
               FROM pg_trigger tg
               JOIN pg_class c ON c.oid = tg.tgrelid AND c.relkind = 'r'
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_proc p ON p.oid = tg.tgfoid
               JOIN pg_namespace pn ON pn.oid = p.pronamespace
              WHERE n.nspname = $1 AND NOT tg.tgisinternal
              ORDER BY tg.tgrelid, tg.tgname";
        for row in self.rows("triggers", sql)? {
            let oid: u32 = row.get(0);
            let Some(table_name) = self.table_mut(oid).map(|t| t.name.clone()) else {
                continue;
            };
            let name: String = row.get(1);
            let tgtype: i32 = row.get(2);
            let function: String = row.get(3);
            let function_schema: String = row.get(4);
            let nargs: i32 = row.get(5);
            let columns: bool = row.get(6);
            let when: bool = row.get(7);
            let constraint: bool = row.get(8);
            let enabled: String = row.get(9);
            let definition: String = row.get(10);
            let object = format!("trigger `{table_name}.{name}`");
            let unmodelled = if tgtype & INSTEAD != 0 {
                Some("INSTEAD OF triggers are")
            } else if nargs != 0 || columns || when {
                Some("trigger arguments, column lists and WHEN conditions are")
            } else if constraint {
                Some("constraint triggers are")
            } else if function_schema != self.schema {
                Some("triggers calling a function of another schema are")
            } else {
                None
            };
            if let Some(why) = unmodelled {
                self.note(format!(
                    "{object}: {why} not modelled; left out (`{definition}`)"
                ));
                continue;
            }
            if enabled == "D" {
                self.note(format!(
                    "{object}: the trigger is disabled; read as enabled (not modelled)"
                ));
            }
            let mut events = Vec::new();
            for (bit, event) in [
                (INSERT, TriggerEvent::Insert),
                (UPDATE, TriggerEvent::Update),
                (DELETE, TriggerEvent::Delete),
                (TRUNCATE, TriggerEvent::Truncate),
            ] {
                if tgtype & bit != 0 {
                    events.push(event);
                }
            }
            let trigger = Trigger {
                name,
                timing: if tgtype & BEFORE != 0 {
                    TriggerTiming::Before
                } else {
                    TriggerTiming::After
                },
                events,
                for_each_row: tgtype & ROW != 0,
                function: QualifiedName::new(function_schema, function),
            };
            if let Some(table) = self.table_mut(oid) {
                table.triggers.push(trigger);
            }
        }
        Ok(())
    }
}
