//! The error of every generated repository method, typed by what a caller does about it, and
//! free of row data.
//!
//! # What a service answers
//!
//! [`RepoError::http_status`] maps each error to the status an HTTP service should answer with:
//!
//! | error | status | why |
//! | --- | --- | --- |
//! | [`RepoError::NotFound`] | 404 Not Found | no such (live) row |
//! | [`RepoError::Conflict`] (23505, 23P01) | 409 Conflict | a unique or exclusion constraint: the value is taken |
//! | [`RepoError::ForeignKey`] (23503) | 409 Conflict | the row refers to a missing row, or other rows still refer to it ([`DatabaseError::table`] is the referring table) |
//! | [`RepoError::Retryable`] (40001, 40P01, 55P03) | 503 Service Unavailable | a serialization failure, deadlock or lock timeout: retry the whole transaction; answer 503 (with `Retry-After`) only once the retries are spent |
//! | [`RepoError::Database`], class 22 or 23502/23514 | 422 Unprocessable Content | the value breaks a check, a NOT NULL or a type's rules |
//! | [`RepoError::Database`], 42501 | 403 Forbidden | the database role may not do this (the grants of `schema.yaml`) |
//! | [`RepoError::Database`], class 08, 53, 57 | 503 Service Unavailable | connection lost, server out of resources, shutting down, statement timeout |
//! | [`RepoError::Database`], anything else | 500 Internal Server Error | |
//! | [`RepoError::InvalidRequest`], [`RepoError::EmptyPatch`] | 400 Bad Request | page size, cursor, filter or patch the caller sent |
//! | [`RepoError::ActorRefused`] | 403 Forbidden | the acting user is unknown, inactive or deleted |
//! | [`RepoError::Encryption`] | 500 Internal Server Error | a missing or wrong data key, or a damaged value: the server's fault, never the client's |
//!
//! # No row data
//!
//! PostgreSQL's error reports carry the row: `DETAIL: Key (email)=(...) already exists`,
//! `Failing row contains (...)`, a trigger's `RAISE` text, a value that does not parse. None of
//! it is kept: a [`DatabaseError`] holds the SQLSTATE, the server's primary message only where
//! PostgreSQL writes it without values (see [`DatabaseError::message`]), and the schema, table,
//! column, data type and constraint names. The original `postgres::Error` is not kept either, so
//! nothing in [`RepoError`]'s `Display`, `Debug` or `source()` chain can print what the row
//! held (what `anyhow` and `tracing` print).

use std::fmt;

use postgres::error::SqlState;
use uuid::Uuid;

use crate::EncryptionFailure;

/// Why a repository call failed. Nothing was changed and no audit row was written: the data
/// change and its audit row are one statement, and refusals ([`RepoError::ActorRefused`], a wrong
/// data key, [`RepoError::InvalidRequest`]) happen before anything is written. (One exception,
/// under [`RepoError::Encryption`]: a row read back that does not decrypt.)
#[derive(Debug)]
#[non_exhaustive]
pub enum RepoError {
    /// No row with this id, or none in the state the call needs (e.g. `update` of a
    /// soft-deleted row, `restore` of a live one).
    NotFound {
        /// The table searched.
        table: &'static str,
        /// The primary key asked for.
        id: Uuid,
    },
    /// A unique or exclusion constraint refused the row (SQLSTATE 23505, 23P01).
    Conflict(DatabaseError),
    /// A foreign key refused the change (23503): the row refers to a row that does not exist, or
    /// a row that other rows (of [`DatabaseError::table`]) still refer to was to be deleted.
    ForeignKey(DatabaseError),
    /// The transaction lost a race and was rolled back: serialization failure (40001), deadlock
    /// (40P01) or lock not available (55P03). Run the whole transaction again.
    Retryable(DatabaseError),
    /// Any other failure of the database or of the connection to it.
    Database(DatabaseError),
    /// `update` was given a patch with no field set: there is nothing to change or to audit.
    EmptyPatch {
        /// The table of the patch.
        table: &'static str,
    },
    /// The page or filter asked for cannot be served; nothing ran.
    InvalidRequest {
        /// The table listed.
        table: &'static str,
        /// What is wrong with the request.
        reason: RequestError,
    },
    /// The actor is not a live, active user (`users.is_active`, `users.deleted_at IS NULL`);
    /// checked by the statement itself, which then changes, reads and audits nothing.
    ActorRefused {
        /// The actor's user id.
        user_id: Uuid,
        /// Why it was refused.
        reason: ActorRefusal,
    },
    /// A value of an encrypted column (`#[repo(encrypted)]`) could not be encrypted or
    /// decrypted: the actor carries no data key, the data key is not the database's
    /// ([`EncryptionFailure::KeyMismatch`]), or a stored value is not in the `enc:v1:` format or
    /// does not authenticate (another key, copied from another column, tampered). Never carries
    /// the value.
    ///
    /// A missing or wrong key is found before anything is written. A stored value that does not
    /// decrypt is found after the statement, when its row is read back: for a read the
    /// `data_access` audit row stays (the access was attempted); for a write (whose `RETURNING`
    /// row holds the damaged value of another column) the change has been made: run it in a
    /// transaction to undo it.
    Encryption {
        /// The table.
        table: &'static str,
        /// The encrypted column.
        column: &'static str,
        /// The primary key of the row whose value does not decrypt; `None` when no row is to
        /// blame (no key, a wrong key, encrypting).
        row: Option<Uuid>,
        /// What went wrong.
        reason: EncryptionFailure,
    },
}

