//! Introspection: a live PostgreSQL database read from `pg_catalog` into the [`Catalog`] every
//! other tool uses.
//!
//! Every schema but PostgreSQL's own is read ([`Schemas::All`]), or the schemas given
//! ([`Schemas::Only`]); objects that belong to an extension are the extension's and are left
//! out. The catalog read here is the one the SQL that built the database replays into (see
//! `model::replay`) and the one `schema.yaml` loads into: names are the database's, flags
//! PostgreSQL has no syntax for (pii, phi, soft_delete, ...) are decoded from the comments with
//! [`model::annotations`], built-in types are parsed from their `format_type` spelling with
//! [`DataType::parse`] (a type the model has no variant for is [`DataType::Other`] with that
//! spelling), user types are resolved by oid, expressions are printed by PostgreSQL
//! (`pg_get_expr`) and put in canonical form with [`model::expr::canonical`], and sequence
//! options are kept only where they are not PostgreSQL's default
//! ([`SequenceOptions::without_defaults`]). Every query runs with `search_path` set to `public`
//! alone, so PostgreSQL prints objects of other schemas qualified, as the SQL `codegen` writes
//! names them.
//!
//! As in the replay, what PostgreSQL copies onto partitions (the indexes, keys, foreign keys,
//! checks and triggers of a partitioned table) belongs to the partitioned table only.
//!
//! What the catalog cannot represent is never guessed at: it is left out and listed in
//! [`Introspection::notes`] (foreign tables, range and base types, aggregates, trigger
//! arguments, `WHEN` conditions and column lists, constraint triggers,
//! triggers on views, the operators of exclusion constraints, the name of an extension's index
//! method, column collations, `NULLS FIRST` ordering, deferrable, `NOT VALID`, `NO INHERIT`,
//! `NULLS NOT DISTINCT` and `MATCH FULL` constraints, disabled triggers and invalid indexes).
//!
//! [`yaml`] writes an introspected catalog back as a `schema.yaml`.

pub mod yaml;

use std::collections::HashMap;
use std::fmt;

use model::annotations::{parse_column_comment, parse_table_comment};
use model::catalog::*;
use model::expr::{canonical, canonical_statement};
use model::types::DataType;
use postgres::{GenericClient, Row, Transaction};

/// Why introspection failed.
#[derive(Debug)]
pub enum IntrospectError {
    /// A catalog query failed; `query` says which one.
    Query {
        query: &'static str,
        error: postgres::Error,
    },
    /// A schema to introspect does not exist.
    NoSuchSchema(String),
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
        }
    }
}

impl std::error::Error for IntrospectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IntrospectError::Query { error, .. } => Some(error),
            IntrospectError::NoSuchSchema(_) => None,
        }
    }
}

/// An introspected catalog and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introspection {
    pub catalog: Catalog,
    /// One line per object or property the catalog does not model and that was therefore not
    /// read (`foreign table `remote_cases` is not modelled`), in a stable order.
    pub notes: Vec<String>,
}

/// Which schemas to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schemas {
    /// Every schema except PostgreSQL's own (`pg_catalog`, `information_schema`, `pg_toast`,
    /// temporary schemas), the ones an extension created, and the ones listed (for instance the
    /// migration runner's `codegen`).
    All { except: Vec<String> },
    /// These schemas (each must exist); `public` only when listed.
    Only(Vec<String>),
    /// Those of these schemas the database has (drift detection reads what `schema.yaml`
    /// declares: a missing schema is a difference, not an error).
    Existing(Vec<String>),
}

impl Schemas {
    /// Every schema but PostgreSQL's own and an extension's.
    pub fn all() -> Schemas {
        Schemas::All { except: Vec::new() }
    }

    /// One schema.
    pub fn only(schema: &str) -> Schemas {
        Schemas::Only(vec![schema.to_string()])
    }
}

/// Reads `schema` (usually `public`) of the connected database into a catalog. What the catalog
/// does not model is left out silently; use [`introspect_schemas`] to hear about it.
pub fn introspect(
    client: &mut impl GenericClient,
    schema: &str,
) -> Result<Catalog, IntrospectError> {
    introspect_schemas(client, &Schemas::only(schema)).map(|i| i.catalog)
}

/// Reads `schema` into a catalog, with a note for everything left out.
pub fn introspect_with_notes(
    client: &mut impl GenericClient,
    schema: &str,
) -> Result<Introspection, IntrospectError> {
    introspect_schemas(client, &Schemas::only(schema))
}

/// The partitions of a table declared with `partitioning` are the maintenance function's, made
/// and dropped as time passes: the declaration is the parent's, so they are not part of the
/// schema (as the replayed migrations and `schema.yaml` do not hold them either).
fn drop_managed_partitions(catalog: &mut Catalog) {
    let managed: Vec<QualifiedName> = catalog
        .tables
        .iter()
        .filter(|t| t.flags.partitioning.is_some() && t.partition_by.is_some())
        .map(Table::qualified_name)
        .collect();
    catalog.tables.retain(|t| {
        !t.partition_of
            .as_ref()
            .is_some_and(|p| managed.contains(&p.parent))
    });
}

