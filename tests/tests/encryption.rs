//! Encrypted columns (`#[repo(encrypted)]`) on a real PostgreSQL: the repository round-trips
//! plaintext, while the raw table holds only `enc:v1:` ciphertexts and the audit log neither;
//! without a data key nothing is written; a damaged or moved ciphertext is an error naming the
//! column, never the value; a JSON export decrypts with `decrypt_json_row`.

use e2e::pg::TestDb;
use e2e::repos::count;
use postgres::Client;
use repo_runtime::{
    Actor, AuditKey, DataKey, ENCRYPTED_PREFIX, EncryptionFailure, PageRequest, RepoError,
    Repository, Table, decrypt_json_row,
};
use serde_json::{Value, json};
use uuid::Uuid;

/// Every plaintext the test writes contains this, so one search finds any leak.
const MARKER: &str = "PLAINTEXT-MARKER";

/// A note with an encrypted secret (PHI) and an optional encrypted aside, on a table of its own.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "vault_notes")]
struct VaultNote {
    #[repo(primary_key, default)]
    id: Uuid,
    /// In clear: the audit log shows its changes.
    label: String,
    #[repo(encrypted, phi)]
    secret: String,
    #[repo(encrypted, column = "aside_text")]
    aside: Option<String>,
}

/// A database with the committed migrations (for `audit_logs`, `users` and `encryption_keys`),
/// one acting user and the table `vault_notes`: [`e2e::repos::Fixture::parts`], with a data key
/// of this file's own.
fn fixture(hint: &str) -> (TestDb, Client, AuditKey, DataKey, Uuid) {
    let (db, mut client, key, _, actor_id) = e2e::repos::fixture(hint, "actor").parts();
    client
        .batch_execute(
            "CREATE TABLE vault_notes (
                 id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                 label text NOT NULL,
                 secret text NOT NULL,
                 aside_text text
             );",
        )
        .expect("table");
    let data_key = DataKey::new(&[0x42; 32]).expect("data key");
    (db, client, key, data_key, actor_id)
}

/// A note to insert, its key left to the database.
fn new_note(label: &str, secret: String, aside: Option<String>) -> NewVaultNote {
    NewVaultNote {
        id: None,
        label: label.to_owned(),
        secret,
        aside,
    }
}

/// Inserts a note without an aside as `actor`.
fn insert_note(client: &mut Client, actor: Actor<'_>, label: &str, secret: String) -> VaultNote {
    VaultNote::insert(client, actor, &new_note(label, secret, None))
        .unwrap_or_else(|e| panic!("insert {label}: {e}"))
}

/// `result` is the refusal of a data key other than the one the database was written with.
fn refused_for_another_key<T: std::fmt::Debug>(result: &Result<T, RepoError>, call: &str) {
    assert!(
        matches!(
            result,
            Err(RepoError::Encryption {
                table: "vault_notes",
                reason: EncryptionFailure::KeyMismatch,
                row: None,
                ..
            })
        ),
        "{call} with another key: {result:?}"
    );
}

/// The audit rows (action, changes) written after the first `seen`, which moves past them.
/// Rows are kept, so the final search covers the whole log.
fn new_audit(client: &mut Client, seen: &mut usize) -> Vec<(String, Option<Value>)> {
    let rows = client
        .query(
            "SELECT action, changes FROM audit_logs ORDER BY \"timestamp\", id",
            &[],
        )
        .expect("audit rows");
    let fresh: Vec<(String, Option<Value>)> = rows
        .iter()
        .skip(*seen)
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    *seen = rows.len();
    fresh
}

/// The stored (raw) `secret` and `aside_text` of row `id`, read around the repository.
fn raw(client: &mut Client, id: Uuid) -> (String, Option<String>) {
    let row = client
        .query_one(
            "SELECT secret, aside_text FROM vault_notes WHERE id = $1",
            &[&id],
        )
        .expect("raw row");
    (row.get(0), row.get(1))
}

