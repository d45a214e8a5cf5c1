//! First pass over `schema.yaml`: YAML nodes into declarations that remember where they were written.
//!
//! Only the shape is checked here (known keys, the right kind of value, the quoting of names that
//! stand alone); meaning is checked when the declarations are lowered into the catalog. Problems are collected, never fatal, so one run
//! reports them all.

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{Node, Span};

use crate::diagnostics::{Diagnostic, Pos, suggest};
use crate::ident::parse_name;

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

    fn table(&mut self, name: Sp<String>, node: &Node) -> TableDecl {
        let mut table = TableDecl {
            name,
            comment: None,
            columns: Vec::new(),
            primary_key: None,
            unique: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            soft_delete: None,
            timestamps: None,
            renamed_from: None,
            grants: Vec::new(),
            append_only: None,
            retention: None,
            data_subject: None,
            erasure: None,
            consent: None,
            requires_consent: None,
            partitioning: None,
        };
        let Some(map) = self.expect_mapping(node, "a table is a mapping with at least `columns`")
        else {
            return table;
        };
        // The schema is part of the table's key; a `schema:` key would be a second way to say it.
        if let Some((key, _)) = map.iter().find(|(k, _)| k.as_str() == "schema") {
            self.errors.push(
                Diagnostic::new(
                    pos_of(key.span()),
                    "a table's schema is written in its name, not with a `schema:` key",
                )
                .with_help(format!(
                    "write the table as `<schema>.{}:` under `tables`, and declare the schema under the top-level `schemas`",
                    table.name.value.rsplit('.').next().unwrap_or_default()
                )),
            );
        }
        for (key, value) in self.entries_skipping(map, TABLE_KEYS, "table key", &["schema"]) {
            match key {
                "comment" => table.comment = self.string(value, "a comment is text"),
                "columns" => {
                    if let Some(columns) =
                        self.expect_mapping(value, "`columns` maps column names to columns")
                    {
                        for (name, column) in columns.iter() {
                            let name = self.name_key(name);
                            table.columns.push(self.column(name, column));
                        }
                    }
                }
                "primary_key" => {
                    let columns =
                        self.name_list(value, "a composite primary key is a list of columns");
                    table.primary_key = Some(Sp {
                        value: columns,
                        pos: node_pos(value),
                    });
                }
                "unique" => match value {
                    Node::Sequence(groups) => {
                        for group in groups.iter() {
                            let columns = self
                                .name_list(group, "each unique constraint is a list of columns");
                            table.unique.push(Sp {
                                value: columns,
                                pos: node_pos(group),
                            });
                        }
                    }
                    other => self.error(
                        node_pos(other),
                        format!(
                            "expected a list of column lists, found {}: `unique: [[a, b]]`",
                            kind(other)
                        ),
                    ),
                },
                "checks" => {
                    if let Some(checks) = self.expect_mapping(
                        value,
                        "`checks` maps constraint names to boolean expressions",
                    ) {
                        for (name, expression) in checks.iter() {
                            let name = self.name_key(name);
                            if let Some(expression) =
                                self.string(expression, "a check is a SQL expression")
                            {
                                table.checks.push((name, expression));
                            }
                        }
                    }
                }
                "foreign_keys" => {
                    for item in self.sequence(value, "`foreign_keys` is a list of foreign keys") {
                        if let Some(fk) = self.foreign_key(item) {
                            table.foreign_keys.push(fk);
                        }
                    }
                }
                "indexes" => {
                    for item in self.sequence(value, "`indexes` is a list of indexes") {
                        if let Some(index) = self.index(item) {
                            table.indexes.push(index);
                        }
                    }
                }
                "soft_delete" => table.soft_delete = self.bool(value, key),
                "timestamps" => table.timestamps = self.bool(value, key),
                "renamed_from" => {
                    table.renamed_from =
                        self.name(value, "`renamed_from` names the table's previous name")
                }
                "grants" => {
                    if let Some(grants) = self
                        .expect_mapping(value, "`grants` maps role names to lists of privileges")
                    {
                        for (role, privileges) in grants.iter() {
                            let role = self.name_key(role);
                            let privileges = self.string_list(
                                privileges,
                                "privileges are a list such as [select, insert]",
                            );
                            table.grants.push((role, privileges));
                        }
                    }
                }
                "append_only" => table.append_only = self.bool(value, key),
                "retention" => table.retention = self.retention(value),
                "partitioning" => table.partitioning = self.partitioning(value),
                "data_subject" => {
                    table.data_subject = self.name(
                        value,
                        "`data_subject` names the column identifying a person",
                    )
                }
                "erasure" => {
                    table.erasure = self.string(value, "`erasure` is `delete` or `anonymize`")
                }
                "consent" => {
                    table.consent = self.name(value, "`consent` names the column recording consent")
                }
                "requires_consent" => {
                    table.requires_consent = self.name(
                        value,
                        "`requires_consent` names a foreign-key column to a table with `consent`",
                    )
                }
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        table
    }

    /// `extensions:` as a list of names or a mapping of names to `{ schema, version }` (or
    /// nothing).
    fn extensions(&mut self, node: &Node) -> Vec<ExtensionDecl> {
        match node {
            Node::Sequence(items) => items
                .iter()
                .filter_map(|item| self.string(item, "an extension is named by its name"))
                .map(|name| ExtensionDecl {
                    name,
                    schema: None,
                    version: None,
                })
                .collect(),
            Node::Mapping(map) => {
                let mut out = Vec::new();
                for (name, settings) in map.iter() {
                    let mut extension = ExtensionDecl {
                        name: self.key(name),
                        schema: None,
                        version: None,
                    };
                    match settings {
                        Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => {}
                        _ => {
                            if let Some(map) = self.expect_mapping(
                                settings,
                                "an extension's settings are a mapping (`{ schema: ..., version: ... }`)",
                            ) {
                                for (key, value) in
                                    self.entries(map, EXTENSION_KEYS, "extension key")
                                {
                                    match key {
                                        "schema" => {
                                            extension.schema =
                                                self.string(value, "a schema is named by its name")
                                        }
                                        "version" => {
                                            extension.version =
                                                self.string(value, "a version is text, e.g. \"1.6\"")
                                        }
                                        _ => unreachable!("entries() yields only known keys"),
                                    }
                                }
                            }
                        }
                    }
                    out.push(extension);
                }
                out
            }
            Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => Vec::new(),
            other => {
                self.error(
                    node_pos(other),
                    format!(
                        "expected a list or a mapping, found {}: `extensions` names the extensions the schema needs",
                        kind(other)
                    ),
                );
                Vec::new()
            }
        }
    }

    /// `schemas:` as a list of names or a mapping of names to `{ comment }` (or nothing).
    fn namespaces(&mut self, node: &Node) -> Vec<NamespaceDecl> {
        match node {
            Node::Sequence(items) => items
                .iter()
                .filter_map(|item| self.name(item, "a schema is named by an identifier"))
                .map(|name| NamespaceDecl {
                    name,
                    comment: None,
                })
                .collect(),
            Node::Mapping(map) => {
                let mut out = Vec::new();
                for (name, settings) in map.iter() {
                    let mut schema = NamespaceDecl {
                        name: self.name_key(name),
                        comment: None,
                    };
                    match settings {
                        // `storage:` alone: no settings.
                        Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => {}
                        _ => {
                            if let Some(map) = self.expect_mapping(
                                settings,
                                "a schema's settings are a mapping (`{ comment: ... }`)",
                            ) {
                                for (key, value) in self.entries(map, SCHEMA_KEYS, "schema key") {
                                    match key {
                                        "comment" => {
                                            schema.comment = self.string(value, "a comment is text")
                                        }
                                        _ => unreachable!("entries() yields only known keys"),
                                    }
                                }
                            }
                        }
                    }
                    out.push(schema);
                }
                out
            }
            // `schemas:` alone: none.
            Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => Vec::new(),
            other => {
                self.error(
                    node_pos(other),
                    format!(
                        "expected a list or a mapping, found {}: `schemas` names the schemas besides public",
                        kind(other)
                    ),
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

    /// `identity: always`, `identity: by default`, or `identity: { generated: ..., start: ... }`.
    fn identity(&mut self, node: &Node) -> Option<IdentityDecl> {
        let mut identity = IdentityDecl {
            pos: node_pos(node),
            generated: None,
            start: None,
            increment: None,
            min: None,
            max: None,
            cache: None,
            cycle: None,
        };
        match node {
            Node::Scalar(s) => {
                identity.generated = Some(Sp {
                    value: s.as_str().to_string(),
                    pos: pos_of(s.span()),
                });
            }
            Node::Mapping(map) => {
                for (key, value) in self.entries(map, IDENTITY_KEYS, "identity key") {
                    match key {
                        "generated" => {
                            identity.generated =
                                self.string(value, "`generated` is `always` or `by default`")
                        }
                        "start" => identity.start = self.integer(value, key),
                        "increment" => identity.increment = self.integer(value, key),
                        "min" => identity.min = self.integer(value, key),
                        "max" => identity.max = self.integer(value, key),
                        "cache" => identity.cache = self.integer(value, key),
                        "cycle" => identity.cycle = self.bool(value, key),
                        _ => unreachable!("entries() yields only known keys"),
                    }
                }
            }
            Node::Sequence(_) => {
                self.error(
                    node_pos(node),
                    "expected `always`, `by default` or a mapping, found a list: `identity` makes the column an identity column",
                );
                return None;
            }
        }
        Some(identity)
    }

    fn role(&mut self, name: Sp<String>, node: &Node) -> RoleDecl {
        let mut role = RoleDecl {
            name,
            execute: Vec::new(),
        };
        if let Some(map) = self.expect_mapping(node, "a role is a mapping (`execute: [...]`)") {
            for (key, value) in self.entries(map, ROLE_KEYS, "role key") {
                match key {
                    "execute" => {
                        role.execute =
                            self.string_list(value, "`execute` lists generated functions")
                    }
                    _ => unreachable!("entries() yields only known keys"),
                }
            }
        }
        role
    }

    fn retention(&mut self, node: &Node) -> Option<RetentionDecl> {
        let map = self.expect_mapping(
            node,
            "`retention` is a mapping: `{ keep: 7 years, column: timestamp }`",
        )?;
        let mut retention = RetentionDecl {
            pos: node_pos(node),
            keep: None,
            column: None,
        };
        for (key, value) in self.entries(map, RETENTION_KEYS, "retention key") {
            let what = format!("`{key}` takes a single value");
            match key {
                "keep" => retention.keep = self.string(value, &what),
                "column" => retention.column = self.name(value, &what),
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        Some(retention)
    }

    fn partitioning(&mut self, node: &Node) -> Option<PartitioningDecl> {
        let map = self.expect_mapping(
            node,
            "`partitioning` is a mapping: `{ column: timestamp, interval: 1 month, ahead: 3 }`",
        )?;
        let mut partitioning = PartitioningDecl {
            pos: node_pos(node),
            column: None,
            interval: None,
            ahead: None,
        };
        for (key, value) in self.entries(map, PARTITIONING_KEYS, "partitioning key") {
            let what = format!("`{key}` takes a single value");
            match key {
                "column" => partitioning.column = self.name(value, &what),
                "interval" => partitioning.interval = self.string(value, &what),
                "ahead" => partitioning.ahead = self.integer(value, "ahead"),
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        Some(partitioning)
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

    fn column(&mut self, name: Sp<String>, node: &Node) -> ColumnDecl {
        let mut column = ColumnDecl {
            name,
            data_type: None,
            nullable: None,
            default: None,
            primary_key: None,
            unique: None,
            references: None,
            on_delete: None,
            on_update: None,
            index: None,
            pii: None,
            phi: None,
            comment: None,
            renamed_from: None,
            encrypted: None,
            identity: None,
            generated: None,
        };
        match node {
            // Shorthand: `name: text` declares the type alone.
            Node::Scalar(s) => {
                column.data_type = Some(Sp {
                    value: s.as_str().to_string(),
                    pos: pos_of(s.span()),
                })
            }
            Node::Mapping(map) => {
                for (key, value) in self.entries(map, COLUMN_KEYS, "column key") {
                    let text =
                        |r: &mut Self| r.string(value, &format!("`{key}` takes a single value"));
                    match key {
                        "type" => column.data_type = text(self),
                        "nullable" => column.nullable = self.bool(value, key),
                        "default" => column.default = text(self),
                        "primary_key" => column.primary_key = self.bool(value, key),
                        "unique" => column.unique = self.bool(value, key),
                        "references" => column.references = text(self),
                        "on_delete" => column.on_delete = text(self),
                        "on_update" => column.on_update = text(self),
                        "index" => column.index = self.bool(value, key),
                        "pii" => column.pii = self.bool(value, key),
                        "phi" => column.phi = self.bool(value, key),
                        "comment" => column.comment = text(self),
                        "renamed_from" => {
                            column.renamed_from =
                                self.name(value, "`renamed_from` names the column's previous name")
                        }
                        "encrypted" => column.encrypted = self.bool(value, key),
                        "identity" => column.identity = self.identity(value),
                        "generated" => {
                            column.generated =
                                self.string(value, "`generated` is the SQL expression computing it")
                        }
                        _ => unreachable!("entries() yields only known keys"),
                    }
                }
            }
            Node::Sequence(_) => self.error(
                node_pos(node),
                "expected a column (a type name, or a mapping with `type`), found a list",
            ),
        }
        column
    }

    fn index(&mut self, node: &Node) -> Option<IndexDecl> {
        let map = self.expect_mapping(node, "an index is a mapping with `columns`")?;
        let mut index = IndexDecl {
            pos: node_pos(node),
            columns: Vec::new(),
            include: Vec::new(),
            using: None,
            unique: None,
            predicate: None,
            name: None,
        };
        for (key, value) in self.entries(map, INDEX_KEYS, "index key") {
            match key {
                "columns" => index.columns = self.string_list(value, "index columns are a list"),
                "include" => {
                    index.include = self.name_list(value, "`include` is a list of columns")
                }
                "using" => index.using = self.string(value, "`using` names an index method"),
                "unique" => index.unique = self.bool(value, key),
                "where" => index.predicate = self.string(value, "`where` is a SQL predicate"),
                "name" => index.name = self.name(value, "`name` is an identifier"),
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        Some(index)
    }

    fn foreign_key(&mut self, node: &Node) -> Option<ForeignKeyDecl> {
        let map = self.expect_mapping(
            node,
            "a foreign key is a mapping with `columns` and `references`",
        )?;
        let mut fk = ForeignKeyDecl {
            pos: node_pos(node),
            columns: Vec::new(),
            references: None,
            ref_columns: Vec::new(),
            on_delete: None,
            on_update: None,
            name: None,
        };
        for (key, value) in self.entries(map, FOREIGN_KEY_KEYS, "foreign key key") {
            let what = format!("`{key}` takes a single value");
            match key {
                "columns" => fk.columns = self.name_list(value, "foreign key columns are a list"),
                "references" => fk.references = self.string(value, &what),
                "ref_columns" => fk.ref_columns = self.name_list(value, "`ref_columns` is a list"),
                "on_delete" => fk.on_delete = self.string(value, &what),
                "on_update" => fk.on_update = self.string(value, &what),
                "name" => fk.name = self.name(value, &what),
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        Some(fk)
    }
}
