//! Application-side encryption of `#[repo(encrypted)]` columns: the [`DataKey`], the stored
//! format, and [`decrypt_json_row`] for exports that read the raw table.
//!
//! # Stored format
//!
//! `enc:v1:` followed by standard base64 (with padding) of `nonce (12 bytes) || ciphertext ||
//! tag (16 bytes)`, AES-256-GCM with a fresh random nonce from the operating system per value and
//! the associated data `"<table>.<column>"`: a ciphertext copied into another column or table
//! does not decrypt. The column keeps its PostgreSQL type (`text`); NULL stays NULL.

use std::fmt;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::audit::{KeyError, decode_hex, encode_hex, hmac_sha256};
use crate::{RepoError, TableMeta};

/// What every stored value of an encrypted column starts with. The version names the format
/// and the key generation (see the crate docs on key rotation).
pub const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The AES-256 key that encrypts `#[repo(encrypted)]` columns before they leave the
/// application, and decrypts them when they are read.
///
/// Give it to an actor with [`crate::Actor::with_data_key`]. It is a different key from the
/// [`crate::AuditKey`]: one hides values from the audit log, the other from the database.
#[derive(Clone)]
pub struct DataKey {
    cipher: Aes256Gcm,
    /// `hmac-sha256:` and the hex of HMAC-SHA256 of [`CHECK_LABEL`] under this key: what the
    /// database stores to recognise the key (see [`DataKey::check_value`]).
    check_value: String,
}

/// The message whose keyed hash is a key's check value.
const CHECK_LABEL: &[u8] = b"repo-runtime data key check value v1";

/// Why a value of an encrypted column could not be encrypted or decrypted. Never carries the
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptionFailure {
    /// The actor carries no [`DataKey`] (see [`crate::Actor::with_data_key`]).
    NoDataKey,
    /// The stored value does not start with `enc:v1:`: it was written in clear (bypassing the
    /// repository) or in a format this version does not know.
    NotEncrypted,
    /// The stored value has the prefix but is not base64 of a nonce, ciphertext and tag.
    Malformed,
    /// The data key is not the one this database's encrypted columns are written with: its
    /// check value differs from the one stored in `encryption_keys` (see
    /// [`DataKey::check_value`]). Found before anything is written.
    KeyMismatch,
    /// The authentication tag does not match: another key, a value copied from another column or
    /// table, or a tampered ciphertext.
    Authentication,
    /// The decrypted bytes are not UTF-8 (a value this crate did not write).
    NotUtf8,
    /// In a JSON row: the column's value is neither a string nor null.
    NotText,
    /// [`decrypt_json_row`] was given something other than a JSON object.
    NotAnObject,
    /// The operating system's random number generator failed (no nonce).
    Randomness,
    /// The plaintext is longer than AES-GCM can encrypt under one nonce.
    TooLong,
}

impl fmt::Display for EncryptionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncryptionFailure::NoDataKey => {
                "the actor carries no data key (give it one with Actor::with_data_key)"
            }
            EncryptionFailure::NotEncrypted => "the stored value is not encrypted (no `enc:v1:` prefix)",
            EncryptionFailure::Malformed => {
                "the stored value is not `enc:v1:` base64 of a nonce, ciphertext and tag"
            }
            EncryptionFailure::KeyMismatch => {
                "the data key is not this database's (its check value differs from the one in encryption_keys): check DATA_ENCRYPTION_KEY"
            }
            EncryptionFailure::Authentication => {
                "the value does not authenticate (wrong key, copied from another column, or tampered with)"
            }
            EncryptionFailure::NotUtf8 => "the decrypted value is not UTF-8",
            EncryptionFailure::NotText => "the JSON value is neither a string nor null",
            EncryptionFailure::NotAnObject => "the JSON row is not an object",
            EncryptionFailure::Randomness => "the operating system's random number generator failed",
            EncryptionFailure::TooLong => "the value is too long for AES-GCM",
        })
    }
}

impl std::error::Error for EncryptionFailure {}

