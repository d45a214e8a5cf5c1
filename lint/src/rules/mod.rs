//! The rules, one file each. A file's `//!` comment is the rule's documentation (printed by
//! `lint --explain RULE`, embedded in SARIF); [`crate::registry`] lists them all.
//!
//! Statement rules get a [`StatementContext`]: the parsed statement and the catalog *before* it
//! is applied. Schema-state rules get one table of the catalog after a statement or a file and
//! describe each problem as a [`Problem`]; the engine decides where it is reported.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use model::replay::{FastHash, Session};
use model::{Catalog, QualifiedName, Table};
use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType};

use crate::config::Config;
use crate::finding::Finding;

pub mod audit_log_append_only;
pub mod column_type_change;
pub mod concurrently_in_transaction;
pub mod constraint_without_not_valid;
pub mod drop_column;
pub mod drop_table;
pub mod enum_add_value_without_position;
pub mod fk_needs_index;
pub mod identifier_too_long;
pub mod index_without_concurrently;
pub mod jsonb_needs_gin;
pub mod not_null_column_without_default;
pub mod pii_column_dropped;
pub mod rename_column;
pub mod rename_table;
pub mod replay_failed;
pub mod require_lock_timeout;
pub mod require_statement_timeout;
pub mod security_definer_search_path;
pub mod soft_delete_needs_deleted_at;
pub mod suppression_without_reason;
pub mod syntax_error;
pub mod unflagged_personal_data;
pub mod unique_without_using_index;
pub mod unused_suppression;
pub mod uuid_primary_key;
pub mod volatile_default;

/// What is known about the file being linted when a statement is checked.
#[derive(Debug, Clone, Default)]
pub struct FileScope {
    /// The file's statements run in a transaction block its tool (or the server) opens: the
    /// file's layout says so (see [`crate::layout`]) and the configuration assumes migrations
    /// run in one.
    pub transactional_file: bool,
    /// The migration tool whose file this is, and how it runs the file.
    pub layout: crate::layout::Layout,
    pub transaction: crate::layout::Transaction,
    /// Inside an explicit `BEGIN` ... `COMMIT` of the file.
    pub explicit_transaction: bool,
    /// Tables created in this file (by name as the catalog spells it); they hold no rows and
    /// no traffic yet, so lock rules do not apply to them.
    pub new_tables: HashSet<String>,
    /// Indexes created in this file.
    pub new_indexes: HashSet<String>,
    /// `(table, column)` added in this file.
    pub new_columns: HashSet<(String, String)>,
    /// Whether the statements so far set a non-zero `lock_timeout` that is still in force.
    pub lock_timeout: Timeout,
    /// Whether the statements so far set a non-zero `statement_timeout` that is still in force.
    pub statement_timeout: Timeout,
    /// `require-lock-timeout` reported this file already (once per file).
    pub lock_timeout_reported: Cell<bool>,
    /// `require-statement-timeout` reported this file already (once per file).
    pub statement_timeout_reported: Cell<bool>,
}

/// A timeout setting as the statements of a file leave it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Timeout {
    /// Not set, or set to 0 (no timeout), `DEFAULT` or `RESET`.
    #[default]
    Unset,
    /// `SET` (or `set_config(..., false)`): until the session ends.
    Session,
    /// `SET LOCAL` (or `set_config(..., true)`): until the transaction ends.
    Local,
}

impl Timeout {
    pub fn is_set(self) -> bool {
        self != Timeout::Unset
    }
}

impl FileScope {
    pub fn in_transaction(&self) -> bool {
        self.transactional_file || self.explicit_transaction
    }
}

/// A constraint an `ALTER TABLE` adds, with its subcommand and the new column that declares it
/// inline (`None` for `ADD CONSTRAINT`).
pub type AddedConstraint<'a> = (
    &'a protobuf::AlterTableCmd,
    &'a protobuf::Constraint,
    Option<&'a protobuf::ColumnDef>,
);

