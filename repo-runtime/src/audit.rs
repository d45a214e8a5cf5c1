//! Who acts ([`Actor`]) and the key that keeps PII/PHI out of the audit log ([`AuditKey`]).
//! An actor may also carry the [`DataKey`] of the encrypted columns, and the request it acts in
//! (client address, user agent, request id), which its audit rows record.

use std::fmt;
use std::net::IpAddr;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::DataKey;

/// SHA-256's block size: HMAC pads (or hashes) the key to exactly this many bytes.
const BLOCK: usize = 64;
/// The shortest key accepted: an HMAC-SHA256 key shorter than the hash adds no strength and
/// is most likely a mistake (a password, a placeholder).
const MIN_KEY_LEN: usize = 32;

/// The secret of the keyed hashes (HMAC-SHA256) that stand in for PII/PHI values in
/// `audit_logs.changes`.
///
/// A keyed hash still lets an investigator holding the key check whether a given value was
/// written ([`AuditKey::hash`] gives the same string), without the log itself disclosing it: a
/// plain hash of a low-entropy value such as a patient number could be reversed by trying them
/// all. The hash is computed inside the database, from the key's two HMAC pad blocks sent as
/// statement parameters, so the value never needs to leave the server.
#[derive(Clone)]
pub struct AuditKey {
    /// `key ^ 0x36`, padded to the block size: the inner HMAC pad.
    ipad: Vec<u8>,
    /// `key ^ 0x5c`, padded to the block size: the outer HMAC pad.
    opad: Vec<u8>,
    /// Kept for [`AuditKey::hash`], computed with the `hmac` crate: an implementation
    /// independent of the pads the SQL uses, so tests can compare the two.
    key: Vec<u8>,
    /// Seals the listing cursors handed out to callers (see [`crate::Cursor`]): a key derived
    /// from this one, so that every process holding the audit key accepts the others' cursors.
    cursor_cipher: Aes256Gcm,
}

/// What the cursor key is derived from (HMAC-SHA256 of this under the audit key): a key of
/// its own, so a cursor's ciphertext says nothing about the audit hashes.
const CURSOR_KEY_LABEL: &[u8] = b"repo-runtime cursor key v1";

/// Why an [`AuditKey`] or a [`DataKey`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The environment variable is not set (or not Unicode).
    MissingEnv(&'static str),
    /// The environment variable is not hexadecimal.
    NotHex(&'static str),
    /// Fewer than 32 bytes (an [`AuditKey`]).
    TooShort(usize),
    /// Not exactly 32 bytes (a [`DataKey`], AES-256).
    WrongLength(usize),
    /// Every byte is zero: a placeholder, not a key.
    AllZero,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::MissingEnv(var) if *var == DataKey::ENV_VAR => write!(
                f,
                "{var} is not set: the data encryption key (64 hex digits, {} bytes for AES-256)",
                DataKey::LEN
            ),
            KeyError::MissingEnv(var) => {
                write!(
                    f,
                    "{var} is not set: the audit HMAC key (hex, at least {MIN_KEY_LEN} bytes)"
                )
            }
            KeyError::NotHex(var) => write!(f, "{var} must be hexadecimal"),
            KeyError::TooShort(len) => write!(
                f,
                "the audit HMAC key has {len} bytes; at least {MIN_KEY_LEN} are needed"
            ),
            KeyError::WrongLength(len) => write!(
                f,
                "the data encryption key has {len} bytes; exactly {} are needed (AES-256, 64 hex digits)",
                DataKey::LEN
            ),
            KeyError::AllZero => f.write_str(
                "the key is all zero bytes: a placeholder, not a secret (openssl rand -hex 32)",
            ),
        }
    }
}

impl std::error::Error for KeyError {}

impl AuditKey {
    /// The environment variable [`AuditKey::from_env`] reads: the key, hex-encoded.
    pub const ENV_VAR: &'static str = "AUDIT_HMAC_KEY";

