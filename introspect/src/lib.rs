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
//! `model::yaml::write` writes an introspected catalog back as a `schema.yaml`.

mod objects;
mod relations;

use std::collections::HashMap;
use std::fmt;

use model::catalog::*;
use model::expr::canonical;
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
