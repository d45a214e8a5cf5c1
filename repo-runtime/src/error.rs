//! The error of every generated repository method.

use std::fmt;

use uuid::Uuid;

use crate::EncryptionFailure;

/// Why a repository call failed. Nothing was changed and no audit row was written in any case:
/// the data change and its audit row are one statement. (One exception, under
/// [`RepoError::Encryption`]: a row read back that does not decrypt.)
#[derive(Debug)]
#[non_exhaustive]
pub enum RepoError {
    /// The database refused the statement (constraint, connection, permission, decoding a row).
    Db(postgres::Error),
    /// No row with this id, or none in the state the call needs (e.g. `update` of a
    /// soft-deleted row, `restore` of a live one).
    NotFound {
        /// The table searched.
        table: &'static str,
        /// The primary key asked for.
        id: Uuid,
    },
    /// `update` was given a patch with no field set: there is nothing to change or to audit.
    EmptyPatch {
        /// The table of the patch.
        table: &'static str,
    },
    /// A value of an encrypted column (`#[repo(encrypted)]`) could not be encrypted or
    /// decrypted: the actor carries no data key, or a stored value is not in the `enc:v1:`
    /// format or does not authenticate (another key, copied from another column, tampered).
    /// Never carries the value.
    ///
    /// A missing key is found before any statement runs, so nothing is written. A stored value
    /// that does not decrypt is found after the statement, when its row is read back: for a read
    /// the `data_access` audit row stays (the access was attempted); for a write (whose
    /// `RETURNING` row holds the damaged value of another column) the change has been made: run
    /// it in a transaction to undo it.
    Encryption {
        /// The table.
        table: &'static str,
        /// The encrypted column.
        column: &'static str,
        /// What went wrong.
        reason: EncryptionFailure,
    },
}

impl RepoError {
    /// The database error, when that is what this is.
    pub fn as_db_error(&self) -> Option<&postgres::Error> {
        match self {
            RepoError::Db(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for RepoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepoError::Db(e) => write!(f, "database error: {e}"),
            RepoError::NotFound { table, id } => write!(f, "no row {id} in {table}"),
            RepoError::EmptyPatch { table } => write!(f, "empty patch for {table}: no field set"),
            RepoError::Encryption {
                table,
                column,
                reason,
            } => write!(f, "encrypted column {table}.{column}: {reason}"),
        }
    }
}

impl std::error::Error for RepoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RepoError::Db(e) => Some(e),
            RepoError::Encryption { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

impl From<postgres::Error> for RepoError {
    fn from(e: postgres::Error) -> Self {
        RepoError::Db(e)
    }
}
