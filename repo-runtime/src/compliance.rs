//! Calls of the compliance functions the migrations generate from `schema.yaml` (see
//! `docs/schema-format.md`, "Compliance"): retention purge, right to erasure and data export.
//!
//! The work happens in the database, in one transaction per call, with its own audit row; these
//! functions only call them with the actor and decode the result. The connecting role needs
//! `EXECUTE` on the function (`roles: {r: {execute: [...]}}`), which is the point: a role
//! without it gets a permission error ([`RepoError::Database`], SQLSTATE 42501). They take a
//! `GenericClient`: on a [`crate::Prepared`] connection pass `db.client()` (one call each, nothing
//! to gain from preparing).

use postgres::GenericClient;
use serde_json::Value;

use crate::crypto::decrypt_json_row;
use crate::{Actor, EncryptionFailure, RepoError, TableMeta, check_data_key};

/// Deletes the expired rows of every table with `retention` and audits the counts
/// (`data_retention_purge`). Returns the number of rows deleted per table.
pub fn purge_expired_data<C: GenericClient>(
    client: &mut C,
    actor: Actor<'_>,
) -> Result<Value, RepoError> {
    let row = client.query_one("SELECT purge_expired_data($1)", &[&actor.user_id()])?;
    Ok(row.try_get(0)?)
}

/// Erases everything held about one data subject (per table: deleted or anonymised, as
/// `erasure` says) and writes one `right_to_erasure` audit row. Returns the ids of the
/// data-subject rows and the rows touched per table.
pub fn erase_data_subject<C: GenericClient>(
    client: &mut C,
    actor: Actor<'_>,
    subject: &str,
) -> Result<Value, RepoError> {
    let row = client.query_one(
        "SELECT erase_data_subject($1, $2)",
        &[&subject, &actor.user_id()],
    )?;
    Ok(row.try_get(0)?)
}

/// Exports everything held about one data subject as one JSON document (format
/// `data-subject-export/1`) and writes one `data_access` audit row. The encrypted columns of
/// the tables in `decrypt` are decrypted with the actor's data key, so the person receives
/// their data, not ciphertext; pass the `META` of every generated struct with encrypted fields.
/// A data key that is not the database's is refused first (see [`check_data_key`]).
pub fn export_data_subject<C: GenericClient>(
    client: &mut C,
    actor: Actor<'_>,
    subject: &str,
    decrypt: &[&TableMeta],
) -> Result<Value, RepoError> {
    let needs_key = decrypt
        .iter()
        .find_map(|m| Some((m.table, m.columns.iter().find(|c| c.encrypted)?.name)));
    // Check the key before the export is made (and audited), not after.
    let key = match (actor.data_key(), needs_key) {
        (Some(key), _) => Some(key),
        (None, None) => None,
        (None, Some((table, column))) => {
            return Err(RepoError::Encryption {
                table,
                column,
                row: None,
                reason: EncryptionFailure::NoDataKey,
            });
        }
    };
    // And that it is this database's key, before the export is audited.
    if let (Some(key), Some(_)) = (key, needs_key) {
        check_data_key(client, key, decrypt)?;
    }
    let row = client.query_one(
        "SELECT export_data_subject($1, $2)",
        &[&subject, &actor.user_id()],
    )?;
    let mut document: Value = row.try_get(0)?;
    if let Some(key) = key {
        for meta in decrypt {
            if let Some(rows) = document["tables"][meta.table].as_array_mut() {
                for row in rows {
                    decrypt_json_row(meta, row, key)?;
                }
            }
        }
    }
    Ok(document)
}
