use super::*;
use crate::types::DataType;

fn round_trip(yaml: &str) -> (Catalog, SchemaYaml) {
    let catalog = crate::load_schema("in.yaml", yaml).unwrap_or_else(|e| panic!("{e}"));
    let written = to_schema_yaml(&catalog, "a test");
    (catalog, written)
}

#[test]
fn strings_are_quoted_so_yaml_cannot_misread_them() {
    assert_eq!(quoted("plain"), "\"plain\"");
    assert_eq!(quoted("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
    assert_eq!(
        quoted("line\nbreak\ttab\u{7}"),
        "\"line\\nbreak\\ttab\\u0007\""
    );
    assert_eq!(key("id"), "id");
    assert_eq!(key("yes"), "\"yes\"");
    assert_eq!(key("Mixed"), "\"Mixed\"");
}

#[test]
fn a_schema_written_back_loads_into_the_same_catalog() {
    let (catalog, written) = round_trip(
        r##"
enums:
  mood: [happy, "it's complicated", "yes", "#hash: colon"]
tables:
  people:
    comment: "People: \"quoted\", #not a YAML comment"
    timestamps: true
    soft_delete: true
    columns:
      id: { type: uuid, primary_key: true, default: gen_random_uuid() }
      email: { type: varchar(255), unique: true, pii: true, comment: "Contact: e-mail\nsecond line" }
      mood: { type: mood, default: "yes" }
      moods: { type: "mood[]", nullable: true }
      boss_id: { type: uuid, nullable: true, references: people, on_delete: set null }
      settings: { type: jsonb, default: "'{}'::jsonb", index: false }
      score: { type: "numeric(10,2)", default: "0" }
    checks:
      score_positive: "score >= 0"
    indexes:
      - { name: people_settings_path_idx, columns: [settings jsonb_path_ops], using: gin }
      - { name: people_recent_idx, columns: [created_at DESC], include: [email], where: "deleted_at IS NULL" }
  memberships:
    columns:
      person_id: { type: uuid, references: people, on_delete: cascade }
      team: text
      since: { type: date, default: CURRENT_DATE }
    primary_key: [person_id, team]
    unique:
      - [team, since]
    foreign_keys: []
"##,
    );
    assert_eq!(written.warnings, Vec::<String>::new(), "{}", written.text);
    assert_eq!(written.round_trip, Ok(Vec::new()), "{}", written.text);
    let loaded = crate::load_schema("out.yaml", &written.text)
        .unwrap_or_else(|e| panic!("{e}\n{}", written.text));
    assert_eq!(
        loaded.normalized(),
        catalog.normalized(),
        "{}",
        written.text
    );
    assert!(
        written.text.contains("    timestamps: true\n"),
        "{}",
        written.text
    );
    assert!(
        written.text.contains("    soft_delete: true\n"),
        "{}",
        written.text
    );
    assert!(
        written
            .text
            .contains("mood: { type: \"mood\", default: \"yes\" }"),
        "{}",
        written.text
    );
    assert!(
        written
            .text
            .contains("primary_key: [\"person_id\", \"team\"]"),
        "{}",
        written.text
    );
}

#[test]
fn flags_are_written_only_for_exactly_what_they_generate() {
    let (mut catalog, _) = round_trip(
        "tables:\n  t:\n    timestamps: true\n    soft_delete: true\n    columns:\n      id: { type: uuid, primary_key: true }\n",
    );
    let t = &mut catalog.tables[0];
    t.columns
        .iter_mut()
        .filter(|c| c.name == "updated_at")
        .for_each(|c| c.comment = Some("Changed.".into()));
    t.columns
        .iter_mut()
        .filter(|c| c.name == "deleted_at")
        .for_each(|c| c.data_type = DataType::Timestamp(None));
    let written = to_schema_yaml(&catalog, "a test");
    assert!(
        !written.text.contains("timestamps: true"),
        "{}",
        written.text
    );
    assert!(written.text.contains("updated_at: "), "{}", written.text);
    // The trigger and its function cannot be said any more: left out.
    let left_out: Vec<&Omitted> = written.left_out.iter().map(|l| &l.what).collect();
    assert_eq!(
        left_out,
        [
            &Omitted::Trigger {
                table: QualifiedName::public("t"),
                name: "t_set_updated_at".into()
            },
            &Omitted::Function {
                name: QualifiedName::public("set_updated_at"),
                signature: "()".into()
            },
        ]
    );
    let messages: Vec<&str> = written.messages().collect();
    assert!(
        messages[0].starts_with("trigger `t.t_set_updated_at` is left out"),
        "{messages:?}"
    );
    // The soft_delete flag is written off, so the file differs there (and says so).
    assert!(
        written.warnings.join("\n").contains("flagged soft_delete"),
        "{messages:?}"
    );
    let differences = written.round_trip.expect("loads");
    let properties: Vec<(&str, Option<&str>)> = differences
        .iter()
        .map(|d| (d.name.as_str(), d.property.as_deref()))
        .collect();
    assert_eq!(
        properties,
        [("t", Some("soft_delete")), ("t", Some("flags"))],
        "{differences:?}"
    );
}

#[test]
fn indexes_the_loader_would_add_are_reported() {
    let (mut catalog, _) = round_trip(
        "tables:\n  a:\n    columns:\n      id: { type: uuid, primary_key: true }\n  b:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a_id: { type: uuid, references: a }\n      doc: jsonb\n",
    );
    let b = catalog
        .tables
        .iter_mut()
        .find(|t| t.name == "b")
        .expect("b");
    assert_eq!(b.indexes.len(), 2, "{:?}", b.indexes);
    b.indexes.clear();
    b.checks.push(CheckConstraint {
        name: "positive".into(),
        expression: "doc IS NOT NULL".into(),
    });
    let written = to_schema_yaml(&catalog, "a test");
    let warnings = written.warnings.join("\n");
    assert!(
        warnings.contains("no index leads with (a_id); loading this schema.yaml adds `b_a_id_idx`"),
        "{warnings}"
    );
    assert!(warnings.contains("adds `b_doc_gin_idx`"), "{warnings}");
    assert!(
        warnings.contains("will be named `b_positive_check`"),
        "{warnings}"
    );
    let differences = written.round_trip.expect("loads");
    let names: Vec<&str> = differences.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "b.b_positive_check",
            "b.positive",
            "b.b_a_id_idx",
            "b.b_doc_gin_idx"
        ],
        "{differences:?}"
    );
}

