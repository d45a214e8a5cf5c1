//! Second pass: declarations into the resolved catalog, checking what they mean.
//!
//! Conveniences are expanded here, once, so every consumer sees the same resolved schema:
//! `timestamps` and `soft_delete` become columns and a trigger, `unique: true` a constraint,
//! `index: true` an index, and every foreign key and JSONB column without a covering index gets
//! one (a btree on the key columns, a GIN on the document).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::read::{
    ColumnDecl, ExtensionDecl, ForeignKeyDecl, IdentityDecl, IndexDecl, NamespaceDecl, SchemaDecl,
    Sp, TableDecl,
};
use crate::annotations;
use crate::catalog::*;
use crate::diagnostics::{Diagnostic, Pos, did_you_mean, suggest};
use crate::expr::{
    canonical, check_expression, literal_label, referenced_column, referenced_columns,
};
use crate::ident::{
    check_identifier, derived_name, is_bare, parse_name, parse_name_path, quote_literal, shown,
    shown_path, yaml_name,
};
use crate::types::{DataType, KNOWN_TYPE_NAMES, TypeError};

/// The trigger function every `timestamps: true` table uses to keep `updated_at` current.
pub const SET_UPDATED_AT: &str = "set_updated_at";

/// A table or type name as written under `tables` or `enums`: `name` (in `public`) or
/// `schema.name`, each part possibly in double quotes ([`crate::ident::parse_name_path`]). Names
/// that are not well formed are reported by [`lower`]; here they resolve to the text as written.
pub fn declared_name(text: &str) -> QualifiedName {
    match parse_name_path(text).as_deref() {
        Ok([name]) => QualifiedName::public(name.clone()),
        Ok([schema, name]) => QualifiedName::new(schema.clone(), name.clone()),
        _ => QualifiedName::public(text),
    }
}

pub fn lower(schema: &SchemaDecl, errors: &mut Vec<Diagnostic>) -> Catalog {
    let mut lowering = Lowering {
        errors,
        enum_names: HashSet::new(),
        schemas: HashSet::new(),
        relations: HashSet::new(),
    };
    let mut catalog = Catalog {
        schemas: lowering.schemas(&schema.schemas),
        ..Catalog::default()
    };
    lowering.schemas = catalog.schemas.iter().map(|s| s.name.clone()).collect();
    catalog.extensions = lowering.extensions(&schema.extensions);
    for decl in &schema.enums {
        if let Some(e) = lowering.enum_type(decl) {
            catalog.enums.push(e);
        }
    }
    lowering.enum_names = catalog.enums.iter().map(EnumType::qualified_name).collect();

    // Columns first, for every table, so that references can be resolved in any order.
    let mut tables: Vec<(Table, &TableDecl)> = Vec::new();
    for decl in &schema.tables {
        let table = lowering.table_shell(decl, &catalog);
        tables.push((table, decl));
    }
    // The shells carry their unique indexes too: a foreign key may reference one.
    let shells: Vec<Table> = tables
        .iter()
        .map(|(t, decl)| {
            let mut shell = t.clone();
            let mut quiet = Vec::new();
            let mut scratch = Lowering {
                errors: &mut quiet,
                enum_names: lowering.enum_names.clone(),
                schemas: lowering.schemas.clone(),
                relations: HashSet::new(),
            };
            for d in decl.indexes.iter().filter(|d| flag(&d.unique)) {
                if let Some(index) = scratch.index(&shell.clone(), d) {
                    shell.indexes.push(index);
                }
            }
            shell
        })
        .collect();
    // Names given explicitly win over derived ones, wherever they are declared.
    for (table, decl) in &tables {
        let mut given: Vec<&str> = vec![&table.name];
        given.extend(table.primary_key.iter().map(|pk| pk.name.as_str()));
        given.extend(table.uniques.iter().map(|u| u.name.as_str()));
        given.extend(
            decl.indexes
                .iter()
                .filter_map(|i| i.name.as_ref())
                .map(|n| n.value.as_str()),
        );
        for name in given {
            lowering
                .relations
                .insert((table.schema.clone(), name.to_string()));
        }
    }
    let shells = Shells::new(&shells);
    for (table, decl) in &mut tables {
        lowering.foreign_keys(table, decl, &shells);
        lowering.indexes(table, decl);
    }
    catalog.tables = tables.into_iter().map(|(t, _)| t).collect();

    if catalog.tables.iter().any(|t| !t.triggers.is_empty()) {
        catalog.functions.push(Function {
            schema: DEFAULT_SCHEMA.to_string(),
            name: SET_UPDATED_AT.to_string(),
            arguments: Vec::new(),
            returns: "trigger".to_string(),
            language: "plpgsql".to_string(),
            body: "\nBEGIN\n    NEW.updated_at := now();\n    RETURN NEW;\nEND;\n".to_string(),
            security_definer: false,
            sql_standard_body: false,
            // PostgreSQL's default for a new function; a trigger function cannot be called
            // directly anyway.
            execute: vec![PUBLIC.to_string()],
        });
    }
    super::compliance::lower(schema, &mut catalog, lowering.errors);
    lowering.check_names(schema, &catalog);
    catalog
}

/// The tables as declared (columns and unique keys), found by name in constant time: foreign
/// keys are resolved against them, and a schema has thousands.
struct Shells<'a> {
    tables: &'a [Table],
    by_name: HashMap<(&'a str, &'a str), usize>,
}

impl<'a> Shells<'a> {
    fn new(tables: &'a [Table]) -> Self {
        let mut by_name = HashMap::with_capacity(tables.len());
        for (i, t) in tables.iter().enumerate() {
            // The first declaration wins, as a search in order would find it.
            by_name
                .entry((t.schema.as_str(), t.name.as_str()))
                .or_insert(i);
        }
        Shells { tables, by_name }
    }

    fn get(&self, name: &QualifiedName) -> Option<&'a Table> {
        self.by_name
            .get(&(name.schema.as_str(), name.name.as_str()))
            .map(|&i| &self.tables[i])
    }
}

/// The `renamed_from` hints, checked: plain names, not a no-op, each old name used once.
pub fn renames(schema: &SchemaDecl, errors: &mut Vec<Diagnostic>) -> super::RenameHints {
    let mut hints = super::RenameHints::default();
    let check = |old: &Sp<String>, new: &str, errors: &mut Vec<Diagnostic>| -> bool {
        if let Err(why) = check_identifier(&old.value) {
            errors.push(Diagnostic::new(old.pos, why));
            return false;
        }
        if old.value == new {
            errors.push(Diagnostic::new(
                old.pos,
                format!("`renamed_from` names the current name {}", shown(new)),
            ));
            return false;
        }
        true
    };
    for t in &schema.tables {
        let table = declared_name(&t.name.value);
        let shown = table.display().into_owned();
        if let Some(old) = &t.renamed_from {
            if schema.tables.iter().any(|other| {
                other
                    .renamed_from
                    .as_ref()
                    .is_some_and(|o| o.value == old.value && o.pos != old.pos)
            }) {
                errors.push(Diagnostic::new(
                    old.pos,
                    format!("two tables are `renamed_from: {}`", old.value),
                ));
            } else if check(old, &table.name, errors) {
                let before = display_name(&table.schema, &old.value).into_owned();
                hints.tables.push((before, shown.clone()));
            }
        }
        for c in &t.columns {
            if let Some(old) = &c.renamed_from {
                if t.columns.iter().any(|other| {
                    other
                        .renamed_from
                        .as_ref()
                        .is_some_and(|o| o.value == old.value && o.pos != old.pos)
                }) {
                    errors.push(Diagnostic::new(
                        old.pos,
                        format!("two columns of `{shown}` are `renamed_from: {}`", old.value),
                    ));
                } else if check(old, &c.name.value, errors) {
                    hints
                        .columns
                        .push((shown.clone(), old.value.clone(), c.name.value.clone()));
                }
            }
        }
    }
    hints
}

