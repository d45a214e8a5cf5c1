//! Run-time support for `#[derive(Repository)]`: audited, typed table access over any
//! [`postgres::GenericClient`] (a `Client` or a `Transaction`) or a [`Prepared`] connection
//! (statements prepared once per connection), both [`Executor`]s.
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
//! - [`connect`]: a connection from a libpq connection string (`DATABASE_URL`), with `sslmode` and
//!   `sslrootcert` (`sslmode=verify-full&sslrootcert=ca.pem` for an authenticated, encrypted one).
//! - [`SqlType`]: the PostgreSQL parameter type of each field type. Implemented for the usual
//!   types; implement it (with [`enum_type`]) for your own PostgreSQL enums.
//! - [`DataKey`]: the AES-256 key of the `#[repo(encrypted)]` columns, carried by an actor
//!   ([`Actor::with_data_key`]); [`decrypt_json_row`] decrypts a row read around the repository
//!   (a data export).
//!
//! See the `macros` crate for the attributes the derive accepts.
//!
//! # Encrypted columns
//!
//! A `String` or `Option<String>` field marked `#[repo(encrypted)]` is encrypted by the
//! application before it is bound to a statement and decrypted after its row is read: the
//! database only ever holds `enc:v1:` + base64(nonce || AES-256-GCM ciphertext || tag), with the
//! associated data `"<table>.<column>"` (see [`DataKey::encrypt`]). The column stays `text`; NULL
//! stays NULL. An encrypted column is also sensitive: the audit log gets a keyed hash of its
//! stored text (the ciphertext), never the value.
//!
//! ## Threat model
//!
//! The key lives only in the application (`DATA_ENCRYPTION_KEY`, [`DataKey::from_env`]); the
//! database never sees it nor the plaintext. So the plaintext is protected from whoever reads
//! the database but not the application's memory or environment:
//! - database dumps and backups, WAL archives, replicas and their disks;
//! - database administrators, and any role with `SELECT` on the table;
//! - SQL injection elsewhere in the application that reads the raw table;
//! - tampering: a changed ciphertext, or one copied into another row's column of another name or
//!   table, fails to authenticate ([`RepoError::Encryption`]) instead of decrypting to something
//!   else. (A ciphertext copied between two rows of the *same* column does decrypt: the
//!   associated data names the column, not the row.)
//!
//! It does **not** protect against:
//! - a compromised application host, or anyone who can read its environment: they hold the key;
//! - a caller of the repository with a keyed actor: the repository decrypts for it by design;
//! - metadata: which rows have a value (NULL is not encrypted), and the value's length (the
//!   ciphertext is the plaintext's length plus 28 bytes, base64-encoded);
//! - queries on the value: an encrypted column cannot be searched, sorted, indexed or compared
//!   in SQL (it cannot be a key, a sort key or a JSONB finder column). For the same reason an
//!   update that sets an encrypted field always lists it in the audit row's `changes`, even when
//!   the plaintext is the same: the comparison happens in the database, which sees two
//!   ciphertexts with different nonces. Telling them apart would need the old plaintext in the
//!   client first, i.e. a second round trip holding the row lock, which the one-statement design
//!   avoids.
//!
//! ## Key rotation
//!
//! Not provided: one key decrypts and encrypts everything. To rotate, one would add a format
//! `enc:v2:` whose values are encrypted with the new key (the version in the prefix naming the
//! key generation), have [`DataKey`] hold the new key for writing and the old one for reading
//! `enc:v1:` values, then re-encrypt the table in batches (read, decrypt with v1, write v2) until
//! `SELECT count(*) ... WHERE col LIKE 'enc:v1:%'` is zero, and only then retire the old key.
//! Because `v1` is the only version accepted now, a value written by a newer format is refused
//! ([`EncryptionFailure::NotEncrypted`]) rather than misread.

mod audit;
pub mod compliance;
mod crypto;
mod error;
mod exec;
mod executor;
mod page;
mod retry;
pub mod sql;
mod sql_type;
mod table;
mod texts;

pub use audit::{Actor, AuditKey, KeyError, MAX_REQUEST_ID, MAX_USER_AGENT};
pub use crypto::{DataKey, EncryptionFailure, PREFIX as ENCRYPTED_PREFIX, decrypt_json_row};
pub use error::{ActorRefusal, DatabaseError, RepoError, RequestError};
pub use exec::{check_data_key, check_data_key_async};

/// A job queue on a table with the queue columns (see [`sql::claim`]), e.g. `jobs`:
/// `queue::claim::<Job, _>(&mut client, actor)` takes the next runnable job exactly once however
/// many workers ask, `complete` and `fail` (with retry back-off) end it; each call one audited
/// statement. The `_async` forms run on an [`AsyncExecutor`].
pub mod queue {
    pub use crate::exec::{
        claim, claim_async, complete, complete_async, explain_claim, explain_claim_async, fail,
        fail_async,
    };
}
pub use executor::{AsyncExecutor, Connection, Executor, Prepared, PreparedTransaction};
pub use macros::Repository;
pub use page::{Cursor, KeysetKey, Order, Page, PageRequest, Unreadable};
/// Opens the connection the generated methods take, from a libpq connection string such as
/// `DATABASE_URL`, honouring `sslmode` (`disable` ... `verify-full`) and `sslrootcert` as libpq
/// does; the same function as the migration runner's (crate [`pgconn`], re-exported whole for
/// [`pgconn::ConnInfo`] and [`pgconn::SslMode`]).
pub use pgconn::{self, ConnectError, connect};
pub use retry::retry;
pub use sql_type::{SqlArrayElement, SqlType, enum_type};
pub use table::{Cascade, ColumnMeta, ColumnTypes, Table, TableMeta};

