//! One worker connection: the operation mix, and each operation through the repositories.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dental_schema::{
    AuditEventType, AuditLog, Case, CasePatch, CasePriority, ConsentStatus, File, FilePatch, Job,
    JobPatch, JobType, Model, ModelPatch, ModelType, NewCase, NewFile, NewJob, NewModel,
    NewSegment, NewUser, Segment, SegmentPatch, SegmentType, User, UserPatch,
};
use postgres::{Client, NoTls};
use repo_runtime::{Actor, Executor, PageRequest, Prepared, RepoError};
use serde_json::json;
use uuid::Uuid;

use crate::rng::Rng;

use super::{Acked, Kind, Op, OpError, Record, keys};

/// What an operation's error was, with its SQLSTATE (errors carry no row data, so the whole
/// chain is safe to keep).
pub(super) fn describe(error: &RepoError) -> (Option<String>, String) {
    let sqlstate = error.code().map(|c| c.code().to_owned());
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    (sqlstate, message)
}

/// A worker's connection: prepared statements or a plain client.
enum Conn {
    Plain(Client),
    Prepared(Prepared<Client>),
}

impl Conn {
    fn executor(&mut self) -> &mut dyn Executor {
        match self {
            Conn::Plain(client) => client,
            Conn::Prepared(prepared) => prepared,
        }
    }

    fn client(&mut self) -> &mut Client {
        match self {
            Conn::Plain(client) => client,
            Conn::Prepared(prepared) => prepared.client(),
        }
    }
}

/// The operations a worker chooses from, with their weights.
const MIX: [(Kind, &str, usize); 22] = [
    (Kind::Insert, "users", 1),
    (Kind::Update, "users", 2),
    (Kind::Get, "users", 2),
    (Kind::Insert, "cases", 6),
    (Kind::Update, "cases", 8),
    (Kind::Get, "cases", 10),
    (Kind::List, "cases", 3),
    (Kind::Insert, "files", 5),
    (Kind::Update, "files", 6),
    (Kind::Get, "files", 6),
    (Kind::Insert, "jobs", 5),
    (Kind::Update, "jobs", 6),
    (Kind::Get, "jobs", 4),
    (Kind::List, "jobs", 2),
    (Kind::Insert, "segments", 4),
    (Kind::Update, "segments", 4),
    (Kind::Get, "segments", 3),
    (Kind::Insert, "models", 2),
    (Kind::Update, "models", 2),
    (Kind::Get, "models", 2),
    (Kind::Get, "audit_logs", 4),
    (Kind::List, "audit_logs", 1),
];

/// One worker connection and the rows it wrote (it updates and reads only its own rows, so the
/// last acknowledged value of each is known).
pub(super) struct Worker {
    n: usize,
    config: postgres::Config,
    reconnect_after: Option<Duration>,
    started: Instant,
    conn: Option<(Conn, Instant)>,
    rng: Rng,
    sequence: u64,
    users: Vec<Uuid>,
    cases: Vec<Uuid>,
    files: Vec<(Uuid, Uuid)>,
    jobs: Vec<(Uuid, Uuid)>,
    segments: Vec<Uuid>,
    models: Vec<Uuid>,
    record: Record,
}

/// The result of one operation: the id of the row it wrote, if it wrote one.
type Outcome = Result<Option<Uuid>, RepoError>;

impl Worker {
    pub(super) fn new(
        n: usize,
        mut config: postgres::Config,
        reconnect_after: Option<Duration>,
        started: Instant,
    ) -> Worker {
        config.application_name(&format!("load-worker-{n}"));
        Worker {
            n,
            config,
            reconnect_after,
            started,
            conn: None,
            rng: Rng::new(
                0x9e37_79b9_7f4a_7c15 ^ (n as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9),
            ),
            sequence: 0,
            users: Vec::new(),
            cases: Vec::new(),
            files: Vec::new(),
            jobs: Vec::new(),
            segments: Vec::new(),
            models: Vec::new(),
            record: Record::default(),
        }
    }

    fn connect(&self) -> Conn {
        let client = self
            .config
            .connect(NoTls)
            .unwrap_or_else(|e| panic!("load-worker-{}: cannot connect: {e}", self.n));
        if self.n.is_multiple_of(2) {
            Conn::Prepared(Prepared::new(client))
        } else {
            Conn::Plain(client)
        }
    }

    /// The connection, opened (again) when there is none, it broke, or it is due for recycling.
    fn conn(&mut self) -> &mut Conn {
        let expired = match &mut self.conn {
            None => true,
            Some((conn, opened)) => {
                conn.client().is_closed()
                    || self
                        .reconnect_after
                        .is_some_and(|after| opened.elapsed() >= after)
            }
        };
        if expired {
            self.conn = None;
            self.conn = Some((self.connect(), Instant::now()));
        }
        &mut self.conn.as_mut().expect("connected").0
    }