struct Lowering<'e> {
    errors: &'e mut Vec<Diagnostic>,
    /// The enums, which a column's `type` names as `status` or `auth.factor_type`.
    enum_names: HashSet<QualifiedName>,
    /// The schemas declared under `schemas`.
    schemas: HashSet<String>,
    /// Relation names (schema, name) already given: tables, keys, explicitly named indexes, and
    /// the derived index names handed out so far. A derived index name that is taken gets a
    /// number, as PostgreSQL numbers the names it chooses (`_idx1`, `_idx2`, ...).
    relations: HashSet<(String, String)>,
}

/// Schema names PostgreSQL reserves or creates itself.
fn reserved_schema(name: &str) -> Option<&'static str> {
    if name == DEFAULT_SCHEMA {
        Some("`public` exists in every database; tables without a schema are in it")
    } else if name.starts_with("pg_") || name == "information_schema" {
        Some("PostgreSQL reserves `pg_*` and `information_schema` for its own catalogs")
    } else {
        None
    }
}

impl Lowering<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(pos, message));
    }

    fn identifier(&mut self, name: &Sp<String>) {
        if let Err(why) = check_identifier(&name.value) {
            self.error(name.pos, why);
        }
    }

    /// The `extensions:` declarations, checked: plain names, each once, in `public` or a
    /// declared schema.
    fn extensions(&mut self, decls: &[ExtensionDecl]) -> Vec<Extension> {
        let mut out: Vec<Extension> = Vec::new();
        for decl in decls {
            let name = &decl.name.value;
            if let Err(why) = super::check_extension_name(name) {
                self.error(decl.name.pos, why);
                continue;
            }
            if out.iter().any(|e| &e.name == name) {
                self.error(
                    decl.name.pos,
                    format!("extension `{name}` is declared twice"),
                );
                continue;
            }
            let schema = match &decl.schema {
                Some(s) if s.value != DEFAULT_SCHEMA && !self.schemas.contains(&s.value) => {
                    self.errors.push(
                        Diagnostic::new(s.pos, format!("unknown schema `{}`", s.value))
                            .with_help("declare it under the top-level `schemas`"),
                    );
                    continue;
                }
                Some(s) => s.value.clone(),
                None => DEFAULT_SCHEMA.to_string(),
            };
            let version = match &decl.version {
                Some(v) if v.value.trim().is_empty() => {
                    self.error(v.pos, "an extension's version cannot be empty");
                    continue;
                }
                Some(v) => Some(v.value.trim().to_string()),
                None => None,
            };
            out.push(Extension {
                name: name.clone(),
                schema,
                version,
            });
        }
        out
    }

    /// The `schemas:` declarations, checked.
    fn schemas(&mut self, decls: &[NamespaceDecl]) -> Vec<Schema> {
        let mut out: Vec<Schema> = Vec::new();
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for decl in decls {
            let name = &decl.name.value;
            if let Err(why) = check_identifier(name) {
                self.error(decl.name.pos, why);
                continue;
            }
            if let Some(why) = reserved_schema(name) {
                self.errors.push(
                    Diagnostic::new(
                        decl.name.pos,
                        format!("`{name}` cannot be declared as a schema"),
                    )
                    .with_help(why),
                );
                continue;
            }
            if let Some(first) = seen.insert(name, decl.name.pos) {
                self.errors.push(
                    Diagnostic::new(decl.name.pos, format!("schema `{name}` is declared twice"))
                        .with_help(format!("first declared at {}:{}", first.line, first.column)),
                );
                continue;
            }
            out.push(Schema {
                name: name.clone(),
                comment: decl.comment.as_ref().map(|c| c.value.trim().to_string()),
            });
        }
        out
    }

    /// A table or enum name as written (`name` or `schema.name`), checked: identifiers, and
    /// a schema declared under `schemas`. `None` (reported) when it cannot be used.
    fn qualified(&mut self, name: &Sp<String>, what: &str) -> Option<QualifiedName> {
        let text = name.value.as_str();
        let help = format!(
            "write `name`, or `schema.name` for a {what} outside public; a name holding a dot, white space or a quote goes in double quotes (`\"my.name\"`, `\"say \"\"hi\"\"\"`)"
        );
        let parts = match parse_name_path(text) {
            Ok(parts) => parts,
            Err(why) => {
                self.errors
                    .push(Diagnostic::new(name.pos, why).with_help(help));
                return None;
            }
        };
        let (schema, bare) = match parts.as_slice() {
            [bare] => (DEFAULT_SCHEMA, bare.as_str()),
            [schema, bare] => (schema.as_str(), bare.as_str()),
            _ => {
                self.errors.push(
                    Diagnostic::new(
                        name.pos,
                        format!("{} is not a {what} name", shown_path(text)),
                    )
                    .with_help(help),
                );
                return None;
            }
        };
        let mut ok = true;
        for part in [schema, bare] {
            if let Err(why) = check_identifier(part) {
                self.error(name.pos, why);
                ok = false;
            }
        }
        if ok && schema != DEFAULT_SCHEMA && !self.schemas.contains(schema) {
            let mut d = Diagnostic::new(
                name.pos,
                format!(
                    "{what} {} is in schema {}, which is not declared",
                    shown_path(text),
                    shown(schema)
                ),
            );
            d = match suggest(schema, self.schemas.iter().map(String::as_str)) {
                Some(s) => d.with_help(format!(
                    "did you mean `{s}`? Otherwise add `{schema}` under the top-level `schemas`"
                )),
                None => d.with_help(format!("add `schemas: [{schema}]` at the top level")),
            };
            self.errors.push(d);
            ok = false;
        }
        ok.then(|| QualifiedName::new(schema, bare))
    }

    fn enum_type(&mut self, decl: &super::read::EnumDecl) -> Option<EnumType> {
        let name = self.qualified(&decl.name, "enum")?;
        if decl.values.is_empty() {
            self.error(
                decl.name.pos,
                format!("enum `{}` has no values", decl.name.value),
            );
        }
        let mut seen = HashMap::new();
        for value in &decl.values {
            if value.value.is_empty() || value.value.len() > 63 {
                self.error(
                    value.pos,
                    format!("enum label `{}` must be 1 to 63 bytes long", value.value),
                );
            }
            if let Some(first) = seen.insert(value.value.as_str(), value.pos) {
                self.errors.push(
                    Diagnostic::new(
                        value.pos,
                        format!(
                            "duplicate value `{}` in enum `{}`",
                            value.value, decl.name.value
                        ),
                    )
                    .with_help(format!("first declared at {}:{}", first.line, first.column)),
                );
            }
        }
        Some(EnumType {
            schema: name.schema,
            name: name.name,
            values: decl.values.iter().map(|v| v.value.clone()).collect(),
            comment: None,
        })
    }

    /// The table with its columns, primary key, unique and check constraints and triggers.
    fn table_shell(&mut self, decl: &TableDecl, catalog: &Catalog) -> Table {
        let qualified = self
            .qualified(&decl.name, "table")
            .unwrap_or_else(|| declared_name(&decl.name.value));
        // Derived names (keys, constraints, indexes) are built from the bare name, as PostgreSQL
        // builds them; messages name the table as written.
        let name = qualified.name.clone();
        let shown = qualified.display().into_owned();
        let flags = TableFlags {
            soft_delete: flag(&decl.soft_delete),
            ..TableFlags::default()
        };
        let comment = decl.comment.as_ref().map(|c| c.value.clone());
        if let Some(c) = &decl.comment
            && annotations::parse_table_comment(&c.value)
                != (Some(c.value.trim().to_string()), TableFlags::default())
        {
            self.error(c.pos, "a comment cannot end with a `[...]` tag list: it is reserved for flags such as soft_delete");
        }
        let mut table = Table {
            comment,
            flags,
            ..Table::new(&qualified.schema, name.clone())
        };
        if decl.columns.is_empty() {
            self.error(
                decl.name.pos,
                format!("table `{shown}` declares no columns"),
            );
        }
        let mut seen: HashMap<&str, Pos> = HashMap::new();
        for column in &decl.columns {
            if let Some(first) = seen.insert(column.name.value.as_str(), column.name.pos) {
                self.errors.push(
                    Diagnostic::new(
                        column.name.pos,
                        format!(
                            "duplicate column `{}` in table `{shown}`",
                            column.name.value
                        ),
                    )
                    .with_help(format!("first declared at {}:{}", first.line, first.column)),
                );
            }
            if let Some(c) = self.column(column, catalog) {
                table.columns.push(c);
            }
        }
        self.implied_columns(decl, &mut table);
        self.generated_references(decl, &table);
        self.primary_key(decl, &mut table);
        for column in &decl.columns {
            if flag(&column.unique) {
                let columns = vec![column.name.value.clone()];
                table.uniques.push(UniqueConstraint {
                    name: derived_name(&[&name, &column.name.value], "key"),
                    columns,
                });
            }
        }
        for group in &decl.unique {
            let columns = self.column_list(&table, &group.value, group.pos, "a unique constraint");
            if !columns.is_empty() {
                let parts: Vec<&str> = std::iter::once(name.as_str())
                    .chain(columns.iter().map(String::as_str))
                    .collect();
                table.uniques.push(UniqueConstraint {
                    name: derived_name(&parts, "key"),
                    columns,
                });
            }
        }
        for c in table.columns.iter().filter(|c| c.sensitivity.encrypted) {
            table.checks.push(CheckConstraint {
                name: crate::compliance::encrypted_check_name(&name, &c.name),
                expression: canonical(&crate::compliance::encrypted_check_expression(&c.name)),
            });
        }
        for (check_name, expression) in &decl.checks {
            self.identifier(check_name);
            self.expression(expression);
            table.checks.push(CheckConstraint {
                name: derived_name(&[&name, &check_name.value], "check"),
                expression: canonical(&expression.value),
            });
        }
        if flag(&decl.timestamps) {
            table.triggers.push(Trigger {
                name: derived_name(&[&name], SET_UPDATED_AT),
                timing: TriggerTiming::Before,
                events: vec![TriggerEvent::Update],
                for_each_row: true,
                function: QualifiedName::public(SET_UPDATED_AT),
            });
        }
        table
    }

    fn column(&mut self, decl: &ColumnDecl, catalog: &Catalog) -> Option<Column> {
        self.identifier(&decl.name);
        let Some(type_text) = &decl.data_type else {
            self.error(
                decl.name.pos,
                format!("column `{}` has no `type`", decl.name.value),
            );
            return None;
        };
        let enum_names = &self.enum_names;
        let resolve_enum = |text: &str| {
            Some(declared_name(text)).filter(|name| {
                parse_name_path(text).is_ok_and(|p| p.len() <= 2) && enum_names.contains(name)
            })
        };
        let data_type = match DataType::parse(&type_text.value, &resolve_enum) {
            Ok(t) => t,
            Err(TypeError::Unknown(name)) => {
                let written: Vec<String> =
                    self.enum_names.iter().map(QualifiedName::yaml).collect();
                let candidates = KNOWN_TYPE_NAMES
                    .iter()
                    .copied()
                    .chain(written.iter().map(String::as_str));
                let bare = declared_name(name.trim_end_matches("[]"));
                let qualified = self
                    .enum_names
                    .iter()
                    .filter(|e| !e.is_public() && e.name == bare.name && bare.is_public())
                    .map(QualifiedName::yaml)
                    .min();
                let mut d =
                    Diagnostic::new(type_text.pos, format!("unknown type {}", shown_path(&name)));
                d = match qualified {
                    Some(q) => d.with_help(format!(
                        "did you mean `{q}`? Outside public, an enum is named with its schema"
                    )),
                    None => match suggest(&name, candidates) {
                        Some(s) => d.with_help(did_you_mean(s)),
                        None => d.with_help(
                            "use a PostgreSQL type name or one of the enums under `enums`",
                        ),
                    },
                };
                self.errors.push(d);
                return None;
            }
            Err(TypeError::BadModifier(why)) => {
                self.error(type_text.pos, format!("bad type modifier: {why}"));
                return None;
            }
            Err(TypeError::Unsupported { name, advice }) => {
                self.errors.push(
                    Diagnostic::new(type_text.pos, format!("unsupported type `{name}`"))
                        .with_help(advice),
                );
                return None;
            }
        };
        let primary_key = flag(&decl.primary_key);
        let nullable = flag(&decl.nullable);
        if primary_key
            && nullable
            && let Some(n) = &decl.nullable
        {
            self.error(
                n.pos,
                format!(
                    "primary key column `{}` cannot be nullable",
                    decl.name.value
                ),
            );
        }
        let default = decl
            .default
            .as_ref()
            .and_then(|d| self.default(d, &data_type, catalog));
        let identity = decl
            .identity
            .as_ref()
            .and_then(|i| self.identity(decl, i, &data_type));
        let generated = decl
            .generated
            .as_ref()
            .and_then(|g| self.generated(decl, g));
        let comment = decl.comment.as_ref().map(|c| c.value.trim().to_string());
        if let Some(c) = &decl.comment
            && annotations::parse_column_comment(&c.value).1 != Sensitivity::default()
        {
            self.error(c.pos, "a comment cannot end with a `[...]` tag list: it is reserved for the pii/phi flags");
        }
        let sensitivity = Sensitivity {
            pii: flag(&decl.pii),
            phi: flag(&decl.phi),
            encrypted: flag(&decl.encrypted),
        };
        if let Some(e) = decl.encrypted.as_ref().filter(|e| e.value) {
            self.encrypted_column(decl, e.pos, &data_type, sensitivity);
        }
        Some(Column {
            name: decl.name.value.clone(),
            data_type,
            // An identity column is NOT NULL, as PostgreSQL makes it.
            nullable: nullable && !primary_key && identity.is_none(),
            default,
            identity,
            generated,
            comment,
            sensitivity,
        })
    }

    /// `identity: ...`: an integer column, NOT NULL, without a default or a generation
    /// expression; its sequence options are checked and stored without the defaults.
    fn identity(
        &mut self,
        column: &ColumnDecl,
        decl: &IdentityDecl,
        data_type: &DataType,
    ) -> Option<Identity> {
        let name = &column.name.value;
        let mut ok = true;
        let always = match &decl.generated {
            None => {
                self.errors.push(
                    Diagnostic::new(decl.pos, format!("identity column `{name}` needs `generated: always` or `generated: by default`"))
                        .with_help("`always` refuses explicit values (unless OVERRIDING SYSTEM VALUE), `by default` takes them"),
                );
                ok = false;
                false
            }
            Some(g) => {
                let mode = g.value.split_whitespace().collect::<Vec<_>>().join(" ");
                if mode.eq_ignore_ascii_case("always") {
                    true
                } else if mode.eq_ignore_ascii_case("by default") {
                    false
                } else {
                    self.errors.push(
                        Diagnostic::new(
                            g.pos,
                            format!("unknown identity generation `{}`", g.value),
                        )
                        .with_help("expected `always` or `by default`"),
                    );
                    ok = false;
                    false
                }
            }
        };
        if !matches!(
            data_type,
            DataType::SmallInt | DataType::Integer | DataType::BigInt
        ) {
            self.error(
                decl.pos,
                format!(
                    "identity column `{name}` must be smallint, integer or bigint, not {data_type}"
                ),
            );
            ok = false;
        }
        if let Some(n) = column.nullable.as_ref().filter(|n| n.value) {
            self.errors.push(
                Diagnostic::new(
                    n.pos,
                    format!("identity column `{name}` cannot be nullable"),
                )
                .with_help("PostgreSQL makes an identity column NOT NULL"),
            );
            ok = false;
        }
        if let Some(d) = &column.default {
            self.errors.push(
                Diagnostic::new(
                    d.pos,
                    format!("identity column `{name}` cannot have a `default`"),
                )
                .with_help("its values come from its own sequence; remove `default`"),
            );
            ok = false;
        }
        if let Some(g) = &column.generated {
            self.error(
                g.pos,
                format!("column `{name}` cannot be both an identity and a generated column"),
            );
            ok = false;
        }
        let value = |v: &Option<Sp<i64>>| v.as_ref().map(|v| v.value);
        let options = SequenceOptions {
            start: value(&decl.start),
            increment: value(&decl.increment),
            min_value: value(&decl.min),
            max_value: value(&decl.max),
            cache: value(&decl.cache),
            cycle: decl.cycle.as_ref().is_some_and(|c| c.value),
        };
        let (type_min, type_max) = data_type.integer_range();
        for (key, v) in [
            ("start", &decl.start),
            ("increment", &decl.increment),
            ("min", &decl.min),
            ("max", &decl.max),
            ("cache", &decl.cache),
        ] {
            if let Some(v) = v
                && !(type_min..=type_max).contains(&v.value)
            {
                self.error(
                    v.pos,
                    format!("`{key}: {}` is out of range for {data_type}", v.value),
                );
                ok = false;
            }
        }
        if let Some(i) = decl.increment.as_ref().filter(|i| i.value == 0) {
            self.error(i.pos, "`increment` cannot be zero");
            ok = false;
        }
        if let Some(c) = decl.cache.as_ref().filter(|c| c.value < 1) {
            self.error(c.pos, "`cache` must be at least 1");
            ok = false;
        }
        if ok {
            // The bounds and start as PostgreSQL completes them.
            let increment = options.increment.unwrap_or(1);
            let min = options
                .min_value
                .unwrap_or(if increment > 0 { 1 } else { type_min });
            let max = options
                .max_value
                .unwrap_or(if increment > 0 { type_max } else { -1 });
            let start = options
                .start
                .unwrap_or(if increment > 0 { min } else { max });
            if min >= max {
                let at = decl
                    .min
                    .as_ref()
                    .or(decl.max.as_ref())
                    .map_or(decl.pos, |v| v.pos);
                self.error(at, format!("`min` ({min}) must be less than `max` ({max})"));
                ok = false;
            } else if !(min..=max).contains(&start) {
                let at = decl.start.as_ref().map_or(decl.pos, |v| v.pos);
                self.error(
                    at,
                    format!("`start` ({start}) must lie between `min` ({min}) and `max` ({max})"),
                );
                ok = false;
            }
        }
        ok.then(|| Identity {
            always,
            options: options.without_defaults(data_type),
        })
    }

    /// `generated: expression`: a stored generated column. The expression is checked with
    /// PostgreSQL's parser; a generated column has no default and is no identity (reported
    /// there). Column references are checked once the table's columns are known.
    fn generated(&mut self, column: &ColumnDecl, expression: &Sp<String>) -> Option<String> {
        let name = &column.name.value;
        let mut ok = self.expression(expression);
        if let Some(d) = &column.default {
            self.errors.push(
                Diagnostic::new(
                    d.pos,
                    format!("generated column `{name}` cannot have a `default`"),
                )
                .with_help("its value is always the `generated` expression"),
            );
            ok = false;
        }
        ok.then(|| canonical(&expression.value))
    }

    /// The columns a generation expression refers to must be other, non-generated columns of the
    /// table (PostgreSQL refuses the rest when the migration runs).
    fn generated_references(&mut self, decl: &TableDecl, table: &Table) {
        for column in &decl.columns {
            let Some(expression) = &column.generated else {
                continue;
            };
            if table
                .column(&column.name.value)
                .is_none_or(|c| c.generated.is_none())
            {
                continue;
            }
            for reference in referenced_columns(&expression.value) {
                let shown = table.display_name();
                match table.column(&reference) {
                    None => {
                        let mut d = Diagnostic::new(
                            expression.pos,
                            format!(
                                "generated column `{}` refers to `{reference}`, which table `{shown}` does not have",
                                column.name.value
                            ),
                        );
                        if let Some(s) =
                            suggest(&reference, table.columns.iter().map(|c| c.name.as_str()))
                        {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        self.errors.push(d);
                    }
                    Some(c) if c.generated.is_some() => {
                        self.errors.push(
                            Diagnostic::new(
                                expression.pos,
                                format!(
                                    "generated column `{}` refers to generated column `{reference}`",
                                    column.name.value
                                ),
                            )
                            .with_help("PostgreSQL computes a generated column from the row's other columns only; repeat that column's expression instead"),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
    }

    /// An encrypted column holds `enc:v1:...` text that only the application can read: it must be
    /// text, sensitive (why else encrypt it), and not something the database compares.
    fn encrypted_column(
        &mut self,
        decl: &ColumnDecl,
        pos: Pos,
        data_type: &DataType,
        sensitivity: Sensitivity,
    ) {
        let name = &decl.name.value;
        if *data_type != DataType::Text {
            self.errors.push(
                Diagnostic::new(pos, format!("encrypted column `{name}` must be `text`, not {data_type}"))
                    .with_help("the ciphertext is stored as text (`enc:v1:` + base64); encrypt other values as their text form"),
            );
        }
        if !sensitivity.pii && !sensitivity.phi {
            self.error(
                pos,
                format!("encrypted column `{name}` must also be marked `pii: true` or `phi: true`, so audits scrub it"),
            );
        }
        let compared = [
            ("primary_key", flag(&decl.primary_key)),
            ("unique", flag(&decl.unique)),
            ("index", flag(&decl.index)),
            ("references", decl.references.is_some()),
            ("default", decl.default.is_some()),
            ("generated", decl.generated.is_some()),
        ];
        for (key, set) in compared {
            if set {
                self.errors.push(
                    Diagnostic::new(pos, format!("encrypted column `{name}` cannot have `{key}`"))
                        .with_help("ciphertexts are random: the database cannot compare, index or default them"),
                );
            }
        }
    }

    fn default(
        &mut self,
        default: &Sp<String>,
        data_type: &DataType,
        catalog: &Catalog,
    ) -> Option<String> {
        let text = default.value.trim();
        if let DataType::Enum(enum_name) = data_type {
            let values = catalog
                .enum_named(enum_name)
                .map(|e| e.values.as_slice())
                .unwrap_or_default();
            // A bare label is accepted as shorthand for the quoted literal, so a bare word is
            // taken as a label (it could not be a column reference in a default anyway).
            let label = if is_bare(text) {
                Some(text.to_string())
            } else {
                literal_label(text)
            };
            if let Some(label) = label {
                if values.contains(&label) {
                    return Some(format!("{}::{}", quote_literal(&label), enum_name.sql()));
                }
                let mut d = Diagnostic::new(
                    default.pos,
                    format!(
                        "default `{label}` is not a value of enum `{}`",
                        enum_name.display()
                    ),
                );
                if let Some(s) = suggest(&label, values.iter().map(String::as_str)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else {
                    d = d.with_help(format!("expected one of: {}", values.join(", ")));
                }
                self.errors.push(d);
                return None;
            }
        }
        if !self.expression(default) {
            return None;
        }
        if let Some(column) = referenced_column(text) {
            self.errors.push(
                Diagnostic::new(
                    default.pos,
                    format!("a default cannot refer to a column (`{column}`)"),
                )
                .with_help("quote text literals: `default: \"'value'\"`"),
            );
            return None;
        }
        Some(canonical(text))
    }

    fn expression(&mut self, expression: &Sp<String>) -> bool {
        match check_expression(&expression.value) {
            Ok(()) => true,
            Err(why) => {
                self.error(
                    expression.pos,
                    format!(
                        "invalid SQL expression `{}`: {why}",
                        expression.value.trim()
                    ),
                );
                false
            }
        }
    }

    /// Columns that `timestamps` and `soft_delete` stand for, appended after the declared ones.
    fn implied_columns(&mut self, decl: &TableDecl, table: &mut Table) {
        let mut implied = Vec::new();
        if flag(&decl.timestamps) {
            implied.push((
                "created_at",
                "When the row was created.",
                false,
                "timestamps",
            ));
            implied.push((
                "updated_at",
                "When the row was last changed; kept current by a trigger.",
                false,
                "timestamps",
            ));
        }
        if flag(&decl.soft_delete) {
            implied.push((
                "deleted_at",
                "When the row was soft-deleted; NULL while it is live.",
                true,
                "soft_delete",
            ));
        }
        for (name, comment, nullable, key) in implied {
            if let Some(declared) = decl.columns.iter().find(|c| c.name.value == name) {
                self.errors.push(
                    Diagnostic::new(declared.name.pos, format!("column `{name}` is already added by `{key}: true`"))
                        .with_help(format!("remove the column, or set `{key}: false` and declare all of its columns yourself")),
                );
                continue;
            }
            table.columns.push(Column {
                nullable,
                default: (!nullable).then(|| "now()".to_string()),
                comment: Some(comment.to_string()),
                ..Column::new(name, DataType::Timestamptz(None))
            });
        }
    }

    fn primary_key(&mut self, decl: &TableDecl, table: &mut Table) {
        let flagged: Vec<&ColumnDecl> = decl
            .columns
            .iter()
            .filter(|c| flag(&c.primary_key))
            .collect();
        let columns = match (&decl.primary_key, flagged.as_slice()) {
            (Some(list), []) => {
                let columns = self.column_list(table, &list.value, list.pos, "the primary key");
                for c in &columns {
                    if let Some(column) = table.columns.iter_mut().find(|col| &col.name == c) {
                        column.nullable = false;
                    }
                }
                columns
            }
            (None, [_, ..]) => flagged.iter().map(|c| c.name.value.clone()).collect(),
            (Some(list), [_, ..]) => {
                self.error(list.pos, "the primary key is declared both here and with `primary_key: true` on a column; keep one");
                return;
            }
            (None, []) => {
                self.errors.push(
                    Diagnostic::new(decl.name.pos, format!("table `{}` has no primary key", decl.name.value))
                        .with_help("add `primary_key: true` to a column, e.g. `id: {type: uuid, primary_key: true, default: gen_random_uuid()}`"),
                );
                return;
            }
        };
        if !columns.is_empty() {
            table.primary_key = Some(PrimaryKey {
                name: derived_name(&[&table.name], "pkey"),
                columns,
            });
        }
    }

    /// Resolves a list of column names, reporting unknown and repeated ones.
    fn column_list(
        &mut self,
        table: &Table,
        names: &[Sp<String>],
        pos: Pos,
        what: &str,
    ) -> Vec<String> {
        if names.is_empty() {
            self.error(pos, format!("{what} needs at least one column"));
        }
        let mut out: Vec<String> = Vec::new();
        for name in names {
            if out.contains(&name.value) {
                self.error(
                    name.pos,
                    format!("column `{}` is listed twice in {what}", name.value),
                );
            } else if self.known_column(table, name) {
                out.push(name.value.clone());
            }
        }
        if out.len() == names.len() {
            out
        } else {
            Vec::new()
        }
    }

    fn known_column(&mut self, table: &Table, name: &Sp<String>) -> bool {
        if table.column(&name.value).is_some() {
            return true;
        }
        let mut d = Diagnostic::new(
            name.pos,
            format!("table `{}` has no column `{}`", table.name, name.value),
        );
        if let Some(s) = suggest(&name.value, table.columns.iter().map(|c| c.name.as_str())) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.errors.push(d);
        false
    }

    fn foreign_keys(&mut self, table: &mut Table, decl: &TableDecl, tables: &Shells<'_>) {
        for column in &decl.columns {
            let Some(target) = &column.references else {
                if let Some(action) = column.on_delete.as_ref().or(column.on_update.as_ref()) {
                    self.error(
                        action.pos,
                        format!(
                            "column `{}` has a referential action but no `references`",
                            column.name.value
                        ),
                    );
                }
                continue;
            };
            // `table`, `table.column`, `schema.table`, `schema.table.column`: two parts name a
            // table of that schema when there is one (or the schema is declared), else a column.
            let help = "write `table`, `table.column`, `schema.table` or `schema.table.column`; a name holding a dot, white space or a quote goes in double quotes (`\"my.table\".\"my column\"`)";
            let parts = match parse_name_path(&target.value) {
                Ok(parts) => parts,
                Err(why) => {
                    self.errors
                        .push(Diagnostic::new(target.pos, why).with_help(help));
                    continue;
                }
            };
            let exists = |q: &QualifiedName| table.is(q) || tables.get(q).is_some();
            let (ref_table, ref_column) = match parts.as_slice() {
                [t] => (QualifiedName::public(t.clone()), None),
                [a, b] => {
                    let in_schema = QualifiedName::new(a.clone(), b.clone());
                    let column_of = QualifiedName::public(a.clone());
                    if exists(&in_schema) && exists(&column_of) {
                        let (a, b) = (yaml_name(a), yaml_name(b));
                        self.errors.push(
                            Diagnostic::new(target.pos, format!("`references: {}` is ambiguous: table `{a}.{b}`, or column `{b}` of table `{a}`", target.value))
                                .with_help(format!("write `{a}.{b}.<column>` for the first, `public.{a}.{b}` for the second")),
                        );
                        continue;
                    }
                    if exists(&in_schema) || (!exists(&column_of) && self.schemas.contains(a)) {
                        (in_schema, None)
                    } else {
                        (column_of, Some(b.clone()))
                    }
                }
                [schema, t, c] => (
                    QualifiedName::new(schema.clone(), t.clone()),
                    Some(c.clone()),
                ),
                _ => {
                    self.errors.push(
                        Diagnostic::new(
                            target.pos,
                            format!("cannot read `references: {}`", target.value),
                        )
                        .with_help(help),
                    );
                    continue;
                }
            };
            let fk = ForeignKeyDecl {
                pos: target.pos,
                columns: vec![column.name.clone()],
                references: Some(Sp {
                    value: ref_table.yaml(),
                    pos: target.pos,
                }),
                ref_columns: ref_column
                    .map(|c| Sp {
                        value: c,
                        pos: target.pos,
                    })
                    .into_iter()
                    .collect(),
                on_delete: column.on_delete.clone(),
                on_update: column.on_update.clone(),
                name: None,
            };
            self.foreign_key(table, &fk, tables);
        }
        for fk in &decl.foreign_keys {
            self.foreign_key(table, fk, tables);
        }
    }

    fn foreign_key(&mut self, table: &mut Table, decl: &ForeignKeyDecl, tables: &Shells<'_>) {
        let columns = self.column_list(table, &decl.columns, decl.pos, "a foreign key");
        let Some(target_name) = &decl.references else {
            self.error(decl.pos, "a foreign key needs `references: <table>`");
            return;
        };
        // A self-reference sees the table being built, which already has its columns.
        let wanted = match parse_name_path(&target_name.value).as_deref() {
            Ok([_] | [_, _]) => declared_name(&target_name.value),
            Ok(_) => {
                self.errors.push(
                    Diagnostic::new(
                        target_name.pos,
                        format!("{} is not a table name", shown_path(&target_name.value)),
                    )
                    .with_help("write `table`, or `schema.table` for a table outside public"),
                );
                return;
            }
            Err(why) => {
                self.error(target_name.pos, why);
                return;
            }
        };
        let target = if table.is(&wanted) {
            Some(&*table)
        } else {
            tables.get(&wanted)
        };
        let Some(target) = target else {
            let written = wanted.yaml();
            let mut d = Diagnostic::new(
                target_name.pos,
                format!(
                    "foreign key references unknown table {}",
                    shown_path(&written)
                ),
            );
            let names: Vec<String> = tables
                .tables
                .iter()
                .map(|t| t.qualified_name().yaml())
                .collect();
            if let Some(s) = suggest(&written, names.iter().map(String::as_str)) {
                d = d.with_help(did_you_mean(s));
            }
            self.errors.push(d);
            return;
        };
        let target_shown = target.display_name().into_owned();
        let shown = table.display_name().into_owned();
        let ref_columns: Vec<String> = if decl.ref_columns.is_empty() {
            match &target.primary_key {
                Some(pk) => pk.columns.clone(),
                None => {
                    self.error(target_name.pos, format!("table `{target_shown}` has no primary key to reference; name the column as `{target_shown}.<column>`"));
                    return;
                }
            }
        } else {
            let target = target.clone();
            self.column_list(
                &target,
                &decl.ref_columns,
                target_name.pos,
                "the referenced columns",
            )
        };
        if columns.is_empty() || ref_columns.is_empty() {
            return;
        }
        if columns.len() != ref_columns.len() {
            self.error(
                decl.pos,
                format!(
                    "foreign key has {} column(s) but references {} column(s)",
                    columns.len(),
                    ref_columns.len()
                ),
            );
            return;
        }
        let mut sorted_ref = ref_columns.clone();
        sorted_ref.sort();
        let is_key = |cols: &[String]| {
            let mut cols = cols.to_vec();
            cols.sort();
            cols == sorted_ref
        };
        // A unique index PostgreSQL accepts as the referenced key: not partial, plain columns.
        let unique_index = tables.get(&target.qualified_name()).is_some_and(|shell| {
            shell.indexes.iter().any(|ix| {
                ix.unique
                    && ix.predicate.is_none()
                    && ix.keys.iter().all(|k| k.expression.is_none())
                    && is_key(&ix.keys.iter().map(|k| k.column.clone()).collect::<Vec<_>>())
            })
        });
        let referenceable = target.primary_key.iter().any(|pk| is_key(&pk.columns))
            || target.uniques.iter().any(|u| is_key(&u.columns))
            || unique_index;
        if !referenceable {
            self.errors.push(
                Diagnostic::new(
                    target_name.pos,
                    format!(
                        "`{target_shown}({})` is neither a primary key nor unique, so it cannot be referenced",
                        ref_columns.join(", ")
                    ),
                )
                .with_help("reference the primary key, or declare the referenced columns unique"),
            );
            return;
        }
        for (local, remote) in columns.iter().zip(&ref_columns) {
            let (Some(lc), Some(rc)) = (table.column(local), target.column(remote)) else {
                continue;
            };
            if !lc.data_type.references_compatibly(&rc.data_type) {
                let at = decl
                    .columns
                    .iter()
                    .find(|c| &c.value == local)
                    .map_or(decl.pos, |c| c.pos);
                self.error(at, format!(
                    "foreign key column `{shown}.{local}` is `{}` but references `{target_shown}.{remote}` of type `{}`",
                    lc.data_type, rc.data_type
                ));
                return;
            }
        }
        let on_delete = self.action(decl.on_delete.as_ref());
        let on_update = self.action(decl.on_update.as_ref());
        for (action, sp) in [(on_delete, &decl.on_delete), (on_update, &decl.on_update)] {
            if action == FkAction::SetNull {
                for c in &columns {
                    if table.column(c).is_some_and(|col| !col.nullable) {
                        let at = sp.as_ref().map_or(decl.pos, |s| s.pos);
                        self.error(
                            at,
                            format!("`set null` on column `{shown}.{c}`, which is not nullable"),
                        );
                    }
                }
            }
        }
        let name = match &decl.name {
            Some(n) => {
                self.identifier(n);
                n.value.clone()
            }
            None => {
                let parts: Vec<&str> = std::iter::once(table.name.as_str())
                    .chain(columns.iter().map(String::as_str))
                    .collect();
                derived_name(&parts, "fkey")
            }
        };
        table.foreign_keys.push(ForeignKey {
            name,
            columns,
            ref_table: target.qualified_name(),
            ref_columns,
            on_delete,
            on_update,
        });
    }

    fn action(&mut self, text: Option<&Sp<String>>) -> FkAction {
        let Some(text) = text else {
            return FkAction::default();
        };
        FkAction::parse(&text.value).unwrap_or_else(|| {
            let options: Vec<&str> = FkAction::ALL.iter().map(|a| a.as_sql()).collect();
            self.errors.push(
                Diagnostic::new(
                    text.pos,
                    format!("unknown referential action `{}`", text.value),
                )
                .with_help(format!("expected one of: {}", options.join(", "))),
            );
            FkAction::default()
        })
    }

    fn indexes(&mut self, table: &mut Table, decl: &TableDecl) {
        // Where each index came from, to point duplicate and collision errors at the declaration.
        let mut origins: Vec<Pos> = Vec::new();
        // Which indexes are named by derivation (renumbered below when the name is taken).
        let mut derived: Vec<usize> = Vec::new();
        for column in &decl.columns {
            if flag(&column.index) {
                let Some(col) = table.column(&column.name.value) else {
                    continue;
                };
                let method = if col.data_type.supports_gin() {
                    IndexMethod::Gin
                } else {
                    IndexMethod::Btree
                };
                let key = IndexKey::on(&col.name);
                derived.push(table.indexes.len());
                table
                    .indexes
                    .push(auto_index(&table.name, method, vec![key]));
                origins.push(column.index.as_ref().map_or(column.name.pos, |i| i.pos));
            }
        }
        // Partial indexes without a name are named once every other index has its name.
        let mut unnamed = Vec::new();
        for index_decl in &decl.indexes {
            if let Some(index) = self.index(table, index_decl) {
                if index.name.is_empty() {
                    unnamed.push(table.indexes.len());
                } else if index_decl.name.is_none() {
                    derived.push(table.indexes.len());
                }
                table.indexes.push(index);
                origins.push(index_decl.pos);
            }
        }
        for fk in table.foreign_keys.clone() {
            if table.has_index_leading_with(&fk.columns) {
                continue;
            }
            let opted_out = decl.columns.iter().find(|c| {
                fk.columns.len() == 1
                    && c.name.value == fk.columns[0]
                    && c.index.as_ref().is_some_and(|i| !i.value)
            });
            if let Some(column) = opted_out {
                let at = column.index.as_ref().map_or(column.name.pos, |i| i.pos);
                self.errors.push(
                    Diagnostic::new(at, format!("foreign key column `{}.{}` has `index: false` and no other index covers it", table.display_name(), fk.columns[0]))
                        .with_help("without an index, deleting or updating a referenced row scans the whole table; remove `index: false` or declare an index that starts with this column"),
                );
                continue;
            }
            let keys = fk.columns.iter().map(IndexKey::on).collect();
            derived.push(table.indexes.len());
            table
                .indexes
                .push(auto_index(&table.name, IndexMethod::Btree, keys));
            origins.push(decl.name.pos);
        }
        for column in &decl.columns {
            let Some(col) = table.column(&column.name.value) else {
                continue;
            };
            if !col.data_type.is_jsonb() || table.has_gin_index_on(&col.name) {
                continue;
            }
            if let Some(off) = column.index.as_ref().filter(|i| !i.value) {
                self.errors.push(
                    Diagnostic::new(off.pos, format!("JSONB column `{}.{}` has `index: false` and no GIN index is declared for it", table.display_name(), col.name))
                        .with_help("every JSONB column needs a GIN index for containment queries; remove `index: false`, or declare one under `indexes` with `using: gin` (e.g. with the jsonb_path_ops opclass)"),
                );
                continue;
            }
            let key = IndexKey::on(&col.name);
            derived.push(table.indexes.len());
            table
                .indexes
                .push(auto_index(&table.name, IndexMethod::Gin, vec![key]));
            origins.push(column.name.pos);
        }
        // Full indexes first, then partial ones: a partial index takes the name a full index on
        // its columns would get, numbered while that name is taken.
        for i in derived.into_iter().chain(unnamed) {
            let name = self.free_index_name(table, &table.indexes[i]);
            table.indexes[i].name = name;
        }
        // Two indexes with the same definition only slow writes down.
        let mut seen: Vec<(usize, Pos)> = Vec::new();
        let mut duplicates = Vec::new();
        for (i, (index, pos)) in table.indexes.iter().zip(&origins).enumerate() {
            let same = seen.iter().find(|(j, _)| {
                let other = &table.indexes[*j];
                other.method == index.method
                    && other.keys == index.keys
                    && other.include == index.include
                    && other.predicate == index.predicate
                    && other.unique == index.unique
            });
            match same {
                Some((_, first)) => {
                    duplicates.push(i);
                    self.errors.push(
                        Diagnostic::new(
                            *pos,
                            format!(
                                "index `{}` duplicates another index on `{}`",
                                index.name,
                                table.display_name()
                            ),
                        )
                        .with_help(format!(
                            "the same index is declared at {}:{}",
                            first.line, first.column
                        )),
                    );
                }
                None => seen.push((i, *pos)),
            }
        }
        // Dropped so that the name clash they also cause is not reported a second time.
        for i in duplicates.into_iter().rev() {
            table.indexes.remove(i);
        }
    }

    fn index(&mut self, table: &Table, decl: &IndexDecl) -> Option<Index> {
        let method = match &decl.using {
            None => IndexMethod::Btree,
            Some(using) => match IndexMethod::parse(using.value.trim()) {
                Some(m) => m,
                None => {
                    let options: Vec<&str> = IndexMethod::ALL.iter().map(|m| m.as_sql()).collect();
                    self.errors.push(
                        Diagnostic::new(
                            using.pos,
                            format!("unknown index method `{}`", using.value),
                        )
                        .with_help(format!("expected one of: {}", options.join(", "))),
                    );
                    return None;
                }
            },
        };
        if decl.columns.is_empty() {
            self.error(
                decl.pos,
                "an index needs at least one column under `columns`",
            );
            return None;
        }
        let mut keys = Vec::new();
        let mut ok = true;
        for entry in &decl.columns {
            match parse_index_key(&entry.value) {
                Ok(key) => {
                    let column = Sp {
                        value: key.column.clone(),
                        pos: entry.pos,
                    };
                    if !self.known_column(table, &column) {
                        ok = false;
                        continue;
                    }
                    if method == IndexMethod::Gin
                        && key.opclass.is_none()
                        && let Some(col) = table
                            .column(&key.column)
                            .filter(|c| !c.data_type.supports_gin())
                    {
                        self.errors.push(
                                Diagnostic::new(entry.pos, format!("GIN has no default operator class for `{}` of type `{}`", key.column, col.data_type))
                                    .with_help("GIN indexes jsonb and arrays; for other types name an operator class, e.g. `title gin_trgm_ops`"),
                            );
                        ok = false;
                    }
                    if keys.iter().any(|k: &IndexKey| k.column == key.column) {
                        self.error(
                            entry.pos,
                            format!("column `{}` is listed twice in the index", key.column),
                        );
                        ok = false;
                    }
                    keys.push(key);
                }
                Err(why) => {
                    self.error(entry.pos, why);
                    ok = false;
                }
            }
        }
        let mut include = Vec::new();
        for column in &decl.include {
            if self.known_column(table, column) {
                include.push(column.value.clone());
            } else {
                ok = false;
            }
        }
        let unique = flag(&decl.unique);
        if unique
            && method != IndexMethod::Btree
            && let Some(u) = &decl.unique
        {
            self.error(
                u.pos,
                format!("only btree indexes can be unique, not {}", method.as_sql()),
            );
            ok = false;
        }
        let predicate = match &decl.predicate {
            Some(p) if self.expression(p) => Some(canonical(&p.value)),
            Some(_) => {
                ok = false;
                None
            }
            None => None,
        };
        let name = match &decl.name {
            Some(n) => {
                self.identifier(n);
                n.value.clone()
            }
            None => {
                let mut index = auto_index(&table.name, method, keys.clone());
                if unique {
                    index.name = derived_name(
                        &index_parts(&table.name, &keys)
                            .iter()
                            .map(String::as_str)
                            .collect::<Vec<_>>(),
                        "uidx",
                    );
                }
                if predicate.is_some() {
                    // Named by `free_index_name` once the table's other indexes are known.
                    String::new()
                } else {
                    index.name
                }
            }
        };
        ok.then_some(Index {
            name,
            method,
            unique,
            keys,
            include,
            predicate,
        })
    }

    /// Names must be unique where PostgreSQL requires it: relations (tables and indexes, including
    /// the ones behind primary keys and unique constraints) and types (enums and tables) share
    /// schema-wide namespaces; constraints and triggers are unique per table.
    fn check_names(&mut self, schema: &SchemaDecl, catalog: &Catalog) {
        // Keyed by (schema, name): each schema has its own namespaces.
        let mut relations: BTreeMap<(&str, &str), String> = BTreeMap::new();
        let mut types: BTreeMap<(&str, &str), String> = BTreeMap::new();
        let mut declared: HashMap<QualifiedName, Pos> = HashMap::with_capacity(schema.tables.len());
        for d in &schema.tables {
            declared
                .entry(declared_name(&d.name.value))
                .or_insert(d.name.pos);
        }
        let table_pos = |t: &Table| {
            declared
                .get(&t.qualified_name())
                .copied()
                .unwrap_or_default()
        };
        for e in &catalog.enums {
            let shown = e.qualified_name().display().into_owned();
            if let Some(previous) = types.insert((&e.schema, &e.name), format!("enum `{shown}`")) {
                let pos = schema
                    .enums
                    .iter()
                    .filter(|d| e.qualified_name() == declared_name(&d.name.value))
                    .nth(1)
                    .map_or(Pos::default(), |d| d.name.pos);
                self.error(pos, format!("enum `{shown}` clashes with {previous}"));
            }
        }
        for t in &catalog.tables {
            let pos = table_pos(t);
            let shown = t.display_name().into_owned();
            if let Some(previous) = types.insert((&t.schema, &t.name), format!("table `{shown}`")) {
                self.error(
                    pos,
                    format!(
                        "table `{shown}` clashes with {previous}: tables and types share one namespace"
                    ),
                );
            }
            let mut owned: Vec<(&str, String)> =
                vec![(t.name.as_str(), format!("table `{shown}`"))];
            owned.extend(
                t.primary_key
                    .iter()
                    .map(|pk| (pk.name.as_str(), format!("the primary key of `{shown}`"))),
            );
            owned.extend(t.uniques.iter().map(|u| {
                (
                    u.name.as_str(),
                    format!("unique constraint `{}` on `{shown}`", u.name),
                )
            }));
            owned.extend(
                t.indexes
                    .iter()
                    .map(|i| (i.name.as_str(), format!("index `{}` on `{shown}`", i.name))),
            );
            for (name, what) in owned {
                if let Some(previous) = relations.insert((&t.schema, name), what.clone()) {
                    // Point at an explicit `name:` when there is one, else at the table.
                    let declared = schema
                        .tables
                        .iter()
                        .flat_map(|t| t.indexes.iter().filter_map(|i| i.name.as_ref()))
                        .find(|n| n.value == name);
                    let pos = declared.map_or(pos, |n| n.pos);
                    self.errors.push(
                        Diagnostic::new(pos, format!("{what} is named `{name}`, like {previous}"))
                            .with_help("tables, indexes and key constraints share one namespace; rename one of them (an index with an explicit `name`)"),
                    );
                }
            }
            let mut constraints: BTreeMap<&str, ()> = BTreeMap::new();
            let names = t
                .primary_key
                .iter()
                .map(|p| &p.name)
                .chain(t.uniques.iter().map(|u| &u.name))
                .chain(t.checks.iter().map(|c| &c.name))
                .chain(t.foreign_keys.iter().map(|f| &f.name));
            for name in names {
                if constraints.insert(name, ()).is_some() {
                    self.error(
                        pos,
                        format!("table `{shown}` has two constraints named `{name}`"),
                    );
                }
            }
        }
    }
}

fn flag(value: &Option<Sp<bool>>) -> bool {
    value.as_ref().is_some_and(|v| v.value)
}

fn index_parts(table: &str, keys: &[IndexKey]) -> Vec<String> {
    std::iter::once(table.to_string())
        .chain(keys.iter().map(|k| k.column.clone()))
        .collect()
}

/// The label of a derived index name: `idx`, `<method>_idx` for non-btree indexes, `uidx` for
/// unique ones.
fn index_label(method: IndexMethod, unique: bool) -> String {
    match method {
        _ if unique => "uidx".to_string(),
        IndexMethod::Btree => "idx".to_string(),
        other => format!("{}_idx", other.as_sql()),
    }
}

impl Lowering<'_> {
    /// The name of an index declared without one: `<table>_<columns>_<label>`, numbered as
    /// PostgreSQL numbers the names it chooses (`_idx1`, `_idx2`, ...) while a relation of the
    /// schema has it (a table, a key, an explicitly named index, or an index named earlier: the
    /// tables in the order of the file, a table's full indexes before its partial ones).
    fn free_index_name(&mut self, table: &Table, index: &Index) -> String {
        let parts = index_parts(&table.name, &index.keys);
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let label = index_label(index.method, index.unique);
        let mut pass = 0;
        loop {
            let numbered = if pass == 0 {
                label.clone()
            } else {
                format!("{label}{pass}")
            };
            let name = derived_name(&parts, &numbered);
            if self.relations.insert((table.schema.clone(), name.clone())) {
                return name;
            }
            pass += 1;
        }
    }
}

/// An index with its derived name: `<table>_<columns>_idx`, or `_<method>_idx` for non-btree ones.
fn auto_index(table: &str, method: IndexMethod, keys: Vec<IndexKey>) -> Index {
    let parts = index_parts(table, &keys);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let suffix = index_label(method, false);
    Index {
        name: derived_name(&parts, &suffix),
        method,
        unique: false,
        keys,
        include: Vec::new(),
        predicate: None,
    }
}

/// `column`, `column DESC`, `column jsonb_path_ops`, `column opclass DESC`, `column COLLATE "C"`
/// (before the operator class, as in SQL); a column whose name holds white space or a quote is
/// written in double quotes (`"my column" DESC`), and so is a collation that is not a plain
/// lower-case name.
fn parse_index_key(text: &str) -> Result<IndexKey, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("an index column cannot be empty".to_string());
    }
    // The column name ends at the first white space, or after its closing quote.
    let end = if text.starts_with('"') {
        let mut quotes = 0;
        text.char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quotes += 1;
                }
                // An even count of quotes is a closed name (`""` inside counts twice), once the
                // next character is not a quote.
                quotes % 2 == 0 && quotes > 0 && c != '"'
            })
            .map_or(text.len(), |(i, _)| i)
    } else {
        text.find(char::is_whitespace).unwrap_or(text.len())
    };
    let column =
        parse_name(&text[..end]).map_err(|why| format!("cannot read index column: {why}"))?;
    if !text[end..].starts_with(char::is_whitespace) && end < text.len() {
        return Err(format!(
            "cannot read index column {}: expected white space after the quoted name",
            shown_path(text)
        ));
    }
    let words: Vec<&str> = text[end..].split_whitespace().collect();
    let rest = words.as_slice();
    let (direction, rest) = match rest.split_last() {
        Some((last, init)) if last.eq_ignore_ascii_case("desc") => (true, init),
        Some((last, init)) if last.eq_ignore_ascii_case("asc") => (false, init),
        _ => (false, rest),
    };
    let (collation, rest) = match rest {
        [keyword, name, rest @ ..] if keyword.eq_ignore_ascii_case("collate") => {
            let collation = parse_name(name)
                .ok()
                .filter(|c| !c.is_empty() && (name.starts_with('"') || is_bare(c)))
                .ok_or_else(|| {
                    format!(
                        "bad collation {}: expected a lower-case name or one in double quotes such as `\"C\"`",
                        shown_path(name)
                    )
                })?;
            (Some(collation), rest)
        }
        [keyword] if keyword.eq_ignore_ascii_case("collate") => {
            return Err(format!(
                "cannot read index column {}: `COLLATE` needs a collation name",
                shown_path(text)
            ));
        }
        _ => (None, rest),
    };
    let opclass = match rest {
        [] => None,
        [opclass] if is_bare(opclass) => Some(opclass.to_string()),
        [opclass] => {
            return Err(format!(
                "bad operator class {}: expected a lower-case name such as `jsonb_path_ops`",
                shown(opclass)
            ));
        }
        _ => {
            return Err(format!(
                "cannot read index column {}: expected `column [COLLATE collation] [opclass] [ASC|DESC]`, with the column in double quotes when its name holds white space or a quote",
                shown_path(text)
            ));
        }
    };
    Ok(IndexKey {
        opclass,
        collation,
        descending: direction,
        ..IndexKey::on(column)
    })
}
