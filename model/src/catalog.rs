//! The catalog: one in-memory model of a PostgreSQL schema.
//!
//! Every source loads into this type (`schema.yaml` today; replayed SQL migrations and a live
//! database later) and every output is produced from it (migration SQL, Rust structs, docs,
//! lint findings). It therefore holds the *resolved* schema, exactly as PostgreSQL would see it:
//! YAML conveniences such as `timestamps: true` or an automatic foreign-key index are already
//! expanded into the columns, triggers and indexes they stand for, and every constraint and index
//! carries its final name. Two catalogs describing the same database compare equal.

use crate::types::DataType;

/// A whole schema: enum types, trigger functions and tables, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalog {
    pub enums: Vec<EnumType>,
    pub functions: Vec<Function>,
    pub tables: Vec<Table>,
}

impl Catalog {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn enum_type(&self, name: &str) -> Option<&EnumType> {
        self.enums.iter().find(|e| e.name == name)
    }

    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// The same schema with every order that carries no meaning made canonical: enums, functions
    /// and tables by name, and each table's columns, constraints, indexes and triggers by name.
    /// Enum label order is kept: it is the sort order. Column order is not compared because
    /// PostgreSQL cannot change it (`ADD COLUMN` appends), so a column added later sits after the
    /// `timestamps` columns in the database but before them in `schema.yaml`. Compare catalogs
    /// from different sources through this.
    pub fn normalized(&self) -> Catalog {
        let mut c = self.clone();
        c.enums.sort_by(|a, b| a.name.cmp(&b.name));
        c.functions.sort_by(|a, b| a.name.cmp(&b.name));
        c.tables.sort_by(|a, b| a.name.cmp(&b.name));
        for t in &mut c.tables {
            t.columns.sort_by(|a, b| a.name.cmp(&b.name));
            t.uniques.sort_by(|a, b| a.name.cmp(&b.name));
            t.checks.sort_by(|a, b| a.name.cmp(&b.name));
            t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
            t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            t.triggers.sort_by(|a, b| a.name.cmp(&b.name));
        }
        c
    }

    /// Foreign keys of every table that point at `table`, with the table that holds each.
    pub fn incoming_foreign_keys<'a>(
        &'a self,
        table: &'a str,
    ) -> impl Iterator<Item = (&'a Table, &'a ForeignKey)> + 'a {
        self.tables.iter().flat_map(move |t| {
            t.foreign_keys
                .iter()
                .filter(move |fk| fk.ref_table == table)
                .map(move |fk| (t, fk))
        })
    }
}

/// `CREATE TYPE name AS ENUM (...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    pub name: String,
    /// Labels in their declared (and sort) order.
    pub values: Vec<String>,
    pub comment: Option<String>,
}

/// A PL/pgSQL function the schema owns, such as the `updated_at` trigger function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// The SQL return type, e.g. `trigger`.
    pub returns: String,
    pub language: String,
    /// The function body, without dollar quotes.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub comment: Option<String>,
    pub columns: Vec<Column>,
    pub primary_key: Option<PrimaryKey>,
    pub uniques: Vec<UniqueConstraint>,
    pub checks: Vec<CheckConstraint>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
    pub triggers: Vec<Trigger>,
    /// Properties PostgreSQL has no syntax for, carried in the table comment (see [`crate::annotations`]).
    pub flags: TableFlags,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// True when some valid, non-partial index (including the primary key and unique
    /// constraints) has exactly `columns` as its leading key columns, in any order within that
    /// prefix. This is the rule `fk-needs-index` enforces: such an index lets PostgreSQL find
    /// referencing rows without a sequential scan when the referenced row changes.
    pub fn has_index_leading_with(&self, columns: &[String]) -> bool {
        let leads = |keys: &[String]| {
            keys.len() >= columns.len() && columns.iter().all(|c| keys[..columns.len()].contains(c))
        };
        self.primary_key.iter().any(|pk| leads(&pk.columns))
            || self.uniques.iter().any(|u| leads(&u.columns))
            || self.indexes.iter().any(|ix| {
                ix.predicate.is_none()
                    && ix.method == IndexMethod::Btree
                    && leads(&ix.keys.iter().map(|k| k.column.clone()).collect::<Vec<_>>())
            })
    }

    /// True when a GIN index has `column` as one of its key columns.
    pub fn has_gin_index_on(&self, column: &str) -> bool {
        self.indexes
            .iter()
            .any(|ix| ix.method == IndexMethod::Gin && ix.keys.iter().any(|k| k.column == column))
    }
}

