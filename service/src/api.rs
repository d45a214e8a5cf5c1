//! The API on the audited repositories: cases (create, get, list by status, update, soft delete)
//! and jobs (enqueue, claim, complete, fail). Each request is authenticated ([`Authenticated`]),
//! then runs in one transaction under the database role of the user's role (`SET LOCAL ROLE`),
//! retried whole when PostgreSQL rolled it back for a deadlock or serialization failure.
//! Every failure is JSON (`{"error": ..., "status": ...}`); a client's mistake is a 4xx.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use dental_schema::{
    Case, CasePatch, CasePriority, CaseStatus, ConsentStatus, Job, JobType, NewCase, NewJob,
};
use repo_runtime::{Cursor, Order, PageRequest, RepoError, queue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::auth::{Authenticated, Role};

/// A failed request's answer: a status and a JSON body that never holds row data.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn unauthenticated(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn no_keys() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the API needs AUDIT_HMAC_KEY and DATA_ENCRYPTION_KEY; the service was started without them",
        )
    }

    pub(crate) fn pool(error: deadpool_postgres::PoolError) -> ApiError {
        tracing::warn!(%error, "no database connection");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is unavailable; try again",
        )
    }

    pub(crate) fn internal(message: &str) -> ApiError {
        tracing::error!(message, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }

    /// The status, for tests and logs.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The statuses of `RepoError::http_status` (docs/repositories.md). `RepoError`'s text names
/// tables, columns, constraints and ids, never values, so it is safe to answer and to log;
/// a server-side failure is logged and answered without details.
impl From<RepoError> for ApiError {
    fn from(error: RepoError) -> ApiError {
        let status =
            StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(%error, code = ?error.code(), "repository call failed");
        }
        let message = match (&error, status) {
            (_, StatusCode::INTERNAL_SERVER_ERROR) => "internal error".to_string(),
            (RepoError::Database(_), StatusCode::FORBIDDEN) => {
                "your role may not do this (the database refused it)".to_string()
            }
            _ => error.to_string(),
        };
        ApiError::new(status, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.message, "status": self.status.as_u16() })),
        )
            .into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"dental\", charset=\"UTF-8\""),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

type ApiResult = Result<Response, ApiError>;

/// One request's transaction on a pooled connection, under a database role. Dropped without
/// [`Session::finish`] (the client went away mid-request), its connection is closed rather than
/// returned to the pool inside an open transaction.
pub(crate) struct Session {
    connection: Option<deadpool_postgres::Object>,
    open: bool,
}

impl Session {
    pub(crate) async fn begin(state: &AppState, role: Role) -> Result<Session, ApiError> {
        let connection = state.pool.get().await.map_err(ApiError::pool)?;
        let mut session = Session {
            connection: Some(connection),
            open: true,
        };
        // The role is one of three fixed names, never the client's text.
        let begin = format!("BEGIN; SET LOCAL ROLE {}", role.database_role());
        session
            .client()
            .batch_execute(&begin)
            .await
            .map_err(|e| ApiError::from(RepoError::from(e)))?;
        Ok(session)
    }

    pub(crate) fn client(&mut self) -> &mut deadpool_postgres::Client {
        match self.connection.as_mut() {
            Some(connection) => connection,
            None => unreachable!("a session has its connection until dropped"),
        }
    }

    /// Commits after success, and after `NotFound`, so the audit row of a read that found
    /// nothing (`success` false) stays; rolls back after any other failure. The result is the
    /// call's, or the commit's failure.
    pub(crate) async fn finish<T>(mut self, result: Result<T, RepoError>) -> Result<T, RepoError> {
        let keep = matches!(result, Ok(_) | Err(RepoError::NotFound { .. }));
        let end = if keep { "COMMIT" } else { "ROLLBACK" };
        let ended = self.client().batch_execute(end).await;
        if ended.is_ok() {
            self.open = false;
        }
        match (result, ended) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(RepoError::from(e)),
            (Err(e), _) => Err(e),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.open
            && let Some(connection) = self.connection.take()
        {
            drop(deadpool_postgres::Object::take(connection));
        }
    }
}

/// How many times a transaction PostgreSQL rolled back (40001, 40P01, 55P03) is run.
pub(crate) const ATTEMPTS: u32 = 4;

/// Runs `$body` (an expression awaiting repository calls on `$client` as `$actor`) in a
/// transaction under the user's role, the whole transaction again while it is retryable.
/// (A macro, not a function taking an async closure: the handler's future must stay `Send`.)
macro_rules! in_transaction {
    ($state:expr, $auth:expr, |$client:ident, $actor:ident| $body:expr) => {{
        let keys = $state.keys.as_deref().ok_or_else(ApiError::no_keys)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut session = Session::begin(&$state, $auth.role).await?;
            let result = {
                let $client = session.client();
                let $actor = $auth.actor(keys);
                $body
            };
            match session.finish(result).await {
                Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                }
                other => break other.map_err(ApiError::from),
            }
        }
    }};
}

