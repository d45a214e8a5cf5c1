use super::{column_list, ident, literal, table_name};
use crate::table::TableMeta;
use crate::{ENCRYPTED_FORMAT, KEY_CHECK_TABLE};

/// Records the data key's check value when the database has none yet (parameter `$1`); one
/// that is already stored stays, so the first key to write is the database's key.
pub fn register_key_check() -> String {
    format!(
        "INSERT INTO {table} (\"format\", \"check_value\") VALUES ({format}, $1) ON CONFLICT (\"format\") DO NOTHING",
        table = table_name(KEY_CHECK_TABLE),
        format = literal(ENCRYPTED_FORMAT),
    )
}

/// The check value stored for the current format (no row when none is).
pub fn stored_key_check() -> String {
    format!(
        "SELECT \"check_value\" FROM {table} WHERE \"format\" = {format}",
        table = table_name(KEY_CHECK_TABLE),
        format = literal(ENCRYPTED_FORMAT),
    )
}

/// One row holding a stored value of `meta`'s encrypted columns, if any row has one: what a key
/// must decrypt before it is recorded as the database's.
pub fn sample_encrypted(meta: &TableMeta) -> String {
    let encrypted: Vec<&str> = meta
        .columns
        .iter()
        .filter(|c| c.encrypted)
        .map(|c| c.name)
        .collect();
    format!(
        "SELECT {} FROM {} WHERE {} LIMIT 1",
        column_list(encrypted.iter().copied(), None),
        table_name(meta.table),
        encrypted
            .iter()
            .map(|c| format!("{} IS NOT NULL", ident(c)))
            .collect::<Vec<_>>()
            .join(" OR "),
    )
}
