//! Replaying SQL into the catalog: PostgreSQL's own parser (pg_query) reads each statement and the
//! schema-changing ones are applied to a [`Catalog`], as the server would apply them.
//!
//! This is the one replay that both the migration diff (previous state = every committed
//! migration replayed) and the linter (state before and after each statement) use. Statements
//! that do not change the modelled schema (DML, `SET`, policies, ...) are reported as such and
//! never break a replay; text inside dollar-quoted bodies is never mistaken for DDL because the
//! parser, not a regex, decides what a statement is. `DO` blocks are different: they run at
//! migration time, so the static SQL inside them is read with PostgreSQL's PL/pgSQL parser and
//! replayed too.
//!
//! A [`Session`] holds what a server session holds besides the catalog: the `search_path`
//! (where unqualified names are looked up and created), and whether the replay is *strict* or
//! *lenient*:
//!
//! - strict (codegen verifying its own migrations): anything the replay cannot follow is an
//!   error;
//! - lenient (the linter, on histories that did run on a real server): a statement applies as
//!   far as it can, an unknown type is a named type, a referenced table that is not known is
//!   taken at its word, and whatever could not be followed becomes a note naming the construct.
//!   A statement that cannot be modelled never removes or hides an object.
//!
//! Modules:
//! - `script`: a script into located statements (with recovery around syntax errors);
//! - `names`: the name index that keeps lookups fast over long histories;
//! - `ast`: reading names, types and expressions out of the parse tree;
//! - one module per family of statements: `schemas` (schemas, extensions, `SET search_path`),
//!   `tables`, `columns`, `constraints`, `alter` (`ALTER TABLE`), `indexes`, `sequences`,
//!   `types` (enums, domains, composite types), `views` (views, materialized views, `CREATE
//!   TABLE AS`), `routines` (functions and triggers), `grants`, `comments`, `plpgsql` (`DO`
//!   blocks), and the `drop` and `rename` dispatchers.

mod alter;
mod ast;
mod columns;
mod comments;
mod constraints;
mod drop;
mod grants;
mod indexes;
mod names;
mod plpgsql;
mod rename;
mod routines;
mod schemas;
mod script;
mod sequences;
mod tables;
mod types;
mod views;

use pg_query::NodeEnum;
use pg_query::protobuf;

use crate::catalog::{Catalog, DEFAULT_SCHEMA, QualifiedName, Table};
use crate::diagnostics::Pos;
use crate::types::DataType;

pub use names::{FastHash, NameIndex};
pub use script::{
    ParsedStatement, ScriptStatement, SyntaxError, parse_script, parse_script_recovering,
    position_of, quoted_near,
};
pub use tables::TEMP_SCHEMA;

/// What a replayed statement did to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The catalog changed (or would have, but `IF [NOT] EXISTS` made it a no-op).
    Schema,
    /// A statement that does not change the modelled schema, such as DML, `SET` or `GRANT`.
    NoSchemaChange(&'static str),
    /// A schema change the catalog does not model and no rule needs (policies, publications,
    /// operators, ...).
    Unmodelled(&'static str),
}

/// A statement (or a part of one) that cannot be applied to the catalog as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError {
    pub message: String,
    /// Where inside the statement, when that is narrower than the statement: a line of a `DO`
    /// block's body.
    pub at: Option<Location>,
}

impl ReplayError {
    fn new(message: impl Into<String>) -> Self {
        ReplayError {
            message: message.into(),
            at: None,
        }
    }
}

/// A line inside a statement's string literal (a `DO` block's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Where the literal starts, as parse-tree locations count (a byte offset into the parsed
    /// text), at its opening quote.
    pub literal: i32,
    /// The 1-based line within the literal's value (line 1 starts right after the opening
    /// quote).
    pub line: usize,
}

type Result<T> = std::result::Result<T, ReplayError>;