/// The name of the audit table every audited statement writes to. Its columns are a contract:
/// `id` (uuid, unique), `event_type` (an enum with `data_access`, `data_create`, `data_update`,
/// `data_delete`), `user_id`, `resource_type`, `resource_id` (uuid), `action`, `success`,
/// `changes` and `details` (jsonb), `ip_address` (inet), `user_agent` and `request_id` (text).
pub const AUDIT_TABLE: &str = "audit_logs";

/// The table of the users who act (the one `audit_logs.user_id` references). Its columns are a
/// contract: `id` (uuid), `is_active` (boolean) and `deleted_at` (nullable): only a user whose
/// row exists, is active and is not soft-deleted may act; every statement checks that itself,
/// through [`ACTOR_FUNCTION`].
pub const ACTOR_TABLE: &str = "users";

/// The function every statement checks its actor with: `actor_state(uuid) -> text`, `active`,
/// `inactive`, `deleted` or NULL for no such user. Generated with the compliance functions
/// (`SECURITY DEFINER` with a pinned `search_path`), so a role that may not read
/// [`ACTOR_TABLE`] (it holds PII; the `service` role) can still act; the roles that use the
/// repositories need `EXECUTE` on it (`roles: {r: {execute: [actor_state]}}` in `schema.yaml`).
pub const ACTOR_FUNCTION: &str = "actor_state";

/// The table of data key check values, one row per encrypted format: `format` (text, unique)
/// and `check_value` (text, [`DataKey::check_value`]). Every statement that reads or writes an
/// encrypted column compares the actor's key with it.
pub const KEY_CHECK_TABLE: &str = "encryption_keys";

/// The encrypted format the stored key check value belongs to ([`ENCRYPTED_PREFIX`] without
/// its colons): a key rotation would add a row for `enc:v2`.
pub const ENCRYPTED_FORMAT: &str = "enc:v1";

/// A new id for an audit row the repository writes: a time-ordered UUID (version 7, RFC 9562:
/// the Unix time in milliseconds, then random bits; ordered within this process), drawn here
/// rather than left to the column's `gen_random_uuid()` default.
///
/// Why: the audit table is append-only, kept for years, and every audited statement inserts
/// into it. A random id lands on a random leaf of its primary key index, found by a descent
/// from the root and, once the index outgrows memory, read from disk; a time-ordered one lands
/// on the rightmost leaf, which PostgreSQL keeps at hand for ascending inserts. On a local
/// socket the audited insert benchmark went from 0.77x to 0.80x a raw INSERT (medians of 9 and
/// 13 runs). PostgreSQL 15 has no `uuidv7()` (it arrives in 18), and building one in SQL cost
/// the server about what it saved.
///
/// Only audit rows: their time is no secret (the row holds it) and their ids stay inside. The
/// data tables keep random keys (`random_uuid`): a case's id travels in URLs and reports, and a
/// time-ordered one would carry the date the patient's case was opened, to the millisecond.
///
/// Rows written by other writers (the generated compliance functions, hand-written SQL) take the
/// column default, a random UUID: both kinds are unique alike, and neither order is a contract.
/// Order audit rows by `timestamp`.
pub fn audit_row_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// What the derive's expansion calls. Not a stable API: use the generated methods.
#[doc(hidden)]
pub mod __private {
    pub use crate::exec::{
        EncryptedText, Values, column, decrypt_column, explain_find_containing, explain_find_equal,
        fetch, find_containing, find_equal, get, hard_delete, insert, list, restore, soft_delete,
        update,
    };
    /// The async forms, under the blocking forms' names.
    pub mod asynchronous {
        pub use crate::exec::{
            explain_find_containing_async as explain_find_containing,
            explain_find_equal_async as explain_find_equal, fetch_async as fetch,
            find_containing_async as find_containing, find_equal_async as find_equal,
            get_async as get, hard_delete_async as hard_delete, insert_async as insert,
            list_async as list, restore_async as restore, soft_delete_async as soft_delete,
            update_async as update,
        };
    }
    pub use postgres::types::Type;
    pub use postgres::{Error, Row};
    pub use serde_json::Value;
    pub use uuid::Uuid;

    /// Fails to compile unless `T` implements [`crate::SqlType`]; the derive calls it once per
    /// field so that an unmapped type is reported at the field.
    pub const fn assert_sql_type<T: crate::SqlType + postgres::types::ToSql + Sync>() {}

    /// The parameter type of `T`, for [`crate::Table::column_types`].
    pub fn sql_type<T: crate::SqlType>() -> Type {
        T::sql_type()
    }

    /// A random (version 4) UUID from the operating system's generator, what PostgreSQL's
    /// `gen_random_uuid()` returns: the key of an insert that leaves a `random_uuid` key out.
    pub fn random_uuid() -> Uuid {
        Uuid::new_v4()
    }
}
