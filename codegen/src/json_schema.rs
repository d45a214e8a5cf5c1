//! The JSON Schema of `schema.yaml`, for editors (`generated/schema.schema.json`).
//!
//! The loader in `model::yaml` reads the YAML by hand to keep positions and report every problem
//! at once, so there are no serde types to derive a schema from. The types below exist only to
//! describe the format: they mirror docs/schema-format.md, their doc comments become the
//! `description`s an editor shows on hover, and a test checks that their keys are exactly the
//! key lists the loader accepts (`model::yaml::*_KEYS`), so the two cannot drift apart.
//!
//! The schema checks the shape (known keys, the right kinds of values, identifiers, index methods,
//! referential actions). Meaning (unknown types, references to missing tables) is left to the
//! loader, which names the line and column.

// The types are never built: they only carry a schema.
#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

/// Where `codegen` writes the schema, relative to the output directory.
pub const PATH: &str = "schema.schema.json";

/// A plain lower-case SQL identifier, as the loader requires for a role.
const IDENTIFIER_PATTERN: &str = "^[a-z_][a-z0-9_]*$";
/// Any PostgreSQL identifier, where a name stands alone (a column, a schema, a check, an index or
/// foreign key `name`): any text but an empty one or one holding a NUL character; in double
/// quotes (`""` for a quote inside) when it starts with a quote. At most 63 bytes, which the
/// loader checks (JSON Schema counts characters, not bytes).
const NAME_PATTERN: &str = "^[^\\u0000]+$";
/// A column's `references`: one to three parts (`table`, `table.column`, `schema.table`,
/// `schema.table.column`), each as in [`QUALIFIED_PATTERN`].
const REFERENCE_PATTERN: &str = r#"^\s*(?:(?:"(?:[^"\u0000]|"")+"|[^."\u0000]+)\s*\.\s*){0,2}(?:"(?:[^"\u0000]|"")+"|[^."\u0000]+)\s*$"#;
/// A table or enum name: `name` (in `public`) or `schema.name`, each part any identifier, in
/// double quotes when it holds a dot, white space or a quote (`"my.table"`, `auth."User"`).
const QUALIFIED_PATTERN: &str = r#"^\s*(?:(?:"(?:[^"\u0000]|"")+"|[^."\u0000]+)\s*\.\s*)?(?:"(?:[^"\u0000]|"")+"|[^."\u0000]+)\s*$"#;
/// An extension's name: lower-case letters, digits, `_` and `-`.
const EXTENSION_PATTERN: &str = "^[a-z0-9_-]+$";

/// The `schema.yaml` file: the whole database.
#[derive(JsonSchema)]
#[schemars(
    title = "schema.yaml",
    description = "The PostgreSQL schema as code: schemas, enum types and tables. Documented in docs/schema-format.md; `cargo run -p codegen` turns it into migrations and docs.",
    deny_unknown_fields
)]
struct SchemaFile {
    /// Schemas besides `public` (`CREATE SCHEMA`): a list of names, or a mapping of names to `{ comment }`. Tables and enums in them are written `schema.name`.
    schemas: Option<Schemas>,
    /// Extensions the schema needs (`CREATE EXTENSION IF NOT EXISTS`, in the first migration that has them): a list of names, or a mapping of names to `{ schema, version }`.
    extensions: Option<Extensions>,
    /// PostgreSQL enum types (`CREATE TYPE name AS ENUM`): each enum's name (`schema.name` outside public) and its labels, in sort order.
    #[schemars(extend("propertyNames" = qualified_names()))]
    enums: Option<BTreeMap<String, EnumLabels>>,
    /// Database roles the tables grant privileges to (NOLOGIN groups, created when missing; never dropped, since roles are cluster-wide).
    #[schemars(extend("propertyNames" = role_names()))]
    roles: Option<BTreeMap<String, Role>>,
    /// The tables, by name (`schema.name` for a table outside public; the schema must be declared under `schemas`). Columns are created in the order they are written.
    #[schemars(
        extend("propertyNames" = qualified_names(), "minProperties" = 1)
    )]
    tables: BTreeMap<String, Table>,
}