/// What a session holds besides the catalog; see the module documentation.
#[derive(Debug, Clone)]
pub struct Session {
    search_path: Vec<String>,
    lenient: bool,
    /// Inside a PL/pgSQL block with an `EXCEPTION` handler: a statement may fail there on the
    /// server too, so a conflict is not taken as a sign that the replay's state is stale.
    in_handler: bool,
    notes: Vec<ReplayError>,
    names: NameIndex,
}

impl Default for Session {
    /// A strict session with PostgreSQL's default `search_path`.
    fn default() -> Self {
        Session::strict()
    }
}

impl Session {
    /// Everything must apply exactly (see the module documentation).
    pub fn strict() -> Self {
        Session {
            search_path: vec![DEFAULT_SCHEMA.to_string()],
            lenient: false,
            in_handler: false,
            notes: Vec::new(),
            names: NameIndex::default(),
        }
    }

    /// A statement applies as far as it can; what cannot be followed becomes a note.
    /// `search_path` is the one the migrations' runner sets (PostgreSQL's default is `public`).
    pub fn lenient(search_path: Vec<String>) -> Self {
        Session {
            search_path,
            lenient: true,
            ..Session::strict()
        }
    }

    pub fn search_path(&self) -> &[String] {
        &self.search_path
    }

    /// What the statements applied since the last call could not follow, in order (lenient
    /// sessions only; a strict session fails instead).
    pub fn take_notes(&mut self) -> Vec<ReplayError> {
        std::mem::take(&mut self.notes)
    }

    /// Forgets the name index: call after changing the catalog other than through
    /// [`Session::apply`].
    pub fn reset(&mut self) {
        self.names.reset();
    }

    /// Applies one parsed statement to the catalog.
    pub fn apply(&mut self, catalog: &mut Catalog, node: &NodeEnum) -> Result<Applied> {
        self.names.sync(catalog);
        let mut cx = Replay {
            catalog,
            session: self,
        };
        let result = cx.statement(node);
        self.names.follow(catalog, node, &result);
        result
    }

    /// The table a relation in a statement names, as the server would resolve it now: a
    /// qualified name as written, an unqualified one in the first schema of the `search_path`
    /// that has it (or, when none has, where it would be created).
    pub fn resolve_table(&self, catalog: &Catalog, schema: &str, name: &str) -> QualifiedName {
        QualifiedName::new(self.resolve_table_schema(catalog, schema, name), name)
    }

    /// The schema of [`Session::resolve_table`], without building the name.
    pub fn resolve_table_schema<'a>(
        &'a self,
        catalog: &Catalog,
        schema: &'a str,
        name: &str,
    ) -> &'a str {
        if !schema.is_empty() {
            return schema;
        }
        for s in self.names.temporary_schema().into_iter().chain(self.path()) {
            if self.names.table_position(catalog, s, name).is_some() {
                return s;
            }
        }
        self.creation_schema_name(catalog)
    }

    /// The table `name`, through the name index.
    pub fn table<'c>(&self, catalog: &'c Catalog, name: &QualifiedName) -> Option<&'c Table> {
        self.names
            .table_position(catalog, &name.schema, &name.name)
            .map(|i| &catalog.tables[i])
    }

    /// The table holding the index `name` (`schema` empty: looked up through the
    /// `search_path`).
    pub fn index_owner<'c>(
        &self,
        catalog: &'c Catalog,
        schema: &str,
        name: &str,
    ) -> Option<&'c Table> {
        let schemas: Vec<&str> = if schema.is_empty() {
            self.path().collect()
        } else {
            vec![schema]
        };
        schemas
            .into_iter()
            .find_map(|s| self.names.index_position(catalog, s, name))
            .map(|i| &catalog.tables[i])
    }

    /// Whether `name` may have partitions or tables inheriting from it (`false`: it certainly
    /// has none; most histories have none, and finding them takes a scan).
    pub fn may_have_children(&self, name: &QualifiedName) -> bool {
        self.names.may_have_children(&name.schema, &name.name)
    }

    /// The type a type name in a statement stands for now (never fails: a type the catalog does
    /// not know is a named type, [`DataType::Other`]).
    pub fn data_type(&self, catalog: &Catalog, type_name: &protobuf::TypeName) -> DataType {
        ast::resolve_type(catalog, self, type_name, true).unwrap_or(DataType::Unknown)
    }

    /// The schemas of the `search_path` in order, without `$user` (a schema named after the
    /// connecting role, which migrations do not create) and `pg_catalog`.
    fn path(&self) -> impl Iterator<Item = &str> {
        self.search_path
            .iter()
            .map(String::as_str)
            .filter(|s| *s != "$user" && *s != "pg_catalog" && *s != "pg_temp")
    }

    /// Where an unqualified name is created: the first schema of the `search_path` that exists.
    /// A lenient session trusts the first one named even when the catalog does not know it
    /// (the runner's schema exists on the server, made outside the migrations).
    fn creation_schema(&self, catalog: &Catalog) -> String {
        self.creation_schema_name(catalog).to_string()
    }

    fn creation_schema_name(&self, catalog: &Catalog) -> &str {
        let first = if self.lenient {
            self.path().next()
        } else {
            self.path().find(|s| catalog.has_schema(s))
        };
        first.unwrap_or(DEFAULT_SCHEMA)
    }
}