    fn next_name(&mut self, what: &str) -> String {
        self.sequence += 1;
        format!("{what}-{}-{}", self.n, self.sequence)
    }

    pub(super) fn run(&mut self, stop: &AtomicBool) -> Record {
        // The worker's first user, who acts for it, is written directly (unaudited, as an
        // administrator would create the account); every later row goes through the repositories.
        let name = self.next_name("actor");
        let actor: Uuid = self
            .conn()
            .client()
            .query_one(
                "INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org') RETURNING id",
                &[&name],
            )
            .unwrap_or_else(|e| panic!("load-worker-{}: its user: {e}", self.n))
            .get(0);
        self.users.push(actor);
        // Every kind of row exists before the mix starts, so each operation has something to act on.
        for (kind, table) in [
            (Kind::Insert, "users"),
            (Kind::Insert, "cases"),
            (Kind::Insert, "files"),
            (Kind::Insert, "jobs"),
            (Kind::Insert, "segments"),
            (Kind::Insert, "models"),
        ] {
            self.timed(kind, table);
        }
        let total: usize = MIX.iter().map(|(_, _, w)| w).sum();
        while !stop.load(Ordering::Relaxed) {
            let mut draw = self.rng.below(total);
            let (kind, table) = MIX
                .iter()
                .find_map(|&(kind, table, weight)| {
                    if draw < weight {
                        Some((kind, table))
                    } else {
                        draw -= weight;
                        None
                    }
                })
                .unwrap_or((Kind::Get, "cases"));
            self.timed(kind, table);
        }
        std::mem::take(&mut self.record)
    }

    /// Runs one operation, recording its latency or its error, and the write it acknowledged.
    fn timed(&mut self, kind: Kind, table: &'static str) {
        // Connecting is not part of the operation.
        self.conn();
        let start = self.started.elapsed();
        let clock = Instant::now();
        let outcome = self.operation(kind, table);
        let latency = clock.elapsed();
        match outcome {
            Ok(written) => {
                self.record.ops.push(Op {
                    kind,
                    table,
                    start,
                    latency,
                });
                if let Some(id) = written {
                    let acked = self.record.acked.entry((table, id)).or_insert(Acked {
                        version: 0,
                        writes: 0,
                    });
                    if kind == Kind::Update {
                        acked.version += 1;
                    }
                    acked.writes += 1;
                }
            }
            Err(error) => {
                let (sqlstate, message) = describe(&error);
                self.record.errors.push(OpError {
                    kind,
                    table,
                    start,
                    latency,
                    sqlstate,
                    message,
                });
            }
        }
    }

    /// The next version of a row this worker owns.
    fn next_version(&self, table: &'static str, id: Uuid) -> String {
        format!(
            "v{}",
            self.record.acked.get(&(table, id)).map_or(0, |a| a.version) + 1
        )
    }

    fn operation(&mut self, kind: Kind, table: &'static str) -> Outcome {
        let (audit_key, data_key) = keys();
        let user = self.users[self.rng.below(self.users.len())];
        let actor = audit_key.actor(user).with_data_key(data_key);
        match (kind, table) {
            (Kind::Insert, "users") => self.insert_user(actor),
            (Kind::Insert, "cases") => self.insert_case(actor),
            (Kind::Insert, "files") => self.insert_file(actor),
            (Kind::Insert, "jobs") => self.insert_job(actor),
            (Kind::Insert, "segments") => self.insert_segment(actor),
            (Kind::Insert, "models") => self.insert_model(actor),
            (Kind::Update, _) => self.update(actor, table),
            (Kind::Get, "audit_logs") => self.read_audit(),
            (Kind::List, "audit_logs") => self.list_audit(),
            (Kind::Get, _) => self.get(actor, table),
            (Kind::List, _) => self.list(actor, table),
            _ => Ok(None),
        }
    }

    fn insert_user(&mut self, actor: Actor<'_>) -> Outcome {
        let name = self.next_name("user");
        let new = NewUser {
            id: None,
            username: name.clone(),
            email: format!("{name}@example.org"),
            full_name: Some("v0".to_owned()),
            password_hash: None,
            role: None,
            is_active: None,
            last_login: None,
        };
        let user = User::insert(self.conn().executor(), actor, &new)?;
        self.users.push(user.id);
        Ok(Some(user.id))
    }