/// The schemas besides `public`.
#[derive(JsonSchema)]
#[serde(untagged)]
enum Schemas {
    /// Their names: `[storage, auth]`.
    Names(#[schemars(extend("uniqueItems" = true))] Vec<SchemaName>),
    /// Their names with settings: `{ storage: { comment: ... }, auth: }`.
    #[schemars(extend("propertyNames" = identifier_names()))]
    Settings(BTreeMap<String, SchemaValue>),
}

/// The extensions the schema needs.
#[derive(JsonSchema)]
#[serde(untagged)]
enum Extensions {
    /// Their names: `[pg_trgm, citext]`.
    Names(#[schemars(extend("uniqueItems" = true))] Vec<ExtensionName>),
    /// Their names with settings: `{ postgis: { schema: gis, version: "3.3.2" }, pg_trgm: }`.
    #[schemars(extend("propertyNames" = extension_names()))]
    Settings(BTreeMap<String, ExtensionValue>),
}

/// An extension's settings, or nothing (`pg_trgm:`).
#[derive(JsonSchema)]
#[serde(untagged)]
enum ExtensionValue {
    Spec(ExtensionSpec),
    Nothing(Nothing),
}

/// An extension's name as the server's extension directory has it (`uuid-ossp`).
#[derive(JsonSchema)]
#[schemars(inline)]
struct ExtensionName(
    #[schemars(regex(pattern = EXTENSION_PATTERN), length(min = 1, max = 63))] String,
);

/// An extension's settings.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ExtensionSpec {
    /// The schema its objects go to (`public`, or one declared under `schemas`); default `public`.
    #[schemars(regex(pattern = IDENTIFIER_PATTERN), length(max = 63))]
    schema: Option<String>,
    /// The version to install (`VERSION`; a change is `ALTER EXTENSION ... UPDATE TO`); default: the server's default version, whichever it is.
    #[schemars(length(min = 1))]
    version: Option<String>,
}

/// A schema's settings, or nothing (`auth:`).
#[derive(JsonSchema)]
#[serde(untagged)]
enum SchemaValue {
    Spec(SchemaSpec),
    Nothing(Nothing),
}

/// An empty value (`key:` alone). Spelled `enum: [null]` so that [`strip_null`], which removes
/// the `null` that optional fields would otherwise allow, leaves it.
struct Nothing;

impl JsonSchema for Nothing {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Nothing".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "enum": [null], "description": "No settings." })
    }
}

/// A schema's name: any identifier but `public` and the ones PostgreSQL reserves.
#[derive(JsonSchema)]
#[schemars(inline)]
struct SchemaName(#[schemars(regex(pattern = NAME_PATTERN))] String);

/// A schema's settings.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct SchemaSpec {
    /// `COMMENT ON SCHEMA`.
    comment: Option<String>,
}

/// A database role.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Role {
    /// Generated compliance functions this role may call: `purge_expired_data` (with any `retention`), `erase_data_subject` and `export_data_subject` (with a `data_subject`), `actor_state` (when `audit_logs.user_id` references a table: the audited repositories' actor check), `maintain_partitions` (with any `partitioning`).
    execute: Option<Vec<CallableFunction>>,
}

/// A generated function a role can be allowed to call.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum CallableFunction {
    PurgeExpiredData,
    EraseDataSubject,
    ExportDataSubject,
    ActorState,
    MaintainPartitions,
}

/// A table privilege: the names of [`model::Privilege`], which reads them.
struct TablePrivilege;

impl JsonSchema for TablePrivilege {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TablePrivilege".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names = model::Privilege::ALL.map(model::Privilege::as_str);
        schemars::json_schema!({
            "description": "A table privilege.",
            "enum": names,
            "type": "string",
        })
    }
}

/// How long rows are kept.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RetentionSpec {
    /// The period: a count and a unit (`7 years`, `90 days`, `6 months`, `2 weeks`).
    #[schemars(regex(pattern = r"^\s*[1-9][0-9]*\s+(day|week|month|year)s?\s*$"))]
    keep: String,
    /// The timestamp column the period counts from; rows where it is NULL never expire (e.g. `deleted_at`).
    #[schemars(regex(pattern = NAME_PATTERN))]
    column: String,
}