/// `table.column`, the associated data that binds a ciphertext to its place.
fn associated_data(table: &str, column: &str) -> String {
    format!("{table}.{column}")
}

impl DataKey {
    /// The environment variable [`DataKey::from_env`] reads: the key as 64 hex digits.
    pub const ENV_VAR: &'static str = "DATA_ENCRYPTION_KEY";
    /// The key length in bytes (AES-256).
    pub const LEN: usize = 32;

    /// A key from exactly 32 raw bytes, not all zero.
    pub fn new(key: &[u8]) -> Result<Self, KeyError> {
        if key.len() != Self::LEN {
            return Err(KeyError::WrongLength(key.len()));
        }
        if key.iter().all(|b| *b == 0) {
            return Err(KeyError::AllZero);
        }
        let cipher =
            Aes256Gcm::new_from_slice(key).map_err(|_| KeyError::WrongLength(key.len()))?;
        Ok(DataKey {
            cipher,
            check_value: format!("hmac-sha256:{}", encode_hex(&hmac_sha256(key, CHECK_LABEL))),
        })
    }

    /// The key check value: `hmac-sha256:` and the hex of HMAC-SHA256 of a fixed label under
    /// this key. It identifies the key without revealing it (an HMAC output says nothing about
    /// its key). The database keeps the check value of the key its encrypted columns are
    /// written with (`encryption_keys`, one row per format, `enc:v1` now), and every statement
    /// that reads or writes encrypted columns compares it with the actor's: another key is
    /// refused ([`EncryptionFailure::KeyMismatch`]) before anything is written.
    pub fn check_value(&self) -> &str {
        &self.check_value
    }

    /// The key from [`DataKey::ENV_VAR`] (`DATA_ENCRYPTION_KEY`): 64 hex digits.
    pub fn from_env() -> Result<Self, KeyError> {
        let text = std::env::var(Self::ENV_VAR).map_err(|_| KeyError::MissingEnv(Self::ENV_VAR))?;
        let bytes = decode_hex(text.trim()).ok_or(KeyError::NotHex(Self::ENV_VAR))?;
        Self::new(&bytes)
    }

    /// `plaintext` encrypted for `table.column`, in the stored format (`enc:v1:...`).
    pub fn encrypt(
        &self,
        table: &str,
        column: &str,
        plaintext: &str,
    ) -> Result<String, EncryptionFailure> {
        let nonce = Nonce::try_generate().map_err(|_| EncryptionFailure::Randomness)?;
        let aad = associated_data(table, column);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| EncryptionFailure::TooLong)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// The plaintext of a value `stored` in `table.column` by [`DataKey::encrypt`].
    pub fn decrypt(
        &self,
        table: &str,
        column: &str,
        stored: &str,
    ) -> Result<String, EncryptionFailure> {
        let encoded = stored
            .strip_prefix(PREFIX)
            .ok_or(EncryptionFailure::NotEncrypted)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| EncryptionFailure::Malformed)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(EncryptionFailure::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| EncryptionFailure::Malformed)?;
        let aad = associated_data(table, column);
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| EncryptionFailure::Authentication)?;
        String::from_utf8(plain).map_err(|_| EncryptionFailure::NotUtf8)
    }
}