#[test]
fn plaintext_round_trips_and_never_reaches_the_database() {
    let (_db, mut client, key, data_key, actor_id) = fixture("enc_round_trip");
    let actor = key.actor(actor_id).with_data_key(&data_key);
    let mut seen = 0;

    // insert: the returned row is in clear, the stored one is not.
    let note = VaultNote::insert(
        &mut client,
        actor,
        &new_note(
            "first",
            format!("{MARKER}-secret-1 (Zoë)"),
            Some(format!("{MARKER}-aside-1")),
        ),
    )
    .expect("insert");
    assert_eq!(note.secret, format!("{MARKER}-secret-1 (Zoë)"));
    assert_eq!(note.aside.as_deref(), Some(&*format!("{MARKER}-aside-1")));
    let (secret, aside) = raw(&mut client, note.id);
    for stored in [Some(&secret), aside.as_ref()] {
        let stored = stored.expect("stored");
        assert!(stored.starts_with(ENCRYPTED_PREFIX), "{stored}");
        assert!(!stored.contains(MARKER), "{stored}");
    }
    let audit = new_audit(&mut client, &mut seen);
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0], ("insert".to_owned(), None));

    // get: decrypted, audited (the table holds PHI).
    let got = VaultNote::get(&mut client, actor, &note.id)
        .expect("get")
        .expect("found");
    assert_eq!(got, note);
    assert_eq!(new_audit(&mut client, &mut seen).len(), 1);

    // update: the encrypted fields change, and are named in `changes` as keyed hashes of their
    // ciphertexts (never the plaintext, nor its hash).
    let updated = VaultNote::update(
        &mut client,
        actor,
        &note.id,
        &VaultNotePatch {
            secret: Some(format!("{MARKER}-secret-2")),
            aside: Some(None),
            ..VaultNotePatch::default()
        },
    )
    .expect("update");
    assert_eq!(updated.secret, format!("{MARKER}-secret-2"));
    assert_eq!(updated.aside, None);
    assert_eq!(updated.label, "first");
    let (secret_2, aside_2) = raw(&mut client, note.id);
    assert!(secret_2.starts_with(ENCRYPTED_PREFIX), "{secret_2}");
    assert_eq!(aside_2, None, "NULL stays NULL");
    let audit = new_audit(&mut client, &mut seen);
    assert_eq!(audit.len(), 1, "{audit:?}");
    let (action, changes) = &audit[0];
    assert_eq!(action, "update");
    let changes = changes.as_ref().expect("changes");
    assert_eq!(
        changes
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["aside_text".to_owned(), "secret".to_owned()]),
        "{changes}"
    );
    assert_eq!(changes["secret"]["old"], json!(key.hash(&secret)));
    assert_eq!(changes["secret"]["new"], json!(key.hash(&secret_2)));
    assert_ne!(
        changes["secret"]["new"],
        json!(key.hash(&format!("{MARKER}-secret-2")))
    );
    assert_eq!(changes["aside_text"]["new"], Value::Null);

    // An update of a clear column only: logged in clear, the secret read back decrypted.
    let relabelled = VaultNote::update(
        &mut client,
        actor,
        &note.id,
        &VaultNotePatch {
            label: Some("second".to_owned()),
            ..VaultNotePatch::default()
        },
    )
    .expect("update label");
    assert_eq!(relabelled.secret, format!("{MARKER}-secret-2"));
    let audit = new_audit(&mut client, &mut seen);
    assert_eq!(
        audit[0].1,
        Some(json!({ "label": { "old": "first", "new": "second" } }))
    );
    assert_eq!(raw(&mut client, note.id).0, secret_2, "not re-encrypted");

    // Setting the same plaintext again is reported as a change (documented): the database only
    // compares ciphertexts, and a fresh nonce makes a new one.
    VaultNote::update(
        &mut client,
        actor,
        &note.id,
        &VaultNotePatch {
            secret: Some(format!("{MARKER}-secret-2")),
            ..VaultNotePatch::default()
        },
    )
    .expect("update, same plaintext");
    let audit = new_audit(&mut client, &mut seen);
    assert!(
        audit[0]
            .1
            .as_ref()
            .is_some_and(|c| c.get("secret").is_some())
    );

    // list: every row decrypted.
    let other = insert_note(&mut client, actor, "other", format!("{MARKER}-secret-3"));
    let page = VaultNote::list(&mut client, actor, &PageRequest::first(10)).expect("list");
    let mut secrets: Vec<&str> = page.items.iter().map(|n| n.secret.as_str()).collect();
    secrets.sort_unstable();
    assert_eq!(
        secrets,
        [
            format!("{MARKER}-secret-2").as_str(),
            format!("{MARKER}-secret-3").as_str()
        ]
    );
    assert!(page.items.contains(&other));

    // The raw table and the whole audit log, as text: no plaintext anywhere.
    assert_eq!(
        count(
            &mut client,
            &format!("SELECT count(*) FROM vault_notes v WHERE v::text LIKE '%{MARKER}%'")
        ),
        0,
        "plaintext in the table"
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM vault_notes WHERE secret NOT LIKE 'enc:v1:%'"
        ),
        0
    );
    let log: String = client
        .query_one(
            "SELECT coalesce(string_agg(a::text, E'\\n'), '') FROM audit_logs a",
            &[],
        )
        .expect("audit log")
        .get(0);
    assert!(!log.is_empty());
    assert!(!log.contains(MARKER), "plaintext in the audit log:\n{log}");
    assert!(!log.contains("Zoë"), "plaintext in the audit log:\n{log}");
}

