//! The catalog: one in-memory model of a PostgreSQL schema.
//!
//! Every source loads into this type (`schema.yaml` today; replayed SQL migrations and a live
//! database later) and every output is produced from it (migration SQL, Rust structs, docs,
//! lint findings). It therefore holds the *resolved* schema, exactly as PostgreSQL would see it:
//! YAML conveniences such as `timestamps: true` or an automatic foreign-key index are already
//! expanded into the columns, triggers and indexes they stand for, and every constraint and index
//! carries its final name. Two catalogs describing the same database compare equal.

use serde::{Deserialize, Serialize};

use crate::types::DataType;

/// A whole schema: enum types, trigger functions and tables, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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
            t.grants.sort_by(|a, b| a.role.cmp(&b.role));
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    pub name: String,
    /// Labels in their declared (and sort) order.
    pub values: Vec<String>,
    pub comment: Option<String>,
}

/// A function the schema owns: the `updated_at` trigger function, and the compliance functions
/// generated from the tables' declared properties (retention purge, erasure, export, consent
/// and append-only guards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub name: String,
    /// Named arguments in order; functions are identified by name alone (no overloading).
    pub arguments: Vec<FunctionArgument>,
    /// The SQL return type, e.g. `trigger`.
    pub returns: String,
    pub language: String,
    /// The function body, without dollar quotes.
    pub body: String,
    /// `SECURITY DEFINER`: runs with its owner's privileges (always with a pinned
    /// `search_path`), the one way roles without a privilege can use it in a controlled form.
    pub security_definer: bool,
    /// Who may call it (`EXECUTE`), sorted; [`PUBLIC`] stands for every role, which is
    /// PostgreSQL's default for a new function.
    pub execute: Vec<String>,
}

/// The grantee name of PostgreSQL's pseudo-role that every role belongs to.
pub const PUBLIC: &str = "public";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionArgument {
    pub name: String,
    /// The SQL type, canonical (see [`DataType`]).
    pub data_type: DataType,
}

impl Function {
    /// The argument types as `GRANT`, `REVOKE` and `DROP` identify the function: `(text, uuid)`.
    pub fn signature_types(&self) -> String {
        let types: Vec<String> = self
            .arguments
            .iter()
            .map(|a| a.data_type.to_string())
            .collect();
        format!("({})", types.join(", "))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Table privileges granted to roles, sorted by role; roles with none are absent.
    pub grants: Vec<Grant>,
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
                    && ix.keys.len() >= columns.len()
                    && columns
                        .iter()
                        .all(|c| ix.keys[..columns.len()].iter().any(|k| k.column == *c))
            })
    }

    /// True when a GIN index has `column` as one of its key columns.
    pub fn has_gin_index_on(&self, column: &str) -> bool {
        self.indexes
            .iter()
            .any(|ix| ix.method == IndexMethod::Gin && ix.keys.iter().any(|k| k.column == column))
    }
}

/// Table-level properties that PostgreSQL has no syntax for. The compliance properties are
/// enforced by generated functions and triggers; the flags record the declaration itself, so
/// docs and lint rules can read it back from a replayed or live schema.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableFlags {
    /// Rows are soft-deleted through a nullable `deleted_at` column.
    pub soft_delete: bool,
    /// Rows can be inserted but never updated, deleted or truncated, except expired rows by
    /// the retention purge.
    pub append_only: bool,
    /// Rows expire this long after a timestamp column and are deleted by the retention purge.
    pub retention: Option<Retention>,
    /// This table identifies data subjects (patients) by this column: erasure and export start
    /// from its rows.
    pub data_subject: Option<String>,
    /// What the right to erasure does to this table's rows of a data subject.
    pub erasure: Option<Erasure>,
    /// This column records whether the row's subject consented to processing.
    pub consent: Option<String>,
    /// Rows may only be written when the row this foreign-key column references has consent.
    pub requires_consent: Option<String>,
}

/// How long rows are kept: `period` after `column`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// A PostgreSQL interval literal in canonical form, e.g. `7 years`, `30 days`.
    pub period: String,
    /// The timestamp the period counts from; NULL never expires (e.g. `deleted_at`).
    pub column: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Erasure {
    /// Rows are deleted.
    Delete,
    /// PII/PHI columns are overwritten (NULL, their default, or an erased marker); the rest of
    /// the row, with no personal data left, stays for statistics and integrity.
    Anonymize,
}

impl Erasure {
    pub fn as_str(self) -> &'static str {
        match self {
            Erasure::Delete => "delete",
            Erasure::Anonymize => "anonymize",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Erasure::Delete, Erasure::Anonymize]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

/// Privileges on one table granted to one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub role: String,
    /// Sorted, without repeats.
    pub privileges: Vec<Privilege>,
}

