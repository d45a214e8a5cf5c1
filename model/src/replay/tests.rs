//! Tests of the replay as a whole.

use super::*;
use crate::catalog::*;
use crate::types::DataType;

/// Replays `sql` twice, statement by statement: through one session whose name index is kept
/// up to date over the whole script, and through a fresh session (an index built from the
/// catalog alone) for every statement; each result and catalog must agree. `script`, the end of
/// `sql`, says which of its statements must fail; everything before it must apply. Returns the
/// catalog.
fn replay_through_one_index_and_afresh(sql: &str, script: &[(&str, bool)]) -> Catalog {
    let statements = parse_script(sql).expect("parses");
    let (mut plain, mut indexed) = (Catalog::default(), Catalog::default());
    let mut session = Session::strict();
    let mut failed = Vec::new();
    for st in &statements {
        let expected = Session::strict().apply(&mut plain, &st.node);
        let got = session.apply(&mut indexed, &st.node);
        assert_eq!(got, expected, "{}", st.text);
        assert_eq!(indexed, plain, "{}", st.text);
        failed.push(expected.is_err());
    }
    let tail = &failed[failed.len() - script.len()..];
    let must_fail: Vec<bool> = script.iter().map(|(_, fails)| *fails).collect();
    assert_eq!(tail, must_fail);
    assert!(!failed[..failed.len() - script.len()].contains(&true));
    plain
}

/// The name index is only a shortcut: statement by statement, replaying through one index kept
/// up to date over the whole script must give the results and the catalog that an index built
/// afresh for every statement (from the catalog alone) gives. The script stresses what it tracks:
/// many indexes on one table (each new one joins the index alone), clashes with the first
/// and a middle one, a drop and re-create, `IF NOT EXISTS`, a rename, a dropped table.
#[test]
fn the_name_index_answers_as_the_scans_do() {
    let mut sql = String::from("CREATE TABLE big (a int, b int); CREATE TABLE other (a int);");
    for i in 0..300 {
        sql.push_str(&format!("CREATE INDEX big_{i}_idx ON big (a);"));
    }
    // Each statement, and whether it must fail.
    let script = [
        ("CREATE INDEX big_0_idx ON other (a)", true),
        ("CREATE INDEX big_150_idx ON other (a)", true),
        ("CREATE INDEX IF NOT EXISTS big_299_idx ON other (a)", false),
        ("DROP INDEX big_150_idx", false),
        ("CREATE INDEX big_150_idx ON other (a)", false),
        ("CREATE INDEX big_150_idx ON big (b)", true),
        ("CREATE INDEX ON big (b)", false),
        ("ALTER TABLE big RENAME TO renamed", false),
        ("CREATE INDEX renamed_extra_idx ON renamed (a)", false),
        ("CREATE INDEX big_1_idx ON renamed (b)", true),
        ("CREATE INDEX big_nope_idx ON big (a)", true),
        ("DROP TABLE renamed", false),
        ("CREATE INDEX big_1_idx ON other (a)", false),
        ("CREATE INDEX other_missing_idx ON other (missing)", true),
    ];
    for (statement, _) in script {
        sql.push_str(statement);
        sql.push(';');
    }
    // The script reaches the cases it is about: the clashes fail, the rest applies.
    let plain = replay_through_one_index_and_afresh(&sql, &script);
    assert_eq!(plain.tables.len(), 1, "only `other` is left");
    assert_eq!(
        plain.tables[0].indexes.len(),
        2,
        "{:?}",
        plain.tables[0].indexes
    );
}