/// A JSON body: an empty body is `T::default()` when `T` has one (`optional`), else a 400.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("a JSON body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("bad JSON body: {e}")))
}

fn optional_body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    body(bytes)
}

fn path_id(path: Result<Path<Uuid>, PathRejection>) -> Result<Uuid, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|_| ApiError::bad_request("the id in the path is not a UUID"))
}

fn json_response(status: StatusCode, value: impl serde::Serialize) -> ApiResult {
    Ok((status, Json(value)).into_response())
}

/// `Option<Option<T>>` from JSON: absent is `None` (leave as is), `null` is `Some(None)` (clear).
fn present<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `POST /cases`: the body of a new case; `created_by` is the caller.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    case_number: String,
    patient_id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    status: Option<CaseStatus>,
    #[serde(default)]
    priority: Option<CasePriority>,
    #[serde(default)]
    assigned_to: Option<Uuid>,
    #[serde(default)]
    due_at: Option<DateTime<Utc>>,
    #[serde(default)]
    tags: Option<Value>,
    #[serde(default)]
    case_metadata: Option<Value>,
    #[serde(default)]
    processing_consent: Option<ConsentStatus>,
    #[serde(default)]
    consent_recorded_at: Option<DateTime<Utc>>,
}

pub(crate) async fn create_case(
    State(state): State<AppState>,
    auth: Authenticated,
    bytes: Bytes,
) -> ApiResult {
    let new: NewCaseBody = body(&bytes)?;
    let new = NewCase {
        id: None,
        case_number: new.case_number,
        patient_id: new.patient_id,
        title: new.title,
        notes: new.notes,
        status: new.status,
        priority: new.priority,
        created_by: auth.user_id,
        assigned_to: new.assigned_to,
        due_at: new.due_at,
        tags: new.tags,
        case_metadata: new.case_metadata,
        processing_consent: new.processing_consent,
        consent_recorded_at: new.consent_recorded_at,
    };
    let case = in_transaction!(state, auth, |client, actor| {
        Case::insert_async(client, actor, &new).await
    })?;
    json_response(StatusCode::CREATED, case)
}

pub(crate) async fn get_case(
    State(state): State<AppState>,
    auth: Authenticated,
    path: Result<Path<Uuid>, PathRejection>,
) -> ApiResult {
    let id = path_id(path)?;
    let case = in_transaction!(state, auth, |client, actor| {
        Case::fetch_async(client, actor, &id).await
    })?;
    json_response(StatusCode::OK, case)
}

/// `GET /cases?status=...`: one page of the cases with that status.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListCases {
    status: CaseStatus,
    #[serde(default)]
    order: ListOrder,
    #[serde(default = "default_limit")]
    limit: u32,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ListOrder {
    /// Oldest first: a work queue.
    #[default]
    Asc,
    Desc,
}

fn default_limit() -> u32 {
    50
}

pub(crate) async fn list_cases(
    State(state): State<AppState>,
    auth: Authenticated,
    query: Result<Query<ListCases>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let order = match query.order {
        ListOrder::Asc => Order::Ascending,
        ListOrder::Desc => Order::Descending,
    };
    let mut request = PageRequest::first(query.limit);
    if let Some(cursor) = query.cursor {
        request = request.after(Cursor::from_token(cursor));
    }
    let page = in_transaction!(state, auth, |client, actor| {
        Case::find_by_status_async(client, actor, &query.status, order, &request).await
    })?;
    let unreadable: Vec<Value> = page
        .unreadable
        .iter()
        .map(|u| json!({ "id": u.id, "column": u.column }))
        .collect();
    json_response(
        StatusCode::OK,
        json!({
            "items": page.items,
            "next_cursor": page.next.as_ref().map(Cursor::as_str),
            "unreadable": unreadable,
        }),
    )
}

/// `PATCH /cases/{id}`: the fields to change; `null` clears a nullable one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePatchBody {
    #[serde(default)]
    case_number: Option<String>,
    #[serde(default)]
    patient_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    notes: Option<Option<String>>,
    #[serde(default)]
    status: Option<CaseStatus>,
    #[serde(default)]
    priority: Option<CasePriority>,
    #[serde(default, deserialize_with = "present")]
    assigned_to: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    due_at: Option<Option<DateTime<Utc>>>,
    #[serde(default)]
    tags: Option<Value>,
    #[serde(default)]
    case_metadata: Option<Value>,
    #[serde(default)]
    processing_consent: Option<ConsentStatus>,
    #[serde(default, deserialize_with = "present")]
    consent_recorded_at: Option<Option<DateTime<Utc>>>,
}