impl fmt::Debug for DataKey {
    /// Never prints the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// The error of `table.column` failing with `reason`, no row to blame.
pub(crate) fn error(
    table: &'static str,
    column: &'static str,
    reason: EncryptionFailure,
) -> RepoError {
    RepoError::Encryption {
        table,
        column,
        row: None,
        reason,
    }
}

/// Decrypts, in place, the encrypted columns of one row of `meta`'s table given as a JSON
/// object (`{"column": value, ...}`, e.g. from `to_jsonb(t)` in a data export): each string value
/// of an encrypted column becomes its plaintext; null stays null; columns absent from the object
/// are left out. Fails on the first value that does not decrypt, naming its column.
pub fn decrypt_json_row(meta: &TableMeta, row: &mut Value, key: &DataKey) -> Result<(), RepoError> {
    let mut encrypted = meta.columns.iter().filter(|c| c.encrypted).peekable();
    let Some(first) = encrypted.peek() else {
        return Ok(());
    };
    let Some(object) = row.as_object_mut() else {
        return Err(error(
            meta.table,
            first.name,
            EncryptionFailure::NotAnObject,
        ));
    };
    for column in encrypted {
        match object.get_mut(column.name) {
            None | Some(Value::Null) => {}
            Some(Value::String(stored)) => {
                *stored = key
                    .decrypt(meta.table, column.name, stored)
                    .map_err(|reason| error(meta.table, column.name, reason))?;
            }
            Some(_) => return Err(error(meta.table, column.name, EncryptionFailure::NotText)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ColumnMeta;

    fn key(byte: u8) -> DataKey {
        DataKey::new(&[byte; 32]).expect("key")
    }

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let k = key(1);
        let text = "Zoë's root canal, tooth 36";
        let a = k.encrypt("cases", "notes", text).expect("encrypt");
        let b = k.encrypt("cases", "notes", text).expect("encrypt");
        assert!(a.starts_with(PREFIX), "{a}");
        assert!(!a.contains("root canal"), "{a}");
        assert_ne!(a, b, "a fresh nonce per value");
        assert_eq!(k.decrypt("cases", "notes", &a).as_deref(), Ok(text));
        assert_eq!(k.decrypt("cases", "notes", &b).as_deref(), Ok(text));
        // The empty string is a value too, distinct from NULL.
        let empty = k.encrypt("cases", "notes", "").expect("encrypt");
        assert_eq!(k.decrypt("cases", "notes", &empty).as_deref(), Ok(""));
        // nonce || ciphertext || tag, base64 with padding.
        let bytes = STANDARD
            .decode(&a[PREFIX.len()..])
            .expect("standard base64");
        assert_eq!(bytes.len(), NONCE_LEN + text.len() + TAG_LEN);
    }

    #[test]
    fn another_column_or_table_does_not_decrypt() {
        let k = key(1);
        let stored = k.encrypt("cases", "notes", "secret").expect("encrypt");
        for (table, column) in [("cases", "title"), ("files", "notes"), ("case", "snotes")] {
            assert_eq!(
                k.decrypt(table, column, &stored),
                Err(EncryptionFailure::Authentication),
                "{table}.{column}"
            );
        }
    }

    #[test]
    fn a_tampered_ciphertext_does_not_decrypt() {
        let k = key(1);
        let stored = k.encrypt("cases", "notes", "secret").expect("encrypt");
        let bytes = STANDARD.decode(&stored[PREFIX.len()..]).expect("base64");
        for i in [0, NONCE_LEN, bytes.len() - 1] {
            let mut tampered = bytes.clone();
            tampered[i] ^= 1;
            let text = format!("{PREFIX}{}", STANDARD.encode(&tampered));
            assert_eq!(
                k.decrypt("cases", "notes", &text),
                Err(EncryptionFailure::Authentication),
                "byte {i}"
            );
        }
        let truncated = format!(
            "{PREFIX}{}",
            STANDARD.encode(&bytes[..NONCE_LEN + TAG_LEN - 1])
        );
        assert_eq!(
            k.decrypt("cases", "notes", &truncated),
            Err(EncryptionFailure::Malformed)
        );
        assert_eq!(
            k.decrypt("cases", "notes", "enc:v1:not base64!"),
            Err(EncryptionFailure::Malformed)
        );
    }

    #[test]
    fn another_key_does_not_decrypt() {
        let stored = key(1).encrypt("cases", "notes", "secret").expect("encrypt");
        assert_eq!(
            key(2).decrypt("cases", "notes", &stored),
            Err(EncryptionFailure::Authentication)
        );
    }

    #[test]
    fn a_value_without_the_prefix_is_refused() {
        let k = key(1);
        let stored = k.encrypt("cases", "notes", "secret").expect("encrypt");
        for text in [
            "secret",
            "",
            &stored[PREFIX.len()..],
            &stored.replace("v1", "v2"),
        ] {
            assert_eq!(
                k.decrypt("cases", "notes", text),
                Err(EncryptionFailure::NotEncrypted),
                "{text}"
            );
        }
    }

    #[test]
    fn check_values_tell_keys_apart_without_showing_them() {
        let (a, b) = (key(1), key(2));
        assert_eq!(a.check_value(), key(1).check_value());
        assert_ne!(a.check_value(), b.check_value());
        assert!(
            a.check_value().starts_with("hmac-sha256:"),
            "{}",
            a.check_value()
        );
        assert_eq!(a.check_value().len(), "hmac-sha256:".len() + 64);
        assert!(!a.check_value().contains(&"01".repeat(32)));
    }

    #[test]
    fn keys_must_be_32_bytes_and_are_never_printed() {
        assert_eq!(DataKey::new(&[0; 32]).err(), Some(KeyError::AllZero));
        assert_eq!(
            DataKey::new(&[1; 31]).err(),
            Some(KeyError::WrongLength(31))
        );
        assert_eq!(
            DataKey::new(&[1; 33]).err(),
            Some(KeyError::WrongLength(33))
        );
        assert!(KeyError::WrongLength(31).to_string().contains("exactly 32"));
        assert!(
            KeyError::MissingEnv(DataKey::ENV_VAR)
                .to_string()
                .contains("data encryption key")
        );
        let k = DataKey::new(b"0123456789abcdef0123456789abcdef").expect("key");
        assert_eq!(format!("{k:?}"), "DataKey(..)");
        let audit = crate::AuditKey::new(&[3; 32]).expect("audit key");
        let actor = audit.actor(uuid::Uuid::nil()).with_data_key(&k);
        assert!(!format!("{actor:?}").contains("0123456789"), "{actor:?}");
        assert!(actor.data_key().is_some());
        assert!(audit.actor(uuid::Uuid::nil()).data_key().is_none());
    }

    const NOTES: TableMeta = TableMeta {
        table: "notes",
        columns: &[
            ColumnMeta {
                name: "id",
                pii: false,
                phi: false,
                encrypted: false,
            },
            ColumnMeta {
                name: "secret",
                pii: false,
                phi: true,
                encrypted: true,
            },
            ColumnMeta {
                name: "extra",
                pii: false,
                phi: false,
                encrypted: true,
            },
        ],
        primary_key: "id",
        soft_delete: None,
        sort_key: None,
        cascade: &[],
    };

    #[test]
    fn json_rows_are_decrypted_in_place() {
        let k = key(7);
        let stored = k.encrypt("notes", "secret", "plain").expect("encrypt");
        let mut row = serde_json::json!({ "id": "x", "secret": stored, "extra": null });
        decrypt_json_row(&NOTES, &mut row, &k).expect("decrypt");
        assert_eq!(
            row,
            serde_json::json!({ "id": "x", "secret": "plain", "extra": null })
        );

        let mut wrong_column =
            serde_json::json!({ "extra": k.encrypt("notes", "secret", "plain").expect("encrypt") });
        match decrypt_json_row(&NOTES, &mut wrong_column, &k) {
            Err(RepoError::Encryption {
                table: "notes",
                column: "extra",
                row: None,
                reason: EncryptionFailure::Authentication,
            }) => {}
            other => panic!("{other:?}"),
        }
        let mut number = serde_json::json!({ "secret": 3 });
        assert!(matches!(
            decrypt_json_row(&NOTES, &mut number, &k),
            Err(RepoError::Encryption {
                reason: EncryptionFailure::NotText,
                ..
            })
        ));
        assert!(matches!(
            decrypt_json_row(&NOTES, &mut serde_json::json!([]), &k),
            Err(RepoError::Encryption {
                reason: EncryptionFailure::NotAnObject,
                ..
            })
        ));
    }
}
