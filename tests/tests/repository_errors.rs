//! What a failing repository call reports, on a real PostgreSQL: the server's SQLSTATE even on a
//! fresh connection inside a transaction, typed errors, and no row data (PII/PHI) anywhere in
//! an error's Display, Debug or source chain.

use dental_schema::{Case, CasePatch, File, NewCase, NewUser, User};
use e2e::repos::{Fixture, new_file};
use postgres::error::SqlState;
use repo_runtime::{Executor, PageRequest, Prepared, RepoError};
use uuid::Uuid;

/// A database with the schema and one acting user.
fn fixture(hint: &str) -> Fixture {
    e2e::repos::fixture(hint, "actor")
}

fn new_case(created_by: Uuid, number: &str, patient: &str) -> NewCase {
    NewCase {
        patient_id: patient.to_owned(),
        ..e2e::repos::new_case(created_by, number)
    }
}

fn code(result: &RepoError) -> Option<&SqlState> {
    result.code()
}

/// The three violations a call in a transaction can meet, and the SQLSTATE each must report.
#[derive(Debug, Clone, Copy)]
enum Violation {
    DuplicateInsert,
    UpdateToADuplicate,
    MissingReference,
}

impl Violation {
    const ALL: [Violation; 3] = [
        Violation::DuplicateInsert,
        Violation::UpdateToADuplicate,
        Violation::MissingReference,
    ];

    fn state(self) -> SqlState {
        match self {
            Violation::DuplicateInsert | Violation::UpdateToADuplicate => {
                SqlState::UNIQUE_VIOLATION
            }
            Violation::MissingReference => SqlState::FOREIGN_KEY_VIOLATION,
        }
    }

    /// Commits the violation through `db`, where case `C-1` exists and `other` is another case.
    fn commit<C: Executor + ?Sized>(
        self,
        db: &mut C,
        actor: repo_runtime::Actor<'_>,
        other: Uuid,
    ) -> RepoError {
        let actor_id = actor.user_id();
        match self {
            Violation::DuplicateInsert => {
                Case::insert(db, actor, &new_case(actor_id, "C-1", "P-3")).expect_err("duplicate")
            }
            Violation::UpdateToADuplicate => Case::update(
                db,
                actor,
                &other,
                &CasePatch {
                    case_number: Some("C-1".to_owned()),
                    ..CasePatch::default()
                },
            )
            .expect_err("duplicate"),
            Violation::MissingReference => File::insert(
                db,
                actor,
                &new_file(Uuid::from_u128(9), actor_id, "scan.stl"),
            )
            .expect_err("no such case"),
        }
    }
}

/// The state each failure must report, on a connection that has never looked up the schema's
/// enum types (the `postgres` crate would do so after the failed statement, in the aborted
/// transaction, and report 25P02 instead), plain or `Prepared`.
#[test]
fn violations_in_a_transaction_on_a_fresh_connection_keep_their_sqlstate() {
    let fixture = fixture("errors_fresh_tx");
    let actor = fixture
        .key
        .actor(fixture.actor_id)
        .with_data_key(&fixture.data_key);
    let mut setup = fixture.db.connect();
    Case::insert(&mut setup, actor, &new_case(fixture.actor_id, "C-1", "P-1")).expect("insert");
    let other = Case::insert(&mut setup, actor, &new_case(fixture.actor_id, "C-2", "P-2"))
        .expect("insert")
        .id;

    for violation in Violation::ALL {
        let mut client = fixture.db.connect();
        let mut tx = client.transaction().expect("begin");
        let error = violation.commit(&mut tx, actor, other);
        assert_eq!(
            code(&error),
            Some(&violation.state()),
            "{violation:?}: {error:?}"
        );
        drop(tx);

        let mut db = Prepared::new(fixture.db.connect());
        let mut tx = db.transaction().expect("begin");
        let error = violation.commit(&mut tx, actor, other);
        assert_eq!(
            code(&error),
            Some(&violation.state()),
            "prepared, {violation:?}: {error:?}"
        );
    }

    // A listing that fails (its audit row is refused) reports why, on either kind of connection.
    setup
        .batch_execute("ALTER TABLE audit_logs ADD CONSTRAINT no_more CHECK (false) NOT VALID")
        .expect("break the audit table");
    let mut client = fixture.db.connect();
    let mut tx = client.transaction().expect("begin");
    let error = Case::list(&mut tx, actor, &PageRequest::first(10)).expect_err("list");
    assert_eq!(code(&error), Some(&SqlState::CHECK_VIOLATION), "{error:?}");
    drop(tx);
    let mut db = Prepared::new(fixture.db.connect());
    let mut tx = db.transaction().expect("begin");
    let error = Case::list(&mut tx, actor, &PageRequest::first(10)).expect_err("list");
    assert_eq!(
        code(&error),
        Some(&SqlState::CHECK_VIOLATION),
        "prepared: {error:?}"
    );
}

