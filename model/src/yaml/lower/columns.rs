//! Tables and their columns: types, identity, generation, encryption, defaults, and the columns
//! conveniences imply.

use std::collections::HashMap;

use crate::annotations;
use crate::catalog::*;
use crate::diagnostics::{Diagnostic, Pos, did_you_mean, suggest};
use crate::expr::{
    canonical, check_expression, literal_label, referenced_column, referenced_columns,
};
use crate::ident::{derived_name, is_bare, parse_name_path, quote_literal, shown_path};
use crate::types::{DataType, KNOWN_TYPE_NAMES, TypeError};

use crate::yaml::read::{ColumnDecl, IdentityDecl, Sp, TableDecl};

use super::{Lowering, SET_UPDATED_AT, declared_name, flag};

impl Lowering<'_> {
    /// The table with its columns, primary key, unique and check constraints and triggers.
    pub(super) fn table_shell(&mut self, decl: &TableDecl, catalog: &Catalog) -> Table {
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
                    .with_first("first declared", first),
                );
            }
            if let Some(c) = self.column(column, catalog) {
                let serial = column.data_type.as_ref().is_some_and(|t| {
                    serial_integer(&t.value.trim().to_ascii_lowercase()).is_some()
                });
                if serial {
                    self.serials
                        .push((qualified.clone(), column.name.value.clone()));
                }
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

    pub(super) fn column(&mut self, decl: &ColumnDecl, catalog: &Catalog) -> Option<Column> {
        self.identifier(&decl.name);
        let Some(type_text) = &decl.data_type else {
            self.error(
                decl.name.pos,
                format!("column `{}` has no `type`", decl.name.value),
            );
            return None;
        };
        let serial = serial_integer(&type_text.value.trim().to_ascii_lowercase());
        if serial.is_some() {
            self.serial_conflicts(decl);
        }
        let enum_names = &self.enum_names;
        let resolve_enum = |text: &str| {
            Some(declared_name(text)).filter(|name| {
                parse_name_path(text).is_ok_and(|p| p.len() <= 2) && enum_names.contains(name)
            })
        };
        let parsed = match &serial {
            Some(integer) => Ok(integer.clone()),
            None => DataType::parse(&type_text.value, &resolve_enum),
        };
        let data_type = match parsed {
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
            // An identity or serial column is NOT NULL, as PostgreSQL makes it.
            nullable: nullable && !primary_key && identity.is_none() && serial.is_none(),
            default,
            identity,
            generated,
            comment,
            sensitivity,
        })
    }

    /// A `serial` column gets its NOT NULL and its default from the sequence it owns (given
    /// once the whole schema is known, see [`super::lower`]): declaring either again, or an
    /// identity or generation besides, is a mistake worth naming.
    fn serial_conflicts(&mut self, decl: &ColumnDecl) {
        let name = &decl.name.value;
        if let Some(d) = &decl.default {
            self.errors.push(
                Diagnostic::new(d.pos, format!("serial column `{name}` cannot have a `default`: it defaults to the next value of its own sequence"))
                    .with_help("drop `default`, or use an integer type if the default is meant"),
            );
        }
        if let Some(n) = decl.nullable.as_ref().filter(|n| n.value) {
            self.error(
                n.pos,
                format!("serial column `{name}` cannot be nullable: PostgreSQL makes it NOT NULL"),
            );
        }
        if let Some(i) = &decl.identity {
            self.errors.push(
                Diagnostic::new(i.pos, format!("column `{name}` cannot be both serial and an identity: each brings a sequence"))
                    .with_help("keep `identity` on an integer type (the SQL standard's way), or `serial` without it"),
            );
        }
        if let Some(g) = &decl.generated {
            self.error(g.pos, format!("serial column `{name}` cannot be generated"));
        }
    }

    /// `identity: ...`: an integer column, NOT NULL, without a default or a generation
    /// expression; its sequence options are checked and stored without the defaults.
    pub(super) fn identity(
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
    pub(super) fn generated(
        &mut self,
        column: &ColumnDecl,
        expression: &Sp<String>,
    ) -> Option<String> {
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
    pub(super) fn generated_references(&mut self, decl: &TableDecl, table: &Table) {
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
    pub(super) fn encrypted_column(
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

    pub(super) fn default(
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

    pub(super) fn expression(&mut self, expression: &Sp<String>) -> bool {
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
    pub(super) fn implied_columns(&mut self, decl: &TableDecl, table: &mut Table) {
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
}
