//! Who is calling: HTTP Basic credentials checked against `users` (`password_hash` is an Argon2id
//! PHC string), every attempt audited (`login_success` / `login_failure`, or
//! `client_authentication` for accounts whose role is `service`), and the database role the
//! request then runs under.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use repo_runtime::{Actor, AuditKey, DataKey};
use sha2::Sha256;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::api::ApiError;
use crate::{AppState, Keys, RequestId};

/// The Argon2id cost of [`hash_password`] by default (the OWASP recommendation: 19 MiB, two
/// passes, one lane). Verification reads the cost from the stored hash, so it can be raised
/// without invalidating existing hashes.
pub const DEFAULT_MEMORY_KIB: u32 = 19 * 1024;
pub const DEFAULT_ITERATIONS: u32 = 2;

/// An Argon2id PHC string for `password` (random salt), at the given cost. What
/// `users.password_hash` holds; the service only verifies, an admin tool or test writes them.
pub fn hash_password(password: &str, memory_kib: u32, iterations: u32) -> Result<String, String> {
    let params = Params::new(memory_kib, iterations, 1, None)
        .map_err(|e| format!("bad Argon2 cost: {e}"))?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the PHC string `stored`; a hash that is not a valid PHC string
/// (or not Argon2) matches nothing.
fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash no password matches in practice, verified when the account is unknown so that an
/// unknown name costs as much time as a wrong password (no account enumeration by timing).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(
            &Uuid::new_v4().to_string(),
            DEFAULT_MEMORY_KIB,
            DEFAULT_ITERATIONS,
        )
        .unwrap_or_default()
    })
}

/// Sign-ins verified a moment ago, so a client sending the same Basic credentials on every call
/// pays Argon2 once every few minutes, not on every call (the account is still read, its state
/// checked and the attempt audited each time). An entry is a keyed hash (HMAC-SHA256 under a
/// random key of this process) of the account id, its stored hash and the password: nothing
/// that gives the password back, and a changed `password_hash` matches no entry.
struct Verified {
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], Instant>>,
}

/// How long a verified sign-in is remembered, and how many are.
const VERIFIED_FOR: Duration = Duration::from_secs(300);
const VERIFIED_MAX: usize = 4096;

impl Verified {
    fn get() -> &'static Verified {
        static VERIFIED: OnceLock<Verified> = OnceLock::new();
        VERIFIED.get_or_init(|| {
            let mut key = [0u8; 32];
            OsRng.fill_bytes(&mut key);
            Verified {
                key,
                entries: Mutex::new(HashMap::new()),
            }
        })
    }

    fn fingerprint(&self, account: Uuid, stored: &str, password: &str) -> [u8; 32] {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(e) => unreachable!("HMAC takes keys of any length: {e}"),
        };
        mac.update(account.as_bytes());
        mac.update(&(stored.len() as u64).to_be_bytes());
        mac.update(stored.as_bytes());
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn contains(&self, fingerprint: &[u8; 32]) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(fingerprint)
            .is_some_and(|at| at.elapsed() < VERIFIED_FOR)
    }

    fn insert(&self, fingerprint: [u8; 32]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= VERIFIED_MAX {
            entries.retain(|_, at| at.elapsed() < VERIFIED_FOR);
            if entries.len() >= VERIFIED_MAX {
                entries.clear();
            }
        }
        entries.insert(fingerprint, Instant::now());
    }
}

/// Whether `password` is the account's: remembered, or verified with Argon2 on a blocking
/// thread (an unknown account or one without a password against the decoy, never remembered).
async fn password_matches(account: Option<&Account>, password: String) -> Result<bool, ApiError> {
    let known = account.and_then(|a| a.password_hash.clone().map(|hash| (a.id, hash)));
    let fingerprint = known
        .as_ref()
        .map(|(id, hash)| Verified::get().fingerprint(*id, hash, &password));
    if fingerprint
        .as_ref()
        .is_some_and(|f| Verified::get().contains(f))
    {
        return Ok(true);
    }
    let stored = known.map_or_else(|| decoy_hash().to_string(), |(_, hash)| hash);
    // Argon2 is deliberately slow: off the async workers.
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .map_err(|_| ApiError::internal("the password check did not finish"))?;
    if let (true, Some(fingerprint)) = (matches, fingerprint) {
        Verified::get().insert(fingerprint);
    }
    Ok(matches)
}