#[test]
fn without_a_data_key_nothing_is_written_or_read() {
    let (_db, mut client, key, data_key, actor_id) = fixture("enc_no_key");
    let keyed = key.actor(actor_id).with_data_key(&data_key);
    let keyless = key.actor(actor_id);
    let note = insert_note(&mut client, keyed, "kept", format!("{MARKER}-kept"));
    let audit_rows = count(&mut client, "SELECT count(*) FROM audit_logs");

    let no_key = |result: Result<(), RepoError>, what: &str| match result {
        Err(RepoError::Encryption {
            table: "vault_notes",
            column: "secret",
            reason: EncryptionFailure::NoDataKey,
            row: None,
        }) => {}
        other => panic!("{what}: {other:?}"),
    };
    no_key(
        VaultNote::insert(
            &mut client,
            keyless,
            &new_note("refused", format!("{MARKER}-refused"), None),
        )
        .map(drop),
        "insert",
    );
    no_key(
        VaultNote::update(
            &mut client,
            keyless,
            &note.id,
            &VaultNotePatch {
                label: Some("changed".to_owned()),
                ..VaultNotePatch::default()
            },
        )
        .map(drop),
        "update of a clear column (its row is read back)",
    );
    no_key(
        VaultNote::get(&mut client, keyless, &note.id).map(drop),
        "get",
    );
    no_key(
        VaultNote::list(&mut client, keyless, &PageRequest::first(10)).map(drop),
        "list",
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM vault_notes"), 1);
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM vault_notes WHERE label = 'kept'"
        ),
        1
    );
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM audit_logs"),
        audit_rows,
        "no statement ran: no audit row"
    );
    let message = VaultNote::get(&mut client, keyless, &note.id)
        .expect_err("no key")
        .to_string();
    assert!(message.contains("vault_notes.secret"), "{message}");
    assert!(message.contains("data key"), "{message}");

    // Deleting needs no key: nothing is decrypted.
    VaultNote::hard_delete(&mut client, keyless, &note.id).expect("hard delete");
    assert_eq!(count(&mut client, "SELECT count(*) FROM vault_notes"), 0);
}

#[test]
fn damaged_or_moved_ciphertexts_are_errors_naming_the_column() {
    let (_db, mut client, key, data_key, actor_id) = fixture("enc_damaged");
    let actor = key.actor(actor_id).with_data_key(&data_key);
    let note = insert_note(&mut client, actor, "n", format!("{MARKER}-s"));
    let expect_failure = |client: &mut Client, column: &str, reason: EncryptionFailure| {
        let error = VaultNote::get(client, actor, &note.id).expect_err("does not decrypt");
        match &error {
            RepoError::Encryption {
                table: "vault_notes",
                column: c,
                reason: r,
                ..
            } if *c == column && *r == reason => {}
            other => panic!("{other:?}"),
        }
        // Never the value: neither the plaintext nor what is stored.
        let message = format!("{error} {error:?}");
        assert!(!message.contains(MARKER), "{message}");
        let (secret, aside) = raw(client, note.id);
        for stored in [Some(secret), aside].into_iter().flatten() {
            assert!(!message.contains(&stored[8..]), "{message}");
        }
    };

    // The secret's ciphertext copied into the other column does not authenticate there.
    client
        .execute(
            "UPDATE vault_notes SET aside_text = secret WHERE id = $1",
            &[&note.id],
        )
        .expect("copy");
    expect_failure(&mut client, "aside_text", EncryptionFailure::Authentication);

    // One character of the ciphertext changed.
    client
        .execute(
            "UPDATE vault_notes SET aside_text = NULL, secret = overlay(secret placing (CASE WHEN substr(secret, 20, 1) = 'A' THEN 'B' ELSE 'A' END) from 20 for 1) WHERE id = $1",
            &[&note.id],
        )
        .expect("tamper");
    expect_failure(&mut client, "secret", EncryptionFailure::Authentication);

    // A value written in clear, around the repository.
    client
        .execute(
            &format!("UPDATE vault_notes SET secret = '{MARKER}-in-clear' WHERE id = $1"),
            &[&note.id],
        )
        .expect("clear");
    expect_failure(&mut client, "secret", EncryptionFailure::NotEncrypted);

    // Another data key.
    let other_key = DataKey::new(&[0x43; 32]).expect("key");
    let stored = other_key
        .encrypt("vault_notes", "secret", "x")
        .expect("encrypt");
    client
        .execute(
            "UPDATE vault_notes SET secret = $2 WHERE id = $1",
            &[&note.id, &stored],
        )
        .expect("other key");
    expect_failure(&mut client, "secret", EncryptionFailure::Authentication);
}