#[test]
fn what_the_format_cannot_say_is_left_out_with_what_depends_on_it() {
    let (mut catalog, _) = round_trip(
        "enums:\n  mood: [ok]\ntables:\n  a:\n    columns:\n      id: { type: uuid, primary_key: true }\n      shape: { type: text, unique: true }\n      n: integer\n    checks:\n      shape_set: \"shape <> ''\"\n    indexes:\n      - { name: a_shape_n_idx, columns: [n, shape] }\n      - { name: a_n_idx, columns: [n] }\n  b:\n    columns:\n      id: { type: uuid, primary_key: true }\n      a_shape: { type: text, references: a.shape }\n      n: integer\n  c:\n    columns:\n      key: { type: text, primary_key: true }\n  d:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
    );
    let a = QualifiedName::public("a");
    let b = QualifiedName::public("b");
    let c = QualifiedName::public("c");
    let d = QualifiedName::public("d");
    {
        let t = catalog.tables.iter_mut().find(|t| t.is(&a)).expect("a");
        // A type the format cannot spell, used by a unique constraint, a check, an index and
        // the foreign key of another table; a duplicate index; a default from a sequence; a
        // grant to PUBLIC.
        t.columns[1].data_type = DataType::Other("point".into());
        t.columns[2].default = Some("nextval('a_n_seq'::regclass)".into());
        let mut twin = t.indexes[1].clone();
        twin.name = "a_n_again_idx".into();
        t.indexes.push(twin);
        t.set_privileges(PUBLIC, &[Privilege::Select], true);
    }
    {
        let t = catalog.tables.iter_mut().find(|t| t.is(&c)).expect("c");
        t.columns[0].data_type = DataType::Unknown;
    }
    {
        let t = catalog.tables.iter_mut().find(|t| t.is(&d)).expect("d");
        t.primary_key = None;
    }
    catalog.enums[0].comment = Some("How it feels.".into());
    let written = to_schema_yaml(&catalog, "a test");
    let left_out: Vec<&Omitted> = written.left_out.iter().map(|l| &l.what).collect();
    let named = |table: &QualifiedName, name: &str| (table.clone(), name.to_string());
    let (ta, shape) = named(&a, "shape");
    assert_eq!(
        left_out,
        [
            &Omitted::EnumComment(QualifiedName::public("mood")),
            &Omitted::Table(d.clone()),
            &Omitted::Table(c.clone()),
            &Omitted::Column {
                table: ta.clone(),
                column: shape
            },
            &Omitted::ColumnDefault {
                table: a.clone(),
                column: "n".into()
            },
            &Omitted::Unique {
                table: a.clone(),
                name: "a_shape_key".into()
            },
            &Omitted::Check {
                table: a.clone(),
                name: "a_shape_set_check".into()
            },
            &Omitted::Index {
                table: a.clone(),
                name: "a_shape_n_idx".into()
            },
            &Omitted::Index {
                table: a.clone(),
                name: "a_n_again_idx".into()
            },
            &Omitted::Grant {
                table: a.clone(),
                role: PUBLIC.into()
            },
            &Omitted::ForeignKey {
                table: b.clone(),
                name: "b_a_shape_fkey".into()
            },
        ],
        "{:#?}",
        written.left_out
    );
    // Each names something of the catalog; without them the file reproduces it.
    let mut expected = catalog.clone();
    for l in &written.left_out {
        assert!(l.what.remove_from(&mut expected), "{l:?}");
    }
    assert_eq!(written.round_trip, Ok(Vec::new()), "{}", written.text);
    assert_eq!(written.warnings, Vec::<String>::new(), "{}", written.text);
    let loaded = crate::load_schema("out.yaml", &written.text).expect("loads");
    assert_eq!(loaded.normalized(), expected.normalized());
}
