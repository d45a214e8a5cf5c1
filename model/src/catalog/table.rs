//! Tables: columns, keys, constraints, indexes, triggers, privileges and flags.

use serde::{Deserialize, Serialize};

use super::QualifiedName;
use crate::types::DataType;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub schema: String,
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
    /// `PARTITION BY`: a partitioned table, whose rows live in its partitions.
    pub partition_by: Option<PartitionBy>,
    /// `PARTITION OF parent FOR VALUES ...`: this table is a partition of `parent`.
    pub partition_of: Option<PartitionOf>,
    /// `INHERITS (...)`: the tables this one inherits columns and checks from, in order.
    pub inherits: Vec<QualifiedName>,
}

impl Table {
    /// An empty table: no columns, constraints or anything else yet.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Table {
            schema: schema.into(),
            name: name.into(),
            comment: None,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            triggers: Vec::new(),
            grants: Vec::new(),
            flags: TableFlags::default(),
            partition_by: None,
            partition_of: None,
            inherits: Vec::new(),
        }
    }

    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// Whether this is the table `name`.
    pub fn is(&self, name: &QualifiedName) -> bool {
        self.name == name.name && self.schema == name.schema
    }

    /// The name as SQL (see [`QualifiedName::sql`]).
    pub fn sql_name(&self) -> String {
        super::sql_name(&self.schema, &self.name)
    }

    /// The name for people (see [`QualifiedName::display`]).
    pub fn display_name(&self) -> std::borrow::Cow<'_, str> {
        super::display_name(&self.schema, &self.name)
    }

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
                    && columns.iter().all(|c| {
                        ix.keys[..columns.len()]
                            .iter()
                            .any(|k| k.expression.is_none() && k.column == *c)
                    })
            })
    }

    /// True when a GIN index has `column` as one of its key columns.
    pub fn has_gin_index_on(&self, column: &str) -> bool {
        self.indexes.iter().any(|ix| {
            ix.method == IndexMethod::Gin
                && ix
                    .keys
                    .iter()
                    .any(|k| k.expression.is_none() && k.column == column)
        })
    }
}

/// How a partitioned table spreads its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionBy {
    pub strategy: PartitionStrategy,
    /// The partition key: columns or expressions, as SQL.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartitionStrategy {
    Range,
    List,
    Hash,
}

impl PartitionStrategy {
    pub fn as_sql(self) -> &'static str {
        match self {
            PartitionStrategy::Range => "RANGE",
            PartitionStrategy::List => "LIST",
            PartitionStrategy::Hash => "HASH",
        }
    }
}

/// A partition's place: its parent and the rows it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// The bound as SQL: `FOR VALUES FROM (...) TO (...)`, `FOR VALUES IN (...)`, `DEFAULT`.
    pub bound: String,
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
    /// Range partitions by time, created ahead and dropped past the retention period by the
    /// generated maintenance function (the table is `PARTITION BY RANGE (column)`).
    pub partitioning: Option<Partitioning>,
}

/// `partitioning: { column: timestamp, interval: 1 month, ahead: 3 }`: one partition per
/// `interval` of `column`, `ahead` of them kept ready beyond the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partitioning {
    /// The `timestamptz` partition column (NOT NULL, part of the primary key).
    pub column: String,
    /// A period in canonical form (`1 month`, `7 days`, `1 year`).
    pub interval: String,
    /// How many partitions after the current one exist at all times.
    pub ahead: u32,
}

/// A partition interval as a whole number of days or of months, the units partition bounds are
/// aligned to (weeks are 7 days, years 12 months).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionStep {
    Days(u32),
    Months(u32),
}

impl Partitioning {
    /// The interval as days or months; `None` for a malformed interval (a hand-edited comment).
    pub fn step(&self) -> Option<PartitionStep> {
        let (count, unit) = self.interval.split_once(' ')?;
        let count: u32 = count.parse().ok().filter(|n| *n > 0)?;
        let unit = unit.strip_suffix('s').unwrap_or(unit);
        match unit {
            "day" => Some(PartitionStep::Days(count)),
            "week" => Some(PartitionStep::Days(count.checked_mul(7)?)),
            "month" => Some(PartitionStep::Months(count)),
            "year" => Some(PartitionStep::Months(count.checked_mul(12)?)),
            _ => None,
        }
    }
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
    /// A SQL expression, as written in the schema.
    pub default: Option<String>,
    /// `GENERATED ... AS IDENTITY`: values come from the column's own sequence.
    pub identity: Option<Identity>,
    /// `GENERATED ALWAYS AS (expression) STORED`: the expression, as SQL.
    pub generated: Option<String>,
    pub comment: Option<String>,
    pub sensitivity: Sensitivity,
}