    fn insert_case(&mut self, actor: Actor<'_>) -> Outcome {
        let number = self.next_name("case");
        let new = NewCase {
            patient_id: format!("patient-{number}"),
            title: Some(format!("scan of {number}")),
            tags: Some(json!(["v0"])),
            processing_consent: Some(ConsentStatus::Granted),
            consent_recorded_at: Some(chrono::Utc::now()),
            ..crate::repos::new_case(actor.user_id(), &number)
        };
        let case = Case::insert(self.conn().executor(), actor, &new)?;
        self.cases.push(case.id);
        Ok(Some(case.id))
    }

    fn insert_file(&mut self, actor: Actor<'_>) -> Outcome {
        let Some(case_id) = self.rng.pick(&self.cases) else {
            return self.insert_case(actor);
        };
        let name = self.next_name("scan");
        let new = NewFile {
            size_bytes: 1024,
            checksum: format!("{:064x}", self.rng.next_u64()),
            storage_uri: format!("s3://scans/{name}"),
            processing_metadata: Some(json!({"v": "v0"})),
            ..crate::repos::new_file(case_id, actor.user_id(), &format!("{name}.stl"))
        };
        let file = File::insert(self.conn().executor(), actor, &new)?;
        self.files.push((file.id, case_id));
        Ok(Some(file.id))
    }

    fn insert_job(&mut self, actor: Actor<'_>) -> Outcome {
        let Some((file_id, case_id)) = self.rng.pick(&self.files) else {
            return self.insert_file(actor);
        };
        let new = NewJob {
            id: None,
            case_id,
            file_id: Some(file_id),
            created_by: actor.user_id(),
            job_type: JobType::Segmentation,
            status: None,
            priority: Some(i16::try_from(self.rng.below(10)).unwrap_or(0)),
            attempts: None,
            max_attempts: None,
            parameters: Some(json!({"v": "v0"})),
            result: None,
            error: None,
            scheduled_at: None,
            started_at: None,
            finished_at: None,
        };
        let job = Job::insert(self.conn().executor(), actor, &new)?;
        self.jobs.push((job.id, file_id));
        Ok(Some(job.id))
    }

    fn insert_segment(&mut self, actor: Actor<'_>) -> Outcome {
        let Some((job_id, file_id)) = self.rng.pick(&self.jobs) else {
            return self.insert_job(actor);
        };
        let case_id = self
            .files
            .iter()
            .find(|(file, _)| *file == file_id)
            .map(|(_, case)| *case)
            .expect("the job's file is this worker's");
        let new = NewSegment {
            id: None,
            case_id,
            file_id,
            created_by_job: Some(job_id),
            segment_type: SegmentType::Tooth,
            tooth_number: Some(11),
            label: None,
            confidence: Some(0.9),
            properties: Some(json!({"v": "v0"})),
            segment_metadata: None,
            bounding_box: None,
            mesh_data: None,
        };
        let segment = Segment::insert(self.conn().executor(), actor, &new)?;
        self.segments.push(segment.id);
        Ok(Some(segment.id))
    }

    fn insert_model(&mut self, actor: Actor<'_>) -> Outcome {
        let version = self.next_name("version");
        let new = NewModel {
            id: None,
            case_id: self.rng.pick(&self.cases),
            model_name: "segmenter".to_owned(),
            model_version: version.clone(),
            model_type: ModelType::Segmentation,
            description: None,
            framework: Some("onnx".to_owned()),
            artifact_uri: format!("s3://models/{version}"),
            is_active: None,
            metrics: Some(json!({"v": "v0"})),
            model_metadata: None,
        };
        let model = Model::insert(self.conn().executor(), actor, &new)?;
        self.models.push(model.id);
        Ok(Some(model.id))
    }

    fn update(&mut self, actor: Actor<'_>, table: &'static str) -> Outcome {
        let id = match table {
            "users" => self.rng.pick(&self.users),
            "cases" => self.rng.pick(&self.cases),
            "files" => self.rng.pick(&self.files).map(|(id, _)| id),
            "jobs" => self.rng.pick(&self.jobs).map(|(id, _)| id),
            "segments" => self.rng.pick(&self.segments),
            "models" => self.rng.pick(&self.models),
            other => panic!("no update of {other}"),
        };
        let Some(id) = id else {
            return Ok(None);
        };
        let version = self.next_version(table, id);
        let value = json!({"v": version});
        let priorities = [CasePriority::Low, CasePriority::Normal, CasePriority::High];
        let priority = self.rng.pick(&priorities);
        let client = self.conn().executor();
        match table {
            "users" => {
                let patch = UserPatch {
                    full_name: Some(Some(version)),
                    last_login: Some(Some(chrono::Utc::now())),
                    ..UserPatch::default()
                };
                User::update(client, actor, &id, &patch).map(|_| ())
            }
            "cases" => {
                let patch = CasePatch {
                    tags: Some(json!([version])),
                    priority,
                    notes: Some(Some("reviewed".to_owned())),
                    ..CasePatch::default()
                };
                Case::update(client, actor, &id, &patch).map(|_| ())
            }
            "files" => {
                let patch = FilePatch {
                    processing_metadata: Some(value),
                    ..FilePatch::default()
                };
                File::update(client, actor, &id, &patch).map(|_| ())
            }
            "jobs" => {
                let patch = JobPatch {
                    parameters: Some(value),
                    ..JobPatch::default()
                };
                Job::update(client, actor, &id, &patch).map(|_| ())
            }
            "segments" => {
                let patch = SegmentPatch {
                    properties: Some(value),
                    ..SegmentPatch::default()
                };
                Segment::update(client, actor, &id, &patch).map(|_| ())
            }
            _ => {
                let patch = ModelPatch {
                    metrics: Some(value),
                    ..ModelPatch::default()
                };
                Model::update(client, actor, &id, &patch).map(|_| ())
            }
        }?;
        Ok(Some(id))
    }