/// Range partitioning by time.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct PartitioningSpec {
    /// The `timestamptz` column rows are partitioned by: NOT NULL, and part of the primary key and of every unique constraint.
    #[schemars(regex(pattern = NAME_PATTERN))]
    column: String,
    /// The time one partition holds: a count and a unit (`1 month`, `7 days`, `1 week`, `1 year`). Bounds are aligned in UTC.
    #[schemars(regex(pattern = r"^\s*[1-9][0-9]*\s+(day|week|month|year)s?\s*$"))]
    interval: String,
    /// How many partitions after the current one exist at all times (created by the migration, then by `maintain_partitions`).
    #[schemars(range(min = 1, max = 1000), extend("default" = 3))]
    ahead: Option<u32>,
}

/// What the right to erasure does to a data subject's rows.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ErasureMode {
    /// The rows are deleted.
    Delete,
    /// Every PII/PHI column is cleared (NULL, its default or `[erased]`); the row stays, marked deleted.
    Anonymize,
}

/// The labels of an enum type, in sort order; each at most once.
#[derive(JsonSchema)]
#[schemars(inline, extend("uniqueItems" = true))]
struct EnumLabels(#[schemars(length(min = 1))] Vec<String>);

/// A table.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Table {
    /// `COMMENT ON TABLE`; shown in the generated docs.
    comment: Option<String>,
    /// The columns, by name, in order. A column is a type name alone (`name: text`) or a mapping.
    #[schemars(extend("propertyNames" = identifier_names(), "minProperties" = 1))]
    columns: BTreeMap<String, Column>,
    /// A composite primary key, as a list of columns. For a single column, mark the column `primary_key: true` instead (not both).
    #[schemars(length(min = 1))]
    primary_key: Option<Vec<String>>,
    /// Composite unique constraints, each a list of columns; named `<table>_<cols>_key`.
    unique: Option<Vec<ColumnList>>,
    /// `CHECK` constraints: each name (the constraint is named `<table>_<name>_check`) and its boolean SQL expression.
    #[schemars(extend("propertyNames" = identifier_names()))]
    checks: Option<BTreeMap<String, String>>,
    /// Composite foreign keys. A single-column foreign key is simpler as `references:` on the column.
    foreign_keys: Option<Vec<ForeignKey>>,
    /// Extra indexes. Foreign keys and JSONB columns get theirs without asking.
    indexes: Option<Vec<Index>>,
    /// Soft deletes: adds `deleted_at timestamptz NULL` and records the flag in the table comment.
    #[schemars(extend("default" = false))]
    soft_delete: Option<bool>,
    /// Adds `created_at` and `updated_at timestamptz NOT NULL DEFAULT now()`, and a `BEFORE UPDATE` trigger keeping `updated_at` current.
    #[schemars(extend("default" = false))]
    timestamps: Option<bool>,
    /// The table's previous name, when it was renamed: the next migration renames it (`ALTER TABLE ... RENAME`) instead of dropping it and creating a new one. Once a migration has made the rename, the hint has no further effect.
    #[schemars(regex(pattern = NAME_PATTERN))]
    renamed_from: Option<String>,
    /// Table privileges per role (declared under `roles`): `{ operator: [select, insert, update] }`. Roles not listed get nothing.
    grants: Option<BTreeMap<String, Vec<TablePrivilege>>>,
    /// Rows can be inserted, never updated, deleted or truncated (grants refuse it and a trigger enforces it, even for the owner); only the retention purge removes expired rows.
    #[schemars(extend("default" = false))]
    append_only: Option<bool>,
    /// Rows expire `keep` after `column` and are deleted by the generated `purge_expired_data(actor)`, which audits the counts.
    retention: Option<RetentionSpec>,
    /// This table identifies people (GDPR data subjects) by this text column: `erase_data_subject` and `export_data_subject` are generated and start from its rows.
    #[schemars(regex(pattern = NAME_PATTERN))]
    data_subject: Option<String>,
    /// What erasure does to a subject's rows in this table (the data-subject table, or one with a foreign key to it).
    erasure: Option<ErasureMode>,
    /// The column recording consent to processing: boolean, or an enum with the label `granted`.
    #[schemars(regex(pattern = NAME_PATTERN))]
    consent: Option<String>,
    /// A foreign-key column: rows can only be written while the referenced row has consent (a trigger enforces it).
    #[schemars(regex(pattern = NAME_PATTERN))]
    requires_consent: Option<String>,
    /// Range partitions by time (`{ column: timestamp, interval: 1 month, ahead: 3 }`): the table is `PARTITION BY RANGE`, the generated `maintain_partitions(actor)` creates partitions ahead and, when `retention` counts from the same column, drops whole partitions past it.
    partitioning: Option<PartitioningSpec>,
}