/// Replays a whole script into `catalog`, statement by statement, strictly.
pub fn replay_script(catalog: &mut Catalog, sql: &str) -> std::result::Result<(), (Pos, String)> {
    let statements =
        parse_script(sql).map_err(|e| (e.pos, format!("syntax error: {}", e.message)))?;
    let mut session = Session::strict();
    for statement in &statements {
        session
            .apply(catalog, &statement.node)
            .map_err(|e| (statement.pos, e.message))?;
    }
    Ok(())
}

/// One statement being applied: the catalog and the session.
struct Replay<'a> {
    catalog: &'a mut Catalog,
    session: &'a mut Session,
}

impl Replay<'_> {
    fn statement(&mut self, node: &NodeEnum) -> Result<Applied> {
        let cx = self;
        match node {
            NodeEnum::CreateStmt(s) => tables::create_table(cx, s),
            NodeEnum::AlterTableStmt(s) => alter::alter_table(cx, s),
            NodeEnum::IndexStmt(s) => indexes::create_index(cx, s),
            NodeEnum::DropStmt(s) => drop::drop(cx, s),
            NodeEnum::RenameStmt(s) => rename::rename(cx, s),
            NodeEnum::AlterObjectSchemaStmt(s) => rename::set_schema(cx, s),
            NodeEnum::CreateEnumStmt(s) => types::create_enum(cx, s),
            NodeEnum::AlterEnumStmt(s) => types::alter_enum(cx, s),
            NodeEnum::CreateDomainStmt(s) => types::create_domain(cx, s),
            NodeEnum::AlterDomainStmt(s) => types::alter_domain(cx, s),
            NodeEnum::CompositeTypeStmt(s) => types::create_composite(cx, s),
            NodeEnum::CommentStmt(s) => comments::comment(cx, s),
            NodeEnum::CreateFunctionStmt(s) => routines::create_function(cx, s),
            NodeEnum::CreateTrigStmt(s) => routines::create_trigger(cx, s),
            NodeEnum::CreateSeqStmt(s) => sequences::create_sequence(cx, s),
            NodeEnum::AlterSeqStmt(s) => sequences::alter_sequence(cx, s),
            NodeEnum::CreateSchemaStmt(s) => schemas::create_schema(cx, s),
            NodeEnum::CreateExtensionStmt(s) => schemas::create_extension(cx, s),
            NodeEnum::VariableSetStmt(s) => schemas::set(cx, s),
            NodeEnum::ViewStmt(s) => views::create_view(cx, s),
            NodeEnum::CreateTableAsStmt(s) => views::create_table_as(cx, s),
            NodeEnum::RefreshMatViewStmt(_) => Ok(Applied::NoSchemaChange("REFRESH")),
            NodeEnum::SelectStmt(s) => views::select(cx, s),
            NodeEnum::DoStmt(s) => plpgsql::do_block(cx, s),
            NodeEnum::GrantStmt(s) => grants::grant(cx, s),
            NodeEnum::InsertStmt(_) => Ok(Applied::NoSchemaChange("INSERT")),
            NodeEnum::UpdateStmt(_) => Ok(Applied::NoSchemaChange("UPDATE")),
            NodeEnum::DeleteStmt(_) => Ok(Applied::NoSchemaChange("DELETE")),
            NodeEnum::MergeStmt(_) => Ok(Applied::NoSchemaChange("MERGE")),
            NodeEnum::TruncateStmt(_) => Ok(Applied::NoSchemaChange("TRUNCATE")),
            NodeEnum::TransactionStmt(_) => Ok(Applied::NoSchemaChange("transaction control")),
            NodeEnum::VariableShowStmt(_) => Ok(Applied::NoSchemaChange("SHOW")),
            NodeEnum::ExplainStmt(_) => Ok(Applied::NoSchemaChange("EXPLAIN")),
            NodeEnum::VacuumStmt(_) => Ok(Applied::NoSchemaChange("VACUUM/ANALYZE")),
            NodeEnum::ReindexStmt(_) => Ok(Applied::NoSchemaChange("REINDEX")),
            NodeEnum::ClusterStmt(_) => Ok(Applied::NoSchemaChange("CLUSTER")),
            NodeEnum::CheckPointStmt(_) => Ok(Applied::NoSchemaChange("CHECKPOINT")),
            NodeEnum::NotifyStmt(_) | NodeEnum::ListenStmt(_) | NodeEnum::UnlistenStmt(_) => {
                Ok(Applied::NoSchemaChange("NOTIFY/LISTEN"))
            }
            // Role membership and the roles themselves are cluster-wide, outside the schema: the
            // catalog records what the schema grants to roles, not the roles.
            NodeEnum::GrantRoleStmt(_) => Ok(Applied::NoSchemaChange("GRANT/REVOKE role")),
            NodeEnum::CreateRoleStmt(_)
            | NodeEnum::AlterRoleStmt(_)
            | NodeEnum::AlterRoleSetStmt(_)
            | NodeEnum::DropRoleStmt(_) => Ok(Applied::NoSchemaChange("role")),
            NodeEnum::AlterOwnerStmt(_) => Ok(Applied::NoSchemaChange("owner")),
            NodeEnum::AlterDefaultPrivilegesStmt(_) => {
                Ok(Applied::NoSchemaChange("default privileges"))
            }
            NodeEnum::LockStmt(_) => Ok(Applied::NoSchemaChange("LOCK")),
            NodeEnum::CopyStmt(_) => Ok(Applied::NoSchemaChange("COPY")),
            NodeEnum::CallStmt(_) => Ok(Applied::NoSchemaChange("CALL")),
            NodeEnum::AlterFunctionStmt(_) => Ok(Applied::Unmodelled("ALTER FUNCTION")),
            NodeEnum::AlterExtensionStmt(s) => schemas::alter_extension(cx, s),
            NodeEnum::AlterExtensionContentsStmt(_) => Ok(Applied::Unmodelled("ALTER EXTENSION")),
            NodeEnum::CreatePolicyStmt(_) | NodeEnum::AlterPolicyStmt(_) => {
                Ok(Applied::Unmodelled("policy"))
            }
            _ => Ok(Applied::Unmodelled("statement")),
        }
    }

    fn lenient(&self) -> bool {
        self.session.lenient
    }

    /// Whether the statement is known to have succeeded on the server, so that a conflict with
    /// the replayed state means the state is stale (a lenient session outside `EXCEPTION`
    /// handlers): an object created again replaces the one held, a key added again replaces the
    /// old one, a table referenced but unknown is taken at its word.
    fn assume_applied(&self) -> bool {
        self.session.lenient && !self.session.in_handler
    }

    /// A part of the statement that cannot be followed: an error in a strict session, a note in
    /// a lenient one (which goes on with the rest of the statement).
    fn soft(&mut self, error: ReplayError) -> Result<()> {
        if self.session.lenient {
            self.session.notes.push(error);
            Ok(())
        } else {
            Err(error)
        }
    }

    /// The position of the existing table `schema.name` (`schema` empty: through the
    /// `search_path`).
    fn find_table(&mut self, schema: &str, name: &str) -> Option<usize> {
        self.session.names.sync(self.catalog);
        if !schema.is_empty() {
            return self
                .session
                .names
                .table_position(self.catalog, schema, name);
        }
        // Temporary tables come first, as on the server.
        let session = &*self.session;
        session
            .names
            .temporary_schema()
            .into_iter()
            .chain(session.path())
            .find_map(|s| session.names.table_position(self.catalog, s, name))
    }

    /// The schema an unqualified name is created in (a qualified one: its schema).
    fn creation_schema(&self, schema: &str) -> String {
        if schema.is_empty() {
            self.session.creation_schema(self.catalog)
        } else {
            schema.to_string()
        }
    }

    /// Whether the table at `table` may have partitions or children (see
    /// [`NameIndex::may_have_children`]).
    fn may_have_children(&mut self, table: usize) -> bool {
        self.session.names.sync(self.catalog);
        let t = &self.catalog.tables[table];
        self.session.names.may_have_children(&t.schema, &t.name)
    }

    /// The schema a relation a statement creates goes into: `pg_temp` for a temporary one.
    fn new_relation_schema(&self, r: &protobuf::RangeVar) -> String {
        if r.relpersistence == "t" {
            tables::TEMP_SCHEMA.to_string()
        } else {
            self.creation_schema(&r.schemaname)
        }
    }

    /// The schemas an unqualified name of a type or function is looked up in, in order.
    fn lookup_schemas(&self, schema: &str) -> Vec<String> {
        if schema.is_empty() {
            self.session.path().map(str::to_string).collect()
        } else {
            vec![schema.to_string()]
        }
    }

    /// The position of the table holding index `name`.
    fn index_owner(&mut self, schema: &str, name: &str) -> Option<usize> {
        self.session.names.sync(self.catalog);
        let (session, catalog) = (&*self.session, &*self.catalog);
        if !schema.is_empty() {
            return session.names.index_position(catalog, schema, name);
        }
        session
            .path()
            .find_map(|s| session.names.index_position(catalog, s, name))
    }

    /// Whether a relation (table, index, sequence, view) named `name` exists in `schema`:
    /// they share one namespace.
    fn relation_exists(&mut self, schema: &str, name: &str) -> bool {
        self.find_table(schema, name).is_some()
            || self.index_owner(schema, name).is_some()
            || self
                .catalog
                .sequences
                .iter()
                .any(|s| s.name == name && s.schema == schema)
            || self
                .catalog
                .views
                .iter()
                .any(|v| v.name == name && v.schema == schema)
    }
}

/// The failures of a statement made of several parts (objects of a `DROP`, subcommands of an
/// `ALTER TABLE`): when no part applied, the statement failed (the first failure is the error);
/// otherwise each failure is a note ([`Replay::soft`]).
fn settle(cx: &mut Replay<'_>, applied: usize, failures: Vec<ReplayError>) -> Result<()> {
    let mut failures = failures.into_iter();
    if applied == 0
        && let Some(first) = failures.next()
    {
        // The others still say something in a lenient session.
        for other in failures {
            cx.soft(other)?;
        }
        return Err(first);
    }
    for failure in failures {
        cx.soft(failure)?;
    }
    Ok(())
}

/// `relation "storage.objects" does not exist`, as PostgreSQL words it.
fn does_not_exist(kind: &str, schema: &str, name: &str) -> ReplayError {
    let shown = if schema.is_empty() {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    };
    ReplayError::new(format!("{kind} \"{shown}\" does not exist"))
}

#[cfg(test)]
mod tests;
