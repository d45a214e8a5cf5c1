//! What the derive knows about a table, as data the statement builders read.

use postgres::Row;
use postgres::types::Type;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::page::KeysetKey;
use crate::{DataKey, RepoError};

/// A struct mapped to a table by `#[derive(Repository)]`. Implemented by the derive; the
/// generated methods are inherent methods of the struct and call into this crate with it.
pub trait Table: Sized {
    /// The table, its columns and their flags.
    const META: TableMeta;

    /// The keyset pagination key: `(sort_key, id)` or `(id,)`. Serializable, to be sealed
    /// into a [`crate::Cursor`].
    type Key: KeysetKey + Clone + Serialize + DeserializeOwned;

    /// The parameter type of each column, in [`TableMeta::columns`] order (built once).
    fn column_types() -> &'static ColumnTypes;

    /// Decodes a row whose columns are [`TableMeta::columns`], in that order, decrypting the
    /// encrypted ones with `data_key` (needed only when such a column holds a value).
    fn from_row(row: &Row, data_key: Option<&DataKey>) -> Result<Self, RepoError>;

    /// This row's primary key.
    fn id(&self) -> Uuid;

    /// This row's position in the listing order.
    fn key(&self) -> Self::Key;

    /// The position in the listing order of a row whose columns are [`TableMeta::columns`],
    /// read from its key columns alone (never encrypted): the cursor past a row that does not
    /// decrypt.
    fn row_key(row: &Row) -> Result<Self::Key, RepoError>;
}

/// A table as the statements see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableMeta {
    /// The table name (unquoted).
    pub table: &'static str,
    /// Every column, in the struct's field order.
    pub columns: &'static [ColumnMeta],
    /// The primary key column, a `uuid`.
    pub primary_key: &'static str,
    /// The nullable timestamp column of soft deletes, if the table has one.
    pub soft_delete: Option<&'static str>,
    /// The column listings are ordered by (then by the primary key), if not the key alone.
    pub sort_key: Option<&'static str>,
    /// The rows `hard_delete` also removes, through foreign keys with `ON DELETE CASCADE`
    /// (transitively): deleted explicitly by the same statement, each with its audit row.
    /// Grouped by table, every group after the groups of the tables its rows refer to.
    pub cascade: &'static [Cascade],
}

/// One foreign key with `ON DELETE CASCADE` on the way from a table to the rows its deletion
/// removes: rows of `table` whose `column` refers to a deleted row of `parent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cascade {
    /// The referring table (unquoted; `schema.table` outside `public`).
    pub table: &'static str,
    /// Its primary key, a `uuid`: the audit rows' `resource_id`.
    pub key: &'static str,
    /// The referring column.
    pub column: &'static str,
    /// The referred table: the repository's own or an earlier cascade's `table`.
    pub parent: &'static str,
}

impl TableMeta {
    /// True when some column holds PHI: then every read of the table is audited too.
    pub fn audits_reads(&self) -> bool {
        self.columns.iter().any(|c| c.phi)
    }

    /// The first encrypted column, if any: then reading or writing rows needs a [`DataKey`].
    pub fn first_encrypted(&self) -> Option<&ColumnMeta> {
        self.columns.iter().find(|c| c.encrypted)
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnMeta> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The parameter types of a table's columns, and which columns the statements return as
/// `text`: those of a type the client does not know by OID (an enum, whose OID differs per
/// database). The `postgres` crate would look such a type up in `pg_type` when the result
/// arrives, which, after a statement that failed in a transaction, fails itself (25P02) and
/// hides the real error; as text, nothing is looked up, and the field decodes the label.
#[derive(Debug)]
pub struct ColumnTypes {
    types: Vec<Type>,
    as_text: Vec<bool>,
}

impl ColumnTypes {
    /// The types of every column, in order.
    pub fn new(types: Vec<Type>) -> Self {
        let as_text = types
            .iter()
            .map(|t| Type::from_oid(t.oid()).is_none())
            .collect();
        ColumnTypes { types, as_text }
    }

    /// The type of each column.
    pub fn types(&self) -> &[Type] {
        &self.types
    }

    /// For each column, whether it is returned as text.
    pub fn as_text(&self) -> &[bool] {
        &self.as_text
    }
}

/// One column of a [`TableMeta`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColumnMeta {
    /// The column name (unquoted).
    pub name: &'static str,
    /// Personally identifiable information: never written to the audit log in clear.
    pub pii: bool,
    /// Protected health information: never written to the audit log in clear, and reads of the
    /// table are audited.
    pub phi: bool,
    /// Stored encrypted (`enc:v1:...`, see [`crate::DataKey`]) and decrypted by the repository;
    /// also sensitive: the audit log gets a keyed hash of the stored (encrypted) text.
    pub encrypted: bool,
}

impl ColumnMeta {
    /// PII, PHI or encrypted: never in the audit log in clear.
    pub fn is_sensitive(&self) -> bool {
        self.pii || self.phi || self.encrypted
    }
}
