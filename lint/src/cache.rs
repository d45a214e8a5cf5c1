//! The replay cache: the linter's whole state after a prefix of the migration chain, keyed by
//! a hash of that chain, so that re-linting a long history where only the newest file changed
//! parses and replays only that file.
//!
//! Key of the state after file k: SHA-256 over the key after file k-1, the file's path and its
//! bytes (plus the linter version and the configuration that changes findings), like a
//! migration checksum chain: editing, inserting or reordering any earlier file changes every
//! later key. A cache holds the states after the last two files of the run that wrote it, so
//! both "newest file edited" and "one file added" find their prefix. Serialised as JSON;
//! anything unreadable is a miss, never an error.

use std::collections::BTreeMap;

use model::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::engine::{FileRecord, Linter, Pending, ProblemKey};
use crate::source::SourceFile;

const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Chain key after the `files`-th file.
    pub key: String,
    pub files: usize,
    state: Value,
    pending: Vec<(ProblemKey, Pending)>,
    records: Vec<FileRecord>,
    volatile_functions: Vec<String>,
    poisoned: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cache {
    format: u32,
    pub checkpoints: Vec<Checkpoint>,
}

/// The chain key after each file: `keys[k]` covers `files[..=k]`.
pub fn chain_keys(files: &[SourceFile], config: &Config) -> Vec<String> {
    let mut previous = {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(FORMAT.to_le_bytes());
        h.update(config.postgres_version.to_le_bytes());
        h.update([u8::from(config.assume_in_transaction)]);
        hex(&h.finalize())
    };
    files
        .iter()
        .map(|f| {
            let mut h = Sha256::new();
            h.update(previous.as_bytes());
            h.update((f.path.len() as u64).to_le_bytes());
            h.update(f.path.as_bytes());
            h.update((f.text.len() as u64).to_le_bytes());
            h.update(f.text.as_bytes());
            previous = hex(&h.finalize());
            previous.clone()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Cache {
    pub fn parse(bytes: &[u8]) -> Option<Cache> {
        let cache: Cache = serde_json::from_slice(bytes).ok()?;
        (cache.format == FORMAT).then_some(cache)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The linter restored at the longest cached prefix of `keys`, if any.
    pub fn restore(&self, keys: &[String], config: &Config) -> Option<Linter> {
        let best = self
            .checkpoints
            .iter()
            .filter(|c| c.files >= 1 && keys.get(c.files - 1) == Some(&c.key))
            .max_by_key(|c| c.files)?;
        let state = catalog_from_json(&best.state)?;
        Some(Linter {
            config: config.clone(),
            state,
            pending: best.pending.iter().cloned().collect::<BTreeMap<_, _>>(),
            files: best.records.clone(),
            volatile_functions: best.volatile_functions.iter().cloned().collect(),
            poisoned: best.poisoned.iter().cloned().collect(),
        })
    }
}

/// The linter's state after its files, under the chain key of its last file.
pub fn checkpoint(linter: &Linter, key: &str) -> Checkpoint {
    let mut volatile: Vec<String> = linter.volatile_functions.iter().cloned().collect();
    volatile.sort();
    let mut poisoned: Vec<String> = linter.poisoned.iter().cloned().collect();
    poisoned.sort();
    Checkpoint {
        key: key.to_string(),
        files: linter.files.len(),
        state: catalog_to_json(&linter.state),
        pending: linter
            .pending
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        records: linter.files.clone(),
        volatile_functions: volatile,
        poisoned,
    }
}

// ---------------------------------------------------------------------------------------------
// The catalog as JSON (the model crate has no serde: it is converted here, field by field).

fn data_type_to_json(t: &DataType) -> Value {
    match t {
        DataType::Enum(name) => json!({ "enum": name }),
        DataType::Array(element) => json!({ "array": data_type_to_json(element) }),
        other => json!(other.to_string()),
    }
}

fn data_type_from_json(v: &Value) -> Option<DataType> {
    if let Some(name) = v.get("enum") {
        return Some(DataType::Enum(name.as_str()?.to_string()));
    }
    if let Some(element) = v.get("array") {
        return Some(DataType::Array(Box::new(data_type_from_json(element)?)));
    }
    DataType::parse(v.as_str()?, &|_| false).ok()
}

fn action(a: FkAction) -> &'static str {
    a.as_sql()
}

pub fn catalog_to_json(c: &Catalog) -> Value {
    json!({
        "enums": c.enums.iter().map(|e| json!({
            "name": e.name, "values": e.values, "comment": e.comment,
        })).collect::<Vec<_>>(),
        "functions": c.functions.iter().map(|f| json!({
            "name": f.name, "returns": f.returns, "language": f.language, "body": f.body,
        })).collect::<Vec<_>>(),
        "tables": c.tables.iter().map(|t| json!({
            "name": t.name,
            "comment": t.comment,
            "soft_delete": t.flags.soft_delete,
            "columns": t.columns.iter().map(|col| json!({
                "name": col.name,
                "type": data_type_to_json(&col.data_type),
                "nullable": col.nullable,
                "default": col.default,
                "comment": col.comment,
                "pii": col.sensitivity.pii,
                "phi": col.sensitivity.phi,
            })).collect::<Vec<_>>(),
            "primary_key": t.primary_key.as_ref().map(|pk| json!({"name": pk.name, "columns": pk.columns})),
            "uniques": t.uniques.iter().map(|u| json!({"name": u.name, "columns": u.columns})).collect::<Vec<_>>(),
            "checks": t.checks.iter().map(|k| json!({"name": k.name, "expression": k.expression})).collect::<Vec<_>>(),
            "foreign_keys": t.foreign_keys.iter().map(|fk| json!({
                "name": fk.name, "columns": fk.columns, "ref_table": fk.ref_table,
                "ref_columns": fk.ref_columns, "on_delete": action(fk.on_delete), "on_update": action(fk.on_update),
            })).collect::<Vec<_>>(),
            "indexes": t.indexes.iter().map(|ix| json!({
                "name": ix.name, "method": ix.method.as_sql(), "unique": ix.unique,
                "keys": ix.keys.iter().map(|k| json!({"column": k.column, "opclass": k.opclass, "descending": k.descending})).collect::<Vec<_>>(),
                "include": ix.include, "predicate": ix.predicate,
            })).collect::<Vec<_>>(),
            "triggers": t.triggers.iter().map(|tr| json!({
                "name": tr.name,
                "before": tr.timing == TriggerTiming::Before,
                "events": tr.events.iter().map(|e| match e {
                    TriggerEvent::Insert => "insert", TriggerEvent::Update => "update", TriggerEvent::Delete => "delete",
                }).collect::<Vec<_>>(),
                "function": tr.function,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn s(v: &Value, k: &str) -> Option<String> {
    Some(v.get(k)?.as_str()?.to_string())
}

fn opt_s(v: &Value, k: &str) -> Option<Option<String>> {
    match v.get(k)? {
        Value::Null => Some(None),
        Value::String(x) => Some(Some(x.clone())),
        _ => None,
    }
}

fn b(v: &Value, k: &str) -> Option<bool> {
    v.get(k)?.as_bool()
}

fn strings(v: &Value, k: &str) -> Option<Vec<String>> {
    v.get(k)?
        .as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
}

fn each<T>(v: &Value, k: &str, f: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    v.get(k)?.as_array()?.iter().map(f).collect()
}

pub fn catalog_from_json(v: &Value) -> Option<Catalog> {
    Some(Catalog {
        enums: each(v, "enums", |e| {
            Some(EnumType {
                name: s(e, "name")?,
                values: strings(e, "values")?,
                comment: opt_s(e, "comment")?,
            })
        })?,
        functions: each(v, "functions", |f| {
            Some(Function {
                name: s(f, "name")?,
                returns: s(f, "returns")?,
                language: s(f, "language")?,
                body: s(f, "body")?,
            })
        })?,
        tables: each(v, "tables", |t| {
            Some(Table {
                name: s(t, "name")?,
                comment: opt_s(t, "comment")?,
                flags: TableFlags {
                    soft_delete: b(t, "soft_delete")?,
                },
                columns: each(t, "columns", |c| {
                    Some(Column {
                        name: s(c, "name")?,
                        data_type: data_type_from_json(c.get("type")?)?,
                        nullable: b(c, "nullable")?,
                        default: opt_s(c, "default")?,
                        comment: opt_s(c, "comment")?,
                        sensitivity: Sensitivity {
                            pii: b(c, "pii")?,
                            phi: b(c, "phi")?,
                        },
                    })
                })?,
                primary_key: match t.get("primary_key")? {
                    Value::Null => None,
                    pk => Some(PrimaryKey {
                        name: s(pk, "name")?,
                        columns: strings(pk, "columns")?,
                    }),
                },
                uniques: each(t, "uniques", |u| {
                    Some(UniqueConstraint {
                        name: s(u, "name")?,
                        columns: strings(u, "columns")?,
                    })
                })?,
                checks: each(t, "checks", |k| {
                    Some(CheckConstraint {
                        name: s(k, "name")?,
                        expression: s(k, "expression")?,
                    })
                })?,
                foreign_keys: each(t, "foreign_keys", |fk| {
                    Some(ForeignKey {
                        name: s(fk, "name")?,
                        columns: strings(fk, "columns")?,
                        ref_table: s(fk, "ref_table")?,
                        ref_columns: strings(fk, "ref_columns")?,
                        on_delete: FkAction::parse(&s(fk, "on_delete")?)?,
                        on_update: FkAction::parse(&s(fk, "on_update")?)?,
                    })
                })?,
                indexes: each(t, "indexes", |ix| {
                    Some(Index {
                        name: s(ix, "name")?,
                        method: IndexMethod::parse(&s(ix, "method")?)?,
                        unique: b(ix, "unique")?,
                        keys: each(ix, "keys", |k| {
                            Some(IndexKey {
                                column: s(k, "column")?,
                                opclass: opt_s(k, "opclass")?,
                                descending: b(k, "descending")?,
                            })
                        })?,
                        include: strings(ix, "include")?,
                        predicate: opt_s(ix, "predicate")?,
                    })
                })?,
                triggers: each(t, "triggers", |tr| {
                    Some(Trigger {
                        name: s(tr, "name")?,
                        timing: if b(tr, "before")? {
                            TriggerTiming::Before
                        } else {
                            TriggerTiming::After
                        },
                        events: strings(tr, "events")?
                            .iter()
                            .map(|e| match e.as_str() {
                                "insert" => Some(TriggerEvent::Insert),
                                "update" => Some(TriggerEvent::Update),
                                "delete" => Some(TriggerEvent::Delete),
                                _ => None,
                            })
                            .collect::<Option<Vec<_>>>()?,
                        function: s(tr, "function")?,
                    })
                })?,
            })
        })?,
    })
}

/// Lints `files`, starting from the longest prefix `cache` holds; returns the report and the
/// cache to store for the next run.
pub fn lint_cached(
    files: Vec<SourceFile>,
    config: &Config,
    threads: usize,
    cache: Option<&Cache>,
) -> (crate::Report, Cache, usize) {
    let keys = chain_keys(&files, config);
    let mut linter = cache
        .and_then(|c| c.restore(&keys, config))
        .unwrap_or_else(|| Linter::new(config.clone()));
    let reused = linter.files.len();
    let mut checkpoints = Vec::new();
    if files.len() >= 2 {
        // The state before the last file, then after it.
        let before_last = files.len() - 1;
        if reused < before_last {
            linter.lint_all(&files[..before_last], threads);
        }
        if linter.files.len() == before_last && before_last > 0 {
            checkpoints.push(checkpoint(&linter, &keys[before_last - 1]));
        }
    }
    linter.lint_all(&files, threads);
    if let Some(last) = keys.last() {
        checkpoints.push(checkpoint(&linter, last));
    }
    let report = linter.finish(files);
    (
        report,
        Cache {
            format: FORMAT,
            checkpoints,
        },
        reused,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_survives_json() {
        let (catalog, _) =
            model::load_schema_with_renames("schema.yaml", include_str!("../../schema.yaml"))
                .expect("the project schema loads");
        let back = catalog_from_json(&catalog_to_json(&catalog)).expect("reads back");
        assert_eq!(back, catalog);
    }
}