/// Why an actor was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActorRefusal {
    /// No user has this id.
    Unknown,
    /// The user is deactivated (`is_active` false).
    Inactive,
    /// The user is soft-deleted.
    Deleted,
}

impl fmt::Display for ActorRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActorRefusal::Unknown => "no user has this id",
            ActorRefusal::Inactive => "the user is inactive",
            ActorRefusal::Deleted => "the user is deleted",
        })
    }
}

/// What is wrong with a page or filter the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// `limit` is 0 or above [`crate::PageRequest::MAX_LIMIT`].
    PageSize {
        /// The limit asked for.
        limit: u32,
    },
    /// The cursor was not issued for this listing: another table or order, another audit key,
    /// or altered (cursors are sealed; see [`crate::Cursor`]).
    Cursor,
    /// A JSONB finder's filter is `{}` or `[]`, which every object or array contains: it would
    /// list every row.
    EmptyFilter {
        /// The JSONB column.
        column: &'static str,
    },
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::PageSize { limit } => write!(
                f,
                "a page holds 1 to {} rows, not {limit}",
                crate::page::MAX_LIMIT
            ),
            RequestError::Cursor => f.write_str("the cursor was not issued for this listing"),
            RequestError::EmptyFilter { column } => write!(
                f,
                "the filter on {column} is empty ({{}} or []): it would match every row"
            ),
        }
    }
}

/// A failure reported by PostgreSQL or by the client library, without row data: the SQLSTATE and
/// the names of what failed, never the values involved. (Boxed: every `Result` of the
/// repositories carries it, so it is one pointer wide.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseError(Box<Details>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Details {
    code: Option<SqlState>,
    message: String,
    schema: Option<String>,
    table: Option<String>,
    column: Option<String>,
    datatype: Option<String>,
    constraint: Option<String>,
}

/// SQLSTATE classes whose messages PostgreSQL itself writes from names (of tables, columns,
/// constraints, settings) and never from values. Class 22 (data exception) is missing on
/// purpose: its messages quote the input (`invalid input syntax for type uuid: "..."`).
const MESSAGE_CLASSES: [&str; 16] = [
    "08", "0A", "23", "25", "26", "28", "2D", "3B", "3D", "40", "42", "53", "54", "55", "57", "58",
];

impl DatabaseError {
    /// The SQLSTATE, for errors the server reported (`None` for the client's own: a lost
    /// connection, a value it could not decode).
    pub fn code(&self) -> Option<&SqlState> {
        self.0.code.as_ref()
    }

    /// What happened, without values: the server's primary message when PostgreSQL wrote it
    /// itself in a class whose messages name objects only (connection, integrity, transaction,
    /// access, resources, lock and operator errors) and not from inside a function (a trigger's
    /// `RAISE` text is the trigger author's, and may quote the row); otherwise the SQLSTATE's
    /// condition name. For the client's errors, its description without the underlying cause
    /// (which can quote a value it failed to decode).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The schema of the object involved, when the server names one.
    pub fn schema(&self) -> Option<&str> {
        self.0.schema.as_deref()
    }

    /// The table involved (for a foreign key violation, the referring table).
    pub fn table(&self) -> Option<&str> {
        self.0.table.as_deref()
    }