    /// A key from raw bytes (at least 32, not all zero).
    pub fn new(key: &[u8]) -> Result<Self, KeyError> {
        if key.len() < MIN_KEY_LEN {
            return Err(KeyError::TooShort(key.len()));
        }
        if key.iter().all(|b| *b == 0) {
            return Err(KeyError::AllZero);
        }
        // RFC 2104: a key longer than the block is hashed first; shorter ones are zero-padded.
        let mut block = if key.len() > BLOCK {
            Sha256::digest(key).to_vec()
        } else {
            key.to_vec()
        };
        block.resize(BLOCK, 0);
        let cursor_key = hmac_sha256(key, CURSOR_KEY_LABEL);
        let cursor_cipher =
            Aes256Gcm::new_from_slice(&cursor_key).map_err(|_| KeyError::WrongLength(32))?;
        Ok(AuditKey {
            ipad: block.iter().map(|b| b ^ 0x36).collect(),
            opad: block.iter().map(|b| b ^ 0x5c).collect(),
            key: key.to_vec(),
            cursor_cipher,
        })
    }

    /// The key from [`AuditKey::ENV_VAR`] (`AUDIT_HMAC_KEY`), hex-encoded.
    pub fn from_env() -> Result<Self, KeyError> {
        let text = std::env::var(Self::ENV_VAR).map_err(|_| KeyError::MissingEnv(Self::ENV_VAR))?;
        let bytes = decode_hex(text.trim()).ok_or(KeyError::NotHex(Self::ENV_VAR))?;
        Self::new(&bytes)
    }

    /// An actor: the user every audit row written on its behalf names, with this key.
    pub fn actor(&self, user_id: Uuid) -> Actor<'_> {
        Actor {
            user_id,
            key: self,
            data_key: None,
            ip_address: None,
            user_agent: None,
            request_id: None,
        }
    }

    /// The keyed hash written to `audit_logs` in place of a sensitive value whose PostgreSQL
    /// text form (`value::text`) is `text`: `hmac-sha256:` and 64 hex digits.
    pub fn hash(&self, text: &str) -> String {
        format!(
            "hmac-sha256:{}",
            encode_hex(&hmac_sha256(&self.key, text.as_bytes()))
        )
    }

    pub(crate) fn cursor_cipher(&self) -> &Aes256Gcm {
        &self.cursor_cipher
    }

    pub(crate) fn ipad(&self) -> &Vec<u8> {
        &self.ipad
    }

    pub(crate) fn opad(&self) -> &Vec<u8> {
        &self.opad
    }
}

impl fmt::Debug for AuditKey {
    /// Never prints the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

/// HMAC-SHA256 of `message` under `key` (any length).
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(e) => unreachable!("HMAC accepts keys of any length: {e}"),
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Who performs a repository call: the `user_id` of every audit row it writes.
///
/// Every generated method takes an `Actor`, so an unaudited call does not compile. An actor can
/// only be made by [`AuditKey::actor`], so it always carries the key its audit rows are scrubbed
/// with. Tables with `#[repo(encrypted)]` columns also need the [`DataKey`] that encrypts them:
/// `key.actor(user_id).with_data_key(&data_key)`; without it, their methods fail with
/// [`crate::RepoError::Encryption`] before running anything.
///
/// The user must exist, be active and not soft-deleted: every statement checks that itself and
/// otherwise changes, reads and audits nothing ([`crate::RepoError::ActorRefused`]).
///
/// A service gives each request's actor what it knows about the request; each audit row the
/// actor writes records it (`ip_address`, `user_agent`, `request_id`):
/// `key.actor(user_id).with_ip_address(ip).with_user_agent(ua).with_request_id(id)`.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'k> {
    user_id: Uuid,
    key: &'k AuditKey,
    data_key: Option<&'k DataKey>,
    ip_address: Option<IpAddr>,
    user_agent: Option<&'k str>,
    request_id: Option<&'k str>,
}

/// The longest user agent recorded, in characters; a longer one is cut (it is whatever the
/// client sends, and every audit row would carry it).
pub const MAX_USER_AGENT: usize = 512;
/// The longest request id recorded, in characters; a longer one is cut.
pub const MAX_REQUEST_ID: usize = 128;

/// `text` cut to its first `max` characters.
fn cut(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(end, _)| &text[..end])
}

