//! The committed first migration on a real PostgreSQL 15: up, checked against the seed guide's
//! promises through the server's own catalog, down to an empty database, and up again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use e2e::pg;
use postgres::Client;

fn repo_file(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// Runs a whole migration file in one transaction, as the runner will.
fn apply(client: &mut Client, sql: &str) {
    let mut tx = client.transaction().expect("begin");
    if let Err(e) = tx.batch_execute(sql) {
        panic!("migration failed: {e:?}\n{sql}");
    }
    tx.commit().expect("commit");
}

fn strings(client: &mut Client, query: &str) -> Vec<String> {
    client
        .query(query, &[])
        .unwrap_or_else(|e| panic!("{e:?}\n{query}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Everything the public schema holds, as `kind name` lines: empty means the database is clean.
fn public_objects(client: &mut Client) -> Vec<String> {
    strings(
        client,
        "SELECT 'relation ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public'
         UNION ALL
         SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd') AND t.typrelid = 0
         UNION ALL
         SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = 'public'
         ORDER BY 1",
    )
}

/// JSONB columns with no GIN index that has the column as a key column.
fn jsonb_columns_without_gin(client: &mut Client) -> Vec<String> {
    strings(
        client,
        "SELECT c.relname || '.' || a.attname
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
          WHERE a.atttypid = 'jsonb'::regtype AND a.attnum > 0 AND NOT a.attisdropped
            AND NOT EXISTS (
                SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                  JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'gin'
                 WHERE i.indrelid = c.oid AND a.attnum = ANY (i.indkey[0:i.indnkeyatts - 1]))
          ORDER BY 1",
    )
}

/// Foreign keys whose columns are not the leading key columns (in any order) of a valid,
/// non-partial btree index on the referencing table. Computed in Rust from raw catalog rows so
/// the rule is spelled out once, plainly.
fn foreign_keys_without_index(client: &mut Client) -> Vec<String> {
    let fks = client
        .query(
            "SELECT con.conname::text, con.conrelid::regclass::text, con.conkey::int2[]
               FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
              WHERE con.contype = 'f' AND n.nspname = 'public'",
            &[],
        )
        .expect("foreign keys");
    let indexes = client
        .query(
            "SELECT i.indrelid::regclass::text, (i.indkey::int2[])[0:i.indnkeyatts - 1]
               FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
              WHERE i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree'
                AND ic.relnamespace = 'public'::regnamespace",
            &[],
        )
        .expect("indexes");
    let mut missing = Vec::new();
    for fk in &fks {
        let (name, table, columns): (String, String, Vec<i16>) = (fk.get(0), fk.get(1), fk.get(2));
        let covered = indexes.iter().any(|ix| {
            let (ix_table, keys): (String, Vec<i16>) = (ix.get(0), ix.get(1));
            ix_table == table
                && keys.len() >= columns.len()
                && columns.iter().all(|c| keys[..columns.len()].contains(c))
        });
        if !covered {
            missing.push(format!("{table}: {name}"));
        }
    }
    missing.sort();
    missing
}

fn enum_values(client: &mut Client) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in client
        .query(
            "SELECT t.typname::text, e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
              ORDER BY t.typname, e.enumsortorder",
            &[],
        )
        .expect("enums")
    {
        out.entry(row.get(0)).or_default().push(row.get(1));
    }
    out
}

/// `table(col, ...)` for every unique constraint and unique index, and for every primary key.
fn keys(client: &mut Client, contype: &str) -> BTreeSet<String> {
    client
        .query(
            "SELECT con.conrelid::regclass::text || '(' ||
                    (SELECT string_agg(a.attname, ', ' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num) || ')'
               FROM pg_constraint con WHERE con.contype = $1::text::\"char\" AND con.connamespace = 'public'::regnamespace",
            &[&contype],
        )
        .expect("constraints")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// `table.column -> table.column` for every foreign key (single-column ones, as in the seed).
fn foreign_key_edges(client: &mut Client) -> BTreeSet<String> {
    strings(
        client,
        "SELECT con.conrelid::regclass::text || '.' || a.attname || ' -> ' || con.confrelid::regclass::text || '.' || fa.attname
           FROM pg_constraint con
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
           JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[1]
          WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace",
    )
    .into_iter()
    .collect()
}

/// `table: first key column` of every index, for "the seed lists an index on X".
fn index_leading_columns(client: &mut Client) -> BTreeSet<String> {
    strings(
        client,
        "SELECT i.indrelid::regclass::text || '.' || a.attname
           FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
           JOIN pg_class c ON c.oid = i.indrelid AND c.relnamespace = 'public'::regnamespace",
    )
    .into_iter()
    .collect()
}

#[test]
fn first_migration_up_down_up() {
    let db = pg::cluster().create_database("first_migration");
    let mut client = db.connect();
    let up = repo_file("generated/migrations/0001_initial.up.sql");
    let down = repo_file("generated/migrations/0001_initial.down.sql");

    apply(&mut client, &up);
    check_seed_promises(&mut client);

    apply(&mut client, &down);
    assert_eq!(
        public_objects(&mut client),
        Vec::<String>::new(),
        "down must leave nothing behind"
    );

    apply(&mut client, &up);
    assert_eq!(jsonb_columns_without_gin(&mut client), Vec::<String>::new());
    assert!(
        public_objects(&mut client)
            .iter()
            .filter(|o| o.starts_with("relation "))
            .count()
            > 7
    );
}

fn check_seed_promises(client: &mut Client) {
    let tables = strings(
        client,
        // Partitioned tables as one (their partitions are the maintenance function's).
        "SELECT relname::text FROM pg_class
          WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition
          ORDER BY 1",
    );
    assert_eq!(
        tables,
        [
            "audit_logs",
            "cases",
            "files",
            "jobs",
            "models",
            "segments",
            "users"
        ]
    );

    // UUID primary keys everywhere.
    let pk_types = strings(
        client,
        "SELECT c.relname || ':' || format_type(a.atttypid, a.atttypmod)
           FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
          WHERE con.contype = 'p' AND con.connamespace = 'public'::regnamespace ORDER BY 1",
    );
    assert_eq!(
        pk_types,
        [
            "audit_logs:uuid",
            "cases:uuid",
            "files:uuid",
            "jobs:uuid",
            "models:uuid",
            "segments:uuid",
            "users:uuid"
        ]
    );

    assert_eq!(
        jsonb_columns_without_gin(client),
        Vec::<String>::new(),
        "every JSONB column has a GIN index"
    );
    assert_eq!(
        foreign_keys_without_index(client),
        Vec::<String>::new(),
        "every foreign key is indexed"
    );

    // Enum values the seed lists, in its order.
    let enums = enum_values(client);
    let expect_enum = |name: &str, values: &[&str]| {
        assert_eq!(
            enums.get(name).map(Vec::as_slice),
            Some(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>()[..]),
            "enum {name}"
        );
    };
    expect_enum("user_role", &["admin", "operator", "service"]);
    expect_enum(
        "job_status",
        &["pending", "processing", "completed", "failed", "cancelled"],
    );
    expect_enum(
        "segment_type",
        &[
            "tooth", "gums", "jaw", "implant", "crown", "bridge", "other",
        ],
    );
    expect_enum(
        "model_type",
        &[
            "segmentation",
            "quality_assessment",
            "format_conversion",
            "anatomical_detection",
        ],
    );
    expect_enum(
        "audit_event_type",
        &[
            "login_success",
            "login_failure",
            "data_access",
            "data_create",
            "data_update",
            "data_delete",
            "data_retention_purge",
            "right_to_erasure",
            "client_authentication",
        ],
    );

    // Unique constraints the seed lists.
    let uniques = keys(client, "u");
    for expected in [
        "users(username)",
        "users(email)",
        "cases(case_number)",
        "models(model_name, model_version)",
    ] {
        assert!(
            uniques.contains(expected),
            "missing unique {expected}; have {uniques:?}"
        );
    }

    // Foreign keys the seed lists.
    let edges = foreign_key_edges(client);
    for expected in [
        "cases.created_by -> users.id",
        "files.case_id -> cases.id",
        "files.uploaded_by -> users.id",
        "jobs.case_id -> cases.id",
        "jobs.file_id -> files.id",
        "jobs.created_by -> users.id",
        "segments.case_id -> cases.id",
        "segments.file_id -> files.id",
        "segments.created_by_job -> jobs.id",
        "models.case_id -> cases.id",
        "audit_logs.user_id -> users.id",
    ] {
        assert!(
            edges.contains(expected),
            "missing foreign key {expected}; have {edges:?}"
        );
    }

    // Indexes the seed lists (an index leading with the column; unique constraints count).
    let leading = index_leading_columns(client);
    for expected in [
        "cases.case_number",
        "cases.patient_id",
        "cases.status",
        "cases.created_at",
        "files.case_id",
        "files.status",
        "files.file_type",
        "files.checksum",
        "jobs.case_id",
        "jobs.status",
        "jobs.job_type",
        "jobs.priority",
        "audit_logs.timestamp",
        "audit_logs.event_type",
        "audit_logs.user_id",
        "audit_logs.resource_type",
    ] {
        assert!(leading.contains(expected), "no index leads with {expected}");
    }

    // Status + timestamp composite indexes ("performance indices").
    let composites = strings(
        client,
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '%(status, created_at)' ORDER BY 1",
    );
    assert_eq!(composites.len(), 3, "cases, files and jobs: {composites:?}");

    // Soft delete columns on the clinical tables, JSONB fields the seed lists.
    let columns: BTreeSet<String> = strings(
        client,
        "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .into_iter()
    .collect();
    for expected in [
        "users.deleted_at:timestamp with time zone",
        "cases.deleted_at:timestamp with time zone",
        "files.deleted_at:timestamp with time zone",
        "segments.deleted_at:timestamp with time zone",
        "cases.tags:jsonb",
        "cases.case_metadata:jsonb",
        "files.tags:jsonb",
        "files.file_metadata:jsonb",
        "files.processing_metadata:jsonb",
        "segments.properties:jsonb",
        "segments.segment_metadata:jsonb",
        "segments.bounding_box:jsonb",
        "segments.mesh_data:jsonb",
        "users.last_login:timestamp with time zone",
    ] {
        assert!(columns.contains(expected), "missing column {expected}");
    }

    // PII/PHI flags are kept in the database, in the column comments.
    let flagged = strings(
        client,
        "SELECT c.relname || '.' || a.attname FROM pg_description d
           JOIN pg_class c ON c.oid = d.objoid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
          WHERE d.description ~ '\\[(pii|phi)' ORDER BY 1",
    );
    for expected in ["users.email", "cases.patient_id"] {
        assert!(
            flagged.iter().any(|f| f == expected),
            "{expected} not flagged: {flagged:?}"
        );
    }

    // The updated_at trigger keeps the timestamp current across transactions.
    client
        .batch_execute("INSERT INTO users (username, email) VALUES ('ada', 'ada@example.org')")
        .expect("insert user");
    let before: std::time::SystemTime = client
        .query_one("SELECT updated_at FROM users WHERE username = 'ada'", &[])
        .expect("select")
        .get(0);
    client
        .batch_execute(
            "SELECT pg_sleep(0.01); UPDATE users SET full_name = 'Ada' WHERE username = 'ada'",
        )
        .expect("update");
    let after: std::time::SystemTime = client
        .query_one("SELECT updated_at FROM users WHERE username = 'ada'", &[])
        .expect("select")
        .get(0);
    assert!(after > before, "updated_at must move forward on UPDATE");

    // Check constraints hold.
    let bad =
        client.batch_execute("INSERT INTO users (username, email) VALUES ('', 'x@example.org')");
    assert!(bad.is_err(), "a blank username must be refused");
    client.batch_execute("DELETE FROM users").expect("clean up");
}

/// Schemas with the hard cases (a foreign-key cycle, a self-reference, keyword names, composite
/// keys, partial and opclass indexes) go up, down and up again on the server.
#[test]
fn hard_schemas_apply_and_revert_cleanly() {
    let schemas = [
        "tables:
  a:
    columns:
      id: { type: uuid, primary_key: true }
      b_id: { type: uuid, nullable: true, references: b }
      parent_id: { type: uuid, nullable: true, references: a, on_delete: set null }
  b:
    timestamps: true
    columns:
      id: { type: uuid, primary_key: true }
      a_id: { type: uuid, references: a, on_delete: cascade }
",
        "enums:
  order_state: [new, shipped]
tables:
  order:
    soft_delete: true
    columns:
      id: { type: uuid, primary_key: true, default: gen_random_uuid() }
      user: { type: text, index: true }
      timestamp: { type: timestamptz, default: now() }
      state: { type: order_state, default: new }
      doc: { type: jsonb, index: false }
      tags: text[]
    indexes:
      - columns: [doc jsonb_path_ops]
        using: gin
      - name: order_open_idx
        columns: [timestamp DESC]
        include: [user]
        where: \"state = 'new'\"
  line:
    primary_key: [order_id, position]
    columns:
      order_id: { type: uuid, references: order, on_delete: cascade }
      position: integer
      sku: varchar(32)
    unique:
      - [order_id, sku]
  shipment:
    columns:
      id: { type: uuid, primary_key: true }
      order_id: uuid
      position: integer
    foreign_keys:
      - columns: [order_id, position]
        references: line
",
    ];
    for (n, schema) in schemas.iter().enumerate() {
        let catalog = model::load_schema("fixture.yaml", schema).unwrap_or_else(|e| panic!("{e}"));
        let m = codegen::migration::initial(&catalog);
        let db = pg::cluster().create_database(&format!("hard_schema_{n}"));
        let mut client = db.connect();
        apply(&mut client, &m.up);
        assert_eq!(jsonb_columns_without_gin(&mut client), Vec::<String>::new());
        assert_eq!(
            foreign_keys_without_index(&mut client),
            Vec::<String>::new()
        );
        apply(&mut client, &m.down);
        assert_eq!(public_objects(&mut client), Vec::<String>::new());
        apply(&mut client, &m.up);
    }
}

/// The catalog checks above can fail: hand-written SQL with the two classic omissions is caught.
#[test]
fn catalog_checks_catch_missing_indexes() {
    let db = pg::cluster().create_database("catalog_checks");
    let mut client = db.connect();
    apply(
        &mut client,
        "CREATE TABLE p (id uuid PRIMARY KEY);
         CREATE TABLE c (id uuid PRIMARY KEY, p_id uuid REFERENCES p, q_id uuid REFERENCES p, doc jsonb, other jsonb);
         CREATE INDEX c_q_partial ON c (q_id) WHERE doc IS NOT NULL;
         CREATE INDEX c_other_btree ON c (other);
         CREATE INDEX c_doc_gin ON c USING gin (doc);",
    );
    assert_eq!(jsonb_columns_without_gin(&mut client), ["c.other"]);
    assert_eq!(
        foreign_keys_without_index(&mut client),
        ["c: c_p_id_fkey", "c: c_q_id_fkey"]
    );
}