/// A data export reads rows as JSON around the repository; `decrypt_json_row` with the table's
/// metadata decrypts them.
#[test]
fn json_exports_decrypt_with_the_table_metadata() {
    let (_db, mut client, key, data_key, actor_id) = fixture("enc_json");
    let actor = key.actor(actor_id).with_data_key(&data_key);
    assert_eq!(
        VaultNote::META
            .columns
            .iter()
            .filter(|c| c.encrypted)
            .map(|c| c.name)
            .collect::<Vec<_>>(),
        ["secret", "aside_text"]
    );
    let with_aside = VaultNote::insert(
        &mut client,
        actor,
        &new_note(
            "a",
            format!("{MARKER}-json-1"),
            Some(format!("{MARKER}-json-aside")),
        ),
    )
    .expect("insert");
    let without = insert_note(&mut client, actor, "b", format!("{MARKER}-json-2"));

    let export = |client: &mut Client, id: Uuid| -> Value {
        client
            .query_one(
                "SELECT to_jsonb(v) FROM vault_notes v WHERE id = $1",
                &[&id],
            )
            .expect("export")
            .get(0)
    };
    let mut row = export(&mut client, with_aside.id);
    assert!(!row.to_string().contains(MARKER), "{row}");
    decrypt_json_row(&VaultNote::META, &mut row, &data_key).expect("decrypt");
    assert_eq!(
        row,
        json!({
            "id": with_aside.id,
            "label": "a",
            "secret": format!("{MARKER}-json-1"),
            "aside_text": format!("{MARKER}-json-aside"),
        })
    );
    let mut row = export(&mut client, without.id);
    decrypt_json_row(&VaultNote::META, &mut row, &data_key).expect("decrypt");
    assert_eq!(row["secret"], json!(format!("{MARKER}-json-2")));
    assert_eq!(row["aside_text"], Value::Null);

    let mut row = export(&mut client, without.id);
    let wrong = DataKey::new(&[0x01; 32]).expect("key");
    assert!(matches!(
        decrypt_json_row(&VaultNote::META, &mut row, &wrong),
        Err(RepoError::Encryption {
            table: "vault_notes",
            column: "secret",
            reason: EncryptionFailure::Authentication,
            ..
        })
    ));
}