/// The database roles of `schema.yaml` (`user_role`): each request runs under the one named
/// after the user's role, with `SET LOCAL ROLE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Operator,
    Service,
}

impl Role {
    fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "service" => Some(Role::Service),
            _ => None,
        }
    }

    /// The database role's name (a fixed identifier, safe to write into `SET LOCAL ROLE`).
    pub fn database_role(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Service => "service",
        }
    }
}

/// What the service knows about a request, carried into every audit row it writes.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub request_id: String,
    pub ip_address: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// A request whose credentials were accepted: the extractor of every API handler. Extracting
/// it writes the login audit row; failing it answers 401 (or 503 without keys or database).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: Uuid,
    pub role: Role,
    pub request: RequestInfo,
}

impl Authenticated {
    /// The actor of this request's repository calls.
    pub fn actor<'a>(&'a self, keys: &'a Keys) -> Actor<'a> {
        actor(&keys.audit, &keys.data, self.user_id, &self.request)
    }
}

fn actor<'a>(
    audit: &'a AuditKey,
    data: &'a DataKey,
    user_id: Uuid,
    request: &'a RequestInfo,
) -> Actor<'a> {
    let mut actor = audit
        .actor(user_id)
        .with_data_key(data)
        .with_request_id(&request.request_id);
    if let Some(ip) = request.ip_address {
        actor = actor.with_ip_address(ip);
    }
    if let Some(agent) = &request.user_agent {
        actor = actor.with_user_agent(agent);
    }
    actor
}

/// Why a sign-in failed, as the audit row says (never to the client, which only gets 401).
#[derive(Debug, Clone, Copy)]
enum Failure {
    Malformed,
    UnknownAccount,
    NoPassword,
    WrongPassword,
    Inactive,
    Deleted,
}

impl Failure {
    fn reason(self) -> &'static str {
        match self {
            Failure::Malformed => "malformed_credentials",
            Failure::UnknownAccount => "unknown_account",
            Failure::NoPassword => "no_password",
            Failure::WrongPassword => "wrong_password",
            Failure::Inactive => "inactive",
            Failure::Deleted => "deleted",
        }
    }
}

/// The account a sign-in names.
struct Account {
    id: Uuid,
    role: Option<Role>,
    password_hash: Option<String>,
    is_active: bool,
    deleted: bool,
}

/// `Authorization: Basic base64(name:password)`: `Ok(None)` without the header, `Err` when it is
/// not Basic or not decodable.
fn basic_credentials(parts: &Parts) -> Result<Option<(String, String)>, ()> {
    let Some(header) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let text = header.to_str().map_err(|_| ())?;
    let (scheme, encoded) = text.split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| ())?;
    let decoded = String::from_utf8(decoded).map_err(|_| ())?;
    let (name, password) = decoded.split_once(':').ok_or(())?;
    if name.is_empty() {
        return Err(());
    }
    Ok(Some((name.to_string(), password.to_string())))
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let keys = state.keys.as_deref().ok_or_else(ApiError::no_keys)?;
        let request = RequestInfo {
            request_id: parts
                .extensions
                .get::<RequestId>()
                .map_or_else(|| Uuid::new_v4().to_string(), |id| id.0.clone()),
            ip_address: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip()),
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        };
        let credentials = match basic_credentials(parts) {
            Ok(Some(credentials)) => credentials,
            Ok(None) => return Err(ApiError::unauthenticated("authentication required")),
            Err(()) => {
                record(state, keys, &request, None, Err(Failure::Malformed)).await?;
                return Err(ApiError::unauthenticated(
                    "the Authorization header is not HTTP Basic credentials",
                ));
            }
        };
        let (name, password) = credentials;
        let account = find_account(state, &name).await?;
        let matches = password_matches(account.as_ref(), password).await?;
        let outcome = match &account {
            None => Err(Failure::UnknownAccount),
            Some(a) if a.password_hash.is_none() => Err(Failure::NoPassword),
            Some(_) if !matches => Err(Failure::WrongPassword),
            Some(a) if a.deleted => Err(Failure::Deleted),
            Some(a) if !a.is_active => Err(Failure::Inactive),
            Some(a) => a.role.ok_or(Failure::UnknownAccount),
        };
        let account_id = account.as_ref().map(|a| a.id);
        let account_role = account.as_ref().and_then(|a| a.role);
        record(
            state,
            keys,
            &request,
            Some((&name, account_id, account_role)),
            outcome,
        )
        .await?;
        match (outcome, account_id) {
            (Ok(role), Some(user_id)) => Ok(Authenticated {
                user_id,
                role,
                request,
            }),
            _ => Err(ApiError::unauthenticated("wrong name or password")),
        }
    }
}

