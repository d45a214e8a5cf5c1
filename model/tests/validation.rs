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
        "tables:\n  t:\n    columns:\n      id: { type: uuidd, primary_key: true }\n      a: varchar(0)\n      b: serial[]\n      c: statuss\n      d: int[][]\n      e: numeric(2, 5)\n",
        expect![[r#"
            schema.yaml:4:19: unknown type `uuidd` (help: did you mean `uuid`?)
            schema.yaml:5:10: bad type modifier: `varchar(0)`: the modifier must be between 1 and 10485760
            schema.yaml:6:10: unsupported type `serial` (help: serial is not a real type: it can only be the type of a column (the column then owns its sequence))
            schema.yaml:7:10: unknown type `statuss` (help: use a PostgreSQL type name or one of the enums under `enums`)
            schema.yaml:8:10: unsupported type `int[][]` (help: multi-dimensional arrays are not supported; use jsonb)
            schema.yaml:9:10: bad type modifier: `numeric(2, 5)`: takes a precision from 1 to 1000 and a scale no larger than it
        "#]],
    );
}

#[test]
fn identifiers_must_be_short() {
    let long = "a".repeat(64);
    // 22 three-byte characters: 66 bytes, too long though only 22 characters.
    let wide = "名".repeat(22);
    check(
        &format!(
            "schemas: [\"{long}\"]\nenums:\n  \"{wide}\": [a]\ntables:\n  Users:\n    columns:\n      id: {{ type: uuid, primary_key: true }}\n      case-number: text\n      {long}: text\n    checks:\n      {long}: \"id IS NOT NULL\"\n    indexes:\n      - {{ columns: [case-number], name: {long} }}\n    foreign_keys:\n      - {{ name: {long}, columns: [id], references: Users }}\n"
        ),
        expect![[r#"
            schema.yaml:1:11: `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is 64 bytes long; PostgreSQL identifiers are at most 63 bytes and longer ones are silently truncated
            schema.yaml:3:3: `名名名名名名名名名名名名名名名名名名名名名名` is 66 bytes long; PostgreSQL identifiers are at most 63 bytes and longer ones are silently truncated
            schema.yaml:9:7: `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is 64 bytes long; PostgreSQL identifiers are at most 63 bytes and longer ones are silently truncated
            schema.yaml:11:7: `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is 64 bytes long; PostgreSQL identifiers are at most 63 bytes and longer ones are silently truncated
            schema.yaml:13:41: `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is 64 bytes long; PostgreSQL identifiers are at most 63 bytes and longer ones are silently truncated
            schema.yaml:15:17: `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` is 64 bytes long; PostgreSQL identifiers are at most 63 bytes and longer ones are silently truncated
        "#]],
    );
}

/// Any PostgreSQL identifier is a name: upper case, spaces, keywords, leading digits, dots and
/// quotes (in double quotes where names are combined), non-ASCII.
#[test]
fn any_postgresql_identifier_is_accepted() {
    let yaml = r#"
schemas: ["My Schema", Sales]
enums:
  "Order Status": [New, "in progress"]
  Sales.Region: [north]
tables:
  "User":
    columns:
      ID: { type: uuid, primary_key: true }
      "first name": { type: text }
      select: { type: text, unique: true }
      1st_place: { type: int, nullable: true }
      naïve: { type: text, nullable: true }
      '"quoted"': { type: text, nullable: true }
      status: { type: '"Order Status"', default: "'New'" }
    indexes:
      - { columns: ['"first name" DESC', select], name: "User Name Idx" }
    checks:
      "Has Name": 'length("first name") > 0'
  '"My Schema"."Order.Lines"':
    columns:
      id: { type: int, primary_key: true }
      user: { type: uuid, references: User }
      region: { type: Sales.Region }
    unique:
      - [user, region]
  Sales.Deals:
    columns:
      id: { type: int, primary_key: true }
      line: { type: int, references: '"My Schema"."Order.Lines".id' }
"#;
    let catalog = model::load_schema("schema.yaml", yaml).unwrap_or_else(|e| panic!("{e}"));
    let user = catalog
        .table_named(&model::QualifiedName::public("User"))
        .expect("table User");
    let names: Vec<&str> = user.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ID",
            "first name",
            "select",
            "1st_place",
            "naïve",
            "quoted",
            "status"
        ]
    );
    assert_eq!(
        user.primary_key.as_ref().map(|pk| pk.name.as_str()),
        Some("User_pkey")
    );
    assert_eq!(user.uniques[0].name, "User_select_key");
    assert_eq!(user.checks[0].name, "User_Has Name_check");
    let index = &user.indexes[0];
    assert_eq!(index.name, "User Name Idx");
    assert_eq!(index.keys[0].column, "first name");
    assert!(index.keys[0].descending);
    assert_eq!(
        user.column("status").map(|c| c.default.clone()),
        Some(Some("'New'::\"Order Status\"".to_string()))
    );
    let lines = catalog
        .table_named(&model::QualifiedName::new("My Schema", "Order.Lines"))
        .expect("table Order.Lines");
    assert_eq!(
        lines.foreign_keys[0].ref_table,
        model::QualifiedName::public("User")
    );
    assert_eq!(
        lines.column("region").map(|c| &c.data_type),
        Some(&model::DataType::Enum(model::QualifiedName::new(
            "Sales", "Region"
        )))
    );
    let deals = catalog
        .table_named(&model::QualifiedName::new("Sales", "Deals"))
        .expect("table Sales.Deals");
    assert_eq!(
        deals.foreign_keys[0].ref_table,
        model::QualifiedName::new("My Schema", "Order.Lines")
    );
    assert_eq!(deals.foreign_keys[0].ref_columns, ["id"]);
}

