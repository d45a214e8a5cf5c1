//! Second pass: declarations into the resolved catalog, checking what they mean.
//!
//! Conveniences are expanded here, once, so every consumer sees the same resolved schema:
//! `timestamps` and `soft_delete` become columns and a trigger, `unique: true` a constraint,
//! `index: true` an index, and every foreign key and JSONB column without a covering index gets
//! one (a btree on the key columns, a GIN on the document).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::read::{ExtensionDecl, NamespaceDecl, SchemaDecl, Sp, TableDecl};
use crate::catalog::*;
use crate::diagnostics::{Diagnostic, Pos, suggest};
use crate::ident::{check_identifier, parse_name_path, shown, shown_path};

mod columns;
mod indexes;
mod keys;

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
        serials: Vec::new(),
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
                serials: Vec::new(),
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
    serial_sequences(&mut catalog, &lowering.serials);

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

/// What PostgreSQL makes of each `serial` column: a sequence the column owns, named
/// `table_column_seq` (numbered when the name is taken by another relation of the schema), and
/// the column's default drawing from it.
fn serial_sequences(catalog: &mut Catalog, serials: &[(QualifiedName, String)]) {
    if serials.is_empty() {
        return;
    }
    let mut taken: HashSet<(String, String)> = HashSet::new();
    for t in &catalog.tables {
        taken.insert((t.schema.clone(), t.name.clone()));
        let keys = t.primary_key.iter().map(|pk| &pk.name);
        let names = keys
            .chain(t.uniques.iter().map(|u| &u.name))
            .chain(t.indexes.iter().map(|i| &i.name));
        for name in names {
            taken.insert((t.schema.clone(), name.clone()));
        }
    }
    for (table, column) in serials {
        let Some(t) = catalog
            .tables
            .iter_mut()
            .find(|t| t.schema == table.schema && t.name == table.name)
        else {
            continue;
        };
        let Some(c) = t.columns.iter_mut().find(|c| &c.name == column) else {
            continue;
        };
        let name = crate::ident::pg_unique_name(&t.name, Some(column), "seq", |n| {
            taken.contains(&(t.schema.clone(), n.to_string()))
        });
        taken.insert((t.schema.clone(), name.clone()));
        let sequence = Sequence {
            schema: t.schema.clone(),
            name,
            data_type: c.data_type.clone(),
            options: SequenceOptions::default(),
            owned_by: Some(SequenceOwner {
                table: table.clone(),
                column: column.clone(),
            }),
        };
        c.default = Some(sequence.nextval_default());
        catalog.sequences.push(sequence);
    }
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
            if renamed_twice(schema.tables.iter().map(|o| &o.renamed_from), old) {
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
                if renamed_twice(t.columns.iter().map(|o| &o.renamed_from), old) {
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
    /// The `serial` columns (table, column) in declaration order: their sequences are named
    /// once every relation name is known.
    serials: Vec<(QualifiedName, String)>,
}

/// Schema names PostgreSQL reserves or creates itself.
/// Whether a sibling other than `old`'s own declaration (their `renamed_from`s) names the same
/// old name.
fn renamed_twice<'a>(
    mut siblings: impl Iterator<Item = &'a Option<Sp<String>>>,
    old: &Sp<String>,
) -> bool {
    siblings.any(|o| {
        o.as_ref()
            .is_some_and(|o| o.value == old.value && o.pos != old.pos)
    })
}

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
                        .with_first("first declared", first),
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
                    .with_first("first declared", first),
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