/// A list of column names.
#[derive(JsonSchema)]
#[schemars(inline)]
struct ColumnList(#[schemars(length(min = 1))] Vec<String>);

/// A column: a type name alone (`name: text`), or a mapping with `type` and options.
#[derive(JsonSchema)]
#[serde(untagged)]
enum Column {
    /// The column's type alone: `uuid`, `text`, `varchar(255)`, `integer`, `numeric(10,2)`, `timestamptz`, `jsonb`, an enum from `enums`, or `T[]`. The column is NOT NULL.
    Type(String),
    /// A column with options.
    Spec(Box<ColumnSpec>),
}

/// A column with options.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ColumnSpec {
    /// A PostgreSQL type (`uuid`, `text`, `varchar(255)`, `integer`, `bigint`, `numeric(10,2)`, `boolean`, `timestamptz`, `jsonb`, `inet`, ...), an enum from `enums` (`schema.name` outside public), or `T[]`. `serial`, `bigserial` and `smallserial` make an integer column that owns its sequence, as in PostgreSQL (no `default`, `nullable` or `identity` with them); `identity` is the SQL standard's way.
    #[serde(rename = "type")]
    data_type: String,
    /// Allow NULL.
    #[schemars(extend("default" = false))]
    nullable: Option<bool>,
    /// The default, a SQL expression parsed with PostgreSQL's parser: `now()`, `gen_random_uuid()`, `"'{}'::jsonb"`, `"0"`. For an enum column a bare label (`default: pending`) is accepted.
    default: Option<Scalar>,
    /// The single-column primary key (named `<table>_pkey`).
    #[schemars(extend("default" = false))]
    primary_key: Option<bool>,
    /// A unique constraint on this column (named `<table>_<col>_key`).
    #[schemars(extend("default" = false))]
    unique: Option<bool>,
    /// A foreign key: `table` (its primary key) or `table.column` (a unique column); outside public `schema.table` or `schema.table.column` (two parts name a table when the schema is declared). Types must match exactly.
    #[schemars(regex(pattern = REFERENCE_PATTERN))]
    references: Option<String>,
    /// What happens to this row when the referenced row is deleted.
    on_delete: Option<FkAction>,
    /// What happens to this row when the referenced key is updated.
    on_update: Option<FkAction>,
    /// `true` adds an index (GIN for jsonb and arrays, btree otherwise). `false` opts a JSONB column out of its automatic GIN index, only allowed when a GIN index on it is declared under `indexes`; a foreign-key column cannot opt out.
    index: Option<bool>,
    /// Personally identifiable information (GDPR). Stored as a tag at the end of the column comment.
    #[schemars(extend("default" = false))]
    pii: Option<bool>,
    /// Protected health information (HIPAA). Stored as a tag at the end of the column comment.
    #[schemars(extend("default" = false))]
    phi: Option<bool>,
    /// Stored encrypted by the repositories (AES-256-GCM, `enc:v1:` text, key from `DATA_ENCRYPTION_KEY`); a check constraint refuses plaintext. Needs `type: text` and `pii` or `phi`; cannot be indexed, unique or referenced.
    #[schemars(extend("default" = false))]
    encrypted: Option<bool>,
    /// `COMMENT ON COLUMN`; shown in the generated docs. It cannot end in a `[...]` tag list.
    comment: Option<String>,
    /// The column's previous name, when it was renamed: the next migration renames it (`ALTER TABLE ... RENAME COLUMN`) instead of dropping it and adding a new one. Once a migration has made the rename, the hint has no further effect.
    #[schemars(regex(pattern = NAME_PATTERN))]
    renamed_from: Option<String>,
    /// An identity column (`GENERATED ... AS IDENTITY`): `always`, `by default`, or a mapping with `generated` and sequence options. The column must be `smallint`, `integer` or `bigint`; it is NOT NULL and has no `default`.
    identity: Option<IdentitySpec>,
    /// A stored generated column (`GENERATED ALWAYS AS (expression) STORED`): the SQL expression computing it from the row's other columns. No `default`, no `identity`.
    generated: Option<String>,
}