/// A second instance started with another `DATA_ENCRYPTION_KEY` is refused before it writes
/// anything: the database keeps the check value of the key its columns were written with.
#[test]
fn another_data_key_is_refused_before_anything_is_written() {
    let (_db, mut client, key, data_key, actor_id) = fixture("enc_key_check");
    let first = key.actor(actor_id).with_data_key(&data_key);
    let note = insert_note(&mut client, first, "first", format!("{MARKER}-first"));
    let notes = count(&mut client, "SELECT count(*) FROM vault_notes");
    let audit_rows = count(&mut client, "SELECT count(*) FROM audit_logs");

    let other_key = DataKey::new(&[0x43; 32]).expect("key");
    let second = key.actor(actor_id).with_data_key(&other_key);
    let insert = VaultNote::insert(
        &mut client,
        second,
        &new_note("second", format!("{MARKER}-second"), None),
    );
    refused_for_another_key(&insert, "insert");
    let update = VaultNote::update(
        &mut client,
        second,
        &note.id,
        &VaultNotePatch {
            secret: Some(format!("{MARKER}-changed")),
            ..VaultNotePatch::default()
        },
    );
    refused_for_another_key(&update, "update");
    let read = VaultNote::get(&mut client, second, &note.id);
    refused_for_another_key(&read, "read");
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM vault_notes"),
        notes
    );
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM audit_logs"),
        audit_rows,
        "nothing written, nothing audited"
    );
    let stored = VaultNote::get(&mut client, first, &note.id)
        .expect("get")
        .expect("found");
    assert_eq!(stored.secret, format!("{MARKER}-first"));

    // The start-up check says the same without touching a table.
    let mismatch = repo_runtime::check_data_key(&mut client, &other_key, &[&VaultNote::META]);
    assert!(
        matches!(
            mismatch,
            Err(RepoError::Encryption {
                reason: EncryptionFailure::KeyMismatch,
                ..
            })
        ),
        "{mismatch:?}"
    );
    repo_runtime::check_data_key(&mut client, &data_key, &[&VaultNote::META]).expect("the key");

    // A database written before check values were stored: the first key to come is recorded
    // only if it decrypts what is stored, so a wrong one cannot claim the database.
    client
        .batch_execute("DELETE FROM encryption_keys")
        .expect("forget the check value");
    let claim = VaultNote::get(&mut client, second, &note.id);
    assert!(
        matches!(
            claim,
            Err(RepoError::Encryption {
                reason: EncryptionFailure::KeyMismatch,
                ..
            })
        ),
        "{claim:?}"
    );
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM encryption_keys"),
        0
    );
    VaultNote::get(&mut client, first, &note.id)
        .expect("the right key")
        .expect("found");
    let stored: String = client
        .query_one("SELECT check_value FROM encryption_keys", &[])
        .expect("recorded")
        .get(0);
    assert_eq!(stored, data_key.check_value());
}

/// A row that does not decrypt is named by id on its page, which still holds the other rows (and
/// the cursor goes past it); reading that row alone fails naming it, never the value.
#[test]
fn a_page_with_an_undecryptable_row_names_the_row() {
    let (_db, mut client, key, data_key, actor_id) = fixture("enc_bad_row");
    let actor = key.actor(actor_id).with_data_key(&data_key);
    let mut ids = Vec::new();
    for i in 0..3 {
        let note = insert_note(
            &mut client,
            actor,
            &format!("n{i}"),
            format!("{MARKER}-{i}"),
        );
        ids.push(note.id);
    }
    let damaged = ids[1];
    client
        .execute(
            "UPDATE vault_notes SET secret = 'enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = $1",
            &[&damaged],
        )
        .expect("damage");
    let page = VaultNote::list(&mut client, actor, &PageRequest::first(10)).expect("the page");
    let mut readable: Vec<Uuid> = ids.iter().copied().filter(|id| *id != damaged).collect();
    readable.sort();
    assert_eq!(
        page.items.iter().map(|n| n.id).collect::<Vec<_>>(),
        readable
    );
    assert_eq!(
        page.unreadable,
        [repo_runtime::Unreadable {
            id: damaged,
            column: "secret",
            reason: EncryptionFailure::Authentication,
        }]
    );
    // Page by page: the damaged row's page is empty but for its name, and the next one follows.
    let mut sorted = ids.clone();
    sorted.sort();
    let mut request = PageRequest::first(1);
    let mut seen = Vec::new();
    loop {
        let page = VaultNote::list(&mut client, actor, &request).expect("a page");
        seen.extend(page.items.iter().map(|n| n.id));
        seen.extend(page.unreadable.iter().map(|u| u.id));
        match page.next_request(&request) {
            Some(next) => request = next,
            None => break,
        }
    }
    assert_eq!(seen, sorted, "every row once, in order");

    let error = VaultNote::get(&mut client, actor, &damaged).expect_err("damaged row");
    let message = error.to_string();
    assert!(message.contains(&damaged.to_string()), "{message}");
    assert!(message.contains("vault_notes.secret"), "{message}");
    assert!(!format!("{error:?}").contains(MARKER), "{error:?}");
}