    /// The column involved.
    pub fn column(&self) -> Option<&str> {
        self.0.column.as_deref()
    }

    /// The data type involved.
    pub fn datatype(&self) -> Option<&str> {
        self.0.datatype.as_deref()
    }

    /// The constraint involved.
    pub fn constraint(&self) -> Option<&str> {
        self.0.constraint.as_deref()
    }

    /// An error of the client's own, described by `message` (which must hold no value).
    pub(crate) fn client(message: impl Into<String>) -> Self {
        DatabaseError(Box::new(Details {
            code: None,
            message: message.into(),
            schema: None,
            table: None,
            column: None,
            datatype: None,
            constraint: None,
        }))
    }

    /// `e` without anything that can hold row data.
    pub fn from_postgres(e: &postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            return DatabaseError::client(client_description(e));
        };
        let code = db.code().clone();
        let raised_by_server =
            db.where_().is_none() && MESSAGE_CLASSES.contains(&&code.code()[..2]);
        DatabaseError(Box::new(Details {
            message: if raised_by_server {
                db.message().to_owned()
            } else {
                condition_name(&code).to_owned()
            },
            code: Some(code),
            schema: db.schema().map(str::to_owned),
            table: db.table().map(str::to_owned),
            column: db.column().map(str::to_owned),
            datatype: db.datatype().map(str::to_owned),
            constraint: db.constraint().map(str::to_owned),
        }))
    }
}

/// The client error's own description, without its cause unless that is an I/O error (which
/// holds no data): `error deserializing column 3`, not `...: invalid variant "<value>"`.
fn client_description(e: &postgres::Error) -> String {
    let full = e.to_string();
    match std::error::Error::source(e) {
        Some(cause) if cause.downcast_ref::<std::io::Error>().is_none() => full
            .strip_suffix(&format!(": {cause}"))
            .map_or_else(|| "client error".to_owned(), str::to_owned),
        _ => full,
    }
}

/// A readable name for the SQLSTATEs whose message is not kept.
fn condition_name(code: &SqlState) -> &'static str {
    match code.code() {
        "40001" => return "serialization failure",
        "40P01" => return "deadlock detected",
        "55P03" => return "lock not available",
        _ => {}
    }
    match &code.code()[..2] {
        "22" => "data exception",
        "23" => "integrity constraint violation",
        "P0" => "raised by a PL/pgSQL function",
        "XX" => "internal error",
        _ => "database error",
    }
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        let mut context = Vec::new();
        if let Some(code) = &self.0.code {
            context.push(format!("SQLSTATE {}", code.code()));
        }
        for (what, value) in [
            ("table", &self.0.table),
            ("column", &self.0.column),
            ("type", &self.0.datatype),
            ("constraint", &self.0.constraint),
        ] {
            if let Some(value) = value {
                context.push(format!("{what} {value}"));
            }
        }
        if !context.is_empty() {
            write!(f, " ({})", context.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for DatabaseError {}

impl RepoError {
    /// The SQLSTATE, when the database refused the statement.
    pub fn code(&self) -> Option<&SqlState> {
        self.database_error().and_then(DatabaseError::code)
    }

    /// The database's report, for the variants that carry one.
    pub fn database_error(&self) -> Option<&DatabaseError> {
        match self {
            RepoError::Conflict(e)
            | RepoError::ForeignKey(e)
            | RepoError::Retryable(e)
            | RepoError::Database(e) => Some(e),
            _ => None,
        }
    }

    /// Whether running the same transaction again may succeed ([`RepoError::Retryable`]).
    pub fn is_retryable(&self) -> bool {
        matches!(self, RepoError::Retryable(_))
    }

    /// The HTTP status a service answers this error with (the table in the [module
    /// docs](self)).
    pub fn http_status(&self) -> u16 {
        match self {
            RepoError::NotFound { .. } => 404,
            RepoError::Conflict(_) | RepoError::ForeignKey(_) => 409,
            RepoError::Retryable(_) => 503,
            RepoError::InvalidRequest { .. } | RepoError::EmptyPatch { .. } => 400,
            RepoError::ActorRefused { .. } => 403,
            RepoError::Encryption { .. } => 500,
            RepoError::Database(e) => match e.code().map(SqlState::code) {
                Some(code) if code.starts_with("22") => 422,
                Some("23502" | "23514") => 422,
                Some("42501") => 403,
                Some(code) if ["08", "53", "57"].contains(&&code[..2]) => 503,
                // The client's own: a closed connection is the server's unavailability.
                None if e.message() == "connection closed" => 503,
                _ => 500,
            },
        }
    }
}

impl fmt::Display for RepoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepoError::NotFound { table, id } => write!(f, "no row {id} in {table}"),
            RepoError::Conflict(e) => write!(f, "conflict: {e}"),
            RepoError::ForeignKey(e) => write!(f, "foreign key: {e}"),
            RepoError::Retryable(e) => write!(f, "retryable: {e}"),
            RepoError::Database(e) => write!(f, "database error: {e}"),
            RepoError::EmptyPatch { table } => write!(f, "empty patch for {table}: no field set"),
            RepoError::InvalidRequest { table, reason } => {
                write!(f, "invalid request on {table}: {reason}")
            }
            RepoError::ActorRefused { user_id, reason } => {
                write!(f, "actor {user_id} refused: {reason}")
            }
            RepoError::Encryption {
                table,
                column,
                row,
                reason,
            } => {
                write!(f, "encrypted column {table}.{column}")?;
                if let Some(row) = row {
                    write!(f, " of row {row}")?;
                }
                write!(f, ": {reason}")
            }
        }
    }
}