/// How an identity column is generated.
#[derive(JsonSchema)]
#[serde(untagged)]
enum IdentitySpec {
    /// `always` or `by default`, with PostgreSQL's default sequence options.
    Mode(IdentityMode),
    /// The mode and sequence options; options left out are PostgreSQL's defaults.
    Options(IdentityOptions),
}

/// `GENERATED ALWAYS` refuses explicit values (unless `OVERRIDING SYSTEM VALUE`); `BY DEFAULT` takes them.
#[derive(JsonSchema)]
enum IdentityMode {
    #[serde(rename = "always")]
    Always,
    #[serde(rename = "by default")]
    ByDefault,
}

/// An identity's mode and sequence options.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct IdentityOptions {
    /// `always` or `by default`.
    generated: IdentityMode,
    /// The first value (default: `min` ascending, `max` descending).
    start: Option<i64>,
    /// The step (default 1; negative for a descending sequence).
    increment: Option<i64>,
    /// The smallest value (default 1 ascending, the type's minimum descending).
    min: Option<i64>,
    /// The largest value (default the type's maximum ascending, -1 descending).
    max: Option<i64>,
    /// How many values a session reserves at once (default 1).
    #[schemars(range(min = 1))]
    cache: Option<i64>,
    /// Start over at the other end instead of failing when the sequence runs out.
    #[schemars(extend("default" = false))]
    cycle: Option<bool>,
}

/// A SQL expression; a bare number or boolean is taken as written.
#[derive(JsonSchema)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Number(f64),
    Boolean(bool),
}

/// A referential action.
#[derive(JsonSchema)]
#[schemars(extend("default" = "no action"))]
enum FkAction {
    /// Refuse the change if referencing rows remain at the end of the statement (the default).
    #[serde(rename = "no action")]
    NoAction,
    /// Refuse the change immediately if referencing rows exist.
    #[serde(rename = "restrict")]
    Restrict,
    /// Delete (or update) the referencing rows too.
    #[serde(rename = "cascade")]
    Cascade,
    /// Set the referencing columns to NULL; the columns must be nullable.
    #[serde(rename = "set null")]
    SetNull,
    /// Set the referencing columns to their defaults.
    #[serde(rename = "set default")]
    SetDefault,
}

/// An index method.
#[derive(JsonSchema)]
#[schemars(extend("default" = "btree"))]
enum Method {
    /// B-tree: equality and range queries, sorting (the default).
    #[serde(rename = "btree")]
    Btree,
    /// GIN: jsonb containment and arrays.
    #[serde(rename = "gin")]
    Gin,
    /// GiST: geometric types, ranges, full text.
    #[serde(rename = "gist")]
    Gist,
    /// Hash: equality only.
    #[serde(rename = "hash")]
    Hash,
    /// BRIN: very large tables whose rows are physically ordered by the column.
    #[serde(rename = "brin")]
    Brin,
}

/// An index declared under `indexes`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Index {
    /// Key columns: `col`, `col DESC`, `col opclass` (e.g. `mesh_data jsonb_path_ops`), or with
    /// a collation before the operator class: `name COLLATE "C" text_pattern_ops DESC`.
    #[schemars(length(min = 1))]
    columns: Vec<String>,
    /// Non-key columns stored in the index (`INCLUDE`).
    include: Option<Vec<String>>,
    /// The index method.
    using: Option<Method>,
    /// A unique index (btree only).
    #[schemars(extend("default" = false))]
    unique: Option<bool>,
    /// A SQL predicate making this a partial index.
    #[serde(rename = "where")]
    predicate: Option<String>,
    /// The index name. Derived names are `<table>_<cols>_idx`, `<table>_<cols>_<method>_idx` for non-btree methods, `<table>_<cols>_uidx` for unique indexes; a partial index whose derived name another index of the table has gets it numbered (`_idx1`, `_idx2`, ...).
    #[schemars(regex(pattern = NAME_PATTERN))]
    name: Option<String>,
}

