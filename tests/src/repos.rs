//! What the repository tests start from: a database built by the committed migrations with one
//! acting user, and the keys every actor of the tests carries.

use dental_schema::{FileType, NewCase, NewFile};
use postgres::Client;
use postgres::types::ToSql;
use repo_runtime::{AuditKey, DataKey};
use uuid::Uuid;

use crate::pg::{self, TestDb};

/// A fresh database with the committed migrations applied and one user to act as.
#[allow(missing_debug_implementations)] // postgres::Client has no Debug
pub struct WithActor {
    pub db: TestDb,
    pub client: Client,
    /// The user `<name>` (email `<name>@example.org`), inserted directly: unaudited.
    pub actor_id: Uuid,
}

/// A database named after `hint` with the committed migrations and the user `name`.
pub fn with_actor(hint: &str, name: &str) -> WithActor {
    let db = pg::cluster().create_database(hint);
    let mut client = db.connect();
    crate::migrations::apply_all(&mut client);
    let actor_id = insert_user(&mut client, name);
    WithActor {
        db,
        client,
        actor_id,
    }
}

/// A database with one user ([`with_actor`]) and the keys that user acts with.
#[allow(missing_debug_implementations)] // postgres::Client has no Debug
pub struct Fixture {
    pub db: TestDb,
    pub client: Client,
    /// [`audit_key`].
    pub key: AuditKey,
    /// [`data_key`].
    pub data_key: DataKey,
    /// The user `<name>`, as in [`WithActor`].
    pub actor_id: Uuid,
}

/// [`with_actor`] with the keys of the tests' actors.
pub fn fixture(hint: &str, name: &str) -> Fixture {
    let WithActor {
        db,
        client,
        actor_id,
    } = with_actor(hint, name);
    Fixture {
        db,
        client,
        key: audit_key(),
        data_key: data_key(),
        actor_id,
    }
}

impl Fixture {
    /// The fields as a tuple, to bind in one line:
    /// `let (_db, mut client, key, data_key, actor_id) = fixture(..).parts();`. Each is of its own
    /// type, so the compiler refuses them bound in another order.
    pub fn parts(self) -> (TestDb, Client, AuditKey, DataKey, Uuid) {
        (self.db, self.client, self.key, self.data_key, self.actor_id)
    }
}

/// Inserts the user `name` (email `<name>@example.org`) directly, unaudited; returns its id.
pub fn insert_user(client: &mut Client, name: &str) -> Uuid {
    inserted_id(
        client,
        "INSERT INTO users (username, email) VALUES ($1, $1 || '@example.org') RETURNING id",
        &[&name],
    )
}

/// The id that `sql`, an `INSERT ... RETURNING id` run directly (unaudited), returns.
pub fn inserted_id(client: &mut Client, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Uuid {
    client
        .query_one(sql, params)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .get(0)
}

/// The number `sql` (a `SELECT count(*) ...`) returns.
pub fn count(client: &mut Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .get(0)
}

/// The audit key of the tests' actors.
pub fn audit_key() -> AuditKey {
    AuditKey::new(&[0x5a; 32]).expect("audit key")
}

/// The data key of the tests' actors (for `#[repo(encrypted)]` columns).
pub fn data_key() -> DataKey {
    DataKey::new(&[0x3c; 32]).expect("data key")
}

/// A case numbered `number` (patient `patient-of-<number>`) created by `created_by`, every
/// optional field left to its default; tests change what they need with `..new_case(..)`.
pub fn new_case(created_by: Uuid, number: &str) -> NewCase {
    NewCase {
        id: None,
        case_number: number.to_owned(),
        patient_id: format!("patient-of-{number}"),
        title: None,
        notes: None,
        status: None,
        priority: None,
        created_by,
        assigned_to: None,
        due_at: None,
        tags: None,
        case_metadata: None,
        processing_consent: None,
        consent_recorded_at: None,
    }
}

/// A 1-byte STL file `filename` of case `case_id`, uploaded by `uploaded_by`, every optional field
/// left to its default.
pub fn new_file(case_id: Uuid, uploaded_by: Uuid, filename: &str) -> NewFile {
    NewFile {
        id: None,
        case_id,
        uploaded_by,
        filename: filename.to_owned(),
        file_type: FileType::Stl,
        mime_type: "model/stl".to_owned(),
        size_bytes: 1,
        checksum: "0".repeat(64),
        storage_uri: "s3://bucket/key".to_owned(),
        status: None,
        tags: None,
        file_metadata: None,
        processing_metadata: None,
    }
}