impl Column {
    /// A nullable column without default, comment or flags.
    pub fn new(name: impl Into<String>, data_type: DataType) -> Self {
        Column {
            name: name.into(),
            data_type,
            nullable: true,
            default: None,
            identity: None,
            generated: None,
            comment: None,
            sensitivity: Sensitivity::default(),
        }
    }
}

/// An identity column's generation and its sequence's options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `ALWAYS` refuses explicit values unless `OVERRIDING SYSTEM VALUE`; `BY DEFAULT` takes them.
    pub always: bool,
    pub options: super::SequenceOptions,
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
    pub ref_table: QualifiedName,
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
    /// The indexed column; empty for an expression key.
    pub column: String,
    /// An expression key such as `lower(email)`, as SQL.
    pub expression: Option<String>,
    /// An explicit operator class such as `jsonb_path_ops`.
    pub opclass: Option<String>,
    /// A collation other than the column's (`COLLATE "C"`), by name.
    #[serde(default)]
    pub collation: Option<String>,
    pub descending: bool,
}

impl IndexKey {
    /// An ascending key on `column` with the default operator class.
    pub fn on(column: impl Into<String>) -> Self {
        IndexKey {
            column: column.into(),
            expression: None,
            opclass: None,
            collation: None,
            descending: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum IndexMethod {
    #[default]
    Btree,
    Gin,
    Gist,
    Hash,
    Brin,
    Spgist,
    /// An extension's method (`hnsw`, `ivfflat`, `bloom`, `rum`, ...): replayed and introspected
    /// schemas only.
    Other,
}

impl IndexMethod {
    /// The methods `schema.yaml` can name.
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
            IndexMethod::Spgist => "spgist",
            IndexMethod::Other => "other",
        }
    }

    /// One of [`IndexMethod::ALL`] by name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_sql().eq_ignore_ascii_case(text))
    }

    /// Any method by name, as SQL and PostgreSQL's catalog name it (an extension's is
    /// [`IndexMethod::Other`]).
    pub fn of_sql(text: &str) -> Self {
        if text.eq_ignore_ascii_case("spgist") {
            return IndexMethod::Spgist;
        }
        Self::parse(text).unwrap_or(IndexMethod::Other)
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
    pub function: QualifiedName,
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

/// Bits of PostgreSQL's `pg_trigger.tgtype`, which the parse tree of `CREATE TRIGGER` uses too
/// (its `timing` and `events`).
pub mod tgtype {
    pub const ROW: i32 = 1;
    pub const BEFORE: i32 = 1 << 1;
    pub const INSERT: i32 = 1 << 2;
    pub const DELETE: i32 = 1 << 3;
    pub const UPDATE: i32 = 1 << 4;
    pub const TRUNCATE: i32 = 1 << 5;
    pub const INSTEAD: i32 = 1 << 6;
}

impl TriggerTiming {
    /// `BEFORE` when `tgtype` has its bit, else `AFTER` (`INSTEAD OF` triggers are not modelled).
    pub fn from_tgtype(bits: i32) -> Self {
        if bits & tgtype::BEFORE != 0 {
            TriggerTiming::Before
        } else {
            TriggerTiming::After
        }
    }
}

impl TriggerEvent {
    /// The events whose bits `tgtype` has, in the order SQL writes them.
    pub fn from_tgtype(bits: i32) -> Vec<TriggerEvent> {
        [
            (tgtype::INSERT, TriggerEvent::Insert),
            (tgtype::UPDATE, TriggerEvent::Update),
            (tgtype::DELETE, TriggerEvent::Delete),
            (tgtype::TRUNCATE, TriggerEvent::Truncate),
        ]
        .into_iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, event)| event)
        .collect()
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