impl<'k> Actor<'k> {
    /// The acting user (`users.id`).
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    /// The key this actor's audit rows are scrubbed with.
    pub fn key(&self) -> &'k AuditKey {
        self.key
    }

    /// This actor, also able to read and write the encrypted columns with `data_key`.
    #[must_use]
    pub fn with_data_key(self, data_key: &'k DataKey) -> Actor<'k> {
        Actor {
            data_key: Some(data_key),
            ..self
        }
    }

    /// The key of the encrypted columns, if this actor carries one.
    pub fn data_key(&self) -> Option<&'k DataKey> {
        self.data_key
    }

    /// This actor, acting for a client at `ip_address` (`audit_logs.ip_address`).
    #[must_use]
    pub fn with_ip_address(self, ip_address: IpAddr) -> Actor<'k> {
        Actor {
            ip_address: Some(ip_address),
            ..self
        }
    }

    /// This actor, acting for a client whose `User-Agent` is `user_agent`
    /// (`audit_logs.user_agent`, at most [`MAX_USER_AGENT`] characters kept).
    #[must_use]
    pub fn with_user_agent(self, user_agent: &'k str) -> Actor<'k> {
        Actor {
            user_agent: Some(cut(user_agent, MAX_USER_AGENT)),
            ..self
        }
    }

    /// This actor, acting in the request `request_id` (`audit_logs.request_id`, at most
    /// [`MAX_REQUEST_ID`] characters kept), to find every audit row of one request.
    #[must_use]
    pub fn with_request_id(self, request_id: &'k str) -> Actor<'k> {
        Actor {
            request_id: Some(cut(request_id, MAX_REQUEST_ID)),
            ..self
        }
    }

    /// The client's address, if known.
    pub fn ip_address(&self) -> Option<IpAddr> {
        self.ip_address
    }

    /// The client's user agent, if known.
    pub fn user_agent(&self) -> Option<&'k str> {
        self.user_agent
    }

    /// The request's id, if known.
    pub fn request_id(&self) -> Option<&'k str> {
        self.request_id
    }
}

pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The construction the SQL uses (`sha256(opad || sha256(ipad || m))`) is HMAC-SHA256.
    #[test]
    fn pads_compute_the_same_hmac_as_the_hmac_crate() {
        for key in [vec![7u8; 32], (0u8..=99).collect::<Vec<_>>()] {
            let k = AuditKey::new(&key).expect("key");
            let message = "patient 123 / Zoë";
            let inner = Sha256::new()
                .chain_update(k.ipad())
                .chain_update(message)
                .finalize();
            let outer = Sha256::new()
                .chain_update(k.opad())
                .chain_update(inner)
                .finalize();
            assert_eq!(
                k.hash(message),
                format!("hmac-sha256:{}", encode_hex(&outer))
            );
        }
    }

    /// RFC 4231 test case 6: a 131-byte key, longer than the block, so it is hashed first.
    #[test]
    fn known_vector() {
        let k = AuditKey::new(&[0xaa; 131]).expect("key");
        assert_eq!(
            k.hash("Test Using Larger Than Block-Size Key - Hash Key First"),
            "hmac-sha256:60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn short_zero_and_malformed_keys_are_refused() {
        assert_eq!(AuditKey::new(&[1; 31]).err(), Some(KeyError::TooShort(31)));
        assert_eq!(AuditKey::new(&[0; 32]).err(), Some(KeyError::AllZero));
        assert_eq!(AuditKey::new(&[0; 100]).err(), Some(KeyError::AllZero));
        assert!(AuditKey::new(&[0, 0, 0, 1].repeat(8)).is_ok());
        assert_eq!(decode_hex("0g"), None);
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("00ff"), Some(vec![0, 255]));
    }

    #[test]
    fn request_details_are_kept_and_cut_to_their_limits() {
        let k = AuditKey::new(&[7; 32]).expect("key");
        let long = "é".repeat(MAX_USER_AGENT + 10);
        let actor = k
            .actor(Uuid::nil())
            .with_ip_address(IpAddr::from([192, 0, 2, 1]))
            .with_user_agent(&long)
            .with_request_id("req-1");
        assert_eq!(actor.ip_address(), Some(IpAddr::from([192, 0, 2, 1])));
        assert_eq!(
            actor.user_agent().map(|ua| ua.chars().count()),
            Some(MAX_USER_AGENT)
        );
        assert_eq!(actor.request_id(), Some("req-1"));
        let plain = k.actor(Uuid::nil());
        assert_eq!(
            (plain.ip_address(), plain.user_agent(), plain.request_id()),
            (None, None, None)
        );
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let k = AuditKey::new(b"0123456789abcdef0123456789abcdef").expect("key");
        assert_eq!(format!("{k:?}"), "AuditKey(..)");
        let actor = k.actor(Uuid::nil());
        assert!(!format!("{actor:?}").contains("0123456789"));
    }
}