/// A (composite) foreign key declared under `foreign_keys`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ForeignKey {
    /// The referencing columns of this table.
    #[schemars(length(min = 1))]
    columns: Vec<String>,
    /// The referenced table (`schema.table` outside public).
    #[schemars(regex(pattern = QUALIFIED_PATTERN))]
    references: String,
    /// The referenced columns (default: the referenced table's primary key).
    ref_columns: Option<Vec<String>>,
    /// What happens to the referencing rows when the referenced row is deleted.
    on_delete: Option<FkAction>,
    /// What happens to the referencing rows when the referenced key is updated.
    on_update: Option<FkAction>,
    /// The constraint name (default `<table>_<cols>_fkey`).
    #[schemars(regex(pattern = NAME_PATTERN))]
    name: Option<String>,
}

/// The `propertyNames` of every mapping keyed by a name (columns, checks, schemas): any
/// identifier.
fn identifier_names() -> Value {
    serde_json::json!({ "pattern": NAME_PATTERN })
}

/// The `propertyNames` of `roles`: plain identifiers of at most 63 bytes.
fn role_names() -> Value {
    serde_json::json!({ "pattern": IDENTIFIER_PATTERN, "maxLength": 63 })
}

/// The `propertyNames` of the `extensions` mapping.
fn extension_names() -> Value {
    serde_json::json!({ "pattern": EXTENSION_PATTERN, "maxLength": 63 })
}

/// The `propertyNames` of the mappings keyed by table or enum names: `name` or `schema.name`.
fn qualified_names() -> Value {
    serde_json::json!({ "pattern": QUALIFIED_PATTERN })
}

/// The JSON Schema, as a JSON value.
pub fn schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut value = generator.into_root_schema_for::<SchemaFile>().to_value();
    strip_null(&mut value);
    if let Value::Object(root) = &mut value {
        root.insert(
            "$comment".to_string(),
            Value::String(
                "Generated by codegen from the Rust types in codegen/src/json_schema.rs: DO NOT EDIT. Run `cargo run -p codegen` to refresh it.".to_string(),
            ),
        );
    }
    value
}

/// The JSON Schema as the committed file: pretty-printed with sorted keys, so the text does not
/// depend on how `serde_json` happens to order maps.
pub fn render() -> String {
    let mut out = String::new();
    write_json(&schema(), 0, &mut out);
    out.push('\n');
    out
}

/// Optional fields are `Option`s, which schemars describes as "T or null". In `schema.yaml` an
/// absent key is the way to leave a value out and `null` is an error, so the null alternative is
/// removed everywhere.
fn strip_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".to_string(), only);
                }
            }
            if let Some(Value::Array(alternatives)) = map.get_mut("anyOf") {
                alternatives.retain(|a| a.get("type").is_none_or(|t| t != "null"));
                if alternatives.len() == 1 {
                    let only = alternatives.remove(0);
                    map.remove("anyOf");
                    if let Value::Object(inner) = only {
                        for (key, inner_value) in inner {
                            map.entry(key).or_insert(inner_value);
                        }
                    }
                }
            }
            for child in map.values_mut() {
                strip_null(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

fn write_json(value: &Value, depth: usize, out: &mut String) {
    let indent = |out: &mut String, depth: usize| out.push_str(&"  ".repeat(depth));
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("{\n");
            for (i, (key, item)) in entries.iter().enumerate() {
                indent(out, depth + 1);
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push_str(": ");
                write_json(item, depth + 1, out);
                if i + 1 < entries.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(out, depth);
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(out, depth + 1);
                write_json(item, depth + 1, out);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        scalar => out.push_str(&scalar.to_string()),
    }
}
