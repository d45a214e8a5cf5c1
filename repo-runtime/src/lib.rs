//! Run-time support for `#[derive(Repository)]`: audited, typed table access over
//! [`postgres::GenericClient`] (a `Client` or a `Transaction`).
//!
//! The derive (re-exported here as [`Repository`]) generates, for a struct mapped to a table,
//! `insert`, `get`, `update`, `soft_delete`, `restore`, `hard_delete`, `list` and one
//! `find_by_<field>_containing` per JSONB field. Every write, and every read of a table with PHI,
//! is **one SQL statement**: the data change (or read) and its `audit_logs` row are two parts of
//! one data-modifying `WITH` query, so either both happen or neither does, in one round trip.
//!
//! - [`Actor`]: who acts. Every generated method takes one; there is no way to call them without.
//!   An actor is made from an [`AuditKey`], the HMAC key that replaces PII/PHI values by keyed
//!   hashes before they reach `audit_logs`.
//! - [`PageRequest`], [`Page`], [`Cursor`]: keyset pagination in a stable order.
//! - [`RepoError`]: what the methods return on failure.
//! - [`SqlType`]: the PostgreSQL parameter type of each field type. Implemented for the usual
//!   types; implement it (with [`enum_type`]) for your own PostgreSQL enums.
//!
//! See the `macros` crate for the attributes the derive accepts.

mod audit;
mod error;
mod exec;
mod page;
pub mod sql;
mod sql_type;
mod table;

pub use audit::{Actor, AuditKey, KeyError};
pub use error::RepoError;
pub use macros::Repository;
pub use page::{Cursor, KeysetKey, Page, PageRequest};
pub use sql_type::{SqlArrayElement, SqlType, enum_type};
pub use table::{ColumnMeta, Table, TableMeta};

/// The name of the audit table every audited statement writes to. Its columns are a contract:
/// `event_type` (an enum with `data_access`, `data_create`, `data_update`, `data_delete`),
/// `user_id`, `resource_type`, `resource_id` (uuid), `action`, `success`, `changes` and `details`
/// (jsonb).
pub const AUDIT_TABLE: &str = "audit_logs";

/// What the derive's expansion calls. Not a stable API: use the generated methods.
#[doc(hidden)]
pub mod __private {
    pub use crate::exec::{
        Values, explain_find_containing, find_containing, get, hard_delete, insert, list, restore,
        soft_delete, update,
    };
    pub use postgres::{Error, GenericClient, Row};
    pub use serde_json::Value;
    pub use uuid::Uuid;

    /// Fails to compile unless `T` implements [`crate::SqlType`]; the derive calls it once per
    /// field so that an unmapped type is reported at the field.
    pub const fn assert_sql_type<T: crate::SqlType + postgres::types::ToSql + Sync>() {}
}