/// One statement, with everything a statement rule may look at.
#[derive(Debug)]
pub struct StatementContext<'a> {
    pub node: &'a NodeEnum,
    /// The statement's text, without the closing semicolon.
    pub text: &'a str,
    /// Byte offset of the statement in its file.
    pub offset: usize,
    /// Added to a node's `location` to get a byte offset in the file.
    pub location_base: usize,
    pub file: usize,
    /// Index of the statement within its file.
    pub statement: usize,
    /// The schema before this statement.
    pub catalog: &'a Catalog,
    pub scope: &'a FileScope,
    pub config: &'a Config,
    /// Functions created by the replayed migrations without IMMUTABLE or STABLE.
    pub volatile_functions: &'a HashSet<String>,
    /// How the statement's names resolve (the `search_path`, and fast lookups in `catalog`).
    pub names: Resolver<'a>,
}

impl<'a> StatementContext<'a> {
    /// A finding covering the whole statement.
    pub fn finding(&self, rule: &str, message: impl Into<String>) -> Finding {
        let mut f = Finding::new(
            rule,
            self.file,
            (self.offset, self.offset + self.text.len()),
            message,
        );
        f.statement = Some(self.statement);
        f
    }

    /// A finding on the word at a node's `location` (the whole statement when it has none).
    pub fn finding_at(&self, rule: &str, location: i32, message: impl Into<String>) -> Finding {
        let mut f = self.finding(rule, message);
        if let Ok(loc) = usize::try_from(location) {
            let start = self.location_base + loc;
            let rel = start.saturating_sub(self.offset);
            if start >= self.offset && rel < self.text.len() && self.text.is_char_boundary(rel) {
                f.start = start;
                f.end = start + word_len(&self.text[rel..]);
            }
        }
        f
    }

    /// The table `name` in the schema before this statement.
    pub fn table(&self, name: &QualifiedName) -> Option<&'a Table> {
        self.names.table(name)
    }

    /// The `ALTER TABLE` statement on a table, with the table's key (see [`Resolver::key`]).
    pub fn altered_table(&self) -> Option<(&'a protobuf::AlterTableStmt, String)> {
        self.names.altered_table(self.node)
    }

    /// The locks the statement takes on tables ([`model::locks::statement_locks`]).
    pub fn locks(&self) -> Vec<model::locks::RelationLock> {
        model::locks::statement_locks(self.node, self.catalog, self.names.session)
    }

    /// Whether the table with key `table` existed before this file: tables created in the file
    /// are new.
    pub fn is_existing(&self, table: &str) -> bool {
        !self.scope.new_tables.contains(table)
    }

    /// For `ALTER TABLE` on a table that existed before this file (the lock rules' subject): the
    /// table's key and the statement's subcommands. `None` for anything else.
    pub fn existing_table_commands(
        &self,
    ) -> Option<(
        String,
        impl Iterator<Item = (AlterTableType, &'a protobuf::AlterTableCmd)> + 'a,
    )> {
        let (s, table) = self.altered_table()?;
        self.is_existing(&table)
            .then(|| (table, alter_table_cmds(s)))
    }

    /// For `ALTER TABLE ... ADD COLUMN` on a table that existed before this file: the table's key
    /// and each column added, with its subcommand. `None` for anything else.
    pub fn existing_table_added_columns(
        &self,
    ) -> Option<(
        String,
        impl Iterator<Item = (&'a protobuf::AlterTableCmd, &'a protobuf::ColumnDef)> + 'a,
    )> {
        let (table, commands) = self.existing_table_commands()?;
        let added = commands
            .filter(|(t, _)| *t == AlterTableType::AtAddColumn)
            .filter_map(|(_, cmd)| Some((cmd, cmd_column(cmd)?)));
        Some((table, added))
    }

    /// For `ALTER TABLE` on a table that existed before this file: the table's key and each
    /// constraint the statement adds, by `ADD CONSTRAINT` or inline on a column `ADD COLUMN`
    /// adds, in the order of the subcommands. `None` for anything else.
    pub fn existing_table_added_constraints(
        &self,
    ) -> Option<(String, impl Iterator<Item = AddedConstraint<'a>> + 'a)> {
        let (table, commands) = self.existing_table_commands()?;
        let added = commands.flat_map(|(t, cmd)| {
            let constraint = (t == AlterTableType::AtAddConstraint)
                .then(|| cmd_constraint(cmd))
                .flatten();
            let column = (t == AlterTableType::AtAddColumn)
                .then(|| cmd_column(cmd))
                .flatten();
            let inline = column.into_iter().flat_map(move |column| {
                column_constraints(column).map(move |constraint| (cmd, constraint, Some(column)))
            });
            constraint
                .map(|constraint| (cmd, constraint, None))
                .into_iter()
                .chain(inline)
        });
        Some((table, added))
    }

    /// The table an `ALTER TABLE` statement alters, as it is before the statement.
    pub fn altered_catalog_table(&self) -> Option<&'a Table> {
        let (s, _) = self.altered_table()?;
        self.table(&self.names.relation(s.relation.as_ref()?))
    }

    /// Whether column `column` of the table with key `table` was added in this file.
    pub fn is_new_column(&self, table: &str, column: &str) -> bool {
        self.scope
            .new_columns
            .contains(&(table.to_string(), column.to_string()))
    }
}

