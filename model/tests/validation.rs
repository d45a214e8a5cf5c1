//! Every validation error of `schema.yaml`, as data: input YAML in, expected report out.
//!
//! Run `UPDATE_EXPECT=1 cargo test -p model --test validation` to refresh the expectations after
//! an intended change, then review the diff.

use expect_test::{Expect, expect};

fn check(yaml: &str, expected: Expect) {
    let actual = match model::load_schema("schema.yaml", yaml) {
        Ok(_) => "ok\n".to_string(),
        Err(errors) => errors.to_short_string(),
    };
    expected.assert_eq(&actual);
}

/// A valid two-table schema that the cases below break one way at a time.
const BASE: &str = "
enums:
  status: [open, closed]
tables:
  users:
    columns:
      id: { type: uuid, primary_key: true }
  cases:
    columns:
      id: { type: uuid, primary_key: true }
      owner: { type: uuid, references: users }
      status: { type: status, default: open }
      meta: { type: jsonb }
";

#[test]
fn base_schema_is_valid() {
    check(
        BASE,
        expect![[r#"
        ok
    "#]],
    );
}

#[test]
fn broken_yaml() {
    check(
        "tables:\n  users: [unclosed\n",
        expect![[r#"
        schema.yaml:3:1: invalid YAML: while parsing a flow sequence, expected ',' or ']'
    "#]],
    );
    check(
        "",
        expect![[r#"
        schema.yaml:1:1: the schema declares no tables (help: add a `tables:` mapping)
    "#]],
    );
    check(
        "- a\n- b\n",
        expect![[r#"
        schema.yaml:1:1: expected a mapping at the top level (help: start with `tables:`)
    "#]],
    );
    check(
        "tables:\n  users:\n    columns:\n      id: uuid\n      id: text\n",
        expect![[r#"
        schema.yaml:5:7: duplicate key `id` (help: first declared at 4:7)
    "#]],
    );
    check(
        "tables: &a\n  x: *a\n",
        expect![[r#"
        schema.yaml:2:4: YAML anchors and aliases are not supported in a schema
    "#]],
    );
    check(
        "tables:\n\tusers: {}\n",
        expect![[r#"
        schema.yaml:2:2: invalid YAML: tabs disallowed within this context (block indentation)
    "#]],
    );
}

#[test]
fn unknown_keys_are_reported_with_suggestions() {
    check(
        "tabels: {}\n",
        expect![[r#"
        schema.yaml:1:1: unknown top-level key `tabels` (help: did you mean `tables`?)
    "#]],
    );
    check(
        "tables:\n  users:\n    colums: {}\n    columns:\n      id: { type: uuid, primary_key: true, nulable: true }\n",
        expect![[r#"
            schema.yaml:3:5: unknown table key `colums` (help: did you mean `columns`?)
            schema.yaml:5:44: unknown column key `nulable` (help: did you mean `nullable`?)
        "#]],
    );
}

#[test]
fn values_of_the_wrong_kind() {
    check(
        "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true, nullable: yes }\n      name: [text]\n    indexes: { columns: [id] }\n",
        expect![[r#"
            schema.yaml:4:54: `nullable` must be true or false, found `yes`
            schema.yaml:5:7: column `name` has no `type`
            schema.yaml:5:13: expected a column (a type name, or a mapping with `type`), found a list
            schema.yaml:6:14: expected a list, found a mapping: `indexes` is a list of indexes
        "#]],
    );
}

#[test]
fn unknown_and_malformed_types() {
    check(
        "tables:\n  t:\n    columns:\n      id: { type: uuidd, primary_key: true }\n      a: varchar(0)\n      b: serial\n      c: statuss\n      d: int[][]\n      e: numeric(2, 5)\n",
        expect![[r#"
            schema.yaml:4:19: unknown type `uuidd` (help: did you mean `uuid`?)
            schema.yaml:5:10: bad type modifier: `varchar(0)`: the modifier must be between 1 and 10485760
            schema.yaml:6:10: unsupported type `serial` (help: serial is not a real type; use uuid with default gen_random_uuid(), or an integer with an identity)
            schema.yaml:7:10: unknown type `statuss` (help: use a PostgreSQL type name or one of the enums under `enums`)
            schema.yaml:8:10: unsupported type `int[][]` (help: multi-dimensional arrays are not supported; use jsonb)
            schema.yaml:9:10: bad type modifier: `numeric(2, 5)`: takes a precision from 1 to 1000 and a scale no larger than it
        "#]],
    );
}

#[test]
fn identifiers_must_be_plain_and_short() {
    let long = "a".repeat(64);
    check(
        &format!(
            "tables:\n  Users:\n    columns:\n      id: {{ type: uuid, primary_key: true }}\n      case-number: text\n      {long}: text\n"
        ),
        expect![[r#"
            schema.yaml:2:3: `Users` is not a plain lower-case SQL identifier (a-z or _ first, then a-z, 0-9 or _)
            schema.yaml:5:7: `case-number` is not a plain lower-case SQL identifier (a-z or _ first, then a-z, 0-9 or _)
            schema.yaml:6:7: `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is 64 bytes long; PostgreSQL identifiers are at most 63 bytes and longer ones are silently truncated
        "#]],
    );
}

#[test]
fn references_to_missing_tables_and_columns() {
    check(
        &BASE.replace("references: users", "references: user"),
        expect![[r#"
            schema.yaml:11:40: foreign key references unknown table `user` (help: did you mean `users`?)
        "#]],
    );
    check(
        &BASE.replace("references: users", "references: users.uid"),
        expect![[r#"
            schema.yaml:11:40: table `users` has no column `uid` (help: did you mean `id`?)
        "#]],
    );
}

#[test]
fn foreign_key_type_mismatch_and_unreferenceable_target() {
    check(
        &BASE.replace("owner: { type: uuid", "owner: { type: text"),
        expect![[r#"
        schema.yaml:11:7: foreign key column `cases.owner` is `text` but references `users.id` of type `uuid`
    "#]],
    );
    check(
        "tables:\n  a:\n    columns:\n      id: { type: uuid, primary_key: true }\n      code: text\n  b:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a_code: { type: text, references: a.code }\n",
        expect![[r#"
            schema.yaml:9:41: `a(code)` is neither a primary key nor unique, so it cannot be referenced (help: reference the primary key, or declare the referenced columns unique)
        "#]],
    );
}

#[test]
fn referential_actions() {
    check(
        &BASE.replace(
            "references: users",
            "references: users, on_delete: set null",
        ),
        expect![[r#"
        schema.yaml:11:58: `set null` on column `cases.owner`, which is not nullable
    "#]],
    );
    check(
        &BASE.replace("references: users", "references: users, on_delete: nuke"),
        expect![[r#"
        schema.yaml:11:58: unknown referential action `nuke` (help: expected one of: no action, restrict, cascade, set null, set default)
    "#]],
    );
    check(
        &BASE.replace(
            "meta: { type: jsonb }",
            "meta: { type: jsonb, on_delete: cascade }",
        ),
        expect![[r#"
            schema.yaml:13:39: column `meta` has a referential action but no `references`
        "#]],
    );
}

#[test]
fn enum_problems() {
    check(
        &BASE.replace("default: open", "default: opne"),
        expect![[r#"
            schema.yaml:12:40: default `opne` is not a value of enum `status` (help: expected one of: open, closed)
        "#]],
    );
    check(
        &BASE.replace("default: open", "default: \"'closed'::status\""),
        expect![[r#"
        ok
    "#]],
    );
    check(
        &BASE.replace("default: open", "default: \"'shut'\""),
        expect![[r#"
        schema.yaml:12:40: default `shut` is not a value of enum `status` (help: expected one of: open, closed)
    "#]],
    );
    check(
        &BASE.replace("[open, closed]", "[open, closed, open]"),
        expect![[r#"
        schema.yaml:3:26: duplicate value `open` in enum `status` (help: first declared at 3:12)
    "#]],
    );
    check(
        &BASE.replace("[open, closed]", "[]"),
        expect![[r#"
            schema.yaml:3:3: enum `status` has no values
            schema.yaml:12:40: default `open` is not a value of enum `status` (help: expected one of: )
        "#]],
    );
    check(
        &BASE.replace("status: [open, closed]", "cases: [a]"),
        expect![[r#"
        schema.yaml:8:3: table `cases` clashes with enum `cases`: tables and types share one namespace
        schema.yaml:12:23: unknown type `status` (help: use a PostgreSQL type name or one of the enums under `enums`)
    "#]],
    );
}

#[test]
fn index_problems() {
    check(
        &format!(
            "{BASE}    indexes:\n      - columns: [statuz]\n      - columns: [status]\n        using: hash2\n      - columns: [status]\n        where: \"status = 'open'\"\n      - columns: []\n"
        ),
        expect![[r#"
            schema.yaml:15:19: table `cases` has no column `statuz` (help: did you mean `status`?)
            schema.yaml:17:16: unknown index method `hash2` (help: expected one of: btree, gin, gist, hash, brin)
            schema.yaml:18:16: a partial index needs an explicit `name` (help: derived names come from the columns alone, so a partial index would collide with a full one on the same columns)
            schema.yaml:20:16: an index needs at least one column under `columns`
        "#]],
    );
    check(
        &format!("{BASE}    indexes:\n      - columns: [status]\n      - columns: [status]\n"),
        expect![[r#"
            schema.yaml:16:16: index `cases_status_idx` duplicates another index on `cases` (help: the same index is declared at 15:16)
        "#]],
    );
    check(
        &format!(
            "{BASE}    indexes:\n      - columns: [id]\n        using: gin\n      - columns: [owner]\n        name: users\n"
        ),
        expect![[r#"
            schema.yaml:15:19: GIN has no default operator class for `id` of type `uuid` (help: GIN indexes jsonb and arrays; for other types name an operator class, e.g. `title gin_trgm_ops`)
            schema.yaml:18:15: index `users` on `cases` is named `users`, like table `users` (help: tables, indexes and key constraints share one namespace; rename one of them (an index with an explicit `name`))
        "#]],
    );
}

#[test]
fn jsonb_needs_a_gin_index() {
    check(
        &BASE.replace(
            "meta: { type: jsonb }",
            "meta: { type: jsonb, index: false }",
        ),
        expect![[r#"
        schema.yaml:13:35: JSONB column `cases.meta` has `index: false` and no GIN index is declared for it (help: every JSONB column needs a GIN index for containment queries; remove `index: false`, or declare one under `indexes` with `using: gin` (e.g. with the jsonb_path_ops opclass))
    "#]],
    );
    // Declaring the GIN index yourself (here with a different opclass) is the way to opt out.
    check(
        &format!(
            "{}    indexes:\n      - columns: [meta jsonb_path_ops]\n        using: gin\n",
            BASE.replace(
                "meta: { type: jsonb }",
                "meta: { type: jsonb, index: false }"
            )
        ),
        expect![[r#"
            ok
        "#]],
    );
}

#[test]
fn foreign_key_column_cannot_opt_out_of_its_index() {
    check(
        &BASE.replace("references: users", "references: users, index: false"),
        expect![[r#"
        schema.yaml:11:54: foreign key column `cases.owner` has `index: false` and no other index covers it (help: without an index, deleting or updating a referenced row scans the whole table; remove `index: false` or declare an index that starts with this column)
    "#]],
    );
}

#[test]
fn table_level_problems() {
    check(
        "tables:\n  t:\n    columns:\n      name: text\n",
        expect![[r#"
        schema.yaml:2:3: table `t` has no primary key (help: add `primary_key: true` to a column, e.g. `id: {type: uuid, primary_key: true, default: gen_random_uuid()}`)
    "#]],
    );
    check(
        "tables:\n  t:\n    timestamps: true\n    soft_delete: true\n    columns:\n      id: { type: uuid, primary_key: true }\n      created_at: timestamptz\n      deleted_at: timestamptz\n",
        expect![[r#"
            schema.yaml:7:7: column `created_at` is already added by `timestamps: true` (help: remove the column, or set `timestamps: false` and declare all of its columns yourself)
            schema.yaml:8:7: column `deleted_at` is already added by `soft_delete: true` (help: remove the column, or set `soft_delete: false` and declare all of its columns yourself)
        "#]],
    );
    check(
        "tables:\n  t:\n    primary_key: [id]\n    columns:\n      id: { type: uuid, primary_key: true }\n",
        expect![[r#"
            schema.yaml:3:18: the primary key is declared both here and with `primary_key: true` on a column; keep one
        "#]],
    );
    check(
        "tables:\n  t:\n    comment: hi\n",
        expect![[r#"
        schema.yaml:2:3: table `t` declares no columns
        schema.yaml:2:3: table `t` has no primary key (help: add `primary_key: true` to a column, e.g. `id: {type: uuid, primary_key: true, default: gen_random_uuid()}`)
    "#]],
    );
    check(
        "tables: {}\n",
        expect![[r#"
        schema.yaml:1:1: the schema declares no tables (help: add a `tables:` mapping)
    "#]],
    );
}

#[test]
fn sql_expressions_are_parsed() {
    check(
        &BASE.replace(
            "meta: { type: jsonb }",
            "meta: { type: jsonb, default: \"'{}\" }",
        ),
        expect![[r#"
        schema.yaml:13:37: invalid SQL expression `'{}`: unterminated quoted string at or near "'{})"
    "#]],
    );
    check(
        &BASE.replace(
            "meta: { type: jsonb }",
            "meta: { type: jsonb, default: \"'{}'); DROP TABLE users; SELECT ('\" }",
        ),
        expect![[r#"
            schema.yaml:13:37: invalid SQL expression `'{}'); DROP TABLE users; SELECT ('`: unterminated quoted string at or near "')"
        "#]],
    );
    check(
        &format!("{BASE}    checks:\n      broken: \"status = \"\n"),
        expect![[r#"
        schema.yaml:15:15: invalid SQL expression `status =`: syntax error at or near ")"
    "#]],
    );
}

#[test]
fn comments_cannot_forge_flags() {
    check(
        &BASE.replace(
            "meta: { type: jsonb }",
            "meta: { type: jsonb, comment: \"Metadata [phi]\" }",
        ),
        expect![[r#"
            schema.yaml:13:37: a comment cannot end with a `[...]` tag list: it is reserved for the pii/phi flags
        "#]],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    check(
        "enums:\n  s: [a]\ntables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      x: { type: nope }\n      y: { type: s, default: b }\n      z: { type: uuid, references: missing }\n    indexes:\n      - columns: [w]\n",
        expect![[r#"
            schema.yaml:7:18: unknown type `nope` (help: use a PostgreSQL type name or one of the enums under `enums`)
            schema.yaml:8:30: default `b` is not a value of enum `s` (help: expected one of: a)
            schema.yaml:9:36: foreign key references unknown table `missing`
            schema.yaml:11:19: table `t` has no column `w`
        "#]],
    );
}

#[test]
fn the_repository_schema_is_valid() {
    let text = include_str!("../../schema.yaml");
    if let Err(errors) = model::load_schema("schema.yaml", text) {
        panic!("{errors}");
    }
}

/// Damaged versions of the real schema (cut at many points, one line deleted, one character
/// replaced) must give errors, never a panic.
#[test]
fn damaged_input_never_panics() {
    let text = include_str!("../../schema.yaml");
    let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(13).collect();
    for &cut in &boundaries {
        let _ = model::load_schema("schema.yaml", &text[..cut]);
    }
    let lines: Vec<&str> = text.lines().collect();
    for skip in 0..lines.len() {
        let damaged: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        let _ = model::load_schema("schema.yaml", &damaged.join("\n"));
    }
    for (n, &at) in boundaries.iter().enumerate() {
        let replacement = ["{", "]", ":", "\"", "'", "\t", "\0", "é", "- ", "&x "][n % 10];
        let mut damaged = text.to_string();
        let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        damaged.replace_range(at..end, replacement);
        let _ = model::load_schema("schema.yaml", &damaged);
    }
}

/// A schema with the audit table the compliance functions write to, a data-subject table and
/// one child, for the compliance cases below.
const COMPLIANCE: &str = "
enums:
  audit_event_type: [data_access, data_retention_purge, right_to_erasure]
  consent_status: [pending, granted]
roles:
  admin: { execute: [erase_data_subject] }
tables:
  audit_logs:
    append_only: true
    columns:
      id: { type: uuid, primary_key: true }
      timestamp: { type: timestamptz, default: now() }
      event_type: audit_event_type
      user_id: { type: uuid, nullable: true }
      resource_type: { type: text, nullable: true }
      action: { type: text, nullable: true }
      details: { type: jsonb, default: \"'{}'::jsonb\" }
  cases:
    data_subject: patient_id
    erasure: anonymize
    consent: consent
    grants: { admin: [select] }
    columns:
      id: { type: uuid, primary_key: true }
      patient_id: { type: text, phi: true }
      notes: { type: text, nullable: true, phi: true, encrypted: true }
      consent: { type: consent_status, default: pending }
  jobs:
    erasure: delete
    requires_consent: case_id
    columns:
      id: { type: uuid, primary_key: true }
      case_id: { type: uuid, references: cases }
";

#[test]
fn compliance_schema_is_valid() {
    check(
        COMPLIANCE,
        expect![[r#"
        ok
    "#]],
    );
}

#[test]
fn grants_and_roles() {
    check(
        &COMPLIANCE
            .replace(
                "grants: { admin: [select] }",
                "grants: { admin: [selct, insert, insert], nobody: [select] }",
            )
            .replace(
                "    append_only: true\n",
                "    append_only: true\n    grants: { admin: [update] }\n",
            ),
        expect![[r#"
            schema.yaml:10:23: `audit_logs` is append-only: no role may be granted `update` (help: expired rows leave through `purge_expired_data()` only; grant `execute: [purge_expired_data]` to the role instead)
            schema.yaml:23:23: unknown privilege `selct` (help: did you mean `select`?)
            schema.yaml:23:38: privilege `insert` is listed twice
            schema.yaml:23:47: unknown role `nobody`: declare it under the top-level `roles`
        "#]],
    );
    check(
        &COMPLIANCE.replace(
            "  admin: { execute: [erase_data_subject] }",
            "  admin: { execute: [erase_data_subjects, purge_expired_data] }\n  idle: {}\n  pg_monitor: {}",
        ),
        expect![[r#"
            schema.yaml:6:22: `erase_data_subjects` is not a function this schema generates (help: did you mean `erase_data_subject`?)
            schema.yaml:6:43: `purge_expired_data` is not a function this schema generates (help: it is generated when a table declares `retention`)
            schema.yaml:7:3: role `idle` is granted nothing (help: grant it privileges with a table's `grants`, or remove it)
            schema.yaml:8:3: `pg_monitor` is reserved by PostgreSQL; choose another role name
        "#]],
    );
}

#[test]
fn retention_erasure_and_consent_declarations() {
    check(
        &COMPLIANCE
            .replace(
                "    append_only: true\n",
                "    append_only: true\n    retention: { keep: 7 eons, column: timestamp }\n",
            )
            .replace(
                "    erasure: delete\n",
                "    erasure: shred\n    retention: { keep: 30 days, column: case_id }\n",
            )
            .replace("    consent: consent\n", "    consent: patient_id\n"),
        expect![[r#"
            schema.yaml:10:24: unknown period unit `eons`: use days, weeks, months or years
            schema.yaml:22:14: consent column `patient_id` must be boolean or an enum with the label `granted` (help: e.g. `enums: { consent_status: [pending, granted, withdrawn] }`)
            schema.yaml:30:14: unknown erasure `shred`: expected `delete` or `anonymize`
            schema.yaml:31:41: retention counts from a timestamp; `case_id` is uuid
        "#]],
    );
    check(
        &COMPLIANCE
            .replace("    data_subject: patient_id\n", "    data_subject: id\n")
            .replace(
                "      case_id: { type: uuid, references: cases }",
                "      case_id: { type: uuid }",
            ),
        expect![[r#"
            schema.yaml:6:22: `erase_data_subject` is not a function this schema generates (help: it is generated when a table declares `data_subject`)
            schema.yaml:19:19: the data-subject column `id` must be text, not uuid
            schema.yaml:20:14: `erasure` needs a table that declares `data_subject` (help: e.g. `data_subject: patient_id` on the table whose rows belong to one person)
            schema.yaml:29:14: `erasure` needs a table that declares `data_subject` (help: e.g. `data_subject: patient_id` on the table whose rows belong to one person)
            schema.yaml:30:23: `requires_consent: case_id` must name a single-column foreign key
        "#]],
    );
}

#[test]
fn encrypted_columns() {
    check(
        &COMPLIANCE.replace(
            "      notes: { type: text, nullable: true, phi: true, encrypted: true }",
            "      notes: { type: jsonb, nullable: true, encrypted: true, index: true }",
        ),
        expect![[r#"
            schema.yaml:26:56: encrypted column `notes` cannot have `index` (help: ciphertexts are random: the database cannot compare, index or default them)
            schema.yaml:26:56: encrypted column `notes` must also be marked `pii: true` or `phi: true`, so audits scrub it
            schema.yaml:26:56: encrypted column `notes` must be `text`, not jsonb (help: the ciphertext is stored as text (`enc:v1:` + base64); encrypt other values as their text form)
        "#]],
    );
}