/// A table privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Privilege {
    Select,
    Insert,
    Update,
    Delete,
    Truncate,
    References,
    Trigger,
}

impl Privilege {
    pub const ALL: [Privilege; 7] = [
        Privilege::Select,
        Privilege::Insert,
        Privilege::Update,
        Privilege::Delete,
        Privilege::Truncate,
        Privilege::References,
        Privilege::Trigger,
    ];

    /// The SQL keyword, lower case as `schema.yaml` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::Select => "select",
            Privilege::Insert => "insert",
            Privilege::Update => "update",
            Privilege::Delete => "delete",
            Privilege::Truncate => "truncate",
            Privilege::References => "references",
            Privilege::Trigger => "trigger",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(text))
    }

    /// PostgreSQL's one-letter code in an ACL (`aclitem`), for introspection.
    pub fn acl_code(self) -> char {
        match self {
            Privilege::Select => 'r',
            Privilege::Insert => 'a',
            Privilege::Update => 'w',
            Privilege::Delete => 'd',
            Privilege::Truncate => 'D',
            Privilege::References => 'x',
            Privilege::Trigger => 't',
        }
    }
}

impl Table {
    /// The privileges `role` holds on this table.
    pub fn privileges_of(&self, role: &str) -> &[Privilege] {
        self.grants
            .iter()
            .find(|g| g.role == role)
            .map_or(&[], |g| &g.privileges)
    }

    /// Adds (`grant`) or removes privileges of `role`, keeping [`Table::grants`] in its normal
    /// form: sorted by role, privileges sorted, no empty entries.
    pub fn set_privileges(&mut self, role: &str, privileges: &[Privilege], grant: bool) {
        let mut current: Vec<Privilege> = self.privileges_of(role).to_vec();
        if grant {
            current.extend_from_slice(privileges);
        } else {
            current.retain(|p| !privileges.contains(p));
        }
        current.sort();
        current.dedup();
        self.grants.retain(|g| g.role != role);
        if !current.is_empty() {
            let at = self.grants.partition_point(|g| g.role.as_str() < role);
            self.grants.insert(
                at,
                Grant {
                    role: role.to_string(),
                    privileges: current,
                },
            );
        }
    }
}

impl Function {
    /// Grants (`grant`) or revokes `EXECUTE` for `role`, keeping [`Function::execute`] sorted.
    pub fn set_execute(&mut self, role: &str, grant: bool) {
        self.execute.retain(|r| r != role);
        if grant {
            let at = self.execute.partition_point(|r| r.as_str() < role);
            self.execute.insert(at, role.to_string());
        }
    }
}

impl Catalog {
    /// Every role holding a privilege on a table or function of the schema (not [`PUBLIC`]),
    /// sorted. Roles are cluster-wide objects: the schema does not own them, it grants to them.
    pub fn roles(&self) -> Vec<&str> {
        let mut roles: Vec<&str> = self
            .tables
            .iter()
            .flat_map(|t| t.grants.iter().map(|g| g.role.as_str()))
            .chain(
                self.functions
                    .iter()
                    .flat_map(|f| f.execute.iter().map(String::as_str)),
            )
            .filter(|r| *r != PUBLIC)
            .collect();
        roles.sort_unstable();
        roles.dedup();
        roles
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sensitivity {
    /// Personally identifiable information (GDPR): names, e-mail addresses, IP addresses.
    pub pii: bool,
    /// Protected health information (HIPAA): patient identifiers, clinical content.
    pub phi: bool,
    /// Stored encrypted by the application (AES-256-GCM, `enc:v1:` text); a check constraint
    /// keeps plaintext out.
    pub encrypted: bool,
}

impl Sensitivity {
    pub fn is_sensitive(self) -> bool {
        self.pii || self.phi
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueConstraint {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckConstraint {
    pub name: String,
    /// A boolean SQL expression.
    pub expression: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
}

/// The referential action of a foreign key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexKey {
    pub column: String,
    /// An explicit operator class such as `jsonb_path_ops`.
    pub opclass: Option<String>,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// A trigger calling one of the catalog's functions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    pub timing: TriggerTiming,
    pub events: Vec<TriggerEvent>,
    /// `FOR EACH ROW`; otherwise `FOR EACH STATEMENT` (the only form `TRUNCATE` fires).
    pub for_each_row: bool,
    pub function: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
            TriggerEvent::Truncate => "TRUNCATE",
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TriggerEvent {
    Insert,
    Update,
    Delete,
    Truncate,
}