pub(crate) async fn update_case(
    State(state): State<AppState>,
    auth: Authenticated,
    path: Result<Path<Uuid>, PathRejection>,
    bytes: Bytes,
) -> ApiResult {
    let id = path_id(path)?;
    let changes: CasePatchBody = body(&bytes)?;
    let patch = CasePatch {
        case_number: changes.case_number,
        patient_id: changes.patient_id,
        title: changes.title,
        notes: changes.notes,
        status: changes.status,
        priority: changes.priority,
        assigned_to: changes.assigned_to,
        due_at: changes.due_at,
        tags: changes.tags,
        case_metadata: changes.case_metadata,
        processing_consent: changes.processing_consent,
        consent_recorded_at: changes.consent_recorded_at,
        ..CasePatch::default()
    };
    let case = in_transaction!(state, auth, |client, actor| {
        Case::update_async(client, actor, &id, &patch).await
    })?;
    json_response(StatusCode::OK, case)
}

pub(crate) async fn delete_case(
    State(state): State<AppState>,
    auth: Authenticated,
    path: Result<Path<Uuid>, PathRejection>,
) -> ApiResult {
    let id = path_id(path)?;
    in_transaction!(state, auth, |client, actor| {
        Case::soft_delete_async(client, actor, &id).await.map(drop)
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /jobs`: a job to queue for a case (whose patient consented to processing).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewJobBody {
    case_id: Uuid,
    job_type: JobType,
    #[serde(default)]
    file_id: Option<Uuid>,
    #[serde(default)]
    priority: Option<i16>,
    #[serde(default)]
    max_attempts: Option<i32>,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default)]
    scheduled_at: Option<DateTime<Utc>>,
}

pub(crate) async fn enqueue_job(
    State(state): State<AppState>,
    auth: Authenticated,
    bytes: Bytes,
) -> ApiResult {
    let new: NewJobBody = body(&bytes)?;
    let new = NewJob {
        id: None,
        case_id: new.case_id,
        file_id: new.file_id,
        created_by: auth.user_id,
        job_type: new.job_type,
        status: None,
        priority: new.priority,
        attempts: None,
        max_attempts: new.max_attempts,
        parameters: new.parameters,
        result: None,
        error: None,
        scheduled_at: new.scheduled_at,
        started_at: None,
        finished_at: None,
    };
    let job = in_transaction!(state, auth, |client, actor| {
        Job::insert_async(client, actor, &new).await
    })?;
    json_response(StatusCode::CREATED, job)
}

/// `POST /jobs/claim`: the next runnable job, now `processing`; `{"job": null}` when none is.
pub(crate) async fn claim_job(State(state): State<AppState>, auth: Authenticated) -> ApiResult {
    let job = in_transaction!(state, auth, |client, actor| {
        queue::claim_async::<Job, _>(client, actor).await
    })?;
    json_response(StatusCode::OK, json!({ "job": job }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    #[serde(default)]
    result: Option<Value>,
}

pub(crate) async fn complete_job(
    State(state): State<AppState>,
    auth: Authenticated,
    path: Result<Path<Uuid>, PathRejection>,
    bytes: Bytes,
) -> ApiResult {
    let id = path_id(path)?;
    let done: CompleteBody = optional_body(&bytes)?;
    let job = in_transaction!(state, auth, |client, actor| {
        queue::complete_async::<Job, _>(client, actor, &id, done.result.as_ref()).await
    })?;
    json_response(StatusCode::OK, job)
}

/// The longest back-off a client may ask for (the queue caps the grown one at a day too).
const MAX_BACKOFF_SECONDS: u64 = 24 * 60 * 60;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailBody {
    error: String,
    #[serde(default = "default_backoff")]
    backoff_seconds: u64,
}

fn default_backoff() -> u64 {
    30
}

pub(crate) async fn fail_job(
    State(state): State<AppState>,
    auth: Authenticated,
    path: Result<Path<Uuid>, PathRejection>,
    bytes: Bytes,
) -> ApiResult {
    let id = path_id(path)?;
    let failed: FailBody = body(&bytes)?;
    if failed.backoff_seconds > MAX_BACKOFF_SECONDS {
        return Err(ApiError::bad_request(format!(
            "backoff_seconds is at most {MAX_BACKOFF_SECONDS}"
        )));
    }
    let backoff = Duration::from_secs(failed.backoff_seconds);
    let job = in_transaction!(state, auth, |client, actor| {
        queue::fail_async::<Job, _>(client, actor, &id, &failed.error, backoff).await
    })?;
    json_response(StatusCode::OK, job)
}
