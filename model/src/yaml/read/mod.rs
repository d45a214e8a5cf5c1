//! First pass over `schema.yaml`: YAML nodes into declarations that remember where they were written.
//!
//! Only the shape is checked here (known keys, the right kind of value, the quoting of names that
//! stand alone); meaning is checked when the declarations are lowered into the catalog. Problems are collected, never fatal, so one run
//! reports them all.

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{Node, Span};

use crate::diagnostics::{Diagnostic, Pos, suggest};
use crate::ident::parse_name;

mod objects;
mod table;

/// A value with the position it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub pos: Pos,
}

#[derive(Debug, Default)]
pub struct SchemaDecl {
    /// `schemas:`, in written order.
    pub schemas: Vec<NamespaceDecl>,
    /// `extensions:`, in written order.
    pub extensions: Vec<ExtensionDecl>,
    pub enums: Vec<EnumDecl>,
    pub roles: Vec<RoleDecl>,
    pub tables: Vec<TableDecl>,
}

/// A schema other than `public` (`schemas: [storage]` or `schemas: { storage: { comment } }`).
#[derive(Debug)]
pub struct NamespaceDecl {
    pub name: Sp<String>,
    pub comment: Option<Sp<String>>,
}

/// An extension the schema needs (`extensions: [pg_trgm]` or
/// `extensions: { postgis: { schema: gis, version: "3.3.2" } }`).
#[derive(Debug)]
pub struct ExtensionDecl {
    pub name: Sp<String>,
    pub schema: Option<Sp<String>>,
    pub version: Option<Sp<String>>,
}

/// A database role the schema grants privileges to.
#[derive(Debug)]
pub struct RoleDecl {
    pub name: Sp<String>,
    /// Generated functions the role may call.
    pub execute: Vec<Sp<String>>,
}

/// `retention: { keep: 7 years, column: timestamp }`.
#[derive(Debug)]
pub struct RetentionDecl {
    pub pos: Pos,
    pub keep: Option<Sp<String>>,
    pub column: Option<Sp<String>>,
}

/// `partitioning: { column: timestamp, interval: 1 month, ahead: 3 }`.
#[derive(Debug)]
pub struct PartitioningDecl {
    pub pos: Pos,
    pub column: Option<Sp<String>>,
    pub interval: Option<Sp<String>>,
    pub ahead: Option<Sp<i64>>,
}

#[derive(Debug)]
pub struct EnumDecl {
    pub name: Sp<String>,
    pub values: Vec<Sp<String>>,
}

#[derive(Debug)]
pub struct TableDecl {
    pub name: Sp<String>,
    pub comment: Option<Sp<String>>,
    pub columns: Vec<ColumnDecl>,
    pub primary_key: Option<Sp<Vec<Sp<String>>>>,
    pub unique: Vec<Sp<Vec<Sp<String>>>>,
    pub checks: Vec<(Sp<String>, Sp<String>)>,
    pub foreign_keys: Vec<ForeignKeyDecl>,
    pub indexes: Vec<IndexDecl>,
    pub soft_delete: Option<Sp<bool>>,
    pub timestamps: Option<Sp<bool>>,
    pub renamed_from: Option<Sp<String>>,
    /// `grants: { role: [select, ...] }`, in written order.
    pub grants: Vec<(Sp<String>, Vec<Sp<String>>)>,
    pub append_only: Option<Sp<bool>>,
    pub retention: Option<RetentionDecl>,
    pub data_subject: Option<Sp<String>>,
    pub erasure: Option<Sp<String>>,
    pub consent: Option<Sp<String>>,
    pub requires_consent: Option<Sp<String>>,
    pub partitioning: Option<PartitioningDecl>,
}

#[derive(Debug)]
pub struct ColumnDecl {
    pub name: Sp<String>,
    pub data_type: Option<Sp<String>>,
    pub nullable: Option<Sp<bool>>,
    pub default: Option<Sp<String>>,
    pub primary_key: Option<Sp<bool>>,
    pub unique: Option<Sp<bool>>,
    pub references: Option<Sp<String>>,
    pub on_delete: Option<Sp<String>>,
    pub on_update: Option<Sp<String>>,
    pub index: Option<Sp<bool>>,
    pub pii: Option<Sp<bool>>,
    pub phi: Option<Sp<bool>>,
    pub comment: Option<Sp<String>>,
    pub renamed_from: Option<Sp<String>>,
    pub encrypted: Option<Sp<bool>>,
    pub identity: Option<IdentityDecl>,
    /// `generated: "price * quantity"`: a stored generated column.
    pub generated: Option<Sp<String>>,
}