/// Dropped tables and foreign keys through the name index, against an index built afresh for
/// every statement: the last table dropped keeps the index (a down migration drops thousands
/// that way), an index dropped before its table leaves a hit past the end of the table list,
/// a table created later takes the dropped one's position, and a foreign key added by `ALTER
/// TABLE` to a table already indexed still keeps the table it references from being dropped.
#[test]
fn the_name_index_follows_dropped_tables_and_foreign_keys() {
    let setup = "CREATE TABLE parent (id int PRIMARY KEY);
        CREATE TABLE a (id int PRIMARY KEY, parent_id int REFERENCES parent);
        CREATE TABLE b (id int, x int);
        CREATE INDEX b_x_idx ON b (x);
        DROP INDEX b_x_idx;";
    // Each statement, and whether it must fail.
    let script = [
        ("DROP TABLE b", false),
        ("DROP INDEX b_x_idx", true),
        ("CREATE INDEX b_x_idx ON a (id)", false),
        ("DROP INDEX b_x_idx", false),
        ("CREATE TABLE c (id int)", false),
        ("DROP INDEX b_x_idx", true),
        (
            "ALTER TABLE c ADD COLUMN parent_id int REFERENCES parent",
            false,
        ),
        ("DROP TABLE parent", true),
        ("ALTER TABLE a DROP CONSTRAINT a_parent_id_fkey", false),
        ("DROP TABLE parent", true),
        ("DROP TABLE c", false),
        (
            "CREATE TABLE s (id int PRIMARY KEY, up int REFERENCES s)",
            false,
        ),
        ("DROP TABLE s", false),
        ("CREATE TABLE early (id int, later_id int)", false),
        ("CREATE TABLE later (id int PRIMARY KEY)", false),
        (
            "ALTER TABLE early ADD FOREIGN KEY (later_id) REFERENCES later",
            false,
        ),
        ("DROP TABLE later", true),
        ("DROP TABLE later CASCADE", false),
        ("CREATE TABLE later (id int PRIMARY KEY)", false),
        ("DROP TABLE parent", false),
        ("DROP TABLE a", false),
        ("DROP TABLE early", false),
    ];
    let mut sql = String::from(setup);
    for (statement, _) in script {
        sql.push_str(statement);
        sql.push(';');
    }
    let plain = replay_through_one_index_and_afresh(&sql, &script);
    let left: Vec<&str> = plain.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(left, ["later"]);
}

#[test]
fn positions_are_computed_in_one_pass_and_match_position_of() {
    let sql = "-- head\nCREATE TABLE a (id int);  CREATE TABLE b (id int);\n\n  /* c */ CREATE TABLE \"ü\" (id int);";
    let statements = parse_script(sql).expect("parses");
    let got: Vec<(usize, usize)> = statements
        .iter()
        .map(|s| (s.pos.line, s.pos.column))
        .collect();
    assert_eq!(got, vec![(2, 1), (2, 27), (4, 11)]);
    for s in &statements {
        assert_eq!(s.pos, position_of(sql, s.offset));
    }
}

