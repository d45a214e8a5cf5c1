//! Schema-wide objects: schemas, extensions, enum types and their values, roles, functions.

use model::ident::{quote, quote_literal};
use model::{Catalog, DataType, EnumType, sql_name};

use crate::sql;

use super::{Differ, Part, Phase, comment_on_type};

impl Differ {
    /// Schemas besides `public`: created before anything goes into them, dropped after
    /// everything in them is gone.
    pub(super) fn schemas(&mut self, old: &Catalog, new: &Catalog) {
        for s in &new.schemas {
            let previous = old.schemas.iter().find(|o| o.name == s.name);
            if previous.is_none() {
                self.push(
                    Part::Main,
                    Phase::Schemas,
                    s.name.clone(),
                    sql::create_schema(s),
                    format!("create_schema_{}", s.name),
                );
            }
            if previous.map_or(s.comment.is_some(), |o| o.comment != s.comment) {
                self.push(
                    Part::Main,
                    Phase::Comments,
                    format!("0 {}", s.name),
                    sql::comment_on_schema(s),
                    format!("comment_schema_{}", s.name),
                );
            }
        }
        for s in &old.schemas {
            if !new.schemas.iter().any(|n| n.name == s.name) {
                self.push_destructive(
                    Phase::DropSchemas,
                    s.name.clone(),
                    sql::drop_schema(s),
                    format!("drop_schema_{}", s.name),
                    format!(
                        "drops schema `{}` (anything left in it that schema.yaml does not describe makes the migration fail)",
                        s.name
                    ),
                );
            }
        }
    }

    pub(super) fn extensions(&mut self, old: &Catalog, new: &Catalog) {
        for e in &new.extensions {
            let summary = format!("create_extension_{}", e.name);
            match old.extensions.iter().find(|o| o.name == e.name) {
                None => self.push(
                    Part::Main,
                    Phase::Extensions,
                    e.name.clone(),
                    sql::create_extension(e),
                    summary,
                ),
                Some(o) => {
                    if o.schema != e.schema {
                        self.push(
                            Part::Main,
                            Phase::Extensions,
                            format!("{} 1", e.name),
                            sql::alter_extension_schema(e),
                            format!("move_extension_{}", e.name),
                        );
                    }
                    // PostgreSQL's extensions ship no downgrade scripts: a down migration keeps
                    // the version.
                    if e.version.is_some() && o.version != e.version && !self.reverting {
                        self.push(
                            Part::Main,
                            Phase::Extensions,
                            format!("{} 2", e.name),
                            sql::update_extension(e),
                            format!("update_extension_{}", e.name),
                        );
                    }
                }
            }
        }
        for e in &old.extensions {
            if !new.extensions.iter().any(|n| n.name == e.name) {
                self.push_destructive(
                    Phase::DropExtensions,
                    e.name.clone(),
                    sql::drop_extension(e),
                    format!("drop_extension_{}", e.name),
                    format!(
                        "drops extension `{}` with whatever it holds (the migration fails while anything else uses it)",
                        e.name
                    ),
                );
            }
        }
    }

    pub(super) fn enums(&mut self, old: &Catalog, new: &Catalog) {
        for e in &new.enums {
            match old.enum_named(&e.qualified_name()) {
                None => {
                    self.push(
                        Part::Main,
                        Phase::Types,
                        e.qualified_name().display().into_owned(),
                        sql::create_enum(e),
                        format!("create_{}", e.qualified_name().display()),
                    );
                    if let Some(c) = &e.comment {
                        self.push(
                            Part::Main,
                            Phase::Comments,
                            e.qualified_name().display().into_owned(),
                            comment_on_type(&e.sql_name(), Some(c)),
                            format!("comment_{}", e.qualified_name().display()),
                        );
                    }
                }
                Some(o) => {
                    if o.values != e.values {
                        self.change_enum(o, e, new);
                    }
                    if o.comment != e.comment {
                        self.push(
                            Part::Main,
                            Phase::Comments,
                            e.qualified_name().display().into_owned(),
                            comment_on_type(&e.sql_name(), e.comment.as_deref()),
                            format!("comment_{}", e.qualified_name().display()),
                        );
                    }
                }
            }
        }
        for e in &old.enums {
            if new.enum_named(&e.qualified_name()).is_none() {
                self.push(
                    Part::Main,
                    Phase::Cleanup,
                    e.qualified_name().display().into_owned(),
                    sql::drop_enum(e),
                    format!("drop_{}", e.qualified_name().display()),
                );
            }
        }
    }