/// `identity: always`, `identity: by default`, or a mapping with `generated` and sequence
/// options.
#[derive(Debug)]
pub struct IdentityDecl {
    pub pos: Pos,
    /// `always` or `by default`, as written.
    pub generated: Option<Sp<String>>,
    pub start: Option<Sp<i64>>,
    pub increment: Option<Sp<i64>>,
    pub min: Option<Sp<i64>>,
    pub max: Option<Sp<i64>>,
    pub cache: Option<Sp<i64>>,
    pub cycle: Option<Sp<bool>>,
}

#[derive(Debug)]
pub struct ForeignKeyDecl {
    pub pos: Pos,
    pub columns: Vec<Sp<String>>,
    pub references: Option<Sp<String>>,
    pub ref_columns: Vec<Sp<String>>,
    pub on_delete: Option<Sp<String>>,
    pub on_update: Option<Sp<String>>,
    pub name: Option<Sp<String>>,
}

#[derive(Debug)]
pub struct IndexDecl {
    pub pos: Pos,
    pub columns: Vec<Sp<String>>,
    pub include: Vec<Sp<String>>,
    pub using: Option<Sp<String>>,
    pub unique: Option<Sp<bool>>,
    pub predicate: Option<Sp<String>>,
    pub name: Option<Sp<String>>,
}

pub const TOP_KEYS: &[&str] = &["schemas", "extensions", "enums", "roles", "tables"];
pub const SCHEMA_KEYS: &[&str] = &["comment"];
pub const EXTENSION_KEYS: &[&str] = &["schema", "version"];
pub const IDENTITY_KEYS: &[&str] = &[
    "generated",
    "start",
    "increment",
    "min",
    "max",
    "cache",
    "cycle",
];
pub const ROLE_KEYS: &[&str] = &["execute"];
pub const RETENTION_KEYS: &[&str] = &["keep", "column"];
pub const PARTITIONING_KEYS: &[&str] = &["column", "interval", "ahead"];
pub const TABLE_KEYS: &[&str] = &[
    "comment",
    "columns",
    "primary_key",
    "unique",
    "checks",
    "foreign_keys",
    "indexes",
    "soft_delete",
    "timestamps",
    "renamed_from",
    "grants",
    "append_only",
    "retention",
    "data_subject",
    "erasure",
    "consent",
    "requires_consent",
    "partitioning",
];
pub const COLUMN_KEYS: &[&str] = &[
    "type",
    "nullable",
    "default",
    "primary_key",
    "unique",
    "references",
    "on_delete",
    "on_update",
    "index",
    "pii",
    "phi",
    "comment",
    "renamed_from",
    "encrypted",
    "identity",
    "generated",
];
pub const INDEX_KEYS: &[&str] = &["columns", "include", "using", "unique", "where", "name"];
pub const FOREIGN_KEY_KEYS: &[&str] = &[
    "columns",
    "references",
    "ref_columns",
    "on_delete",
    "on_update",
    "name",
];

pub fn pos_of(span: &Span) -> Pos {
    span.start()
        .map(|m| Pos {
            line: m.line(),
            column: m.column(),
        })
        .unwrap_or_default()
}

fn node_pos(node: &Node) -> Pos {
    pos_of(node.span())
}

fn kind(node: &Node) -> &'static str {
    match node {
        Node::Scalar(_) => "a scalar",
        Node::Mapping(_) => "a mapping",
        Node::Sequence(_) => "a list",
    }
}

/// Reads the declarations of a parsed document, pushing every shape problem to `errors`.
pub fn read_schema(root: &MarkedMappingNode, errors: &mut Vec<Diagnostic>) -> SchemaDecl {
    let mut reader = Reader { errors };
    let mut schema = SchemaDecl::default();
    for (key, value) in reader.entries(root, TOP_KEYS, "top-level key") {
        match key {
            "schemas" => schema.schemas = reader.namespaces(value),
            "extensions" => schema.extensions = reader.extensions(value),
            "enums" => {
                if let Some(map) =
                    reader.expect_mapping(value, "`enums` maps enum names to their values")
                {
                    for (name, values) in map.iter() {
                        let values =
                            reader.string_list(values, "an enum's values are a list of labels");
                        schema.enums.push(EnumDecl {
                            name: reader.key(name),
                            values,
                        });
                    }
                }
            }
            "roles" => {
                if let Some(map) =
                    reader.expect_mapping(value, "`roles` maps role names to their settings")
                {
                    for (name, settings) in map.iter() {
                        let name = reader.name_key(name);
                        let role = reader.role(name, settings);
                        schema.roles.push(role);
                    }
                }
            }
            "tables" => {
                if let Some(map) =
                    reader.expect_mapping(value, "`tables` maps table names to tables")
                {
                    for (name, table) in map.iter() {
                        schema.tables.push(reader.table(reader.key(name), table));
                    }
                }
            }
            _ => unreachable!("entries() yields only known keys"),
        }
    }
    schema
}

struct Reader<'e> {
    errors: &'e mut Vec<Diagnostic>,
}