/// Every way a call can fail, provoked with a marker in the values it carries: the marker is in
/// none of the error's Display, Debug (`{:?}`, `{:#?}`) or source chain, while the SQLSTATE and
/// the constraint stay.
#[test]
fn errors_carry_no_row_data() {
    const MARKER: &str = "ROWDATA-MARKER";
    let fixture = fixture("errors_no_row_data");
    let actor = fixture
        .key
        .actor(fixture.actor_id)
        .with_data_key(&fixture.data_key);
    let mut client = fixture.db.connect();
    let new_user = |name: &str, email: &str| NewUser {
        id: None,
        username: name.to_owned(),
        email: email.to_owned(),
        full_name: Some(format!("{MARKER} full name")),
        password_hash: None,
        role: None,
        is_active: None,
        last_login: None,
    };
    User::insert(
        &mut client,
        actor,
        &new_user("first", &format!("{MARKER}@example.org")),
    )
    .expect("user");
    let case = Case::insert(
        &mut client,
        actor,
        &new_case(fixture.actor_id, "C-1", &format!("{MARKER}-patient")),
    )
    .expect("case");

    let mut errors: Vec<(&str, RepoError)> = Vec::new();
    // Unique violation: PostgreSQL's DETAIL is `Key (email)=(<marker>@example.org) already exists`.
    errors.push((
        "unique",
        User::insert(
            &mut client,
            actor,
            &new_user("second", &format!("{MARKER}@example.org")),
        )
        .expect_err("duplicate email"),
    ));
    // Check violation: DETAIL `Failing row contains (..., <marker>, ...)`.
    errors.push((
        "check",
        User::insert(&mut client, actor, &new_user("third", MARKER)).expect_err("no @"),
    ));
    // Foreign key violation of a row holding the marker.
    let mut orphan = new_case(Uuid::from_u128(5), "C-2", &format!("{MARKER}-orphan"));
    orphan.title = Some(format!("{MARKER} title"));
    errors.push((
        "foreign key",
        Case::insert(&mut client, actor, &orphan).expect_err("no such user"),
    ));
    // A trigger whose message quotes the row.
    client
        .batch_execute(
            "CREATE FUNCTION refuse_case() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'refused case of %', NEW.patient_id; END $$;
             CREATE TRIGGER refuse_case BEFORE UPDATE ON cases FOR EACH ROW EXECUTE FUNCTION refuse_case();",
        )
        .expect("trigger");
    errors.push((
        "trigger",
        Case::update(
            &mut client,
            actor,
            &case.id,
            &CasePatch {
                due_at: Some(None),
                ..CasePatch::default()
            },
        )
        .expect_err("refused by the trigger"),
    ));
    // A stored value the client cannot decode: an enum label it does not know.
    client
        .batch_execute(&format!(
            "DROP TRIGGER refuse_case ON cases;
             ALTER TYPE case_status ADD VALUE '{MARKER}';"
        ))
        .expect("label");
    client
        .execute(
            &format!("UPDATE cases SET status = '{MARKER}' WHERE id = $1"),
            &[&case.id],
        )
        .expect("status");
    errors.push((
        "decoding",
        Case::get(&mut client, actor, &case.id).expect_err("unknown label"),
    ));

    // What stays: the typed kind, the SQLSTATE and the names of what failed.
    let kinds: Vec<(&str, Option<&str>, Option<&str>, u16)> = errors
        .iter()
        .map(|(what, e)| {
            let db = e.database_error();
            (
                *what,
                e.code().map(SqlState::code),
                db.and_then(repo_runtime::DatabaseError::constraint),
                e.http_status(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("unique", Some("23505"), Some("users_email_key"), 409),
            (
                "check",
                Some("23514"),
                Some("users_email_has_at_check"),
                422
            ),
            (
                "foreign key",
                Some("23503"),
                Some("cases_created_by_fkey"),
                409
            ),
            ("trigger", Some("P0001"), None, 500),
            ("decoding", None, None, 500),
        ]
    );
    assert!(
        matches!(errors[0].1, RepoError::Conflict(_)),
        "{:?}",
        errors[0].1
    );
    assert!(
        matches!(errors[2].1, RepoError::ForeignKey(_)),
        "{:?}",
        errors[2].1
    );

    for (what, error) in &errors {
        let mut texts = vec![
            error.to_string(),
            format!("{error:?}"),
            format!("{error:#?}"),
        ];
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            texts.push(cause.to_string());
            texts.push(format!("{cause:?}"));
            source = cause.source();
        }
        for text in &texts {
            assert!(!text.contains(MARKER), "{what}: row data in\n{text}");
        }
    }
}

/// A missing (or soft-deleted) row is `NotFound` for every method that names a row it expects
/// (`fetch`, `update`, `soft_delete`, `restore`, `hard_delete`), and `None` for the lookup
/// `get`; each read is audited alike (`success` false).
#[test]
fn missing_rows_are_not_found_alike() {
    let fixture = fixture("errors_not_found");
    let actor = fixture
        .key
        .actor(fixture.actor_id)
        .with_data_key(&fixture.data_key);
    let mut client = fixture.db.connect();
    let gone = Case::insert(
        &mut client,
        actor,
        &new_case(fixture.actor_id, "G-1", "P-1"),
    )
    .expect("case");
    Case::soft_delete(&mut client, actor, &gone.id).expect("soft delete");
    let audited = |client: &mut postgres::Client| -> i64 {
        client
            .query_one(
                "SELECT count(*) FROM audit_logs WHERE action IN ('get') AND NOT success",
                &[],
            )
            .expect("count")
            .get(0)
    };
    for id in [Uuid::from_u128(77), gone.id] {
        let not_found = |what: &str, e: Option<RepoError>| match e {
            Some(RepoError::NotFound {
                table: "cases",
                id: missing,
            }) if missing == id => {}
            other => panic!("{what} of {id}: {other:?}"),
        };
        let before = audited(&mut client);
        assert_eq!(Case::get(&mut client, actor, &id).expect("get"), None);
        not_found("fetch", Case::fetch(&mut client, actor, &id).err());
        assert_eq!(audited(&mut client), before + 2, "both reads audited");
        let patch = CasePatch {
            due_at: Some(None),
            ..CasePatch::default()
        };
        not_found(
            "update",
            Case::update(&mut client, actor, &id, &patch).err(),
        );
        not_found(
            "soft_delete",
            Case::soft_delete(&mut client, actor, &id).err(),
        );
        let status = Case::fetch(&mut client, actor, &id)
            .err()
            .map(|e| e.http_status());
        assert_eq!(status, Some(404));
    }
    not_found_restore(&mut client, actor, Uuid::from_u128(78));
    Case::restore(&mut client, actor, &gone.id).expect("restore");
    assert_eq!(
        Case::fetch(&mut client, actor, &gone.id).expect("fetch").id,
        gone.id
    );
    Case::hard_delete(&mut client, actor, &gone.id).expect("hard delete");
    assert!(matches!(
        Case::hard_delete(&mut client, actor, &gone.id),
        Err(RepoError::NotFound { .. })
    ));
}

fn not_found_restore(client: &mut postgres::Client, actor: repo_runtime::Actor<'_>, id: Uuid) {
    assert!(
        matches!(
            Case::restore(client, actor, &id),
            Err(RepoError::NotFound { table: "cases", id: missing }) if missing == id
        ),
        "restore of a missing row"
    );
}

/// A lock not granted in time (55P03 under `lock_timeout`) is `Retryable`, and
/// `repo_runtime::retry` runs the whole transaction again until the lock is free: one update,
/// one audit row, whatever the number of attempts.
#[test]
fn lock_timeouts_are_retryable_and_retried() {
    let fixture = fixture("errors_retry");
    let actor = fixture
        .key
        .actor(fixture.actor_id)
        .with_data_key(&fixture.data_key);
    let mut client = fixture.db.connect();
    let case = Case::insert(
        &mut client,
        actor,
        &new_case(fixture.actor_id, "L-1", "P-1"),
    )
    .expect("case");

    // Another transaction holds the row for a while.
    let mut holder = fixture.db.connect();
    let mut held = holder.transaction().expect("begin");
    held.execute("SELECT 1 FROM cases WHERE id = $1 FOR UPDATE", &[&case.id])
        .expect("lock");

    client
        .batch_execute("SET lock_timeout = '50ms'")
        .expect("lock timeout");
    let patch = CasePatch {
        due_at: Some(None),
        ..CasePatch::default()
    };
    let refused = Case::update(&mut client, actor, &case.id, &patch).expect_err("locked");
    assert!(refused.is_retryable(), "{refused:?}");
    assert_eq!(refused.code(), Some(&SqlState::LOCK_NOT_AVAILABLE));
    assert_eq!(refused.http_status(), 503);

    let attempts = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            held.commit().expect("release");
        });
        repo_runtime::retry(100, || {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut tx = client.transaction()?;
            Case::update(&mut tx, actor, &case.id, &patch)?;
            tx.commit()?;
            Ok(())
        })
        .expect("updated once the lock is free");
    });
    assert!(
        attempts.load(std::sync::atomic::Ordering::Relaxed) > 1,
        "the first attempts waited for the lock"
    );
    let updates: i64 = client
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE action = 'update' AND resource_id = $1",
            &[&case.id],
        )
        .expect("count")
        .get(0);
    assert_eq!(updates, 1, "one audit row for the one update that happened");
}
