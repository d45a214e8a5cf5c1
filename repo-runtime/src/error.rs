//! The error of every generated repository method.

use std::fmt;

use uuid::Uuid;

/// Why a repository call failed. Nothing was changed and no audit row was written in any case:
/// the data change and its audit row are one statement.
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
        }
    }
}

impl std::error::Error for RepoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RepoError::Db(e) => Some(e),
            _ => None,
        }
    }
}

impl From<postgres::Error> for RepoError {
    fn from(e: postgres::Error) -> Self {
        RepoError::Db(e)
    }
}