    /// Reads one of this worker's rows back; a row it wrote that is not there is an error.
    fn get(&mut self, actor: Actor<'_>, table: &'static str) -> Outcome {
        let id = match table {
            "users" => self.rng.pick(&self.users),
            "cases" => self.rng.pick(&self.cases),
            "files" => self.rng.pick(&self.files).map(|(id, _)| id),
            "jobs" => self.rng.pick(&self.jobs).map(|(id, _)| id),
            "segments" => self.rng.pick(&self.segments),
            "models" => self.rng.pick(&self.models),
            other => panic!("no get of {other}"),
        };
        let Some(id) = id else {
            return Ok(None);
        };
        let client = self.conn().executor();
        let found = match table {
            "users" => User::get(client, actor, &id)?.is_some(),
            "cases" => Case::get(client, actor, &id)?.is_some(),
            "files" => File::get(client, actor, &id)?.is_some(),
            "jobs" => Job::get(client, actor, &id)?.is_some(),
            "segments" => Segment::get(client, actor, &id)?.is_some(),
            _ => Model::get(client, actor, &id)?.is_some(),
        };
        if found {
            Ok(None)
        } else {
            Err(RepoError::NotFound { table, id })
        }
    }

    fn list(&mut self, actor: Actor<'_>, table: &'static str) -> Outcome {
        let client = self.conn().executor();
        match table {
            "cases" => {
                Case::list(client, actor, &PageRequest::first(20))?;
            }
            _ => {
                Job::list(client, actor, &PageRequest::first(20))?;
            }
        }
        Ok(None)
    }

    /// The audit rows of one of this worker's rows (`audit_logs` has no repository: it is read
    /// as an operator's audit screen would, into the generated `AuditLog`).
    fn read_audit(&mut self) -> Outcome {
        let Some(id) = self.rng.pick(&self.cases) else {
            return Ok(None);
        };
        let rows = audit_rows(
            self.conn().client(),
            "WHERE resource_id = $1 ORDER BY timestamp",
            &[&id],
        )?;
        if rows
            .iter()
            .any(|r| r.event_type == AuditEventType::DataCreate)
        {
            Ok(None)
        } else {
            Err(RepoError::NotFound {
                table: "audit_logs",
                id,
            })
        }
    }

    fn list_audit(&mut self) -> Outcome {
        let user = self.rng.pick(&self.users).unwrap_or_else(Uuid::nil);
        audit_rows(
            self.conn().client(),
            "WHERE user_id = $1 ORDER BY timestamp DESC LIMIT 20",
            &[&user],
        )?;
        Ok(None)
    }
}

/// Rows of `audit_logs` as the generated [`AuditLog`].
fn audit_rows(
    client: &mut Client,
    condition: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<AuditLog>, postgres::Error> {
    let rows = client.query(
        &format!(
            "SELECT id, timestamp, event_type, user_id, resource_type, resource_id, action, success,
                    ip_address, user_agent, changes, details, request_id
               FROM audit_logs {condition}"
        ),
        params,
    )?;
    rows.iter()
        .map(|r| {
            Ok(AuditLog {
                id: r.try_get(0)?,
                timestamp: r.try_get(1)?,
                event_type: r.try_get(2)?,
                user_id: r.try_get(3)?,
                resource_type: r.try_get(4)?,
                resource_id: r.try_get(5)?,
                action: r.try_get(6)?,
                success: r.try_get(7)?,
                ip_address: r.try_get(8)?,
                user_agent: r.try_get(9)?,
                changes: r.try_get(10)?,
                details: r.try_get(11)?,
                request_id: r.try_get(12)?,
            })
        })
        .collect()
}