/// How names in a statement resolve against the schema before it: PostgreSQL's rules
/// (qualified names as written, unqualified ones through the `search_path`), with the replay
/// session's index for fast lookups.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'a> {
    pub catalog: &'a Catalog,
    pub session: &'a Session,
}

impl<'a> Resolver<'a> {
    /// The table a relation names (an existing one, or where a new one would go).
    pub fn relation(&self, r: &protobuf::RangeVar) -> QualifiedName {
        self.session
            .resolve_table(self.catalog, &r.schemaname, &r.relname)
    }

    /// A relation's key, the name findings and the linter's bookkeeping use: `name` in
    /// `public`, `schema.name` elsewhere.
    pub fn key(&self, r: &protobuf::RangeVar) -> String {
        let schema = self
            .session
            .resolve_table_schema(self.catalog, &r.schemaname, &r.relname);
        model::display_name(schema, &r.relname).into_owned()
    }

    /// The table a `[schema, ] name` list (of `DROP`, `COMMENT`) names.
    pub fn object(&self, names: &[String]) -> QualifiedName {
        let (schema, name) = match names {
            [.., schema, name] => (schema.as_str(), name.as_str()),
            [name] => ("", name.as_str()),
            [] => ("", ""),
        };
        self.session.resolve_table(self.catalog, schema, name)
    }

    /// [`Resolver::object`] as a key.
    pub fn object_key(&self, names: &[String]) -> String {
        self.object(names).display().into_owned()
    }

    pub fn table(&self, name: &QualifiedName) -> Option<&'a Table> {
        self.session.table(self.catalog, name)
    }

    /// The table holding the index a `[schema, ] name` list names.
    pub fn index_owner(&self, names: &[String]) -> Option<&'a Table> {
        let (schema, name) = match names {
            [.., schema, name] => (schema.as_str(), name.as_str()),
            [name] => ("", name.as_str()),
            [] => return None,
        };
        self.session.index_owner(self.catalog, schema, name)
    }

    /// The enum type a `[schema, ] name` list names.
    pub fn enum_type(&self, names: &[String]) -> Option<&'a model::EnumType> {
        let (schema, name) = match names {
            [.., schema, name] => (vec![schema.clone()], name),
            [name] => (self.session.search_path().to_vec(), name),
            [] => return None,
        };
        schema
            .iter()
            .find_map(|s| self.catalog.enum_named(&QualifiedName::new(s, name)))
    }

    /// `ALTER TABLE` on a table (not an index, view or sequence) with its table's key.
    pub fn altered_table<'n>(
        &self,
        node: &'n NodeEnum,
    ) -> Option<(&'n protobuf::AlterTableStmt, String)> {
        match node {
            NodeEnum::AlterTableStmt(s)
                if protobuf::ObjectType::try_from(s.objtype)
                    == Ok(protobuf::ObjectType::ObjectTable) =>
            {
                Some((s, self.key(s.relation.as_ref()?)))
            }
            _ => None,
        }
    }
}

/// Length of the identifier, quoted identifier or keyword at the start of `text`.
fn word_len(text: &str) -> usize {
    if let Some(rest) = text.strip_prefix('"') {
        let mut i = 0;
        let bytes = rest.as_bytes();
        while i < bytes.len() {
            if bytes[i] == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                return i + 2;
            }
            i += 1;
        }
        return text.len();
    }
    let n = text
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
        .map_or(text.len(), |(i, _)| i);
    n.max(text.chars().next().map_or(0, char::len_utf8))
}