/// The account `name` names: an email when it has an `@`, else a username. Read with the
/// service's own login (the request's role is not known yet).
async fn find_account(state: &AppState, name: &str) -> Result<Option<Account>, ApiError> {
    let client = state.pool.get().await.map_err(ApiError::pool)?;
    let column = if name.contains('@') {
        "email"
    } else {
        "username"
    };
    let statement = format!(
        "SELECT id, role::text, password_hash, is_active, deleted_at IS NOT NULL FROM users WHERE {column} = $1"
    );
    let rows = query_cached(&client, &statement, &[&name]).await?;
    Ok(rows.first().map(|row| Account {
        id: row.get(0),
        role: Role::parse(row.get::<_, &str>(1)),
        password_hash: row.get(2),
        is_active: row.get(3),
        deleted: row.get(4),
    }))
}

/// Writes the attempt's audit row, committed on its own whatever the request then does. The
/// name the client gave is PII (a username or an email): the row holds its keyed hash, never
/// the name or the password.
async fn record(
    state: &AppState,
    keys: &Keys,
    request: &RequestInfo,
    account: Option<(&str, Option<Uuid>, Option<Role>)>,
    outcome: Result<Role, Failure>,
) -> Result<(), ApiError> {
    let role = outcome.ok().or(account.and_then(|(_, _, role)| role));
    let event_type = match (role, outcome.is_ok()) {
        (Some(Role::Service), _) => "client_authentication",
        (_, true) => "login_success",
        (_, false) => "login_failure",
    };
    let mut details = serde_json::json!({ "method": "basic" });
    if let Some((name, _, _)) = account {
        details["name"] = serde_json::Value::String(keys.audit.hash(name));
    }
    if let Err(failure) = outcome {
        details["reason"] = serde_json::Value::String(failure.reason().to_string());
    }
    let user_id = account.and_then(|(_, id, _)| id);
    let ip = request.ip_address.map(|ip| ip.to_string());
    let user_agent = request.user_agent.as_deref().map(|ua| {
        ua.chars()
            .take(repo_runtime::MAX_USER_AGENT)
            .collect::<String>()
    });
    let details = details.to_string();
    let client = state.pool.get().await.map_err(ApiError::pool)?;
    query_cached(
        &client,
        "INSERT INTO audit_logs (event_type, user_id, resource_type, resource_id, action, success, ip_address, user_agent, request_id, details)
         VALUES ($1::text::audit_event_type, $2, 'users', $2, 'login', $3, $4::text::inet, $5, $6, $7::text::jsonb)",
        &[
            &event_type,
            &user_id,
            &outcome.is_ok(),
            &ip,
            &user_agent,
            &request.request_id,
            &details,
        ],
    )
    .await?;
    Ok(())
}

/// Runs one of the sign-in's statements, prepared once per pooled connection (its statement
/// cache): a statement given as text is prepared on every call, a round trip more on each of
/// the two statements every request runs. A failed statement is prepared again on its next use,
/// in case its table changed under it.
async fn query_cached(
    client: &deadpool_postgres::Client,
    statement: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, ApiError> {
    let rows = async {
        let prepared = client.prepare_cached(statement).await?;
        client.query(&prepared, params).await
    }
    .await;
    rows.map_err(|e| {
        client.statement_cache.remove(statement, &[]);
        ApiError::from(repo_runtime::RepoError::from(e))
    })
}
