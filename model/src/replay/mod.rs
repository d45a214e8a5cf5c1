//! Replaying SQL into the catalog: PostgreSQL's own parser (pg_query) reads each statement and the
//! schema-changing ones are applied to a [`Catalog`], as the server would apply them.
//!
//! This is the one replay that both the migration diff (previous state = every committed
//! migration replayed) and the linter (state before and after each statement) use. Statements
//! that do not change the modelled schema (DML, grants, `SET`, `DO` blocks, ...) are reported as
//! such and never break a replay; text inside dollar-quoted bodies is never mistaken for DDL
//! because the parser, not a regex, decides what a statement is.
//!
//! - `script`: a script into located statements (with recovery around syntax errors);
//! - `names`: the name index that keeps lookups fast over long histories;
//! - `ast`: reading names, types and expressions out of the parse tree;
//! - one module per family of statements: `tables`, `indexes`, `enums`, `routines` (functions
//!   and triggers), `grants`, `comments`, and the `drop` and `rename` dispatchers.

mod ast;
mod comments;
mod drop;
mod enums;
mod grants;
mod indexes;
mod names;
mod rename;
mod routines;
mod script;
mod tables;

use pg_query::NodeEnum;

use crate::catalog::{Catalog, Table};
use crate::diagnostics::Pos;

pub use ast::data_type;
pub use names::{FastHash, NameIndex};
pub use script::{
    ParsedStatement, ScriptStatement, SyntaxError, parse_script, parse_script_recovering,
    position_of, quoted_near,
};

/// What a replayed statement did to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The catalog changed (or would have, but `IF [NOT] EXISTS` made it a no-op).
    Schema,
    /// A statement that does not change the modelled schema, such as DML, `SET` or `GRANT`.
    NoSchemaChange(&'static str),
    /// A schema change the catalog does not model (views, sequences, extensions, ...).
    Unmodelled(&'static str),
}

/// A statement that cannot be applied to the catalog as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError {
    pub message: String,
}

impl ReplayError {
    fn new(message: impl Into<String>) -> Self {
        ReplayError {
            message: message.into(),
        }
    }
}

type Result<T> = std::result::Result<T, ReplayError>;

/// Replays a whole script into `catalog`, statement by statement.
pub fn replay_script(catalog: &mut Catalog, sql: &str) -> std::result::Result<(), (Pos, String)> {
    let statements =
        parse_script(sql).map_err(|e| (e.pos, format!("syntax error: {}", e.message)))?;
    let mut names = NameIndex::default();
    for statement in &statements {
        apply(catalog, &mut names, &statement.node).map_err(|e| (statement.pos, e.message))?;
    }
    Ok(())
}

/// Applies one parsed statement to the catalog, `names` answering the name lookups (it follows
/// the change; see [`NameIndex`]).
pub fn apply(catalog: &mut Catalog, names: &mut NameIndex, node: &NodeEnum) -> Result<Applied> {
    names.sync(catalog);
    let mut cx = Replay { catalog, names };
    let result = cx.statement(node);
    names.follow(catalog, node, &result);
    result
}

/// One statement being applied: the catalog and the lookups into it.
struct Replay<'a> {
    catalog: &'a mut Catalog,
    names: &'a mut NameIndex,
}

impl Replay<'_> {
    fn statement(&mut self, node: &NodeEnum) -> Result<Applied> {
        let cx = self;
        match node {
            NodeEnum::CreateStmt(s) => tables::create_table(cx, s),
            NodeEnum::AlterTableStmt(s) => tables::alter_table(cx, s),
            NodeEnum::IndexStmt(s) => indexes::create_index(cx, s),
            NodeEnum::DropStmt(s) => drop::drop(cx, s),
            NodeEnum::RenameStmt(s) => rename::rename(cx, s),
            NodeEnum::CreateEnumStmt(s) => enums::create_enum(cx, s),
            NodeEnum::AlterEnumStmt(s) => enums::alter_enum(cx, s),
            NodeEnum::CommentStmt(s) => comments::comment(cx, s),
            NodeEnum::CreateFunctionStmt(s) => routines::create_function(cx, s),
            NodeEnum::CreateTrigStmt(s) => routines::create_trigger(cx, s),
            NodeEnum::InsertStmt(_) => Ok(Applied::NoSchemaChange("INSERT")),
            NodeEnum::UpdateStmt(_) => Ok(Applied::NoSchemaChange("UPDATE")),
            NodeEnum::DeleteStmt(_) => Ok(Applied::NoSchemaChange("DELETE")),
            NodeEnum::SelectStmt(_) => Ok(Applied::NoSchemaChange("SELECT")),
            NodeEnum::TruncateStmt(_) => Ok(Applied::NoSchemaChange("TRUNCATE")),
            NodeEnum::TransactionStmt(_) => Ok(Applied::NoSchemaChange("transaction control")),
            NodeEnum::VariableSetStmt(_) => Ok(Applied::NoSchemaChange("SET")),
            NodeEnum::DoStmt(_) => Ok(Applied::NoSchemaChange("DO")),
            NodeEnum::GrantStmt(s) => grants::grant(cx, s),
            // Role membership and the roles themselves are cluster-wide, outside the schema: the
            // catalog records what the schema grants to roles, not the roles.
            NodeEnum::GrantRoleStmt(_) => Ok(Applied::NoSchemaChange("GRANT/REVOKE role")),
            NodeEnum::CreateRoleStmt(_)
            | NodeEnum::AlterRoleStmt(_)
            | NodeEnum::DropRoleStmt(_) => Ok(Applied::NoSchemaChange("role")),
            NodeEnum::LockStmt(_) => Ok(Applied::NoSchemaChange("LOCK")),
            NodeEnum::CopyStmt(_) => Ok(Applied::NoSchemaChange("COPY")),
            NodeEnum::CallStmt(_) => Ok(Applied::NoSchemaChange("CALL")),
            NodeEnum::CreateExtensionStmt(_) => Ok(Applied::Unmodelled("CREATE EXTENSION")),
            NodeEnum::ViewStmt(_) => Ok(Applied::Unmodelled("CREATE VIEW")),
            NodeEnum::CreateSeqStmt(_) | NodeEnum::AlterSeqStmt(_) => {
                Ok(Applied::Unmodelled("sequence"))
            }
            NodeEnum::CreateSchemaStmt(_) => Ok(Applied::Unmodelled("CREATE SCHEMA")),
            NodeEnum::CreatePolicyStmt(_) | NodeEnum::AlterPolicyStmt(_) => {
                Ok(Applied::Unmodelled("policy"))
            }
            _ => Ok(Applied::Unmodelled("statement")),
        }
    }

    /// The table named `name`, through the name index.
    fn find_table(&mut self, name: &str) -> Option<&Table> {
        let i = self.names.position_mut(self.catalog, name)?;
        Some(&self.catalog.tables[i])
    }

    fn table_mut(&mut self, name: &str) -> Result<&mut Table> {
        match self.names.position_mut(self.catalog, name) {
            Some(i) => Ok(&mut self.catalog.tables[i]),
            None => Err(ReplayError::new(format!(
                "relation \"{name}\" does not exist"
            ))),
        }
    }

    /// Whether some table has an index named `name` (index names share one namespace).
    fn index_exists(&mut self, name: &str) -> bool {
        self.names.sync(self.catalog);
        self.names.index_position(self.catalog, name).is_some()
    }
}

#[cfg(test)]
mod tests;