/// A problem in a schema state, found by a schema-state rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub rule: &'static str,
    pub table: String,
    pub columns: Vec<String>,
    pub message: String,
    pub help: String,
}

// ---------------------------------------------------------------------------------------------
// AST helpers shared by the rules and the engine.

pub fn string_value(node: &protobuf::Node) -> Option<&str> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

pub fn strings(nodes: &[protobuf::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(string_value)
        .map(str::to_string)
        .collect()
}

/// The names of a `DROP`/`COMMENT` object (`[schema, ] name` lists).
pub fn object_names(node: &protobuf::Node) -> Vec<String> {
    match node.node.as_ref() {
        Some(NodeEnum::List(list)) => strings(&list.items),
        Some(NodeEnum::String(s)) => vec![s.sval.clone()],
        Some(NodeEnum::TypeName(t)) => strings(&t.names),
        _ => Vec::new(),
    }
}

/// The subcommands of an `ALTER TABLE` on a table.
pub fn alter_table_cmds(
    s: &protobuf::AlterTableStmt,
) -> impl Iterator<Item = (AlterTableType, &protobuf::AlterTableCmd)> {
    s.cmds.iter().filter_map(|c| match c.node.as_ref() {
        Some(NodeEnum::AlterTableCmd(cmd)) => Some((
            AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined),
            cmd.as_ref(),
        )),
        _ => None,
    })
}

pub fn contype(c: &protobuf::Constraint) -> ConstrType {
    ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined)
}

/// The constraints of a column definition.
pub fn column_constraints(c: &protobuf::ColumnDef) -> impl Iterator<Item = &protobuf::Constraint> {
    c.constraints.iter().filter_map(|n| match n.node.as_ref() {
        Some(NodeEnum::Constraint(k)) => Some(k.as_ref()),
        _ => None,
    })
}

/// The constraint of an `ADD CONSTRAINT` subcommand.
pub fn cmd_constraint(cmd: &protobuf::AlterTableCmd) -> Option<&protobuf::Constraint> {
    match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::Constraint(c)) => Some(c),
        _ => None,
    }
}

/// The column definition of an `ADD COLUMN` / `ALTER COLUMN TYPE` subcommand.
pub fn cmd_column(cmd: &protobuf::AlterTableCmd) -> Option<&protobuf::ColumnDef> {
    match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::ColumnDef(c)) => Some(c),
        _ => None,
    }
}

/// The default expression of a column definition, if it has one.
pub fn column_default(c: &protobuf::ColumnDef) -> Option<&protobuf::Node> {
    c.raw_default.as_deref().or_else(|| {
        column_constraints(c)
            .find(|k| contype(k) == ConstrType::ConstrDefault)
            .and_then(|k| k.raw_expr.as_deref())
    })
}

/// The last name of a type (`pg_catalog.int4` -> `int4`).
pub fn type_base_name(t: Option<&protobuf::TypeName>) -> String {
    t.map(|t| strings(&t.names).last().cloned().unwrap_or_default())
        .unwrap_or_default()
}

/// [`model::ident::quote`], remembered per name: it asks PostgreSQL's scanner whether a name is
/// a keyword, and the schema-state rules quote the same table and column names in their help
/// text after every statement that touches a table.
pub fn quote(name: &str) -> String {
    thread_local! {
        static QUOTED: RefCell<HashMap<String, String, FastHash>> = RefCell::default();
    }
    QUOTED.with(|q| {
        if let Some(quoted) = q.borrow().get(name) {
            return quoted.clone();
        }
        let quoted = model::ident::quote(name);
        q.borrow_mut().insert(name.to_string(), quoted.clone());
        quoted
    })
}

/// A table's name as SQL ([`Table::sql_name`]), with the quoting remembered by [`quote`]: help
/// texts name the table after every statement that touches it.
pub fn sql_name(table: &Table) -> String {
    if table.schema == model::DEFAULT_SCHEMA {
        quote(&table.name)
    } else {
        format!("{}.{}", quote(&table.schema), quote(&table.name))
    }
}

/// Comma-separated, backquoted names for messages.
pub fn list(names: &[String]) -> String {
    // Built by hand: schema-state messages are made again after every statement.
    let mut out = String::with_capacity(names.iter().map(|n| n.len() + 4).sum());
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(n);
        out.push('`');
    }
    out
}