/// Reads the chosen schemas into a catalog, with a note for everything left out.
///
/// All queries run in one transaction (a savepoint when `client` is already in one) that is
/// rolled back at the end; `search_path` is set to `public` inside it only.
pub fn introspect_schemas(
    client: &mut impl GenericClient,
    schemas: &Schemas,
) -> Result<Introspection, IntrospectError> {
    let mut tx = client.transaction().map_err(query("BEGIN"))?;
    let selected = select_schemas(&mut tx, schemas)?;
    tx.execute("SELECT set_config('search_path', 'public', true)", &[])
        .map_err(query("set search_path"))?;
    let mut reader = Reader {
        tx: &mut tx,
        schemas: selected,
        catalog: Catalog::default(),
        notes: Vec::new(),
        types: HashMap::new(),
        tables: HashMap::new(),
        views: HashMap::new(),
        sequences: HashMap::new(),
    };
    reader.types()?;
    reader.namespaces()?;
    reader.extensions()?;
    reader.enums()?;
    reader.domains()?;
    reader.composite_types()?;
    reader.other_types()?;
    reader.functions()?;
    reader.relations()?;
    reader.columns()?;
    reader.sequences()?;
    reader.constraints()?;
    reader.indexes()?;
    reader.triggers()?;
    reader.view_definitions()?;
    reader.unmodelled()?;
    let Reader {
        mut catalog,
        mut notes,
        ..
    } = reader;
    drop_managed_partitions(&mut catalog);
    tx.rollback().map_err(query("ROLLBACK"))?;
    notes.sort();
    notes.dedup();
    Ok(Introspection { catalog, notes })
}

fn query(name: &'static str) -> impl Fn(postgres::Error) -> IntrospectError {
    move |error| IntrospectError::Query { query: name, error }
}

/// Schemas PostgreSQL keeps for itself.
const SYSTEM_SCHEMA: &str = "(n.nspname IN ('pg_catalog', 'information_schema', 'pg_toast')
     OR n.nspname LIKE 'pg\\_temp\\_%' OR n.nspname LIKE 'pg\\_toast\\_temp\\_%')";