/// Table-level properties that PostgreSQL has no syntax for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableFlags {
    /// Rows are soft-deleted through a nullable `deleted_at` column.
    pub soft_delete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    /// A SQL expression, as written in the schema.
    pub default: Option<String>,
    pub comment: Option<String>,
    pub sensitivity: Sensitivity,
}

/// How sensitive a column's content is; drives audit scrubbing and compliance rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sensitivity {
    /// Personally identifiable information (GDPR): names, e-mail addresses, IP addresses.
    pub pii: bool,
    /// Protected health information (HIPAA): patient identifiers, clinical content.
    pub phi: bool,
}

impl Sensitivity {
    pub fn is_sensitive(self) -> bool {
        self.pii || self.phi
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueConstraint {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckConstraint {
    pub name: String,
    /// A boolean SQL expression.
    pub expression: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

/// The referential action of a foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FkAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl FkAction {
    pub const ALL: [FkAction; 5] = [
        FkAction::NoAction,
        FkAction::Restrict,
        FkAction::Cascade,
        FkAction::SetNull,
        FkAction::SetDefault,
    ];

    /// The SQL spelling, lower case (`set null`), also used in `schema.yaml`.
    pub fn as_sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "no action",
            FkAction::Restrict => "restrict",
            FkAction::Cascade => "cascade",
            FkAction::SetNull => "set null",
            FkAction::SetDefault => "set default",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let normal = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Self::ALL
            .into_iter()
            .find(|a| a.as_sql().eq_ignore_ascii_case(&normal))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub method: IndexMethod,
    pub unique: bool,
    pub keys: Vec<IndexKey>,
    /// Non-key columns stored in the index (`INCLUDE (...)`).
    pub include: Vec<String>,
    /// The predicate of a partial index (`WHERE ...`), a SQL expression.
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexKey {
    pub column: String,
    /// An explicit operator class such as `jsonb_path_ops`.
    pub opclass: Option<String>,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexMethod {
    #[default]
    Btree,
    Gin,
    Gist,
    Hash,
    Brin,
}

impl IndexMethod {
    pub const ALL: [IndexMethod; 5] = [
        IndexMethod::Btree,
        IndexMethod::Gin,
        IndexMethod::Gist,
        IndexMethod::Hash,
        IndexMethod::Brin,
    ];

    pub fn as_sql(self) -> &'static str {
        match self {
            IndexMethod::Btree => "btree",
            IndexMethod::Gin => "gin",
            IndexMethod::Gist => "gist",
            IndexMethod::Hash => "hash",
            IndexMethod::Brin => "brin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_sql().eq_ignore_ascii_case(text))
    }
}

/// A row-level trigger calling one of the catalog's functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub name: String,
    pub timing: TriggerTiming,
    pub events: Vec<TriggerEvent>,
    pub function: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerTiming {
    Before,
    After,
}

impl TriggerTiming {
    pub fn as_sql(self) -> &'static str {
        match self {
            TriggerTiming::Before => "BEFORE",
            TriggerTiming::After => "AFTER",
        }
    }
}

impl TriggerEvent {
    pub fn as_sql(self) -> &'static str {
        match self {
            TriggerEvent::Insert => "INSERT",
            TriggerEvent::Update => "UPDATE",
            TriggerEvent::Delete => "DELETE",
        }
    }
}

impl Trigger {
    /// The events as SQL writes them: `INSERT OR UPDATE`.
    pub fn events_sql(&self) -> String {
        self.events
            .iter()
            .map(|e| e.as_sql())
            .collect::<Vec<_>>()
            .join(" OR ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TriggerEvent {
    Insert,
    Update,
    Delete,
}