#[test]
fn recovering_parse_keeps_the_statements_around_a_broken_one() {
    let sql = "CREATE TABLE a (id int);\nCREATE TABLE oops (id int,);\nCREATE TABLE b (id int);";
    let parsed = parse_script_recovering(sql);
    let kinds: Vec<String> = parsed
        .iter()
        .map(|p| match p {
            ParsedStatement::Statement(s) => format!("ok {}:{}", s.pos.line, s.text),
            ParsedStatement::Error { error, text } => {
                format!("error {}:{} {text}", error.pos.line, error.pos.column)
            }
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "ok 1:CREATE TABLE a (id int)",
            "error 2:1 CREATE TABLE oops (id int,)",
            "ok 3:CREATE TABLE b (id int)",
        ]
    );
    let error = parse_script(sql).expect_err("fails");
    assert_eq!(error.pos, Pos { line: 2, column: 1 });
    // An unclosed parenthesis swallows the rest, which is reported, never dropped.
    let sql = "CREATE TABLE a (id int);\nCREATE TABLE oops (;\nCREATE TABLE b (id int);";
    let parsed = parse_script_recovering(sql);
    assert_eq!(parsed.len(), 2, "{parsed:?}");
    match &parsed[1] {
        ParsedStatement::Error { error, text } => {
            assert_eq!(error.pos, Pos { line: 2, column: 1 });
            assert!(text.ends_with("CREATE TABLE b (id int);"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

/// A strict replay (codegen checking its own migrations) refuses a type it does not know, and
/// says why; a lenient one (the linter) keeps the column with the type as written.
#[test]
fn types_the_model_cannot_hold_are_named_with_the_reason() {
    for (sql, message, lenient) in [
        (
            "CREATE TABLE t (r tstzrange)",
            "unsupported type `tstzrange`: neither a built-in type the model knows nor an enum created earlier",
            "tstzrange",
        ),
        (
            "CREATE TABLE t (r geometry(Point, 4326))",
            "unsupported type `geometry(point,4326)`: ",
            "geometry(point,4326)",
        ),
        (
            "CREATE TABLE t (r numeric(2000))",
            "unsupported type `numeric(2000)`: bad type modifier: ",
            "numeric(2000)",
        ),
    ] {
        let mut catalog = Catalog::default();
        let (_, got) = replay_script(&mut catalog, sql).expect_err(sql);
        assert!(got.starts_with(message), "{sql}: {got}");
        let mut catalog = Catalog::default();
        let mut session = Session::lenient(vec!["public".into()]);
        for st in parse_script(sql).expect("parses") {
            session.apply(&mut catalog, &st.node).expect(sql);
        }
        let t = catalog.table("t").expect("the table is kept");
        assert_eq!(
            t.columns[0].data_type,
            DataType::Other(lenient.into()),
            "{sql}"
        );
        assert!(session.take_notes().is_empty(), "{sql}");
    }
}

#[test]
fn a_token_the_scanner_cannot_finish_does_not_hide_the_statements_before_it() {
    let kinds = |sql: &str| -> Vec<String> {
        parse_script_recovering(sql)
            .iter()
            .map(|p| match p {
                ParsedStatement::Statement(s) => format!("ok {}", s.text),
                ParsedStatement::Error { error, text } => {
                    format!("error {}:{} {text}", error.pos.line, error.pos.column)
                }
            })
            .collect()
    };
    let before = "CREATE TABLE a (id int);\nCREATE TABLE \"b;\" (id int);\n";
    for (broken, message) in [
        (
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; CREATE TABLE c (id int);\n",
            "unterminated dollar-quoted string",
        ),
        (
            "INSERT INTO a VALUES ('x); CREATE TABLE c (id int);\n",
            "unterminated quoted string",
        ),
        ("/* CREATE TABLE c (id int);\n", "unterminated /* comment"),
    ] {
        let sql = format!("{before}{broken}");
        assert_eq!(
            kinds(&sql),
            vec![
                "ok CREATE TABLE a (id int)".to_owned(),
                "ok CREATE TABLE \"b;\" (id int)".to_owned(),
                format!("error 3:1 {}", broken.trim_end()),
            ],
            "{sql}"
        );
        let error = parse_script(&sql).expect_err("fails");
        assert_eq!(error.pos, Pos { line: 3, column: 1 }, "{sql}");
        assert!(error.message.contains(message), "{}", error.message);
    }
    // The broken statement started before the token: all of it is the error.
    assert_eq!(
        kinds("CREATE TABLE a (id int); SELECT 'x"),
        vec!["ok CREATE TABLE a (id int)", "error 1:26 SELECT 'x"]
    );
    // Nothing before it: one error, as before.
    assert_eq!(kinds("SELECT $$"), vec!["error 1:1 SELECT $$"]);
}

#[test]
fn unique_and_primary_key_using_index_adopt_the_index() {
    let mut catalog = Catalog::default();
    replay_script(
        &mut catalog,
        "CREATE TABLE t (id uuid NOT NULL, code text NOT NULL);
         CREATE UNIQUE INDEX t_code_idx ON t (code);
         CREATE UNIQUE INDEX t_id_idx ON t (id);
         ALTER TABLE t ADD CONSTRAINT t_code_key UNIQUE USING INDEX t_code_idx;
         ALTER TABLE t ADD PRIMARY KEY USING INDEX t_id_idx;",
    )
    .expect("replays");
    let t = catalog.table("t").expect("table");
    assert!(t.indexes.is_empty(), "{:?}", t.indexes);
    assert_eq!(
        t.uniques,
        vec![UniqueConstraint {
            name: "t_code_key".into(),
            columns: vec!["code".into()]
        }]
    );
    assert_eq!(
        t.primary_key,
        Some(PrimaryKey {
            name: "t_id_idx".into(),
            columns: vec!["id".into()]
        })
    );
    let mut bad = catalog.clone();
    assert!(
        replay_script(
            &mut bad,
            "ALTER TABLE t ADD CONSTRAINT x UNIQUE USING INDEX nosuch;"
        )
        .is_err()
    );
}
