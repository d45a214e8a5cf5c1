//! The JSON Schema of `schema.yaml` (`generated/schema.schema.json`): it is a valid draft-07
//! schema, its keys are exactly the keys the loader accepts, and every schema the loader accepts
//! (the repository's `schema.yaml` and the YAML fixtures of the tests) validates against it.

use std::path::{Path, PathBuf};

use e2e::schema::{repo_root, repo_schema_text};
use model::yaml::{
    COLUMN_KEYS, EXTENSION_KEYS, FOREIGN_KEY_KEYS, IDENTITY_KEYS, INDEX_KEYS, PARTITIONING_KEYS,
    RETENTION_KEYS, ROLE_KEYS, SCHEMA_KEYS, TABLE_KEYS, TOP_KEYS,
};
use serde_json::Value;

fn schema() -> Value {
    codegen::json_schema::schema()
}

/// The sorted property names of the root object (`None`) or of a definition.
fn properties(schema: &Value, definition: Option<&str>) -> Vec<String> {
    let object = match definition {
        None => schema,
        Some(name) => &schema["definitions"][name],
    };
    let mut keys: Vec<String> = object["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{definition:?} has no properties"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    keys.sort();
    keys
}

#[test]
fn keys_are_exactly_the_loaders_keys() {
    let schema = schema();
    assert_eq!(properties(&schema, None), sorted(TOP_KEYS));
    assert_eq!(properties(&schema, Some("Table")), sorted(TABLE_KEYS));
    assert_eq!(properties(&schema, Some("ColumnSpec")), sorted(COLUMN_KEYS));
    assert_eq!(properties(&schema, Some("Index")), sorted(INDEX_KEYS));
    assert_eq!(properties(&schema, Some("Role")), sorted(ROLE_KEYS));
    assert_eq!(
        properties(&schema, Some("RetentionSpec")),
        sorted(RETENTION_KEYS)
    );
    assert_eq!(
        properties(&schema, Some("PartitioningSpec")),
        sorted(PARTITIONING_KEYS)
    );
    assert_eq!(
        properties(&schema, Some("ForeignKey")),
        sorted(FOREIGN_KEY_KEYS)
    );
    assert_eq!(properties(&schema, Some("SchemaSpec")), sorted(SCHEMA_KEYS));
    assert_eq!(
        properties(&schema, Some("ExtensionSpec")),
        sorted(EXTENSION_KEYS)
    );
    assert_eq!(
        properties(&schema, Some("IdentityOptions")),
        sorted(IDENTITY_KEYS)
    );
    // Unknown keys are refused at every level, as the loader does.
    for definition in [
        None,
        Some("Table"),
        Some("ColumnSpec"),
        Some("Index"),
        Some("ForeignKey"),
        Some("SchemaSpec"),
        Some("IdentityOptions"),
    ] {
        let object = match definition {
            None => &schema,
            Some(name) => &schema["definitions"][name],
        };
        assert_eq!(
            object["additionalProperties"],
            Value::Bool(false),
            "{definition:?}"
        );
    }
}

/// The allowed values of an enum definition, from `enum` or from `oneOf` consts.
fn enum_values(schema: &Value, definition: &str) -> Vec<String> {
    let def = &schema["definitions"][definition];
    let values: Vec<&Value> = match (def.get("enum"), def.get("oneOf")) {
        (Some(Value::Array(values)), _) => values.iter().collect(),
        (_, Some(Value::Array(options))) => options
            .iter()
            .map(|o| o.get("const").or_else(|| o["enum"].get(0)).expect("const"))
            .collect(),
        _ => panic!("{definition} is not an enum: {def}"),
    };
    values
        .into_iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

#[test]
fn actions_and_methods_are_the_catalogs() {
    let schema = schema();
    let actions: Vec<String> = model::FkAction::ALL
        .iter()
        .map(|a| a.as_sql().to_string())
        .collect();
    assert_eq!(enum_values(&schema, "FkAction"), actions);
    let methods: Vec<String> = model::IndexMethod::ALL
        .iter()
        .map(|m| m.as_sql().to_string())
        .collect();
    assert_eq!(enum_values(&schema, "Method"), methods);
}

#[test]
fn the_schema_is_valid_draft_07_and_the_committed_file_is_current() {
    let schema = schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    jsonschema::draft7::meta::validate(&schema).unwrap_or_else(|e| panic!("{e}"));
    let rendered = codegen::json_schema::render();
    assert_eq!(
        serde_json::from_str::<Value>(&rendered).expect("rendered JSON parses"),
        schema
    );
    assert_eq!(rendered, codegen::json_schema::render(), "deterministic");
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::new(&schema()).unwrap_or_else(|e| panic!("{e}"))
}

fn yaml_to_json(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn errors(validator: &jsonschema::Validator, text: &str) -> Vec<String> {
    let instance = yaml_to_json(text);
    validator
        .iter_errors(&instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_repository_schema_validates() {
    let text = repo_schema_text();
    assert!(
        text.starts_with("# yaml-language-server: $schema=generated/schema.schema.json\n"),
        "schema.yaml's first line points editors at the JSON Schema"
    );
    assert_eq!(errors(&validator(), &text), Vec::<String>::new());
}

/// Every file under `dir` (recursively) with one of `extensions`, skipping build output and VCS
/// metadata, sorted.
fn files_under(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if !name.starts_with('.') && !name.starts_with("target") && name != "node_modules" {
                files_under(&path, extensions, out);
            }
        } else if extensions
            .iter()
            .any(|e| path.extension().is_some_and(|x| x == *e))
        {
            out.push(path);
        }
    }
}

/// The ordinary string literals of a Rust source file, unescaped. Raw strings, char literals and
/// comments are skipped.
fn string_literals(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            'r' if chars.get(i + 1) == Some(&'#') || chars.get(i + 1) == Some(&'"') => {
                // A raw string: r"..." or r#"..."#.
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') || (i > 0 && chars[i - 1].is_alphanumeric()) {
                    i += 1;
                    continue;
                }
                j += 1;
                let end: String = std::iter::once('"')
                    .chain((0..hashes).map(|_| '#'))
                    .collect();
                while j < chars.len() && !chars[j..].iter().collect::<String>().starts_with(&end) {
                    j += 1;
                }
                i = j + end.len();
            }
            '\'' => {
                // A char literal ('x', '\n', '"') or a lifetime ('a).
                if chars.get(i + 1) == Some(&'\\') {
                    let mut j = i + 2;
                    while j < chars.len() && chars[j] != '\'' {
                        j += 1;
                    }
                    i = j + 1;
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            '"' => {
                let mut text = String::new();
                let mut j = i + 1;
                while j < chars.len() && chars[j] != '"' {
                    if chars[j] == '\\' {
                        j += 1;
                        match chars.get(j) {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some('r') => text.push('\r'),
                            Some('0') => text.push('\0'),
                            Some('\n') => {
                                while chars.get(j + 1).is_some_and(|c| c.is_whitespace()) {
                                    j += 1;
                                }
                            }
                            Some(c) => text.push(*c),
                            None => {}
                        }
                    } else {
                        text.push(chars[j]);
                    }
                    j += 1;
                }
                out.push(text);
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Every YAML schema the repository's tests hold: YAML files, and string literals of test
/// sources that read as a schema (they start with `tables:` or `enums:`).
fn fixtures() -> Vec<(String, String)> {
    let root = repo_root();
    let mut fixtures = Vec::new();
    let mut yaml_files = Vec::new();
    files_under(root, &["yaml", "yml"], &mut yaml_files);
    for path in yaml_files {
        let text = std::fs::read_to_string(&path).expect("read fixture");
        fixtures.push((path.display().to_string(), text));
    }
    let mut sources = Vec::new();
    files_under(root, &["rs"], &mut sources);
    for path in sources {
        let text = std::fs::read_to_string(&path).expect("read source");
        for (n, literal) in string_literals(&text).into_iter().enumerate() {
            let start = literal.trim_start();
            if start.starts_with("tables:") || start.starts_with("enums:") {
                fixtures.push((format!("{} (literal {n})", path.display()), literal));
            }
        }
    }
    fixtures
}

#[test]
fn every_fixture_the_loader_accepts_validates() {
    let validator = validator();
    let fixtures = fixtures();
    let mut accepted = 0;
    for (name, text) in &fixtures {
        if model::load_schema(name, text).is_err() {
            // Broken on purpose; the cases the schema can see are checked below.
            continue;
        }
        accepted += 1;
        let errors = errors(&validator, text);
        assert!(errors.is_empty(), "{name}:\n{}\n{text}", errors.join("\n"));
    }
    assert!(
        fixtures.len() >= 20 && accepted >= 5,
        "expected the tests' fixtures, found {} ({accepted} valid)",
        fixtures.len()
    );
}

#[test]
fn shape_errors_are_caught_by_the_schema_too() {
    let validator = validator();
    let base = "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true }\n";
    assert_eq!(errors(&validator, base), Vec::<String>::new());
    for broken in [
        "tabels: {}\n",
        "tables:\n  users:\n    colums: {}\n    columns:\n      id: uuid\n",
        "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true, nulable: true }\n",
        "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true, nullable: yes }\n",
        "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true }\n      name: [text]\n",
        "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true }\n    indexes: { columns: [id] }\n",
        "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true }\n    indexes:\n      - columns: [id]\n        using: hash2\n",
        "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true }\n      boss: { type: uuid, references: users, on_delete: nuke }\n",
        "tables:\n  a.b.c:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
        "tables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true }\n    foreign_keys:\n      - columns: [id]\n",
        "enums:\n  status: []\ntables:\n  users:\n    columns:\n      id: { type: uuid, primary_key: true }\n",
        "tables: {}\n",
    ] {
        assert!(
            model::load_schema("broken.yaml", broken).is_err(),
            "the loader accepts:\n{broken}"
        );
        assert!(
            !errors(&validator, broken).is_empty(),
            "the JSON Schema accepts:\n{broken}"
        );
    }
}

#[test]
fn the_fixture_scanner_reads_rust_strings() {
    let literals = string_literals(
        "let a = \"tables:\\n  x: \\\"y\\\"\"; // \"not this\"\nlet c = '\"'; let r = r#\"raw \"q\"\"#; let d = \"a\\\n    b\";",
    );
    assert_eq!(literals, ["tables:\n  x: \"y\"", "ab"]);
}