impl std::error::Error for RepoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RepoError::Encryption { reason, .. } => Some(reason),
            _ => self
                .database_error()
                .map(|e| e as &(dyn std::error::Error + 'static)),
        }
    }
}

impl From<postgres::Error> for RepoError {
    fn from(e: postgres::Error) -> Self {
        let error = DatabaseError::from_postgres(&e);
        match error.code().map(SqlState::code) {
            Some("23505" | "23P01") => RepoError::Conflict(error),
            Some("23503") => RepoError::ForeignKey(error),
            Some("40001" | "40P01" | "55P03") => RepoError::Retryable(error),
            _ => RepoError::Database(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: &str) -> RepoError {
        let error = DatabaseError(Box::new(Details {
            code: Some(SqlState::from_code(code)),
            ..*DatabaseError::client("m").0
        }));
        match code {
            "23505" | "23P01" => RepoError::Conflict(error),
            "23503" => RepoError::ForeignKey(error),
            "40001" | "40P01" | "55P03" => RepoError::Retryable(error),
            _ => RepoError::Database(error),
        }
    }

    #[test]
    fn statuses_follow_the_documented_table() {
        for (code, status) in [
            ("23505", 409),
            ("23P01", 409),
            ("23503", 409),
            ("40001", 503),
            ("40P01", 503),
            ("55P03", 503),
            ("22001", 422),
            ("22P02", 422),
            ("23502", 422),
            ("23514", 422),
            ("42501", 403),
            ("08006", 503),
            ("53100", 503),
            ("57014", 503),
            ("42P01", 500),
            ("XX000", 500),
        ] {
            assert_eq!(server(code).http_status(), status, "{code}");
        }
        let id = Uuid::nil();
        assert_eq!(RepoError::NotFound { table: "t", id }.http_status(), 404);
        assert_eq!(RepoError::EmptyPatch { table: "t" }.http_status(), 400);
        assert_eq!(
            RepoError::InvalidRequest {
                table: "t",
                reason: RequestError::Cursor
            }
            .http_status(),
            400
        );
        assert_eq!(
            RepoError::ActorRefused {
                user_id: id,
                reason: ActorRefusal::Inactive
            }
            .http_status(),
            403
        );
        assert_eq!(
            RepoError::Encryption {
                table: "t",
                column: "c",
                row: None,
                reason: EncryptionFailure::KeyMismatch
            }
            .http_status(),
            500
        );
        assert_eq!(
            RepoError::Database(DatabaseError::client("connection closed")).http_status(),
            503
        );
        assert!(server("40P01").is_retryable());
        assert!(!server("23505").is_retryable());
    }

    #[test]
    fn display_names_the_state_and_the_objects() {
        let error = DatabaseError(Box::new(Details {
            code: Some(SqlState::UNIQUE_VIOLATION),
            message: "duplicate key value violates unique constraint \"users_email_key\"".into(),
            table: Some("users".into()),
            constraint: Some("users_email_key".into()),
            ..*DatabaseError::client("").0
        }));
        assert_eq!(
            RepoError::Conflict(error).to_string(),
            "conflict: duplicate key value violates unique constraint \"users_email_key\" \
             (SQLSTATE 23505, table users, constraint users_email_key)"
        );
    }
}