/// The names of the schemas to read, sorted.
fn select_schemas(
    tx: &mut Transaction<'_>,
    schemas: &Schemas,
) -> Result<Vec<String>, IntrospectError> {
    match schemas {
        Schemas::All { except } => {
            let sql = format!(
                "SELECT n.nspname::text FROM pg_namespace n
                  WHERE NOT {SYSTEM_SCHEMA} AND NOT (n.nspname = ANY($1)) AND {}
                  ORDER BY 1",
                not_extension_member("pg_namespace", "n.oid")
            );
            let rows = tx
                .query(&sql, &[except])
                .map_err(query("list the schemas"))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        }
        Schemas::Only(names) | Schemas::Existing(names) => {
            let rows = tx
                .query(
                    "SELECT nspname::text FROM pg_namespace WHERE nspname = ANY($1)",
                    &[names],
                )
                .map_err(query("find the schemas"))?;
            let mut found: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            if let Schemas::Only(_) = schemas
                && let Some(missing) = names.iter().find(|n| !found.contains(n))
            {
                return Err(IntrospectError::NoSuchSchema(missing.clone()));
            }
            found.sort();
            Ok(found)
        }
    }
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

/// A row of `pg_type`, for resolving the types of columns, arguments and attributes.
#[derive(Debug, Clone)]
struct TypeRow {
    schema: String,
    name: String,
    typtype: String,
    category: String,
    element: u32,
    /// A domain's base type and its `format_type` spelling (with the domain's modifier).
    base: u32,
    base_formatted: String,
}

struct Reader<'a, 't> {
    tx: &'a mut Transaction<'t>,
    /// The schemas read, sorted.
    schemas: Vec<String>,
    catalog: Catalog,
    notes: Vec<String>,
    /// Every type of the database, by oid.
    types: HashMap<u32, TypeRow>,
    /// Table oid -> index into `catalog.tables`.
    tables: HashMap<u32, usize>,
    /// View oid -> index into `catalog.views`.
    views: HashMap<u32, usize>,
    /// Sequence oid -> index into `catalog.sequences`.
    sequences: HashMap<u32, usize>,
}

impl Reader<'_, '_> {
    /// Runs a query whose `$1` is the list of schemas read.
    fn rows(&mut self, name: &'static str, sql: &str) -> Result<Vec<Row>, IntrospectError> {
        self.tx.query(sql, &[&self.schemas]).map_err(query(name))
    }

    fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    /// Notes for what the catalog has no place for and a round trip through it therefore loses:
    /// collations of expression index keys, storage parameters of tables and indexes,
    /// comments on constraints, row level security and policies, privileges on schemas, default
    /// privileges, grant options and column privileges.
    fn unmodelled(&mut self) -> Result<(), IntrospectError> {
        const SHOWN: &str = "CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END";
        // An index is shown as `table.index`, as the other notes show it.
        const INDEX_SHOWN: &str = "CASE WHEN n.nspname = 'public' THEN t.relname::text
                                        ELSE n.nspname || '.' || t.relname END || '.' || c.relname";
        let read = format!(
            "n.nspname = ANY($1) AND {}",
            not_extension_member("pg_class", "c.oid")
        );
        let sql = format!(
            "SELECT 'index `' || {SHOWN} || '.' || ic.relname || '`: the collation `' || coll.collname
                    || '` of an expression key is not modelled (read without it)'
               FROM pg_index i
               JOIN pg_class ic ON ic.oid = i.indexrelid
               JOIN pg_class c ON c.oid = i.indrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               CROSS JOIN LATERAL unnest(i.indcollation::oid[], i.indkey::int2[]) k(coll, attnum)
               JOIN pg_collation coll ON coll.oid = k.coll
              -- 100 is the database's default collation.
              WHERE {read} AND k.attnum = 0 AND k.coll <> 0 AND k.coll <> 100
             UNION ALL
             SELECT CASE WHEN c.relkind = 'i' THEN 'index `' || {INDEX_SHOWN} || '`'
                         ELSE 'table `' || {SHOWN} || '`' END
                    || ': storage parameters (' || array_to_string(c.reloptions, ', ') || ') are not modelled'
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_index i ON i.indexrelid = c.oid
               LEFT JOIN pg_class t ON t.oid = i.indrelid
              WHERE {read} AND c.reloptions IS NOT NULL AND c.relkind IN ('r', 'p', 'm', 'i')
             UNION ALL
             SELECT 'constraint `' || {SHOWN} || '.' || con.conname || '`: its comment is not modelled'
               FROM pg_constraint con
               JOIN pg_description d ON d.objoid = con.oid AND d.classoid = 'pg_constraint'::regclass
               JOIN pg_class c ON c.oid = con.conrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE {read}
             UNION ALL
             SELECT 'table `' || {SHOWN} || '`: row level security ('
                    || CASE WHEN c.relrowsecurity AND c.relforcerowsecurity THEN 'ENABLE and FORCE'
                            WHEN c.relrowsecurity THEN 'ENABLE' ELSE 'FORCE' END
                    || ') is not modelled'
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE {read} AND (c.relrowsecurity OR c.relforcerowsecurity)
             UNION ALL
             SELECT 'policy `' || p.polname || '` on `' || {SHOWN} || '` is not modelled'
               FROM pg_policy p
               JOIN pg_class c ON c.oid = p.polrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE {read}
             UNION ALL
             SELECT 'table `' || {SHOWN} || '`: the grant option of `'
                    || CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END
                    || '` (' || string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type)
                    -- The owner's own entry has grant options only when granted them explicitly.
                    || CASE WHEN x.grantee = c.relowner
                            THEN ') is not modelled (the owner''s privileges are implicit)'
                            ELSE ') is not modelled (read as a plain grant)' END
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               CROSS JOIN LATERAL aclexplode(c.relacl) x
              WHERE {read} AND x.is_grantable
              GROUP BY n.nspname, c.relname, x.grantee, c.relowner
             UNION ALL
             SELECT 'column `' || {SHOWN} || '.' || a.attname || '`: its privileges are not modelled'
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND a.attacl IS NOT NULL
              WHERE {read} AND c.relkind IN ('r', 'p', 'v', 'm')
             UNION ALL
             SELECT 'schema `' || n.nspname || '`: its privileges (' || array_to_string(n.nspacl, ', ')
                    || ') are not modelled'
               FROM pg_namespace n
              WHERE n.nspname = ANY($1) AND n.nspacl IS NOT NULL
                AND n.nspacl IS DISTINCT FROM coalesce(
                    (SELECT ip.initprivs FROM pg_init_privs ip
                      WHERE ip.objoid = n.oid AND ip.classoid = 'pg_namespace'::regclass
                        AND ip.objsubid = 0),
                    acldefault('n', n.nspowner))
             UNION ALL
             SELECT 'default privileges of `' || pg_get_userbyid(d.defaclrole)::text || '`'
                    || coalesce(' in schema `' || n.nspname || '`', '')
                    || ' on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                                     WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types'
                                     ELSE 'schemas' END
                    || ' (' || array_to_string(d.defaclacl, ', ') || ') are not modelled'
               FROM pg_default_acl d
               LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
              WHERE d.defaclnamespace = 0 OR n.nspname = ANY($1)"
        );
        for row in self.rows("unmodelled properties", &sql)? {
            let text: String = row.get(0);
            self.note(text);
        }
        Ok(())
    }

    fn types(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT t.oid, n.nspname::text, t.typname::text, t.typtype::text,
                    t.typcategory::text, t.typelem, t.typbasetype,
                    coalesce(format_type(t.typbasetype, t.typtypmod), '')
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace";
        let rows = self.tx.query(sql, &[]).map_err(query("types"))?;
        for row in rows {
            self.types.insert(
                row.get(0),
                TypeRow {
                    schema: row.get(1),
                    name: row.get(2),
                    typtype: row.get(3),
                    category: row.get(4),
                    element: row.get(5),
                    base: row.get(6),
                    base_formatted: row.get(7),
                },
            );
        }
        Ok(())
    }

    /// The model type of type `oid`, spelled `formatted` by `format_type` (with the column's
    /// modifier): arrays by their element, enums, domains (with their base) and composite types
    /// (a table's row type too) by name, built-in types parsed from their spelling, anything else
    /// a named type.
    fn resolve(&self, oid: u32, formatted: &str) -> DataType {
        let Some(t) = self.types.get(&oid) else {
            return builtin(formatted);
        };
        if t.category == "A" && t.element != 0 {
            let element = formatted.strip_suffix("[]").unwrap_or(formatted);
            return DataType::Array(Box::new(self.resolve(t.element, element)));
        }
        let name = || QualifiedName::new(&t.schema, &t.name);
        match t.typtype.as_str() {
            "e" => DataType::Enum(name()),
            "d" => DataType::Domain {
                name: name(),
                base: Box::new(self.resolve(t.base, &t.base_formatted)),
            },
            "c" => DataType::Composite(name()),
            _ => builtin(formatted),
        }
    }

    fn namespaces(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT n.nspname::text, obj_description(n.oid, 'pg_namespace')
               FROM pg_namespace n
              WHERE n.nspname = ANY($1) AND n.nspname <> 'public'
              ORDER BY 1";
        for row in self.rows("schemas", sql)? {
            self.catalog.schemas.push(Schema {
                name: row.get(0),
                comment: row.get(1),
            });
        }
        Ok(())
    }

    fn extensions(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT e.extname::text, n.nspname::text
               FROM pg_extension e
               JOIN pg_namespace n ON n.oid = e.extnamespace
              WHERE n.nspname = ANY($1) AND e.extname <> 'plpgsql'
              ORDER BY 1";
        for row in self.rows("extensions", sql)? {
            self.catalog.extensions.push(Extension {
                name: row.get(0),
                schema: row.get(1),
                version: None,
            });
        }
        Ok(())
    }

    fn enums(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT n.nspname::text, t.typname::text,
                    coalesce(array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                             FILTER (WHERE e.enumlabel IS NOT NULL), '{{}}'::text[]),
                    obj_description(t.oid, 'pg_type')
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               LEFT JOIN pg_enum e ON e.enumtypid = t.oid
              WHERE n.nspname = ANY($1) AND t.typtype = 'e' AND {}
              GROUP BY t.oid, n.nspname, t.typname
              ORDER BY 1, 2",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("enum types", &sql)? {
            self.catalog.enums.push(EnumType {
                schema: row.get(0),
                name: row.get(1),
                values: row.get(2),
                comment: row.get(3),
            });
        }
        Ok(())
    }

    fn domains(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT t.oid, n.nspname::text, t.typname::text, t.typnotnull,
                    pg_get_expr(t.typdefaultbin, 0), obj_description(t.oid, 'pg_type'),
                    ARRAY(SELECT c.conname::text FROM pg_constraint c
                           WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname),
                    ARRAY(SELECT pg_get_expr(c.conbin, 0) FROM pg_constraint c
                           WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname)
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = ANY($1) AND t.typtype = 'd' AND {}
              ORDER BY 2, 3",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("domains", &sql)? {
            let oid: u32 = row.get(0);
            let base = match self.types.get(&oid) {
                Some(t) => self.resolve(t.base, &t.base_formatted),
                None => DataType::Unknown,
            };
            let default: Option<String> = row.get(4);
            let names: Vec<String> = row.get(6);
            let expressions: Vec<String> = row.get(7);
            let checks = names
                .into_iter()
                .zip(expressions)
                .map(|(name, expression)| CheckConstraint {
                    name,
                    expression: canonical(&expression),
                })
                .collect();
            self.catalog.domains.push(Domain {
                schema: row.get(1),
                name: row.get(2),
                base,
                nullable: !row.get::<_, bool>(3),
                default: default.as_deref().map(canonical),
                checks,
                comment: row.get(5),
            });
        }
        Ok(())
    }

    fn composite_types(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT n.nspname::text, t.typname::text, obj_description(t.oid, 'pg_type'),
                    ARRAY(SELECT a.attname::text FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum),
                    ARRAY(SELECT a.atttypid FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum),
                    ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum)
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
              WHERE n.nspname = ANY($1) AND t.typtype = 'c' AND {}
              ORDER BY 1, 2",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("composite types", &sql)? {
            let names: Vec<String> = row.get(3);
            let oids: Vec<u32> = row.get(4);
            let formatted: Vec<String> = row.get(5);
            let attributes = names
                .into_iter()
                .zip(oids.into_iter().zip(formatted))
                .map(|(name, (oid, formatted))| CompositeAttribute {
                    name,
                    data_type: self.resolve(oid, &formatted),
                })
                .collect();
            self.catalog.composite_types.push(CompositeType {
                schema: row.get(0),
                name: row.get(1),
                attributes,
                comment: row.get(2),
            });
        }
        Ok(())
    }

    fn other_types(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT n.nspname::text, t.typname::text,
                    CASE t.typtype WHEN 'r' THEN 'range type' ELSE 'base type' END
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = ANY($1) AND {}
                AND (t.typtype = 'r' OR (t.typtype = 'b' AND t.typcategory <> 'A'))
              ORDER BY 1, 2",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("other types", &sql)? {
            let (schema, name, kind): (String, String, String) =
                (row.get(0), row.get(1), row.get(2));
            self.note(format!(
                "{kind} `{}` is not modelled; columns of it are read as a named type",
                display_name(&schema, &name)
            ));
        }
        Ok(())
    }

    fn functions(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT n.nspname::text, p.proname::text, p.prokind::text, p.proretset,
                    p.prorettype, rt.typname::text, format_type(p.prorettype, NULL),
                    l.lanname::text, p.prosrc, p.probin,
                    -- prosqlbody (BEGIN ATOMIC bodies) exists from PostgreSQL 14 on.
                    (to_jsonb(p) ->> 'prosqlbody') IS NOT NULL,
                    pg_get_function_identity_arguments(p.oid),
                    coalesce(p.proallargtypes, p.proargtypes::oid[]),
                    ARRAY(SELECT format_type(a.t, NULL)
                            FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
                                 WITH ORDINALITY AS a(t, i)
                           ORDER BY a.i),
                    coalesce(p.proargmodes::text[], '{{}}'),
                    coalesce(p.proargnames, '{{}}'),
                    ARRAY(SELECT coalesce(pg_get_function_arg_default(p.oid, i), '')
                            FROM generate_series(1, coalesce(array_length(
                                 coalesce(p.proallargtypes, p.proargtypes::oid[]), 1), 0)) AS i),
                    p.prosecdef,
                    -- Who may call it besides the owner; a NULL ACL is the default (PUBLIC).
                    ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public'
                                      ELSE pg_get_userbyid(a.grantee)::text END
                            FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                           WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
                           ORDER BY 1),
                    p.oid
               FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               JOIN pg_language l ON l.oid = p.prolang
               JOIN pg_type rt ON rt.oid = p.prorettype
              WHERE n.nspname = ANY($1) AND {}
              ORDER BY 1, 2, 12",
            not_extension_member("pg_proc", "p.oid")
        );
        for row in self.rows("functions", &sql)? {
            let schema: String = row.get(0);
            let name: String = row.get(1);
            let kind: String = row.get(2);
            let returns_set: bool = row.get(3);
            let sql_body: bool = row.get(10);
            let identity_arguments: String = row.get(11);
            let shown = display_name(&schema, &name).into_owned();
            if matches!(kind.as_str(), "a" | "w") {
                self.note(format!(
                    "function `{shown}({identity_arguments})`: aggregates and window functions are not modelled"
                ));
                continue;
            }
            let types: Vec<u32> = row.get(12);
            let formatted: Vec<String> = row.get(13);
            let modes: Vec<String> = row.get(14);
            let names: Vec<String> = row.get(15);
            let defaults: Vec<String> = row.get(16);
            let mut arguments = Vec::new();
            for (i, (oid, formatted)) in types.iter().zip(&formatted).enumerate() {
                let mode = match modes.get(i).map(String::as_str) {
                    Some("o") => ArgumentMode::Out,
                    Some("b") => ArgumentMode::InOut,
                    Some("v") => ArgumentMode::Variadic,
                    Some("t") => ArgumentMode::Table,
                    _ => ArgumentMode::In,
                };
                arguments.push(FunctionArgument {
                    name: names.get(i).cloned().unwrap_or_default(),
                    data_type: self.resolve(*oid, formatted),
                    mode,
                    default: defaults
                        .get(i)
                        .filter(|d| !d.is_empty())
                        .map(|d| canonical(d)),
                });
            }
            let return_type: u32 = row.get(4);
            let return_name: String = row.get(5);
            let return_formatted: String = row.get(6);
            let table_columns: Vec<String> = arguments
                .iter()
                .filter(|a| a.mode == ArgumentMode::Table)
                .map(|a| format!("{} {}", model::ident::quote(&a.name), a.data_type))
                .collect();
            // As the replay records it: `TABLE(...)`, pseudo-types by name, `SETOF`.
            let returns = if kind == "p" {
                String::new()
            } else if !table_columns.is_empty() {
                format!("TABLE({})", table_columns.join(", "))
            } else {
                let text = if matches!(
                    return_name.as_str(),
                    "trigger" | "void" | "record" | "event_trigger" | "internal"
                ) {
                    return_name
                } else {
                    self.resolve(return_type, &return_formatted).to_string()
                };
                if returns_set {
                    format!("SETOF {text}")
                } else {
                    text
                }
            };
            let source: String = row.get(8);
            let library: Option<String> = row.get(9);
            // A SQL-standard body is kept parsed (`prosrc` is empty): PostgreSQL prints it back.
            let source = if sql_body {
                let oid: u32 = row.get(19);
                let printed: String = self
                    .tx
                    .query_one("SELECT pg_get_function_sqlbody($1)", &[&oid])
                    .map_err(query("function bodies"))?
                    .get(0);
                model::expr::canonical_sql_body(&printed)
            } else {
                source
            };
            self.catalog.functions.push(Function {
                schema,
                name,
                arguments,
                returns,
                language: row.get(7),
                // `AS 'library', 'symbol'` is replayed as the two joined.
                body: match library {
                    Some(library) => format!("{library}, {source}"),
                    None => source,
                },
                security_definer: row.get(17),
                sql_standard_body: sql_body,
                execute: row.get(18),
            });
        }
        Ok(())
    }

    fn relations(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.relispartition,
                    obj_description(c.oid, 'pg_class'),
                    -- Privileges of roles other than the owner, as `role:privilege`.
                    ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public'
                                      ELSE pg_get_userbyid(a.grantee)::text END
                                 || ':' || lower(a.privilege_type)
                            FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
                           WHERE a.grantee <> c.relowner),
                    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                    CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
                    ARRAY(SELECT pn.nspname::text FROM pg_inherits i
                            JOIN pg_class pc ON pc.oid = i.inhparent
                            JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                           WHERE i.inhrelid = c.oid ORDER BY i.inhseqno),
                    ARRAY(SELECT pc.relname::text FROM pg_inherits i
                            JOIN pg_class pc ON pc.oid = i.inhparent
                           WHERE i.inhrelid = c.oid ORDER BY i.inhseqno)
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {}
                -- An identity column's sequence belongs to the column.
                AND NOT (c.relkind = 'S' AND EXISTS (
                    SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                       AND d.objid = c.oid AND d.deptype = 'i'))
              ORDER BY 2, 3",
            not_extension_member("pg_class", "c.oid")
        );
        for row in self.rows("relations", &sql)? {
            let oid: u32 = row.get(0);
            let schema: String = row.get(1);
            let name: String = row.get(2);
            let kind: String = row.get(3);
            let comment: Option<String> = row.get(5);
            let shown = display_name(&schema, &name).into_owned();
            match kind.as_str() {
                "f" => {
                    self.note(format!("foreign table `{shown}` is not modelled"));
                    continue;
                }
                "S" => {
                    self.sequences.insert(oid, self.catalog.sequences.len());
                    self.catalog.sequences.push(Sequence {
                        schema,
                        name,
                        data_type: DataType::BigInt,
                        options: SequenceOptions::default(),
                        owned_by: None,
                    });
                    continue;
                }
                "v" | "m" => {
                    self.views.insert(oid, self.catalog.views.len());
                    self.catalog.views.push(View {
                        schema,
                        name,
                        materialized: kind == "m",
                        columns: Vec::new(),
                        query: String::new(),
                        indexes: Vec::new(),
                        comment,
                        depends_on: Vec::new(),
                    });
                    continue;
                }
                _ => {}
            }
            let acl: Vec<String> = row.get(6);
            let partition_key: Option<String> = row.get(7);
            let bound: Option<String> = row.get(8);
            let parent_schemas: Vec<String> = row.get(9);
            let parent_names: Vec<String> = row.get(10);
            let parents: Vec<QualifiedName> = parent_schemas
                .into_iter()
                .zip(parent_names)
                .map(|(s, n)| QualifiedName::new(s, n))
                .collect();
            let (comment, flags) = comment
                .as_deref()
                .map(parse_table_comment)
                .unwrap_or_default();
            let mut table = Table {
                comment,
                flags,
                ..Table::new(&schema, &name)
            };
            if let Some(key) = partition_key {
                match partition_by(&key) {
                    Some(p) => table.partition_by = Some(p),
                    None => self.note(format!(
                        "table `{shown}`: the partition key `{key}` is not modelled (operator classes or collations)"
                    )),
                }
            }
            match bound {
                Some(bound) => {
                    table.partition_of = parents.first().map(|parent| PartitionOf {
                        parent: parent.clone(),
                        bound,
                    });
                }
                None => table.inherits = parents,
            }
            for entry in &acl {
                let Some((role, privilege)) = entry.rsplit_once(':') else {
                    continue;
                };
                match Privilege::parse(privilege) {
                    Some(p) => table.set_privileges(role, &[p], true),
                    None => self.note(format!(
                        "table `{shown}`: privilege `{privilege}` of `{role}` is not modelled"
                    )),
                }
            }
            self.tables.insert(oid, self.catalog.tables.len());
            self.catalog.tables.push(table);
        }
        Ok(())
    }

    fn table_mut(&mut self, oid: u32) -> Option<&mut Table> {
        let i = *self.tables.get(&oid)?;
        self.catalog.tables.get_mut(i)
    }

    fn table_name(&self, oid: u32) -> Option<String> {
        let i = *self.tables.get(&oid)?;
        self.catalog
            .tables
            .get(i)
            .map(|t| t.display_name().into_owned())
    }

    fn columns(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT a.attrelid, a.attname::text, a.atttypid, format_type(a.atttypid, a.atttypmod),
                    a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
                    col_description(a.attrelid, a.attnum), a.attidentity::text,
                    a.attgenerated::text,
                    a.attcollation <> 0 AND a.attcollation <> t.typcollation,
                    s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm')
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_type t ON t.oid = a.atttypid
               LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
               -- The sequence of an identity column.
               LEFT JOIN pg_depend dep ON a.attidentity <> ''
                    AND dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
                    AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i'
               LEFT JOIN pg_sequence s ON s.seqrelid = dep.objid
              WHERE n.nspname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attrelid, a.attnum";
        for row in self.rows("columns", sql)? {
            let oid: u32 = row.get(0);
            let name: String = row.get(1);
            let data_type = self.resolve(row.get(2), &row.get::<_, String>(3));
            if let Some(&view) = self.views.get(&oid) {
                self.catalog.views[view]
                    .columns
                    .push(ViewColumn { name, data_type });
                continue;
            }
            let Some(table_name) = self.table_name(oid) else {
                continue;
            };
            let object = format!("column `{table_name}.{name}`");
            let not_null: bool = row.get(4);
            let expression: Option<String> = row.get(5);
            let comment: Option<String> = row.get(6);
            let identity: String = row.get(7);
            let generated: String = row.get(8);
            let collated: bool = row.get(9);
            let (default, generated) = if generated.trim().is_empty() {
                (expression.as_deref().map(canonical), None)
            } else {
                (None, expression.as_deref().map(canonical))
            };
            let identity = match identity.as_str() {
                "a" | "d" => {
                    let options = SequenceOptions {
                        start: row.get(10),
                        increment: row.get(11),
                        min_value: row.get(12),
                        max_value: row.get(13),
                        cache: row.get(14),
                        cycle: row.get::<_, Option<bool>>(15).unwrap_or(false),
                    };
                    Some(Identity {
                        always: identity == "a",
                        options: options.without_defaults(&data_type),
                    })
                }
                _ => None,
            };
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
                    identity,
                    generated,
                    comment,
                    sensitivity,
                    ..Column::new(name, data_type)
                });
            }
        }
        Ok(())
    }

    /// Each sequence's type, options and owning column.
    fn sequences(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT s.seqrelid, s.seqtypid, format_type(s.seqtypid, NULL),
                    s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                    tn.nspname::text, tc.relname::text, ta.attname::text
               FROM pg_sequence s
               JOIN pg_class c ON c.oid = s.seqrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
               LEFT JOIN pg_class tc ON tc.oid = d.refobjid
               LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
               LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
              WHERE n.nspname = ANY($1)";
        for row in self.rows("sequences", sql)? {
            let oid: u32 = row.get(0);
            let Some(&at) = self.sequences.get(&oid) else {
                continue;
            };
            let data_type = self.resolve(row.get(1), &row.get::<_, String>(2));
            let options = SequenceOptions {
                start: Some(row.get(3)),
                increment: Some(row.get(4)),
                min_value: Some(row.get(5)),
                max_value: Some(row.get(6)),
                cache: Some(row.get(7)),
                cycle: row.get(8),
            }
            .without_defaults(&data_type);
            let owner: (Option<String>, Option<String>, Option<String>) =
                (row.get(9), row.get(10), row.get(11));
            let sequence = &mut self.catalog.sequences[at];
            sequence.data_type = data_type;
            sequence.options = options;
            if let (Some(schema), Some(table), Some(column)) = owner {
                sequence.owned_by = Some(SequenceOwner {
                    table: QualifiedName::new(schema, table),
                    column,
                });
            }
        }
        Ok(())
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
                    pg_get_expr(con.conbin, con.conrelid), pg_get_constraintdef(con.oid),
                    con.conparentid <> 0, con.conislocal, c.relispartition
               FROM pg_constraint con
               JOIN pg_class c ON c.oid = con.conrelid AND c.relkind IN ('r', 'p')
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_class rc ON rc.oid = con.confrelid
               LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
              WHERE n.nspname = ANY($1)
              ORDER BY con.conrelid, con.conname";
        for row in self.rows("constraints", sql)? {
            let oid: u32 = row.get(0);
            let Some(table_name) = self.table_name(oid) else {
                continue;
            };
            let name: String = row.get(1);
            let kind: String = row.get(2);
            let columns: Vec<String> = row.get(3);
            let definition: String = row.get(10);
            let cloned: bool = row.get(11);
            let local: bool = row.get(12);
            let partition: bool = row.get(13);
            // What a partitioned table's keys, foreign keys and checks put on its partitions
            // belongs to the partitioned table.
            if cloned || (partition && !local) {
                continue;
            }
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
                // Read with the indexes: the model holds an exclusion constraint as its index.
                "x" => self.note(format!(
                    "{object}: the operators of exclusion constraints are not modelled; read as its index (`{definition}`)"
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
                    pg_get_expr(i.indpred, i.indrelid), i.indisvalid,
                    pg_get_indexdef(i.indexrelid),
                    ARRAY(SELECT CASE WHEN oc.opcdefault AND (oc.opcintype = a.atttypid OR NOT EXISTS (
                                          SELECT 1 FROM pg_opclass d
                                           WHERE d.opcmethod = oc.opcmethod AND d.opcdefault
                                             AND d.opcintype = a.atttypid))
                                      THEN '' ELSE oc.opcname::text END
                            FROM unnest(i.indclass::oid[], i.indkey::int2[]) WITH ORDINALITY k(opc, attnum, ord)
                            JOIN pg_opclass oc ON oc.oid = k.opc
                            LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                           ORDER BY k.ord),
                    ARRAY(SELECT CASE WHEN k.attnum = 0
                                      THEN pg_get_indexdef(i.indexrelid, k.ord::int4, true)
                                      ELSE '' END
                            FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                           ORDER BY k.ord),
                    EXISTS (SELECT 1 FROM pg_constraint con
                             WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                               AND con.contype = 'x'),
                    -- A key column's collation when it is not the column's own.
                    ARRAY(SELECT CASE WHEN k.attnum > 0 AND k.coll <> 0
                                           AND k.coll <> a.attcollation
                                      THEN coll.collname::text ELSE '' END
                            FROM unnest(i.indcollation::oid[], i.indkey::int2[])
                                 WITH ORDINALITY k(coll, attnum, ord)
                            LEFT JOIN pg_attribute a
                                   ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                            LEFT JOIN pg_collation coll ON coll.oid = k.coll
                           ORDER BY k.ord)
               FROM pg_index i
               JOIN pg_class ic ON ic.oid = i.indexrelid
               JOIN pg_class c ON c.oid = i.indrelid AND c.relkind IN ('r', 'p', 'm')
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_am am ON am.oid = ic.relam
              WHERE n.nspname = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                                 WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                                   AND con.contype IN ('p', 'u'))
                -- A partition's part of a partitioned table's index belongs to that index.
                AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid)
              ORDER BY i.indrelid, ic.relname";
        // Column names by (relation oid, attnum).
        let mut names: HashMap<(u32, i16), String> = HashMap::new();
        let attributes = "SELECT a.attrelid, a.attnum, a.attname::text
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'm')
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped";
        for row in self.rows("index columns", attributes)? {
            names.insert((row.get(0), row.get(1)), row.get(2));
        }
        for row in self.rows("indexes", sql)? {
            let oid: u32 = row.get(0);
            let relation = match (self.table_name(oid), self.views.get(&oid)) {
                (Some(name), _) => name,
                (None, Some(&v)) => self.catalog.views[v]
                    .qualified_name()
                    .display()
                    .into_owned(),
                (None, None) => continue,
            };
            let name: String = row.get(1);
            let method_name: String = row.get(2);
            let unique: bool = row.get(3);
            let key_count = usize::try_from(row.get::<_, i32>(4)).unwrap_or(0);
            let attnums: Vec<i16> = row.get(5);
            let options: Vec<i16> = row.get(6);
            let predicate: Option<String> = row.get(7);
            let valid: bool = row.get(8);
            let opclasses: Vec<String> = row.get(10);
            let expressions: Vec<String> = row.get(11);
            let exclusion: bool = row.get(12);
            let collations: Vec<String> = row.get(13);
            let object = format!("index `{relation}.{name}`");
            let method = IndexMethod::of_sql(&method_name);
            if method == IndexMethod::Other {
                self.note(format!(
                    "{object}: read with an extension's index method; the name `{method_name}` is not modelled"
                ));
            }
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
                let opclass = opclasses.get(k).filter(|o| !o.is_empty()).cloned();
                keys.push(if attnum == 0 {
                    IndexKey {
                        column: String::new(),
                        expression: expressions.get(k).map(|e| canonical(e)),
                        opclass,
                        collation: None,
                        descending,
                    }
                } else {
                    IndexKey {
                        opclass,
                        collation: collations.get(k).filter(|c| !c.is_empty()).cloned(),
                        descending,
                        ..IndexKey::on(column(attnum))
                    }
                });
            }
            let include = attnums.iter().skip(key_count).map(|&a| column(a)).collect();
            let index = Index {
                name,
                method,
                unique: unique && !exclusion,
                keys,
                include,
                predicate: predicate.as_deref().map(canonical),
            };
            if let Some(table) = self.table_mut(oid) {
                table.indexes.push(index);
            } else if let Some(&v) = self.views.get(&oid) {
                self.catalog.views[v].indexes.push(index);
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
                    tg.tgconstraint <> 0, tg.tgenabled::text, pg_get_triggerdef(tg.oid),
                    c.relkind IN ('v', 'm'), n.nspname::text, c.relname::text
               FROM pg_trigger tg
               JOIN pg_class c ON c.oid = tg.tgrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_proc p ON p.oid = tg.tgfoid
               JOIN pg_namespace pn ON pn.oid = p.pronamespace
              WHERE n.nspname = ANY($1) AND NOT tg.tgisinternal
                -- A partitioned table's trigger, as each partition has it, is the table's.
                AND tg.tgparentid = 0
              ORDER BY tg.tgrelid, tg.tgname";
        for row in self.rows("triggers", sql)? {
            let oid: u32 = row.get(0);
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
            let on_view: bool = row.get(11);
            let relation =
                display_name(&row.get::<_, String>(12), &row.get::<_, String>(13)).into_owned();
            let object = format!("trigger `{relation}.{name}`");
            let unmodelled = if on_view || tgtype & INSTEAD != 0 {
                Some("triggers on views are")
            } else if nargs != 0 || columns || when {
                Some("trigger arguments, column lists and WHEN conditions are")
            } else if constraint {
                Some("constraint triggers are")
            } else {
                None
            };
            if let Some(why) = unmodelled {
                self.note(format!(
                    "{object}: {why} not modelled; left out (`{definition}`)"
                ));
                continue;
            }
            if self.table_name(oid).is_none() {
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

    /// Each view's query and the tables and views it reads.
    fn view_definitions(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT c.oid, pg_get_viewdef(c.oid),
                    ARRAY(SELECT DISTINCT rn.nspname::text || '.' || rc.relname::text
                            FROM pg_rewrite r
                            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                 AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
                            JOIN pg_class rc ON rc.oid = d.refobjid
                            JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                           WHERE r.ev_class = c.oid
                           ORDER BY 1)
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY($1) AND c.relkind IN ('v', 'm')";
        for row in self.rows("view definitions", sql)? {
            let oid: u32 = row.get(0);
            let Some(&at) = self.views.get(&oid) else {
                continue;
            };
            let definition: Option<String> = row.get(1);
            let depends_on: Vec<String> = row.get(2);
            let view = &mut self.catalog.views[at];
            view.query = canonical_statement(definition.as_deref().unwrap_or_default());
            view.depends_on = depends_on
                .iter()
                .filter_map(|q| q.split_once('.'))
                .map(|(schema, name)| QualifiedName::new(schema, name))
                .collect();
        }
        Ok(())
    }
}

/// A built-in type from its `format_type` spelling; one the model has no variant for (`point`,
/// an extension's `citext`, a range) is a named type with that spelling.
fn builtin(formatted: &str) -> DataType {
    DataType::parse(formatted, &|_| None).unwrap_or_else(|_| DataType::Other(formatted.to_string()))
}

/// `pg_get_partkeydef` (`RANGE (created_at)`, `LIST (lower(name))`, `HASH (a, ((a + b)))`) as
/// the replay records `PARTITION BY`: columns by name, expressions in parentheses. `None` for a
/// key with an operator class or collation.
fn partition_by(definition: &str) -> Option<PartitionBy> {
    let (strategy, rest) = definition.trim().split_once(' ')?;
    let strategy = match strategy {
        "RANGE" => PartitionStrategy::Range,
        "LIST" => PartitionStrategy::List,
        "HASH" => PartitionStrategy::Hash,
        _ => return None,
    };
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut keys = Vec::new();
    for item in split_top_level(inner) {
        let item = item.trim();
        if item.contains(" COLLATE ") {
            return None;
        }
        let plain = item
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if plain {
            keys.push(item.to_string());
        } else if let Some(quoted) = item.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
            keys.push(quoted.replace("\"\"", "\""));
        } else {
            let expression = unwrap_parentheses(item);
            keys.push(format!("({})", canonical(expression)));
        }
    }
    Some(PartitionBy { strategy, keys })
}

/// `text` without one pair of parentheses around all of it, if it has one.
fn unwrap_parentheses(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
        return text;
    };
    // `(a) + (b)` starts and ends with parentheses that do not enclose it all.
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return text;
        }
    }
    inner
}

/// `a, f(b, c), 'x,y'` split at the commas outside parentheses and quotes.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0, None::<char>);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_keys_as_the_replay_records_them() {
        let key = |text: &str| partition_by(text).map(|p| (p.strategy, p.keys));
        assert_eq!(
            key("RANGE (created_at)"),
            Some((PartitionStrategy::Range, vec!["created_at".to_string()]))
        );
        assert_eq!(
            key("LIST (lower(name))"),
            Some((PartitionStrategy::List, vec!["(lower(name))".to_string()]))
        );
        assert_eq!(
            key("HASH (a, ((a + b)), \"Odd\")"),
            Some((
                PartitionStrategy::Hash,
                vec!["a".to_string(), "(a + b)".to_string(), "Odd".to_string()]
            ))
        );
        assert_eq!(key("RANGE (name COLLATE \"C\")"), None);
        assert_eq!(
            split_top_level("a, f(b, c), 'x,y'"),
            ["a", " f(b, c)", " 'x,y'"]
        );
        assert_eq!(unwrap_parentheses("(a) + (b)"), "(a) + (b)");
    }
}