impl Reader<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(pos, message));
    }

    fn key(&self, key: &MarkedScalarNode) -> Sp<String> {
        Sp {
            value: key.as_str().to_string(),
            pos: pos_of(key.span()),
        }
    }

    /// The entries of `map` whose keys are in `known`; unknown keys are reported with a suggestion.
    fn entries<'n>(
        &mut self,
        map: &'n MarkedMappingNode,
        known: &[&str],
        what: &str,
    ) -> Vec<(&'n str, &'n Node)> {
        self.entries_skipping(map, known, what, &[])
    }

    /// [`Reader::entries`], leaving out the keys in `skip` (reported by the caller) altogether.
    fn entries_skipping<'n>(
        &mut self,
        map: &'n MarkedMappingNode,
        known: &[&str],
        what: &str,
        skip: &[&str],
    ) -> Vec<(&'n str, &'n Node)> {
        let mut out = Vec::new();
        for (key, value) in map.iter() {
            let name = key.as_str();
            if skip.contains(&name) {
                continue;
            }
            if known.contains(&name) {
                out.push((name, value));
            } else {
                let mut d = Diagnostic::new(pos_of(key.span()), format!("unknown {what} `{name}`"));
                d = match suggest(name, known.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("expected one of: {}", known.join(", "))),
                };
                self.errors.push(d);
            }
        }
        out
    }

    fn expect_mapping<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n MarkedMappingNode> {
        match node {
            Node::Mapping(map) => Some(map),
            // An empty value (`enums:`) means "none".
            Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => None,
            other => {
                self.error(
                    node_pos(other),
                    format!("expected a mapping, found {}: {what}", kind(other)),
                );
                None
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        match node {
            Node::Scalar(s) => Some(Sp {
                value: s.as_str().to_string(),
                pos: pos_of(s.span()),
            }),
            other => {
                self.error(
                    node_pos(other),
                    format!("expected a scalar, found {}: {what}", kind(other)),
                );
                None
            }
        }
    }

    /// A name where it stands alone (see [`crate::ident::parse_name`]): double quotes are read as
    /// SQL reads a quoted identifier. Malformed quoting is reported and the text kept as written.
    fn unquoted(&mut self, written: Sp<String>) -> Sp<String> {
        match parse_name(&written.value) {
            Ok(value) => Sp {
                value,
                pos: written.pos,
            },
            Err(why) => {
                self.error(written.pos, why);
                written
            }
        }
    }

    /// A mapping key that is a name (a column, a check, a role).
    fn name_key(&mut self, key: &MarkedScalarNode) -> Sp<String> {
        let written = self.key(key);
        self.unquoted(written)
    }

    /// A scalar that is a name.
    fn name(&mut self, node: &Node, what: &str) -> Option<Sp<String>> {
        let written = self.string(node, what)?;
        Some(self.unquoted(written))
    }

    /// A list of names (columns).
    fn name_list(&mut self, node: &Node, what: &str) -> Vec<Sp<String>> {
        let written = self.string_list(node, what);
        written.into_iter().map(|n| self.unquoted(n)).collect()
    }

    fn bool(&mut self, node: &Node, key: &str) -> Option<Sp<bool>> {
        match node {
            Node::Scalar(s) => match s.as_bool() {
                Some(value) => Some(Sp {
                    value,
                    pos: pos_of(s.span()),
                }),
                None => {
                    self.error(
                        pos_of(s.span()),
                        format!("`{key}` must be true or false, found `{}`", s.as_str()),
                    );
                    None
                }
            },
            other => {
                self.error(
                    node_pos(other),
                    format!("`{key}` must be true or false, found {}", kind(other)),
                );
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, what: &str) -> Vec<Sp<String>> {
        match node {
            Node::Sequence(items) => items
                .iter()
                .filter_map(|item| self.string(item, what))
                .collect(),
            other => {
                self.error(
                    node_pos(other),
                    format!("expected a list, found {}: {what}", kind(other)),
                );
                Vec::new()
            }
        }
    }

    fn integer(&mut self, node: &Node, key: &str) -> Option<Sp<i64>> {
        match node {
            Node::Scalar(s) => match s.as_str().trim().parse::<i64>() {
                Ok(value) => Some(Sp {
                    value,
                    pos: pos_of(s.span()),
                }),
                Err(_) => {
                    self.error(
                        pos_of(s.span()),
                        format!("`{key}` must be a whole number, found `{}`", s.as_str()),
                    );
                    None
                }
            },
            other => {
                self.error(
                    node_pos(other),
                    format!("`{key}` must be a whole number, found {}", kind(other)),
                );
                None
            }
        }
    }

    fn sequence<'n>(&mut self, node: &'n Node, what: &str) -> Vec<&'n Node> {
        match node {
            Node::Sequence(items) => items.iter().collect(),
            other => {
                self.error(
                    node_pos(other),
                    format!("expected a list, found {}: {what}", kind(other)),
                );
                Vec::new()
            }
        }
    }
}