    /// Appends new labels in place when the old labels keep their order; otherwise rebuilds the
    /// type and converts every column through text.
    pub(super) fn change_enum(&mut self, old: &EnumType, new: &EnumType, catalog: &Catalog) {
        let kept: Vec<&String> = new
            .values
            .iter()
            .filter(|v| old.values.contains(v))
            .collect();
        let order_kept =
            kept.len() == old.values.len() && kept.iter().zip(&old.values).all(|(a, b)| *a == b);
        if order_kept {
            let mut current: Vec<String> = old.values.clone();
            for (i, value) in new.values.iter().enumerate() {
                if current.contains(value) {
                    continue;
                }
                // Place it before the next label that exists already, or after the previous one.
                let position = match new.values[i + 1..].iter().find(|v| current.contains(v)) {
                    Some(next) => format!("BEFORE {}", quote_literal(next)),
                    None => format!("AFTER {}", quote_literal(&new.values[i - 1])),
                };
                let at = match new.values[i + 1..].iter().find(|v| current.contains(v)) {
                    Some(next) => current
                        .iter()
                        .position(|v| v == next)
                        .unwrap_or(current.len()),
                    None => current.len(),
                };
                current.insert(at, value.clone());
                self.push(
                    Part::EnumValues,
                    Phase::Types,
                    format!("{} {i:04}", new.qualified_name().display()),
                    format!(
                        "ALTER TYPE {} ADD VALUE {} {position};",
                        new.sql_name(),
                        quote_literal(value)
                    ),
                    format!("add_{}_{}", new.qualified_name().display(), value),
                );
            }
            return;
        }
        let removed: Vec<&String> = old
            .values
            .iter()
            .filter(|v| !new.values.contains(v))
            .collect();
        let temp = format!("{}__old", new.name);
        let temp_sql = sql_name(&new.schema, &temp);
        let mut statements = vec![
            format!("ALTER TYPE {} RENAME TO {};", new.sql_name(), quote(&temp)),
            sql::create_enum(new),
        ];
        for t in &catalog.tables {
            for c in &t.columns {
                if c.data_type.enum_name() != Some(&new.qualified_name()) {
                    continue;
                }
                let via = if matches!(c.data_type, DataType::Array(_)) {
                    "text[]"
                } else {
                    "text"
                };
                if c.default.is_some() {
                    statements.push(format!(
                        "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT;",
                        t.sql_name(),
                        quote(&c.name)
                    ));
                }
                statements.push(format!(
                    "ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{via}::{};",
                    t.sql_name(),
                    quote(&c.name),
                    c.data_type,
                    quote(&c.name),
                    c.data_type
                ));
                if let Some(default) = &c.default {
                    statements.push(format!(
                        "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {default};",
                        t.sql_name(),
                        quote(&c.name)
                    ));
                }
            }
        }
        statements.push(format!("DROP TYPE {temp_sql};"));
        let sql = statements.join("\n");
        if removed.is_empty() {
            self.push(
                Part::Main,
                Phase::Columns,
                format!("0 {}", new.qualified_name().display()),
                sql,
                format!("reorder_{}", new.qualified_name().display()),
            );
        } else {
            let labels: Vec<String> = removed.iter().map(|v| format!("`{v}`")).collect();
            self.push_destructive(
                Phase::Columns,
                format!("0 {}", new.qualified_name().display()),
                sql,
                format!("change_{}", new.qualified_name().display()),
                format!(
                    "enum `{}` loses {} (rows holding them make the migration fail)",
                    new.qualified_name().display(),
                    labels.join(", ")
                ),
            );
        }
    }

    pub(super) fn roles(&mut self, old: &Catalog, new: &Catalog) {
        let existing = old.roles();
        for role in new.roles() {
            if !existing.contains(&role) {
                self.push(
                    Part::Main,
                    Phase::Roles,
                    role,
                    sql::ensure_role(role),
                    format!("role_{role}"),
                );
            }
        }
    }

    pub(super) fn functions(&mut self, old: &Catalog, new: &Catalog) {
        for f in &new.functions {
            // A new function starts with PostgreSQL's default privileges: EXECUTE for PUBLIC.
            let fresh = model::Function {
                execute: vec![model::PUBLIC.to_string()],
                ..f.clone()
            };
            let shown = f.qualified_name().display().into_owned();
            let previous = match old.function_named(&f.qualified_name()) {
                None => {
                    self.push(
                        Part::Main,
                        Phase::Functions,
                        shown.clone(),
                        sql::create_function(f),
                        format!("create_{shown}"),
                    );
                    fresh
                }
                // The signature identifies the function: changing it means a new function.
                Some(o) if o.arguments != f.arguments || o.returns != f.returns => {
                    self.push(
                        Part::Main,
                        Phase::Functions,
                        shown.clone(),
                        format!("{}\n{}", sql::drop_function(o), sql::create_function(f)),
                        format!("recreate_{shown}"),
                    );
                    fresh
                }
                Some(o) => {
                    let same_code = model::Function {
                        execute: o.execute.clone(),
                        ..f.clone()
                    };
                    if *o != same_code {
                        self.push(
                            Part::Main,
                            Phase::Functions,
                            shown.clone(),
                            sql::create_function(f).replacen(
                                "CREATE FUNCTION",
                                "CREATE OR REPLACE FUNCTION",
                                1,
                            ),
                            format!("replace_{shown}"),
                        );
                    }
                    o.clone()
                }
            };
            for role in &previous.execute {
                if !f.execute.contains(role) {
                    self.push(
                        Part::Main,
                        Phase::Grants,
                        format!("{shown} 0 {role}"),
                        sql::function_execute(f, role, false),
                        format!("revoke_{shown}"),
                    );
                }
            }
            for role in &f.execute {
                if !previous.execute.contains(role) {
                    self.push(
                        Part::Main,
                        Phase::Grants,
                        format!("{shown} 1 {role}"),
                        sql::function_execute(f, role, true),
                        format!("grant_{shown}"),
                    );
                }
            }
        }
        for f in &old.functions {
            if new.function_named(&f.qualified_name()).is_none() {
                self.push(
                    Part::Main,
                    Phase::Cleanup,
                    f.qualified_name().display().into_owned(),
                    sql::drop_function(f),
                    format!("drop_{}", f.qualified_name().display()),
                );
            }
        }
    }
}