/// Names that cannot be read: an unclosed quote, text after a closing quote, too many parts.
#[test]
fn malformed_quoted_names_are_reported_where_written() {
    check(
        "tables:\n  '\"open':\n    columns:\n      id: { type: uuid, primary_key: true }\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      '\"a\"b': text\n      c: { type: uuid, references: '\"t.id' }\n    indexes:\n      - { columns: ['\"c\"DESC'] }\n",
        expect![[r#"
            schema.yaml:2:3: a quoted name in `"open` has no closing quote (help: write `name`, or `schema.name` for a table outside public; a name holding a dot, white space or a quote goes in double quotes (`"my.name"`, `"say ""hi"""`))
            schema.yaml:8:7: unexpected `b` after the closing quote of `"a"b`: inside a quoted name, write a quote as `""`
            schema.yaml:9:36: a quoted name in `"t.id` has no closing quote (help: write `table`, `table.column`, `schema.table` or `schema.table.column`; a name holding a dot, white space or a quote goes in double quotes (`"my.table"."my column"`))
            schema.yaml:11:21: cannot read index column `"c"DESC`: expected white space after the quoted name
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
            schema.yaml:20:16: an index needs at least one column under `columns`
        "#]],
    );
    check(
        &format!("{BASE}    indexes:\n      - columns: [status]\n      - columns: [status]\n"),
        expect![[r#"
            schema.yaml:16:16: index `cases_status_idx1` duplicates another index on `cases` (help: the same index is declared at 15:16)
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

/// Tables, enums and references in schemas other than `public`.
const SCHEMAS: &str = "
schemas:
  storage: { comment: Object storage }
  auth:
enums:
  auth.factor_type: [totp, webauthn]
tables:
  users:
    columns:
      id: { type: uuid, primary_key: true }
      avatar_id: { type: uuid, nullable: true, references: storage.objects }
  storage.buckets:
    columns:
      id: { type: uuid, primary_key: true }
      owner: { type: uuid, references: users }
  storage.objects:
    columns:
      id: { type: uuid, primary_key: true }
      bucket_id: { type: uuid, references: storage.buckets.id }
      name: { type: text, unique: true }
  auth.factors:
    columns:
      id: { type: uuid, primary_key: true }
      user_id: { type: uuid, references: users }
      kind: { type: auth.factor_type, default: totp }
      object_name: { type: text, references: storage.objects.name }
";

#[test]
fn schemas_hold_tables_enums_and_references() {
    let catalog = model::load_schema("schema.yaml", SCHEMAS).unwrap_or_else(|e| panic!("{e}"));
    let schemas: Vec<(&str, Option<&str>)> = catalog
        .schemas
        .iter()
        .map(|s| (s.name.as_str(), s.comment.as_deref()))
        .collect();
    assert_eq!(
        schemas,
        [("storage", Some("Object storage")), ("auth", None)]
    );
    let objects = catalog
        .table_in("storage", "objects")
        .expect("storage.objects");
    assert_eq!(
        objects.primary_key.as_ref().expect("pk").name,
        "objects_pkey"
    );
    assert_eq!(objects.uniques[0].name, "objects_name_key");
    let fk = &objects.foreign_keys[0];
    assert_eq!(fk.name, "objects_bucket_id_fkey");
    assert_eq!(
        fk.ref_table,
        model::QualifiedName::new("storage", "buckets")
    );
    assert_eq!(
        objects.indexes[0].name, "objects_bucket_id_idx",
        "foreign keys get their index in any schema"
    );
    let users = catalog.table("users").expect("public users");
    assert_eq!(
        users.foreign_keys[0].ref_table,
        model::QualifiedName::new("storage", "objects")
    );
    let buckets = catalog.table_in("storage", "buckets").expect("buckets");
    assert_eq!(
        buckets.foreign_keys[0].ref_table,
        model::QualifiedName::public("users")
    );
    let factors = catalog.table_in("auth", "factors").expect("factors");
    let kind = factors.column("kind").expect("kind");
    assert_eq!(
        kind.data_type,
        model::DataType::Enum(model::QualifiedName::new("auth", "factor_type"))
    );
    assert_eq!(kind.default.as_deref(), Some("'totp'::auth.factor_type"));
    assert_eq!(
        factors.foreign_keys[1].ref_columns,
        ["name"],
        "schema.table.column names a column"
    );
    assert_eq!(catalog.enums[0].schema, "auth");
}

#[test]
fn schema_problems() {
    check(
        "schemas: [storage, public, pg_x, storage, Bad]\ntables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
        expect![[r#"
            schema.yaml:1:20: `public` cannot be declared as a schema (help: `public` exists in every database; tables without a schema are in it)
            schema.yaml:1:28: `pg_x` cannot be declared as a schema (help: PostgreSQL reserves `pg_*` and `information_schema` for its own catalogs)
            schema.yaml:1:34: schema `storage` is declared twice (help: first declared at 1:11)
        "#]],
    );
    check(
        "schemas: [storage]\ntables:\n  storag.t:\n    columns:\n      id: { type: uuid, primary_key: true }\n  a.b.c:\n    columns:\n      id: { type: uuid, primary_key: true }\n  storage.u:\n    schema: storage\n    columns:\n      id: { type: uuid, primary_key: true }\n      t_id: { type: uuid, references: storage.t }\n      v_id: { type: uuid, references: nope.v.id }\n",
        expect![[r#"
            schema.yaml:3:3: table `storag.t` is in schema `storag`, which is not declared (help: did you mean `storage`? Otherwise add `storag` under the top-level `schemas`)
            schema.yaml:6:3: `a.b.c` is not a table name (help: write `name`, or `schema.name` for a table outside public; a name holding a dot, white space or a quote goes in double quotes (`"my.name"`, `"say ""hi"""`))
            schema.yaml:10:5: a table's schema is written in its name, not with a `schema:` key (help: write the table as `<schema>.u:` under `tables`, and declare the schema under the top-level `schemas`)
            schema.yaml:13:39: foreign key references unknown table `storage.t` (help: did you mean `storag.t`?)
            schema.yaml:14:39: foreign key references unknown table `nope.v`
        "#]],
    );
    check(
        "schemas: [auth]\nenums:\n  auth.kind: [a]\ntables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      k: kind\n",
        expect![[r#"
            schema.yaml:8:10: unknown type `kind` (help: did you mean `auth.kind`? Outside public, an enum is named with its schema)
        "#]],
    );
    // `a.b` is a table of schema `a` or column `b` of table `a`: both existing is ambiguous.
    check(
        "schemas: [a]\ntables:\n  a:\n    columns:\n      b: { type: uuid, primary_key: true }\n  a.b:\n    columns:\n      id: { type: uuid, primary_key: true }\n  c:\n    columns:\n      id: { type: uuid, primary_key: true }\n      x: { type: uuid, references: a.b }\n      y: { type: uuid, references: public.a.b }\n      z: { type: uuid, references: a.b.id }\n      w: { type: uuid, references: a.b.c.d }\n",
        expect![[r#"
            schema.yaml:12:36: `references: a.b` is ambiguous: table `a.b`, or column `b` of table `a` (help: write `a.b.<column>` for the first, `public.a.b` for the second)
            schema.yaml:15:36: cannot read `references: a.b.c.d` (help: write `table`, `table.column`, `schema.table` or `schema.table.column`; a name holding a dot, white space or a quote goes in double quotes (`"my.table"."my column"`))
        "#]],
    );
    // The same name in two schemas is two tables; twice in one schema is a clash.
    check(
        "schemas: [a]\ntables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n  a.t:\n    columns:\n      id: { type: uuid, primary_key: true }\n  public.t:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
        expect![[r#"
            schema.yaml:3:3: table `t` clashes with table `t`: tables and types share one namespace
            schema.yaml:3:3: table `t` is named `t`, like table `t` (help: tables, indexes and key constraints share one namespace; rename one of them (an index with an explicit `name`))
            schema.yaml:3:3: the primary key of `t` is named `t_pkey`, like the primary key of `t` (help: tables, indexes and key constraints share one namespace; rename one of them (an index with an explicit `name`))
        "#]],
    );
}

#[test]
fn identity_and_generated_columns_load() {
    let catalog = model::load_schema(
        "schema.yaml",
        "tables:\n  orders:\n    columns:\n      id: { type: bigint, identity: always, primary_key: true }\n      seq: { type: integer, identity: { generated: by default, start: 1, increment: 10, cache: 1, max: 2147483647 } }\n      down: { type: smallint, identity: { generated: always, increment: -1 } }\n      price: numeric(10,2)\n      quantity: integer\n      total: { type: \"numeric(10,2)\", nullable: true, generated: \"price*quantity\" }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let orders = catalog.table("orders").expect("orders");
    let id = orders.column("id").expect("id");
    let identity = id.identity.as_ref().expect("identity");
    assert!(identity.always && !id.nullable && id.default.is_none());
    assert_eq!(identity.options, model::SequenceOptions::default());
    let seq = orders.column("seq").expect("seq");
    let identity = seq.identity.as_ref().expect("identity");
    assert!(!identity.always && !seq.nullable);
    // The defaults PostgreSQL would choose are left out, as introspection and replay leave them.
    assert_eq!(
        identity.options,
        model::SequenceOptions {
            increment: Some(10),
            ..Default::default()
        }
    );
    let down = orders.column("down").expect("down");
    assert_eq!(
        down.identity.as_ref().expect("identity").options,
        model::SequenceOptions {
            increment: Some(-1),
            ..Default::default()
        },
        "a descending sequence starts at -1 between the type's minimum and -1"
    );
    let total = orders.column("total").expect("total");
    assert_eq!(total.generated.as_deref(), Some("price * quantity"));
    assert!(total.default.is_none() && total.identity.is_none());
}

#[test]
fn identity_and_generated_problems() {
    check(
        "tables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a: { type: text, identity: always }\n      b: { type: bigint, identity: sometimes }\n      c: { type: bigint, identity: { start: 5 } }\n      d: { type: bigint, identity: always, nullable: true, default: \"1\" }\n      e: { type: integer, identity: { generated: always, increment: 0, cache: 0, min: 5, max: 3, strat: 1 } }\n      f: { type: smallint, identity: { generated: always, start: 70000 } }\n      g: { type: integer, identity: { generated: always, start: 1, min: 10 } }\n      h: { type: integer, identity: [always] }\n      i: { type: integer, identity: { generated: always, cycle: maybe, start: x } }\n",
        expect![[r#"
            schema.yaml:5:34: identity column `a` must be smallint, integer or bigint, not text
            schema.yaml:6:36: unknown identity generation `sometimes` (help: expected `always` or `by default`)
            schema.yaml:7:36: identity column `c` needs `generated: always` or `generated: by default` (help: `always` refuses explicit values (unless OVERRIDING SYSTEM VALUE), `by default` takes them)
            schema.yaml:8:54: identity column `d` cannot be nullable (help: PostgreSQL makes an identity column NOT NULL)
            schema.yaml:8:69: identity column `d` cannot have a `default` (help: its values come from its own sequence; remove `default`)
            schema.yaml:9:69: `increment` cannot be zero
            schema.yaml:9:79: `cache` must be at least 1
            schema.yaml:9:98: unknown identity key `strat` (help: expected one of: generated, start, increment, min, max, cache, cycle)
            schema.yaml:10:66: `start: 70000` is out of range for smallint
            schema.yaml:11:65: `start` (1) must lie between `min` (10) and `max` (2147483647)
            schema.yaml:12:37: expected `always`, `by default` or a mapping, found a list: `identity` makes the column an identity column
            schema.yaml:13:65: `cycle` must be true or false, found `maybe`
            schema.yaml:13:79: `start` must be a whole number, found `x`
        "#]],
    );
    check(
        "tables:\n  t:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a: integer\n      b: { type: integer, generated: \"a * 2\", default: \"0\" }\n      c: { type: integer, generated: \"b + nope\" }\n      d: { type: integer, generated: \"a +\" }\n      e: { type: bigint, identity: always, generated: \"a\" }\n      f: { type: text, pii: true, encrypted: true, generated: \"a::text\" }\n",
        expect![[r#"
            schema.yaml:6:56: generated column `b` cannot have a `default` (help: its value is always the `generated` expression)
            schema.yaml:7:38: generated column `c` refers to `nope`, which table `t` does not have
            schema.yaml:8:38: invalid SQL expression `a +`: syntax error at or near ")"
            schema.yaml:9:55: column `e` cannot be both an identity and a generated column
            schema.yaml:10:46: encrypted column `f` cannot have `generated` (help: ciphertexts are random: the database cannot compare, index or default them)
        "#]],
    );
}

#[test]
fn partial_indexes_get_distinct_derived_names() {
    let catalog = model::load_schema(
        "schema.yaml",
        "tables:\n  jobs:\n    columns:\n      id: { type: uuid, primary_key: true }\n      status: text\n      owner: uuid\n    indexes:\n      - { columns: [status], where: \"status = 'open'\" }\n      - { columns: [status] }\n      - { columns: [status], where: \"status = 'done'\" }\n      - { columns: [owner], unique: true, where: \"status = 'open'\" }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let jobs = catalog.table("jobs").expect("jobs");
    let names: Vec<(&str, Option<&str>)> = jobs
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.predicate.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("jobs_status_idx1", Some("status = 'open'")),
            ("jobs_status_idx", None),
            ("jobs_status_idx2", Some("status = 'done'")),
            ("jobs_owner_uidx", Some("status = 'open'")),
        ]
    );
}

#[test]
fn foreign_keys_between_types_postgresql_compares() {
    // integer to bigint, text to varchar(64), date to timestamptz, integer to numeric: PostgreSQL
    // takes all of them (a cross-type equality operator, or an implicit cast to the key's type).
    check(
        "tables:\n  p:\n    columns:\n      id: { type: integer, primary_key: true }\n      code: { type: varchar(64), unique: true }\n      day: { type: date, unique: true }\n      n: { type: numeric(10,2), unique: true }\n  c:\n    columns:\n      id: { type: bigint, primary_key: true }\n      p_id: { type: bigint, references: p }\n      p_code: { type: text, references: p.code }\n      p_day: { type: timestamptz, references: p.day }\n      p_n: { type: integer, references: p.n }\n",
        expect![[r#"
            schema.yaml:7:18: bad type modifier: unbalanced parentheses in `numeric(10`
            schema.yaml:7:29: unknown column key `2)` (help: expected one of: type, nullable, default, primary_key, unique, references, on_delete, on_update, index, pii, phi, comment, renamed_from, encrypted, identity, generated)
            schema.yaml:14:41: table `p` has no column `n`
        "#]],
    );
    // numeric to integer has no implicit cast and no operator in the integer family.
    check(
        "tables:\n  p:\n    columns:\n      id: { type: integer, primary_key: true }\n  c:\n    columns:\n      id: { type: integer, primary_key: true }\n      p_id: { type: numeric, references: p }\n",
        expect![[r#"
            schema.yaml:8:7: foreign key column `c.p_id` is `numeric` but references `p.id` of type `integer`
        "#]],
    );
}

#[test]
fn a_foreign_key_may_reference_a_unique_index() {
    check(
        "tables:\n  p:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a: text\n      b: text\n      c: text\n    indexes:\n      - { columns: [a, b], unique: true }\n      - { columns: [c], unique: true, where: \"c <> ''\" }\n  q:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a: text\n      b: text\n    foreign_keys:\n      - { columns: [b, a], references: p, ref_columns: [b, a] }\n",
        expect![[r#"
            ok
        "#]],
    );
    // A partial unique index is no key PostgreSQL can reference.
    check(
        "tables:\n  p:\n    columns:\n      id: { type: uuid, primary_key: true }\n      c: text\n    indexes:\n      - { columns: [c], unique: true, where: \"c <> ''\" }\n  q:\n    columns:\n      id: { type: uuid, primary_key: true }\n      c: { type: text, references: p.c }\n",
        expect![[r#"
            schema.yaml:11:36: `p(c)` is neither a primary key nor unique, so it cannot be referenced (help: reference the primary key, or declare the referenced columns unique)
        "#]],
    );
}

#[test]
fn derived_index_names_make_way_for_given_ones() {
    // `m_u_id_idx` is taken by an index on `u`: the index the foreign key of `m` needs is
    // numbered, as PostgreSQL numbers a name it chooses.
    let catalog = model::load_schema(
        "schema.yaml",
        "tables:\n  u:\n    columns:\n      id: { type: uuid, primary_key: true }\n      n: integer\n    indexes:\n      - { name: m_u_id_idx, columns: [n] }\n  m:\n    columns:\n      id: { type: uuid, primary_key: true }\n      u_id: { type: uuid, references: u }\n      flag: boolean\n    indexes:\n      - { columns: [u_id], where: flag }\n      - { columns: [u_id], where: \"NOT flag\" }\n",
    )
    .expect("loads");
    let names: Vec<(&str, &str)> = catalog
        .tables
        .iter()
        .flat_map(|t| t.indexes.iter().map(|i| (t.name.as_str(), i.name.as_str())))
        .collect();
    assert_eq!(
        names,
        [
            ("u", "m_u_id_idx"),
            ("m", "m_u_id_idx2"),
            ("m", "m_u_id_idx3"),
            ("m", "m_u_id_idx1"),
        ]
    );
}

#[test]
fn index_key_collations() {
    let with_index = |columns: &str| {
        format!("{BASE}      title: {{ type: text }}\n    indexes:\n      - columns: [{columns}]\n")
    };
    for good in [
        r#"'title COLLATE "C"'"#,
        r#"'title COLLATE "en-x-icu" text_pattern_ops DESC'"#,
        "title COLLATE posix_like",
    ] {
        check(
            &with_index(good),
            expect![[r#"
                ok
            "#]],
        );
    }
    let loaded = model::load_schema("schema.yaml", &with_index(r#"'title COLLATE "C" DESC'"#))
        .expect("loads");
    let key = &loaded
        .table("cases")
        .expect("cases")
        .indexes
        .iter()
        .find(|ix| ix.keys[0].column == "title")
        .expect("the index")
        .keys[0];
    assert_eq!(key.collation.as_deref(), Some("C"));
    assert!(key.descending);
    check(
        &with_index("title COLLATE C"),
        expect![[r#"
            schema.yaml:16:19: bad collation `C`: expected a lower-case name or one in double quotes such as `"C"`
        "#]],
    );
    check(
        &with_index("title COLLATE"),
        expect![[r#"
            schema.yaml:16:19: cannot read index column `title COLLATE`: `COLLATE` needs a collation name
        "#]],
    );
}

#[test]
fn partitioning_declarations() {
    // Valid: the key holds the uuid and the partition column.
    let partitioned = COMPLIANCE
        .replace(
            "    append_only: true\n",
            "    append_only: true\n    partitioning: { column: timestamp, interval: 1 month, ahead: 2 }\n    primary_key: [id, timestamp]\n",
        )
        .replace(
            "      id: { type: uuid, primary_key: true }\n      timestamp",
            "      id: { type: uuid }\n      timestamp",
        );
    check(
        &partitioned,
        expect![[r#"
            ok
        "#]],
    );
    let catalog = model::load_schema("schema.yaml", &partitioned).expect("valid");
    let audit = catalog.table("audit_logs").expect("audit_logs");
    assert_eq!(
        audit.partition_by.as_ref().map(|p| p.keys.clone()),
        Some(vec!["timestamp".to_string()])
    );
    assert!(catalog.function("maintain_partitions").is_some());
    // An interval that is not a period, and `ahead` out of range.
    check(
        &partitioned.replace(
            "interval: 1 month, ahead: 2",
            "interval: 90 minutes, ahead: 0",
        ),
        expect![[r#"
            schema.yaml:10:50: partition interval: unknown period unit `minutes`: use days, weeks, months or years (help: partitions hold whole days, weeks, months or years, e.g. `1 month`)
            schema.yaml:10:69: `ahead` is how many future partitions to keep ready: a whole number from 1 to 1000, not 0
        "#]],
    );
    check(
        &partitioned.replace("interval: 1 month", "interval: monthly"),
        expect![[r#"
            schema.yaml:10:50: partition interval: `monthly` is not a period: write a count and a unit, e.g. `7 years` or `30 days` (help: partitions hold whole days, weeks, months or years, e.g. `1 month`)
        "#]],
    );
    // A nullable partition column, and one that is not a time.
    check(
        &partitioned.replace(
            "timestamp: { type: timestamptz, default: now() }",
            "timestamp: { type: timestamptz, default: now(), nullable: true }",
        ),
        expect![[r#"
            schema.yaml:14:65: the partition column `timestamp` cannot be nullable: a row without a time has no partition (help: remove `nullable: true`)
        "#]],
    );
    check(
        &partitioned.replace("column: timestamp,", "column: action,"),
        expect![[r#"
            schema.yaml:10:29: partitions are ranges of time: `action` is text, not timestamptz
        "#]],
    );
    check(
        &partitioned.replace("column: timestamp,", "column: timestmp,"),
        expect![[r#"
            schema.yaml:10:29: `partitioning.column` names column `timestmp`, which table `audit_logs` does not have (help: did you mean `timestamp`?)
        "#]],
    );
    // A partition column outside the key, and unique constraints that cannot include it.
    check(
        &COMPLIANCE.replace(
            "    append_only: true\n",
            "    append_only: true\n    partitioning: { column: timestamp, interval: 1 month }\n    unique: [[user_id]]\n    indexes:\n      - { columns: [action], unique: true }\n",
        )
        .replace(
            "      action: { type: text, nullable: true }",
            "      action: { type: text, nullable: true }\n      request_id: { type: text, unique: true }",
        ),
        expect![[r#"
            schema.yaml:11:14: the unique constraint on (user_id) cannot be enforced on a table partitioned by `timestamp`: PostgreSQL checks uniqueness within each partition, so the partition column must be part of it (help: add `timestamp` to it, or drop `partitioning`)
            schema.yaml:13:38: a unique index cannot be enforced on a table partitioned by `timestamp`: PostgreSQL checks uniqueness within each partition, so the partition column must be part of it (help: add `timestamp` to it, or drop `partitioning`)
            schema.yaml:15:38: the primary key of a partitioned table must include the partition column `timestamp` (help: declare `primary_key: [id, timestamp]` on the table (and drop `primary_key: true` from the column))
            schema.yaml:21:41: `unique: true` on column `request_id` cannot be enforced on a table partitioned by `timestamp`: PostgreSQL checks uniqueness within each partition, so the partition column must be part of it (help: add `timestamp` to it, or drop `partitioning`)
        "#]],
    );
    // Missing keys, and a key the loader does not know.
    check(
        &COMPLIANCE.replace(
            "    append_only: true\n",
            "    append_only: true\n    partitioning: { interval: 1 month, by: range }\n",
        ),
        expect![[r#"
            schema.yaml:10:19: `partitioning` needs `column`: the timestamptz column rows are partitioned by (e.g. `column: timestamp`)
            schema.yaml:10:40: unknown partitioning key `by` (help: expected one of: column, interval, ahead)
        "#]],
    );
    check(
        &COMPLIANCE.replace(
            "    append_only: true\n",
            "    append_only: true\n    partitioning: monthly\n",
        ),
        expect![[r#"
            schema.yaml:10:19: expected a mapping, found a scalar: `partitioning` is a mapping: `{ column: timestamp, interval: 1 month, ahead: 3 }`
        "#]],
    );
}
