//! Replaying SQL into the catalog: PostgreSQL's own parser (pg_query) reads each statement and the
//! schema-changing ones are applied to a [`Catalog`], as the server would apply them.
//!
//! This is the one replay that both the migration diff (previous state = every committed
//! migration replayed) and the linter (state before and after each statement) use. Statements
//! that do not change the modelled schema (DML, grants, `SET`, `DO` blocks, ...) are reported as
//! such and never break a replay; text inside dollar-quoted bodies is never mistaken for DDL
//! because the parser, not a regex, decides what a statement is.

use std::cell::RefCell;
use std::collections::HashMap;

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType, DropBehavior, ObjectType, SortByDir};

use crate::annotations;
use crate::catalog::*;
use crate::diagnostics::Pos;
use crate::expr::deparse_expression;
use crate::ident::derived_name;
use crate::types::DataType;

/// One statement of a script, with where it starts.
#[derive(Debug, Clone)]
pub struct ScriptStatement<'a> {
    /// The statement's text, without the separating semicolon.
    pub text: &'a str,
    /// Byte offset of the statement's first character in the script.
    pub offset: usize,
    pub pos: Pos,
    pub node: NodeEnum,
}

/// A script that PostgreSQL's parser rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    /// The start of the statement that fails to parse.
    pub pos: Pos,
    pub offset: usize,
}

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

/// The 1-based line and column of a byte offset (columns count characters).
pub fn position_of(text: &str, offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Splits and parses a script. On a syntax error, the statement that fails is located by parsing
/// the scanner's statement split one by one (pg_query's error carries no position).
pub fn parse_script(sql: &str) -> std::result::Result<Vec<ScriptStatement<'_>>, SyntaxError> {
    match pgparse::parse(sql) {
        Ok(parsed) => Ok(statements_of(sql, parsed.stmts)),
        Err(error) => {
            let message = parse_error_message(error);
            let offset = failing_statement_offset(sql);
            Err(SyntaxError {
                message,
                pos: position_of(sql, offset),
                offset,
            })
        }
    }
}

/// One statement of a script that may contain syntax errors: see [`parse_script_recovering`].
// Nearly every item is a statement: boxing it would cost an allocation per statement.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ParsedStatement<'a> {
    Statement(ScriptStatement<'a>),
    /// A statement PostgreSQL's parser rejects; `text` is the statement as the scanner split it
    /// (without leading comments), so a caller can look for the failing token inside it.
    Error {
        error: SyntaxError,
        text: &'a str,
    },
}

/// Like [`parse_script`], but a syntax error does not hide the rest of the script: when the
/// whole script fails to parse, it is split with PostgreSQL's scanner and every statement is
/// parsed on its own, so the statements around a broken one are still returned (in order). A
/// token the scanner cannot finish (an unterminated quote, dollar quote or comment) runs to the
/// end of the script: the statement it is in is the last item, an error, after every statement
/// before it.
pub fn parse_script_recovering(sql: &str) -> Vec<ParsedStatement<'_>> {
    let error = match pgparse::parse(sql) {
        Ok(parsed) => {
            return statements_of(sql, parsed.stmts)
                .into_iter()
                .map(ParsedStatement::Statement)
                .collect();
        }
        Err(error) => parse_error_message(error),
    };
    // Where the scanner could split: all of it, or the text before a token it cannot finish.
    let (parts, scanned) = match pg_query::split_with_scanner(sql) {
        Ok(parts) => (parts, sql.len()),
        Err(split_error) => match unfinished_token_start(sql, &split_error)
            .and_then(|at| Some((pg_query::split_with_scanner(&sql[..at]).ok()?, at)))
        {
            Some(split) => split,
            None => {
                // Nowhere to cut (e.g. a NUL byte): the whole script is one error.
                let (offset, text) = trim_leading_trivia(sql, 0, sql.len());
                return vec![ParsedStatement::Error {
                    error: SyntaxError {
                        message: error,
                        pos: position_of(sql, offset),
                        offset,
                    },
                    text,
                }];
            }
        },
    };
    let mut out = Vec::new();
    let mut cursor = PosCursor::default();
    let mut search_from = 0;
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    for part in parts {
        // The parts are slices of `sql`: where one starts is where it points. (Searching for its
        // text could find it earlier, inside a token the scanner skipped.)
        let start = (part.as_ptr() as usize)
            .checked_sub(sql.as_ptr() as usize)
            .filter(|&at| at >= search_from && at + part.len() <= scanned)
            .unwrap_or(search_from);
        // Text the scanner skipped (an invalid token) is kept as a piece of its own.
        pieces.push((search_from, start));
        pieces.push((start, start + part.len()));
        search_from = start + part.len();
    }
    // Before an unfinished token, the last part without its `;` is the start of the statement
    // that token breaks: it joins the rest.
    if scanned < sql.len()
        && !sql[search_from..scanned].contains(';')
        && let Some((start, _)) = pieces.pop()
    {
        search_from = start;
    }
    // So is whatever follows the last statement it found (an unclosed parenthesis or quote).
    pieces.push((search_from, sql.len()));
    for (start, end) in pieces {
        let (mut offset, mut text) = trim_leading_trivia(sql, start, end);
        while text.starts_with(';') {
            (offset, text) = trim_leading_trivia(sql, offset + 1, end);
        }
        if text.is_empty() {
            continue;
        }
        let pos = cursor.advance(sql, offset);
        match pgparse::parse(text) {
            Ok(parsed) => {
                for raw in parsed.stmts {
                    if let Some(node) = raw.stmt.and_then(|s| s.node) {
                        out.push(ParsedStatement::Statement(ScriptStatement {
                            text,
                            offset,
                            pos,
                            node,
                        }));
                    }
                }
            }
            Err(e) => out.push(ParsedStatement::Error {
                error: SyntaxError {
                    message: parse_error_message(e),
                    pos,
                    offset,
                },
                text,
            }),
        }
    }
    out
}

/// Where the token the scanner could not finish starts (an unterminated quoted string,
/// dollar-quoted body or comment runs to the end of the script, and the scanner's message quotes
/// it from its first character to the end).
fn unfinished_token_start(sql: &str, error: &pg_query::Error) -> Option<usize> {
    let pg_query::Error::Split(message) = error else {
        return None;
    };
    let near = quoted_near(message)?;
    (!near.trim().is_empty() && sql.ends_with(near)).then(|| sql.len() - near.len())
}

/// The text a PostgreSQL syntax error quotes: `... at or near "X"` -> `X`.
pub fn quoted_near(message: &str) -> Option<&str> {
    let start = message.find("near \"")? + "near \"".len();
    let end = message.rfind('"')?;
    (end > start).then(|| &message[start..end])
}

fn parse_error_message(error: pg_query::Error) -> String {
    match error {
        pg_query::Error::Parse(m) => m,
        other => other.to_string(),
    }
}

/// The statements of a parse result, with their text and position. Statements come in source
/// order, so positions are computed in one pass over the script (a script of 20,000 statements
/// costs one scan, not one scan per statement).
fn statements_of(sql: &str, stmts: Vec<protobuf::RawStmt>) -> Vec<ScriptStatement<'_>> {
    let mut cursor = PosCursor::default();
    stmts
        .into_iter()
        .filter_map(|raw| {
            let start = usize::try_from(raw.stmt_location)
                .unwrap_or(0)
                .min(sql.len());
            let len = usize::try_from(raw.stmt_len).unwrap_or(0);
            let node = raw.stmt?.node?;
            let end = if len == 0 {
                sql.len()
            } else {
                (start + len).min(sql.len())
            };
            // stmt_location includes the whitespace and comments before the statement.
            let (offset, text) = trim_leading_trivia(sql, start, end);
            Some(ScriptStatement {
                text,
                offset,
                pos: cursor.advance(sql, offset),
                node,
            })
        })
        .collect()
}

/// Line and column of increasing byte offsets, computed incrementally.
#[derive(Default)]
struct PosCursor {
    offset: usize,
    /// 0-based line and column (in characters) of `offset`.
    line: usize,
    column: usize,
}

impl PosCursor {
    fn advance(&mut self, sql: &str, offset: usize) -> Pos {
        let offset = sql.floor_char_boundary(offset.min(sql.len()));
        if offset < self.offset {
            return position_of(sql, offset);
        }
        let skipped = &sql[self.offset..offset];
        match skipped.rfind('\n') {
            Some(last) => {
                self.line += skipped.matches('\n').count();
                self.column = skipped[last + 1..].chars().count();
            }
            None => self.column += skipped.chars().count(),
        }
        self.offset = offset;
        Pos {
            line: self.line + 1,
            column: self.column + 1,
        }
    }
}

fn failing_statement_offset(sql: &str) -> usize {
    parse_script_recovering(sql)
        .into_iter()
        .find_map(|p| match p {
            ParsedStatement::Error { error, .. } => Some(error.offset),
            ParsedStatement::Statement(_) => None,
        })
        .unwrap_or_default()
}

/// Skips whitespace and `--` / `/* */` comments at the start of `sql[start..end]`.
fn trim_leading_trivia(sql: &str, start: usize, end: usize) -> (usize, &str) {
    let mut i = start;
    let bytes = sql.as_bytes();
    while i < end {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
        } else if sql[i..end].starts_with("--") {
            i = sql[i..end].find('\n').map_or(end, |n| i + n + 1);
        } else if let Some(n) = block_comment_len(&sql[i..end]) {
            i += n;
        } else {
            break;
        }
    }
    (i, sql[i..end].trim_end())
}

/// The length of the `/* ... */` comment `text` starts with. PostgreSQL's block comments nest;
/// an unterminated one is not a comment but the scanner's error (`None`).
fn block_comment_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if !bytes.starts_with(b"/*") {
        return None;
    }
    let (mut depth, mut i) = (1usize, 2);
    while i + 1 < bytes.len() {
        match &bytes[i..i + 2] {
            b"/*" => (depth, i) = (depth + 1, i + 2),
            b"*/" if depth == 1 => return Some(i + 2),
            b"*/" => (depth, i) = (depth - 1, i + 2),
            _ => i += 1,
        }
    }
    None
}

/// Replays a whole script into `catalog`, statement by statement.
pub fn replay_script(catalog: &mut Catalog, sql: &str) -> std::result::Result<(), (Pos, String)> {
    let statements =
        parse_script(sql).map_err(|e| (e.pos, format!("syntax error: {}", e.message)))?;
    for statement in &statements {
        apply(catalog, &statement.node).map_err(|e| (statement.pos, e.message))?;
    }
    Ok(())
}

/// Applies one parsed statement to the catalog.
pub fn apply(catalog: &mut Catalog, node: &NodeEnum) -> Result<Applied> {
    match node {
        NodeEnum::CreateStmt(s) => create_table(catalog, s),
        NodeEnum::AlterTableStmt(s) => alter_table(catalog, s),
        NodeEnum::IndexStmt(s) => create_index(catalog, s),
        NodeEnum::DropStmt(s) => drop(catalog, s),
        NodeEnum::RenameStmt(s) => rename(catalog, s),
        NodeEnum::CreateEnumStmt(s) => create_enum(catalog, s),
        NodeEnum::AlterEnumStmt(s) => alter_enum(catalog, s),
        NodeEnum::CommentStmt(s) => comment(catalog, s),
        NodeEnum::CreateFunctionStmt(s) => create_function(catalog, s),
        NodeEnum::CreateTrigStmt(s) => create_trigger(catalog, s),
        NodeEnum::InsertStmt(_) => Ok(Applied::NoSchemaChange("INSERT")),
        NodeEnum::UpdateStmt(_) => Ok(Applied::NoSchemaChange("UPDATE")),
        NodeEnum::DeleteStmt(_) => Ok(Applied::NoSchemaChange("DELETE")),
        NodeEnum::SelectStmt(_) => Ok(Applied::NoSchemaChange("SELECT")),
        NodeEnum::TruncateStmt(_) => Ok(Applied::NoSchemaChange("TRUNCATE")),
        NodeEnum::TransactionStmt(_) => Ok(Applied::NoSchemaChange("transaction control")),
        NodeEnum::VariableSetStmt(_) => Ok(Applied::NoSchemaChange("SET")),
        NodeEnum::DoStmt(_) => Ok(Applied::NoSchemaChange("DO")),
        NodeEnum::GrantStmt(s) => grant(catalog, s),
        // Role membership and the roles themselves are cluster-wide, outside the schema: the
        // catalog records what the schema grants to roles, not the roles.
        NodeEnum::GrantRoleStmt(_) => Ok(Applied::NoSchemaChange("GRANT/REVOKE role")),
        NodeEnum::CreateRoleStmt(_) | NodeEnum::AlterRoleStmt(_) | NodeEnum::DropRoleStmt(_) => {
            Ok(Applied::NoSchemaChange("role"))
        }
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

// ---------------------------------------------------------------------------------------------
// Names

fn string_value(node: &protobuf::Node) -> Option<&str> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

fn strings(nodes: &[protobuf::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(string_value)
        .map(str::to_string)
        .collect()
}

/// The unqualified name of a possibly schema-qualified object; only `public` (or none) is modelled.
fn object_name(names: &[String]) -> Result<String> {
    match names {
        [name] => Ok(name.clone()),
        [schema, name] if schema == "public" => Ok(name.clone()),
        [schema, name] => Err(ReplayError::new(format!(
            "`{schema}.{name}`: only the public schema is modelled"
        ))),
        _ => Err(ReplayError::new(format!(
            "unsupported qualified name `{}`",
            names.join(".")
        ))),
    }
}

fn relation_name(relation: Option<&protobuf::RangeVar>) -> Result<String> {
    let r = relation.ok_or_else(|| ReplayError::new("statement names no table"))?;
    if !r.schemaname.is_empty() && r.schemaname != "public" {
        return Err(ReplayError::new(format!(
            "`{}.{}`: only the public schema is modelled",
            r.schemaname, r.relname
        )));
    }
    Ok(r.relname.clone())
}

/// The table named `name`. Searched from the most recently created: a migration mostly touches
/// the tables it just created, and names are unique, so the result is the same as a forward
/// search (and a long history replays in near-linear time).
/// Under [`NameIndex::apply`] the index answers instead of a scan.
fn find_table<'c>(catalog: &'c Catalog, name: &str) -> Option<&'c Table> {
    match with_active_index(|ix| ix.position_mut(catalog, name)) {
        Some(found) => found.map(|i| &catalog.tables[i]),
        None => catalog.tables.iter().rev().find(|t| t.name == name),
    }
}

fn table_mut<'c>(catalog: &'c mut Catalog, name: &str) -> Result<&'c mut Table> {
    let missing = || ReplayError::new(format!("relation \"{name}\" does not exist"));
    match with_active_index(|ix| ix.position_mut(catalog, name)) {
        Some(found) => found.map(|i| &mut catalog.tables[i]).ok_or_else(missing),
        None => catalog
            .tables
            .iter_mut()
            .rev()
            .find(|t| t.name == name)
            .ok_or_else(missing),
    }
}

/// Whether some table has an index named `name` (index names share one namespace).
fn index_exists(catalog: &Catalog, name: &str) -> bool {
    match with_active_index(|ix| {
        ix.sync(catalog);
        ix.index_position(catalog, name)
    }) {
        Some(found) => found.is_some(),
        None => catalog
            .tables
            .iter()
            .any(|t| t.indexes.iter().any(|i| i.name == name)),
    }
}

// ---------------------------------------------------------------------------------------------
// Name indexes for long replays

/// Hash indexes over the catalog's table and index names, kept beside a catalog that is
/// replayed statement by statement for a long time (the linter replays whole histories:
/// thousands of tables). Without it every lookup scans the table list and every `CREATE INDEX`
/// scans every index for a name clash, which is quadratic over a long history.
///
/// The catalog's fields stay the one source of truth: a hit is checked against the catalog
/// before it is believed (a stale one falls back to a scan), tables appended since the last use
/// are indexed on the next lookup, a shorter table list (a drop) and a rename make it rebuild.
/// It follows every change made through [`NameIndex::apply`]; after changing the catalog by
/// other means, call [`NameIndex::reset`].
///
/// Keys are hashes of the names, not the names: the catalog holds those, every hit is compared
/// with it anyway, and thousands of copied names cost more to make and free than the lookups.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    /// Hash of a table name -> positions in `catalog.tables`.
    tables: HashMap<u64, Positions, FastHash>,
    /// Hash of an index name -> positions of the tables holding it.
    indexes: HashMap<u64, Positions, FastHash>,
    /// `catalog.tables.len()` when last brought up to date; `None` when a rebuild is due.
    synced: Option<usize>,
}

/// Table positions under one hash: nearly always one.
#[derive(Debug, Clone)]
enum Positions {
    One(usize),
    Many(Vec<usize>),
}

impl Positions {
    /// Adds `i` to `slot`; a new slot to insert when there was none.
    fn add(slot: Option<&mut Positions>, i: usize) -> Option<Positions> {
        let Some(p) = slot else {
            return Some(Positions::One(i));
        };
        match p {
            Positions::One(j) if *j == i => {}
            Positions::One(j) => {
                let j = *j;
                *p = Positions::Many(vec![j, i]);
            }
            Positions::Many(v) => {
                if !v.contains(&i) {
                    v.push(i);
                }
            }
        }
        None
    }

    fn as_slice(&self) -> &[usize] {
        match self {
            Positions::One(i) => std::slice::from_ref(i),
            Positions::Many(v) => v,
        }
    }
}

fn name_hash(name: &str) -> u64 {
    use std::hash::BuildHasher;
    FastHash::default().hash_one(name)
}

fn add_position(map: &mut HashMap<u64, Positions, FastHash>, name: &str, i: usize) {
    let key = name_hash(name);
    if let Some(new) = Positions::add(map.get_mut(&key), i) {
        map.insert(key, new);
    }
}

/// The hasher of the maps keyed by names from the migrations being replayed: foldhash with a
/// fixed seed (the names come from the repository, not from an adversary, and SipHash cost more
/// than the lookups it served). Keys are the names' 64-bit hashes, so collisions cost scans: a
/// hand-written FxHash gave 962 of 5,000 names shaped `big_a_N_idx` a hash another one had.
pub type FastHash = foldhash::fast::FixedState;

thread_local! {
    /// The index of the [`NameIndex::apply`] running on this thread, lent to the lookups above
    /// so the statement functions keep their plain `&mut Catalog` signatures.
    static ACTIVE_INDEX: RefCell<Option<NameIndex>> = const { RefCell::new(None) };
}

fn with_active_index<R>(f: impl FnOnce(&mut NameIndex) -> R) -> Option<R> {
    ACTIVE_INDEX.with(|a| a.borrow_mut().as_mut().map(f))
}

impl NameIndex {
    /// Forgets everything: the next use rebuilds from the catalog.
    pub fn reset(&mut self) {
        self.synced = None;
    }

    /// Brings the index up to date: tables appended since the last call are added; a shorter
    /// table list, or a reset, rebuilds it.
    pub fn sync(&mut self, catalog: &Catalog) {
        let len = catalog.tables.len();
        let from = match self.synced {
            Some(n) if n <= len => n,
            _ => {
                self.tables.clear();
                self.indexes.clear();
                0
            }
        };
        for (i, t) in catalog.tables.iter().enumerate().skip(from) {
            add_position(&mut self.tables, &t.name, i);
            for ix in &t.indexes {
                add_position(&mut self.indexes, &ix.name, i);
            }
        }
        self.synced = Some(len);
    }

    /// The position of table `name` in `catalog.tables`. Scans when the index is behind.
    pub fn table_position(&self, catalog: &Catalog, name: &str) -> Option<usize> {
        // Most statements touch the table created last: no hashing for it.
        if let Some(last) = catalog.tables.len().checked_sub(1)
            && catalog.tables[last].name == name
        {
            return Some(last);
        }
        if self.synced == Some(catalog.tables.len()) {
            let positions = self.tables.get(&name_hash(name))?;
            // The newest table of a name, as the scan finds it.
            let found = positions.as_slice().iter().copied();
            if let Some(i) = found.filter(|&i| catalog.tables[i].name == name).max() {
                return Some(i);
            }
            // Another name with the same hash: fall through to the scan.
        }
        catalog.tables.iter().rposition(|t| t.name == name)
    }

    /// The table named `name`.
    pub fn table<'c>(&self, catalog: &'c Catalog, name: &str) -> Option<&'c Table> {
        self.table_position(catalog, name)
            .map(|i| &catalog.tables[i])
    }

    /// The position of the table that has an index named `name`. Scans when the index is
    /// behind.
    pub fn index_position(&self, catalog: &Catalog, name: &str) -> Option<usize> {
        let has = |t: &Table| t.indexes.iter().any(|ix| ix.name == name);
        if self.synced == Some(catalog.tables.len()) {
            let positions = self.indexes.get(&name_hash(name))?;
            // The first table holding it, as the scan finds it.
            let found = positions.as_slice().iter().copied();
            if let Some(i) = found.filter(|&i| has(&catalog.tables[i])).min() {
                return Some(i);
            }
            // Dropped since, or another name with the same hash: the scan decides.
        }
        catalog.tables.iter().position(has)
    }

    fn position_mut(&mut self, catalog: &Catalog, name: &str) -> Option<usize> {
        self.sync(catalog);
        self.table_position(catalog, name)
    }

    /// [`apply`], with this index answering the name lookups, then following the change.
    pub fn apply(&mut self, catalog: &mut Catalog, node: &NodeEnum) -> Result<Applied> {
        /// Takes the index back from the thread, also when `apply` panics.
        struct Lend<'a>(&'a mut NameIndex);
        impl Drop for Lend<'_> {
            fn drop(&mut self) {
                if let Some(index) = ACTIVE_INDEX.with(|a| a.borrow_mut().take()) {
                    *self.0 = index;
                }
            }
        }
        self.sync(catalog);
        let lent = std::mem::take(self);
        let previous = ACTIVE_INDEX.with(|a| a.borrow_mut().replace(lent));
        debug_assert!(previous.is_none(), "NameIndex::apply is not reentrant");
        let lend = Lend(self);
        let result = apply(catalog, node);
        std::mem::drop(lend);
        self.follow(catalog, node, &result);
        result
    }

    /// What a statement changed that [`NameIndex::sync`] cannot see by itself.
    fn follow(&mut self, catalog: &Catalog, node: &NodeEnum, result: &Result<Applied>) {
        match node {
            // A new index joins its table's entry. It is the table's last: re-adding all of them
            // would make a table with thousands of indexes quadratic. (When the statement added
            // nothing, the last one is already there and adding it again changes nothing.)
            NodeEnum::IndexStmt(s) => {
                let table = relation_name(s.relation.as_ref()).ok();
                let table = table.and_then(|t| self.table_position(catalog, &t));
                if let Some(i) = table
                    && let Some(ix) = catalog.tables[i].indexes.last()
                {
                    add_position(&mut self.indexes, &ix.name, i);
                }
            }
            // These append tables, remove tables or indexes (a shorter list rebuilds; a removed
            // index is a stale hit, checked), or change neither.
            NodeEnum::CreateStmt(_)
            | NodeEnum::AlterTableStmt(_)
            | NodeEnum::DropStmt(_)
            | NodeEnum::CommentStmt(_)
            | NodeEnum::CreateEnumStmt(_)
            | NodeEnum::AlterEnumStmt(_)
            | NodeEnum::CreateFunctionStmt(_)
            | NodeEnum::CreateTrigStmt(_)
            | NodeEnum::GrantStmt(_)
            | NodeEnum::CreateExtensionStmt(_)
            | NodeEnum::ViewStmt(_)
            | NodeEnum::CreateSeqStmt(_)
            | NodeEnum::AlterSeqStmt(_)
            | NodeEnum::CreateSchemaStmt(_)
            | NodeEnum::CreatePolicyStmt(_)
            | NodeEnum::AlterPolicyStmt(_) => {}
            _ if matches!(result, Ok(Applied::NoSchemaChange(_))) => {}
            // Renames (and whatever else) change names in place.
            _ => self.reset(),
        }
        self.sync(catalog);
    }
}

fn column_mut<'t>(table: &'t mut Table, name: &str) -> Result<&'t mut Column> {
    let table_name = table.name.clone();
    table
        .columns
        .iter_mut()
        .find(|c| c.name == name)
        .ok_or_else(|| {
            ReplayError::new(format!(
                "column \"{name}\" of relation \"{table_name}\" does not exist"
            ))
        })
}

// ---------------------------------------------------------------------------------------------
// Types and expressions

/// The model type of a parsed type name (`character varying(20)`, `public.status[]`).
pub fn data_type(catalog: &Catalog, type_name: Option<&protobuf::TypeName>) -> Result<DataType> {
    let t = type_name.ok_or_else(|| ReplayError::new("column without a type"))?;
    let is_enum = |n: &str| catalog.enum_type(n).is_some();
    let mut names = t.names.iter().filter_map(string_value);
    let qualified;
    let base = match (names.next(), names.next(), names.next()) {
        (Some("pg_catalog" | "public"), Some(name), None) | (Some(name), None, None) => name,
        _ => {
            qualified = object_name(&strings(&t.names))?;
            qualified.as_str()
        }
    };
    // The usual column: a bare type name, looked up without building its text.
    if t.typmods.is_empty() && t.array_bounds.is_empty() {
        return parse_type(base, &is_enum)
            .map_err(|e| ReplayError::new(format!("unsupported type `{base}`: {e}")));
    }
    let base = base.to_string();
    let mut modifiers = Vec::new();
    for m in &t.typmods {
        match m.node.as_ref() {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(protobuf::a_const::Val::Ival(i)) => modifiers.push(i.ival.to_string()),
                _ => return Err(ReplayError::new("unsupported type modifier")),
            },
            _ => return Err(ReplayError::new("unsupported type modifier")),
        }
    }
    // `interval` carries a field mask as its modifier; the model has no interval fields.
    let mut text = if modifiers.is_empty() || base == "interval" {
        base
    } else {
        format!("{base}({})", modifiers.join(","))
    };
    if !t.array_bounds.is_empty() {
        text.push_str("[]");
    }
    parse_type(&text, &is_enum)
        .map_err(|e| ReplayError::new(format!("unsupported type `{text}`: {e}")))
}

/// [`DataType::parse`], remembered for the few texts a history spells over and over (`uuid`,
/// `numeric(10,2)`). Only texts whose result cannot depend on the catalog are remembered: no
/// array, no space (so the text is its own normal form), and not an enum's name, which `parse`
/// asks first.
fn parse_type(
    text: &str,
    is_enum: &dyn Fn(&str) -> bool,
) -> std::result::Result<DataType, crate::types::TypeError> {
    thread_local! {
        static PARSED: RefCell<HashMap<String, DataType, FastHash>> = RefCell::default();
    }
    if text.contains(|c: char| c == '[' || c.is_whitespace()) || is_enum(text) {
        return DataType::parse(text, is_enum);
    }
    if let Some(known) = PARSED.with(|p| p.borrow().get(text).cloned()) {
        return Ok(known);
    }
    let parsed = DataType::parse(text, is_enum)?;
    PARSED.with(|p| p.borrow_mut().insert(text.to_string(), parsed.clone()));
    Ok(parsed)
}

fn expression(node: Option<&protobuf::Node>) -> Result<String> {
    node.and_then(|n| n.node.as_ref())
        .and_then(deparse_expression)
        .ok_or_else(|| ReplayError::new("cannot print expression back"))
}

fn fk_action(code: &str) -> FkAction {
    match code {
        "r" => FkAction::Restrict,
        "c" => FkAction::Cascade,
        "n" => FkAction::SetNull,
        "d" => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

fn contype(c: &protobuf::Constraint) -> ConstrType {
    ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined)
}

// ---------------------------------------------------------------------------------------------
// CREATE TABLE / ALTER TABLE

fn create_table(catalog: &mut Catalog, s: &protobuf::CreateStmt) -> Result<Applied> {
    let name = relation_name(s.relation.as_ref())?;
    if find_table(catalog, &name).is_some() {
        if s.if_not_exists {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "relation \"{name}\" already exists"
        )));
    }
    if !s.inh_relations.is_empty() || s.partspec.is_some() || s.partbound.is_some() {
        return Err(ReplayError::new(format!(
            "table \"{name}\": inheritance and partitioning are not modelled"
        )));
    }
    let columns = s
        .table_elts
        .iter()
        .filter(|e| matches!(e.node, Some(NodeEnum::ColumnDef(_))))
        .count();
    catalog.tables.push(Table {
        name: name.clone(),
        comment: None,
        columns: Vec::with_capacity(columns),
        primary_key: None,
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        triggers: Vec::new(),
        grants: Vec::new(),
        flags: TableFlags::default(),
    });
    let result = (|| {
        for element in &s.table_elts {
            match element.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => add_column(catalog, &name, c)?,
                Some(NodeEnum::Constraint(c)) => add_constraint(catalog, &name, c, None)?,
                _ => {
                    return Err(ReplayError::new(format!(
                        "table \"{name}\": unsupported table element"
                    )));
                }
            }
        }
        Ok(Applied::Schema)
    })();
    if result.is_err() {
        catalog.tables.retain(|t| t.name != name);
    }
    result
}

fn add_column(catalog: &mut Catalog, table_name: &str, c: &protobuf::ColumnDef) -> Result<()> {
    let data_type = data_type(catalog, c.type_name.as_ref())?;
    let table = table_mut(catalog, table_name)?;
    if table.column(&c.colname).is_some() {
        return Err(ReplayError::new(format!(
            "column \"{}\" of relation \"{table_name}\" already exists",
            c.colname
        )));
    }
    let default = match c.raw_default.as_deref() {
        Some(d) => Some(expression(Some(d))?),
        None => None,
    };
    table.columns.push(Column {
        name: c.colname.clone(),
        data_type,
        nullable: !c.is_not_null,
        default,
        comment: None,
        sensitivity: Sensitivity::default(),
    });
    for constraint in &c.constraints {
        if let Some(NodeEnum::Constraint(k)) = constraint.node.as_ref() {
            add_constraint(catalog, table_name, k, Some(&c.colname))?;
        }
    }
    Ok(())
}

/// Adds a table or column constraint. `column` is set for a column constraint, whose key
/// columns are implied.
fn add_constraint(
    catalog: &mut Catalog,
    table_name: &str,
    c: &protobuf::Constraint,
    column: Option<&str>,
) -> Result<()> {
    let keys = |list: &[protobuf::Node]| -> Vec<String> {
        let named = strings(list);
        if named.is_empty() {
            column.map(|c| vec![c.to_string()]).unwrap_or_default()
        } else {
            named
        }
    };
    let name_or = |suffix: &str, columns: &[String]| -> String {
        if c.conname.is_empty() {
            let parts: Vec<&str> = std::iter::once(table_name)
                .chain(columns.iter().map(String::as_str))
                .collect();
            derived_name(&parts, suffix)
        } else {
            c.conname.clone()
        }
    };
    match contype(c) {
        ConstrType::ConstrNotnull => {
            let column = column.ok_or_else(|| ReplayError::new("NOT NULL without a column"))?;
            column_mut(table_mut(catalog, table_name)?, column)?.nullable = false;
        }
        ConstrType::ConstrNull => {
            let column = column.ok_or_else(|| ReplayError::new("NULL without a column"))?;
            column_mut(table_mut(catalog, table_name)?, column)?.nullable = true;
        }
        ConstrType::ConstrDefault => {
            let column = column.ok_or_else(|| ReplayError::new("DEFAULT without a column"))?;
            let default = expression(c.raw_expr.as_deref())?;
            column_mut(table_mut(catalog, table_name)?, column)?.default = Some(default);
        }
        ConstrType::ConstrPrimary => {
            // `PRIMARY KEY USING INDEX idx` turns an existing unique index into the key.
            let adopted = adopt_index(catalog, table_name, c)?;
            let columns = adopted.clone().unwrap_or_else(|| keys(&c.keys));
            let name = if !c.conname.is_empty() {
                c.conname.clone()
            } else if adopted.is_some() {
                c.indexname.clone()
            } else {
                derived_name(&[table_name], "pkey")
            };
            let table = table_mut(catalog, table_name)?;
            if table.primary_key.is_some() {
                return Err(ReplayError::new(format!(
                    "multiple primary keys for table \"{table_name}\" are not allowed"
                )));
            }
            for col in &columns {
                column_mut(table, col)?.nullable = false;
            }
            table.primary_key = Some(PrimaryKey { name, columns });
        }
        ConstrType::ConstrUnique => {
            let adopted = adopt_index(catalog, table_name, c)?;
            let columns = adopted.clone().unwrap_or_else(|| keys(&c.keys));
            let name = match adopted {
                Some(_) if c.conname.is_empty() => c.indexname.clone(),
                _ => name_or("key", &columns),
            };
            let table = table_mut(catalog, table_name)?;
            for col in &columns {
                column_mut(table, col)?;
            }
            table.uniques.push(UniqueConstraint { name, columns });
        }
        ConstrType::ConstrCheck => {
            let expression = expression(c.raw_expr.as_deref())?;
            let name = if c.conname.is_empty() {
                derived_name(
                    &[table_name, column.unwrap_or("")]
                        .iter()
                        .copied()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>(),
                    "check",
                )
            } else {
                c.conname.clone()
            };
            table_mut(catalog, table_name)?
                .checks
                .push(CheckConstraint { name, expression });
        }
        ConstrType::ConstrForeign => {
            let columns = keys(&c.fk_attrs);
            let ref_table = relation_name(c.pktable.as_ref())?;
            let ref_columns = match strings(&c.pk_attrs) {
                cols if !cols.is_empty() => cols,
                _ => find_table(catalog, &ref_table)
                    .and_then(|t| t.primary_key.as_ref())
                    .map(|pk| pk.columns.clone())
                    .ok_or_else(|| {
                        ReplayError::new(format!(
                            "there is no primary key for referenced table \"{ref_table}\""
                        ))
                    })?,
            };
            if find_table(catalog, &ref_table).is_none() && ref_table != table_name {
                return Err(ReplayError::new(format!(
                    "relation \"{ref_table}\" does not exist"
                )));
            }
            let name = name_or("fkey", &columns);
            let table = table_mut(catalog, table_name)?;
            for col in &columns {
                column_mut(table, col)?;
            }
            table.foreign_keys.push(ForeignKey {
                name,
                columns,
                ref_table,
                ref_columns,
                on_delete: fk_action(&c.fk_del_action),
                on_update: fk_action(&c.fk_upd_action),
            });
        }
        // Deferrability attributes and the like do not change the model.
        ConstrType::ConstrAttrDeferrable
        | ConstrType::ConstrAttrNotDeferrable
        | ConstrType::ConstrAttrDeferred
        | ConstrType::ConstrAttrImmediate => {}
        other => {
            return Err(ReplayError::new(format!(
                "unsupported constraint {other:?}"
            )));
        }
    }
    Ok(())
}

/// For `UNIQUE USING INDEX idx` / `PRIMARY KEY USING INDEX idx`: removes the index from the
/// table (PostgreSQL makes it the constraint's own index, renamed to the constraint) and returns
/// its key columns. `None` for a constraint that builds its own index.
fn adopt_index(
    catalog: &mut Catalog,
    table_name: &str,
    c: &protobuf::Constraint,
) -> Result<Option<Vec<String>>> {
    if c.indexname.is_empty() {
        return Ok(None);
    }
    let table = table_mut(catalog, table_name)?;
    let at = table
        .indexes
        .iter()
        .position(|ix| ix.name == c.indexname)
        .ok_or_else(|| {
            ReplayError::new(format!(
                "index \"{}\" for table \"{table_name}\" does not exist",
                c.indexname
            ))
        })?;
    let index = &table.indexes[at];
    if !index.unique || index.predicate.is_some() || index.method != IndexMethod::Btree {
        return Err(ReplayError::new(format!(
            "index \"{}\" is not a unique, non-partial btree index",
            c.indexname
        )));
    }
    let index = table.indexes.remove(at);
    Ok(Some(index.keys.into_iter().map(|k| k.column).collect()))
}

fn alter_table(catalog: &mut Catalog, s: &protobuf::AlterTableStmt) -> Result<Applied> {
    if ObjectType::try_from(s.objtype) != Ok(ObjectType::ObjectTable) {
        return Ok(Applied::Unmodelled("ALTER of a non-table relation"));
    }
    let name = relation_name(s.relation.as_ref())?;
    if find_table(catalog, &name).is_none() {
        if s.missing_ok {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "relation \"{name}\" does not exist"
        )));
    }
    let mut unmodelled = None;
    for cmd in &s.cmds {
        let Some(NodeEnum::AlterTableCmd(cmd)) = cmd.node.as_ref() else {
            continue;
        };
        let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
        match AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined) {
            AlterTableType::AtAddColumn => {
                let Some(NodeEnum::ColumnDef(c)) = def else {
                    return Err(ReplayError::new("ADD COLUMN without a column"));
                };
                if cmd.missing_ok
                    && find_table(catalog, &name)
                        .and_then(|t| t.column(&c.colname))
                        .is_some()
                {
                    continue;
                }
                add_column(catalog, &name, c)?;
            }
            AlterTableType::AtDropColumn => {
                let table = table_mut(catalog, &name)?;
                if table.column(&cmd.name).is_none() {
                    if cmd.missing_ok {
                        continue;
                    }
                    column_mut(table, &cmd.name)?;
                }
                let cascade = DropBehavior::try_from(cmd.behavior) == Ok(DropBehavior::DropCascade);
                drop_column(catalog, &name, &cmd.name, cascade)?;
            }
            AlterTableType::AtAlterColumnType => {
                let Some(NodeEnum::ColumnDef(c)) = def else {
                    return Err(ReplayError::new("ALTER COLUMN TYPE without a type"));
                };
                let new_type = data_type(catalog, c.type_name.as_ref())?;
                column_mut(table_mut(catalog, &name)?, &cmd.name)?.data_type = new_type;
            }
            AlterTableType::AtSetNotNull => {
                column_mut(table_mut(catalog, &name)?, &cmd.name)?.nullable = false
            }
            AlterTableType::AtDropNotNull => {
                column_mut(table_mut(catalog, &name)?, &cmd.name)?.nullable = true
            }
            AlterTableType::AtColumnDefault => {
                let default = match cmd.def.as_deref() {
                    Some(d) => Some(expression(Some(d))?),
                    None => None,
                };
                column_mut(table_mut(catalog, &name)?, &cmd.name)?.default = default;
            }
            AlterTableType::AtAddConstraint => {
                let Some(NodeEnum::Constraint(c)) = def else {
                    return Err(ReplayError::new("ADD CONSTRAINT without a constraint"));
                };
                add_constraint(catalog, &name, c, None)?;
            }
            AlterTableType::AtDropConstraint => {
                let table = table_mut(catalog, &name)?;
                if !drop_constraint(table, &cmd.name) && !cmd.missing_ok {
                    return Err(ReplayError::new(format!(
                        "constraint \"{}\" of relation \"{name}\" does not exist",
                        cmd.name
                    )));
                }
            }
            // Validation turns NOT VALID into valid; the model already holds the constraint.
            AlterTableType::AtValidateConstraint => {}
            _ => unmodelled = Some("ALTER TABLE subcommand"),
        }
    }
    Ok(unmodelled.map_or(Applied::Schema, Applied::Unmodelled))
}

fn drop_constraint(table: &mut Table, name: &str) -> bool {
    let before = (
        table.primary_key.is_some(),
        table.uniques.len(),
        table.checks.len(),
        table.foreign_keys.len(),
    );
    if table.primary_key.as_ref().is_some_and(|pk| pk.name == name) {
        table.primary_key = None;
    }
    table.uniques.retain(|u| u.name != name);
    table.checks.retain(|c| c.name != name);
    table.foreign_keys.retain(|f| f.name != name);
    before
        != (
            table.primary_key.is_some(),
            table.uniques.len(),
            table.checks.len(),
            table.foreign_keys.len(),
        )
}

/// Drops a column and what depends on it, as PostgreSQL does: indexes and constraints on it go
/// with it; foreign keys of other tables that reference it need CASCADE.
fn drop_column(catalog: &mut Catalog, table_name: &str, column: &str, cascade: bool) -> Result<()> {
    let referenced_by: Vec<(String, String)> = catalog
        .tables
        .iter()
        .flat_map(|t| {
            t.foreign_keys
                .iter()
                .filter(|fk| {
                    fk.ref_table == table_name && fk.ref_columns.iter().any(|c| c == column)
                })
                .map(move |fk| (t.name.clone(), fk.name.clone()))
        })
        .filter(|(t, _)| t != table_name)
        .collect();
    if !referenced_by.is_empty() && !cascade {
        return Err(ReplayError::new(format!(
            "cannot drop column {column} of table {table_name} because constraint {} on table {} depends on it",
            referenced_by[0].1, referenced_by[0].0
        )));
    }
    for (t, fk) in referenced_by {
        table_mut(catalog, &t)?
            .foreign_keys
            .retain(|f| f.name != fk);
    }
    let table = table_mut(catalog, table_name)?;
    let uses = |cols: &[String]| cols.iter().any(|c| c == column);
    table.columns.retain(|c| c.name != column);
    if table
        .primary_key
        .as_ref()
        .is_some_and(|pk| uses(&pk.columns))
    {
        table.primary_key = None;
    }
    table.uniques.retain(|u| !uses(&u.columns));
    table.foreign_keys.retain(|f| !uses(&f.columns));
    table
        .indexes
        .retain(|ix| !ix.keys.iter().any(|k| k.column == column) && !uses(&ix.include));
    // A check constraint that mentions the column goes too; a textual test is enough here
    // because the expression was printed by the deparser with identifiers as words.
    table.checks.retain(|c| !mentions(&c.expression, column));
    Ok(())
}

fn mentions(expression: &str, column: &str) -> bool {
    expression
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '"'))
        .any(|word| word.trim_matches('"') == column)
}

// ---------------------------------------------------------------------------------------------
// Indexes

fn create_index(catalog: &mut Catalog, s: &protobuf::IndexStmt) -> Result<Applied> {
    let table_name = relation_name(s.relation.as_ref())?;
    let method = if s.access_method.is_empty() {
        IndexMethod::Btree
    } else {
        IndexMethod::parse(&s.access_method).ok_or_else(|| {
            ReplayError::new(format!("unsupported index method {}", s.access_method))
        })?
    };
    let mut keys = Vec::new();
    for param in &s.index_params {
        let Some(NodeEnum::IndexElem(e)) = param.node.as_ref() else {
            continue;
        };
        if e.name.is_empty() {
            return Ok(Applied::Unmodelled("expression index"));
        }
        let opclass = strings(&e.opclass);
        keys.push(IndexKey {
            column: e.name.clone(),
            opclass: opclass.last().cloned(),
            descending: SortByDir::try_from(e.ordering) == Ok(SortByDir::SortbyDesc),
        });
    }
    let include = s
        .index_including_params
        .iter()
        .filter_map(|p| match p.node.as_ref() {
            Some(NodeEnum::IndexElem(e)) => Some(e.name.clone()),
            _ => None,
        })
        .collect();
    let predicate = match s.where_clause.as_deref() {
        Some(w) => Some(expression(Some(w))?),
        None => None,
    };
    let name = if s.idxname.is_empty() {
        let parts: Vec<&str> = std::iter::once(table_name.as_str())
            .chain(keys.iter().map(|k| k.column.as_str()))
            .collect();
        derived_name(&parts, "idx")
    } else {
        s.idxname.clone()
    };
    if index_exists(catalog, &name) {
        if s.if_not_exists {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "relation \"{name}\" already exists"
        )));
    }
    let table = table_mut(catalog, &table_name)?;
    for key in &keys {
        column_mut(table, &key.column)?;
    }
    table.indexes.push(Index {
        name,
        method,
        unique: s.unique,
        keys,
        include,
        predicate,
    });
    Ok(Applied::Schema)
}

// ---------------------------------------------------------------------------------------------
// DROP

fn drop(catalog: &mut Catalog, s: &protobuf::DropStmt) -> Result<Applied> {
    let cascade = DropBehavior::try_from(s.behavior) == Ok(DropBehavior::DropCascade);
    let kind = ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined);
    for object in &s.objects {
        match kind {
            ObjectType::ObjectTable => {
                let name = object_name(&list_names(object))?;
                drop_table(catalog, &name, cascade, s.missing_ok)?;
            }
            ObjectType::ObjectIndex => {
                let name = object_name(&list_names(object))?;
                let found = catalog.tables.iter_mut().any(|t| {
                    let before = t.indexes.len();
                    t.indexes.retain(|i| i.name != name);
                    before != t.indexes.len()
                });
                if !found && !s.missing_ok {
                    return Err(ReplayError::new(format!("index \"{name}\" does not exist")));
                }
            }
            ObjectType::ObjectType => {
                let name = match object.node.as_ref() {
                    Some(NodeEnum::TypeName(t)) => object_name(&strings(&t.names))?,
                    _ => object_name(&list_names(object))?,
                };
                drop_type(catalog, &name, cascade, s.missing_ok)?;
            }
            ObjectType::ObjectFunction => {
                let name = function_name(object)?;
                let before = catalog.functions.len();
                catalog.functions.retain(|f| f.name != name);
                if before == catalog.functions.len() && !s.missing_ok {
                    return Err(ReplayError::new(format!(
                        "function {name}() does not exist"
                    )));
                }
            }
            ObjectType::ObjectTrigger => {
                // DROP TRIGGER name ON table: the object is [table..., trigger].
                let names = list_names(object);
                let (trigger, table) = names
                    .split_last()
                    .ok_or_else(|| ReplayError::new("DROP TRIGGER without a name"))?;
                let table_name = object_name(table)?;
                let table = table_mut(catalog, &table_name)?;
                let before = table.triggers.len();
                table.triggers.retain(|t| &t.name != trigger);
                if before == table.triggers.len() && !s.missing_ok {
                    return Err(ReplayError::new(format!(
                        "trigger \"{trigger}\" for table \"{table_name}\" does not exist"
                    )));
                }
            }
            _ => return Ok(Applied::Unmodelled("DROP of an unmodelled object")),
        }
    }
    Ok(Applied::Schema)
}

fn list_names(node: &protobuf::Node) -> Vec<String> {
    match node.node.as_ref() {
        Some(NodeEnum::List(list)) => strings(&list.items),
        Some(NodeEnum::String(s)) => vec![s.sval.clone()],
        _ => Vec::new(),
    }
}

fn drop_table(catalog: &mut Catalog, name: &str, cascade: bool, missing_ok: bool) -> Result<()> {
    if find_table(catalog, name).is_none() {
        return if missing_ok {
            Ok(())
        } else {
            Err(ReplayError::new(format!("table \"{name}\" does not exist")))
        };
    }
    let dependents: Vec<(String, String)> = catalog
        .tables
        .iter()
        .filter(|t| t.name != name)
        .flat_map(|t| {
            t.foreign_keys
                .iter()
                .filter(|fk| fk.ref_table == name)
                .map(move |fk| (t.name.clone(), fk.name.clone()))
        })
        .collect();
    if let Some((table, fk)) = dependents.first()
        && !cascade
    {
        return Err(ReplayError::new(format!(
            "cannot drop table {name} because constraint {fk} on table {table} depends on it"
        )));
    }
    for (table, fk) in dependents {
        table_mut(catalog, &table)?
            .foreign_keys
            .retain(|f| f.name != fk);
    }
    catalog.tables.retain(|t| t.name != name);
    Ok(())
}

fn drop_type(catalog: &mut Catalog, name: &str, cascade: bool, missing_ok: bool) -> Result<()> {
    if catalog.enum_type(name).is_none() {
        return if missing_ok {
            Ok(())
        } else {
            Err(ReplayError::new(format!("type \"{name}\" does not exist")))
        };
    }
    let users: Vec<(String, String)> = catalog
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.data_type.enum_name() == Some(name))
                .map(move |c| (t.name.clone(), c.name.clone()))
        })
        .collect();
    if let Some((table, column)) = users.first()
        && !cascade
    {
        return Err(ReplayError::new(format!(
            "cannot drop type {name} because column {column} of table {table} depends on it"
        )));
    }
    for (table, column) in users {
        drop_column(catalog, &table, &column, true)?;
    }
    catalog.enums.retain(|e| e.name != name);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Renames, enums, comments, functions, triggers

fn rename(catalog: &mut Catalog, s: &protobuf::RenameStmt) -> Result<Applied> {
    let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
    match kind {
        ObjectType::ObjectTable => {
            let old = relation_name(s.relation.as_ref())?;
            if find_table(catalog, &s.newname).is_some() {
                return Err(ReplayError::new(format!(
                    "relation \"{}\" already exists",
                    s.newname
                )));
            }
            table_mut(catalog, &old)?.name = s.newname.clone();
            for table in &mut catalog.tables {
                for fk in &mut table.foreign_keys {
                    if fk.ref_table == old {
                        fk.ref_table = s.newname.clone();
                    }
                }
            }
        }
        ObjectType::ObjectColumn => {
            let table_name = relation_name(s.relation.as_ref())?;
            let (old, new) = (s.subname.clone(), s.newname.clone());
            let table = table_mut(catalog, &table_name)?;
            if table.column(&new).is_some() {
                return Err(ReplayError::new(format!(
                    "column \"{new}\" of relation \"{table_name}\" already exists"
                )));
            }
            column_mut(table, &old)?.name = new.clone();
            let rename_in = |cols: &mut Vec<String>| {
                for c in cols.iter_mut() {
                    if *c == old {
                        *c = new.clone();
                    }
                }
            };
            if let Some(pk) = &mut table.primary_key {
                rename_in(&mut pk.columns);
            }
            table
                .uniques
                .iter_mut()
                .for_each(|u| rename_in(&mut u.columns));
            table
                .foreign_keys
                .iter_mut()
                .for_each(|f| rename_in(&mut f.columns));
            for ix in &mut table.indexes {
                ix.keys
                    .iter_mut()
                    .filter(|k| k.column == old)
                    .for_each(|k| k.column = new.clone());
                rename_in(&mut ix.include);
            }
            for table in &mut catalog.tables {
                for fk in &mut table.foreign_keys {
                    if fk.ref_table == table_name {
                        rename_in(&mut fk.ref_columns);
                    }
                }
            }
        }
        ObjectType::ObjectIndex => {
            let old = relation_name(s.relation.as_ref())?;
            let index = catalog
                .tables
                .iter_mut()
                .flat_map(|t| t.indexes.iter_mut())
                .find(|i| i.name == old)
                .ok_or_else(|| ReplayError::new(format!("relation \"{old}\" does not exist")))?;
            index.name = s.newname.clone();
        }
        ObjectType::ObjectTabconstraint => {
            let table_name = relation_name(s.relation.as_ref())?;
            let table = table_mut(catalog, &table_name)?;
            let (old, new) = (&s.subname, &s.newname);
            let mut found = false;
            if let Some(pk) = table.primary_key.as_mut().filter(|pk| &pk.name == old) {
                pk.name = new.clone();
                found = true;
            }
            for name in table
                .uniques
                .iter_mut()
                .map(|u| &mut u.name)
                .chain(table.checks.iter_mut().map(|c| &mut c.name))
                .chain(table.foreign_keys.iter_mut().map(|f| &mut f.name))
            {
                if name == old {
                    *name = new.clone();
                    found = true;
                }
            }
            if !found {
                return Err(ReplayError::new(format!(
                    "constraint \"{old}\" for table \"{table_name}\" does not exist"
                )));
            }
        }
        ObjectType::ObjectType => {
            let old = match s.object.as_deref().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::List(list)) => object_name(&strings(&list.items))?,
                _ => return Err(ReplayError::new("unsupported ALTER TYPE RENAME")),
            };
            let new = s.newname.clone();
            catalog
                .enums
                .iter_mut()
                .find(|e| e.name == old)
                .ok_or_else(|| ReplayError::new(format!("type \"{old}\" does not exist")))?
                .name = new.clone();
            for column in catalog.tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
                rename_enum_in(&mut column.data_type, &old, &new);
            }
        }
        ObjectType::ObjectTrigger => {
            let table_name = relation_name(s.relation.as_ref())?;
            let table = table_mut(catalog, &table_name)?;
            table
                .triggers
                .iter_mut()
                .find(|t| t.name == s.subname)
                .ok_or_else(|| {
                    ReplayError::new(format!("trigger \"{}\" does not exist", s.subname))
                })?
                .name = s.newname.clone();
        }
        _ => return Ok(Applied::Unmodelled("RENAME of an unmodelled object")),
    }
    Ok(Applied::Schema)
}

fn rename_enum_in(data_type: &mut DataType, old: &str, new: &str) {
    match data_type {
        DataType::Enum(name) if name == old => *name = new.to_string(),
        DataType::Array(element) => rename_enum_in(element, old, new),
        _ => {}
    }
}

fn create_enum(catalog: &mut Catalog, s: &protobuf::CreateEnumStmt) -> Result<Applied> {
    let name = object_name(&strings(&s.type_name))?;
    if catalog.enum_type(&name).is_some() || find_table(catalog, &name).is_some() {
        return Err(ReplayError::new(format!("type \"{name}\" already exists")));
    }
    catalog.enums.push(EnumType {
        name,
        values: strings(&s.vals),
        comment: None,
    });
    Ok(Applied::Schema)
}

fn alter_enum(catalog: &mut Catalog, s: &protobuf::AlterEnumStmt) -> Result<Applied> {
    let name = object_name(&strings(&s.type_name))?;
    let e = catalog
        .enums
        .iter_mut()
        .find(|e| e.name == name)
        .ok_or_else(|| ReplayError::new(format!("type \"{name}\" does not exist")))?;
    if !s.old_val.is_empty() {
        let value = e
            .values
            .iter_mut()
            .find(|v| **v == s.old_val)
            .ok_or_else(|| {
                ReplayError::new(format!("\"{}\" is not an existing enum label", s.old_val))
            })?;
        *value = s.new_val.clone();
        return Ok(Applied::Schema);
    }
    if e.values.contains(&s.new_val) {
        if s.skip_if_new_val_exists {
            return Ok(Applied::Schema);
        }
        return Err(ReplayError::new(format!(
            "enum label \"{}\" already exists",
            s.new_val
        )));
    }
    let at = if s.new_val_neighbor.is_empty() {
        e.values.len()
    } else {
        let i = e
            .values
            .iter()
            .position(|v| *v == s.new_val_neighbor)
            .ok_or_else(|| {
                ReplayError::new(format!(
                    "\"{}\" is not an existing enum label",
                    s.new_val_neighbor
                ))
            })?;
        if s.new_val_is_after { i + 1 } else { i }
    };
    e.values.insert(at, s.new_val.clone());
    Ok(Applied::Schema)
}

fn comment(catalog: &mut Catalog, s: &protobuf::CommentStmt) -> Result<Applied> {
    let kind = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    let object = s
        .object
        .as_deref()
        .ok_or_else(|| ReplayError::new("COMMENT without an object"))?;
    let text = (!s.comment.is_empty()).then(|| s.comment.clone());
    match kind {
        ObjectType::ObjectTable => {
            let name = object_name(&list_names(object))?;
            let table = table_mut(catalog, &name)?;
            let (description, flags) = text
                .as_deref()
                .map(annotations::parse_table_comment)
                .unwrap_or_default();
            table.comment = description;
            table.flags = flags;
        }
        ObjectType::ObjectColumn => {
            let names = list_names(object);
            let (column, table) = names
                .split_last()
                .ok_or_else(|| ReplayError::new("COMMENT ON COLUMN without a name"))?;
            let table_name = object_name(table)?;
            let col = column_mut(table_mut(catalog, &table_name)?, column)?;
            let (description, sensitivity) = text
                .as_deref()
                .map(annotations::parse_column_comment)
                .unwrap_or_default();
            col.comment = description;
            col.sensitivity = sensitivity;
        }
        ObjectType::ObjectType => {
            let name = match object.node.as_ref() {
                Some(NodeEnum::TypeName(t)) => object_name(&strings(&t.names))?,
                _ => object_name(&list_names(object))?,
            };
            catalog
                .enums
                .iter_mut()
                .find(|e| e.name == name)
                .ok_or_else(|| ReplayError::new(format!("type \"{name}\" does not exist")))?
                .comment = text;
        }
        _ => return Ok(Applied::Unmodelled("COMMENT on an unmodelled object")),
    }
    Ok(Applied::Schema)
}

fn create_function(catalog: &mut Catalog, s: &protobuf::CreateFunctionStmt) -> Result<Applied> {
    let name = object_name(&strings(&s.funcname))?;
    let mut arguments = Vec::new();
    for p in &s.parameters {
        let Some(NodeEnum::FunctionParameter(p)) = p.node.as_ref() else {
            return Ok(Applied::Unmodelled("function parameter form"));
        };
        let mode = protobuf::FunctionParameterMode::try_from(p.mode);
        let plain_in = matches!(
            mode,
            Ok(protobuf::FunctionParameterMode::FuncParamIn
                | protobuf::FunctionParameterMode::FuncParamDefault)
        );
        if !plain_in || p.defexpr.is_some() || p.name.is_empty() {
            return Ok(Applied::Unmodelled(
                "function with OUT, VARIADIC, unnamed or defaulted parameters",
            ));
        }
        arguments.push(FunctionArgument {
            name: p.name.clone(),
            data_type: data_type(catalog, p.arg_type.as_ref())?,
        });
    }
    let mut language = String::new();
    let mut body = None;
    let mut security_definer = false;
    for option in &s.options {
        let Some(NodeEnum::DefElem(d)) = option.node.as_ref() else {
            continue;
        };
        let arg = d.arg.as_deref();
        match d.defname.as_str() {
            "language" => language = arg.and_then(string_value).unwrap_or_default().to_string(),
            "security" => {
                security_definer = matches!(
                    arg.and_then(|a| a.node.as_ref()),
                    Some(NodeEnum::Boolean(b)) if b.boolval
                )
            }
            "as" => {
                body = arg.and_then(|a| match a.node.as_ref() {
                    Some(NodeEnum::List(list)) => list
                        .items
                        .first()
                        .and_then(string_value)
                        .map(str::to_string),
                    _ => None,
                })
            }
            _ => {}
        }
    }
    let returns = match &s.return_type {
        Some(t) => {
            let names = strings(&t.names);
            names.last().cloned().unwrap_or_default()
        }
        None => String::new(),
    };
    let mut function = Function {
        name: name.clone(),
        arguments,
        returns,
        language,
        body: body.unwrap_or_default(),
        security_definer,
        // PostgreSQL grants EXECUTE on a new function to PUBLIC.
        execute: vec![PUBLIC.to_string()],
    };
    match catalog.functions.iter_mut().find(|f| f.name == name) {
        // CREATE OR REPLACE keeps the privileges.
        Some(existing) if s.replace => {
            function.execute = std::mem::take(&mut existing.execute);
            *existing = function;
        }
        Some(_) => {
            return Err(ReplayError::new(format!(
                "function \"{name}\" already exists"
            )));
        }
        None => catalog.functions.push(function),
    }
    Ok(Applied::Schema)
}

fn function_name(object: &protobuf::Node) -> Result<String> {
    match object.node.as_ref() {
        Some(NodeEnum::ObjectWithArgs(o)) => object_name(&strings(&o.objname)),
        _ => Err(ReplayError::new("expected a function name")),
    }
}

/// `GRANT`/`REVOKE` privileges on tables or `EXECUTE` on functions. Column privileges,
/// `ALL TABLES IN SCHEMA` and default privileges are not modelled.
fn grant(catalog: &mut Catalog, s: &protobuf::GrantStmt) -> Result<Applied> {
    use protobuf::{GrantTargetType, RoleSpecType};
    if GrantTargetType::try_from(s.targtype) != Ok(GrantTargetType::AclTargetObject) {
        return Ok(Applied::Unmodelled(
            "GRANT on ALL ... IN SCHEMA or default privileges",
        ));
    }
    let mut grantees = Vec::new();
    for g in &s.grantees {
        let Some(NodeEnum::RoleSpec(r)) = g.node.as_ref() else {
            return Ok(Applied::Unmodelled("grantee form"));
        };
        match RoleSpecType::try_from(r.roletype) {
            Ok(RoleSpecType::RolespecPublic) => grantees.push(PUBLIC.to_string()),
            Ok(RoleSpecType::RolespecCstring) => grantees.push(r.rolename.clone()),
            _ => return Ok(Applied::Unmodelled("GRANT to CURRENT_USER/SESSION_USER")),
        }
    }
    let mut privileges = Vec::new();
    for p in &s.privileges {
        let Some(NodeEnum::AccessPriv(p)) = p.node.as_ref() else {
            return Ok(Applied::Unmodelled("privilege form"));
        };
        if !p.cols.is_empty() {
            return Ok(Applied::Unmodelled("column privileges"));
        }
        privileges.push(p.priv_name.to_ascii_lowercase());
    }
    let kind = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    match kind {
        ObjectType::ObjectTable => {
            // No privilege names means ALL.
            let privileges: Vec<Privilege> = if privileges.is_empty() {
                Privilege::ALL.to_vec()
            } else {
                let parsed: Option<Vec<Privilege>> =
                    privileges.iter().map(|p| Privilege::parse(p)).collect();
                match parsed {
                    Some(p) => p,
                    None => return Ok(Applied::Unmodelled("table privilege")),
                }
            };
            for object in &s.objects {
                let Some(NodeEnum::RangeVar(r)) = object.node.as_ref() else {
                    return Ok(Applied::Unmodelled("GRANT object form"));
                };
                let name = relation_name(Some(r))?;
                let table = table_mut(catalog, &name)?;
                for role in &grantees {
                    table.set_privileges(role, &privileges, s.is_grant);
                }
            }
        }
        ObjectType::ObjectFunction => {
            if !privileges.iter().all(|p| p == "execute") {
                return Ok(Applied::Unmodelled("function privilege"));
            }
            for object in &s.objects {
                let name = function_name(object)?;
                let function = catalog
                    .functions
                    .iter_mut()
                    .find(|f| f.name == name)
                    .ok_or_else(|| ReplayError::new(format!("function {name} does not exist")))?;
                for role in &grantees {
                    function.set_execute(role, s.is_grant);
                }
            }
        }
        _ => return Ok(Applied::Unmodelled("GRANT on an unmodelled object")),
    }
    Ok(Applied::Schema)
}

fn create_trigger(catalog: &mut Catalog, s: &protobuf::CreateTrigStmt) -> Result<Applied> {
    // Bits of PostgreSQL's pg_trigger.tgtype.
    const BEFORE: i32 = 1 << 1;
    const INSERT: i32 = 1 << 2;
    const DELETE: i32 = 1 << 3;
    const UPDATE: i32 = 1 << 4;
    const TRUNCATE: i32 = 1 << 5;
    const INSTEAD: i32 = 1 << 6;
    if s.timing & INSTEAD != 0
        || s.when_clause.is_some()
        || !s.columns.is_empty()
        || !s.args.is_empty()
    {
        return Ok(Applied::Unmodelled("trigger form"));
    }
    let table_name = relation_name(s.relation.as_ref())?;
    let function = object_name(&strings(&s.funcname))?;
    let mut events = Vec::new();
    for (bit, event) in [
        (INSERT, TriggerEvent::Insert),
        (UPDATE, TriggerEvent::Update),
        (DELETE, TriggerEvent::Delete),
        (TRUNCATE, TriggerEvent::Truncate),
    ] {
        if s.events & bit != 0 {
            events.push(event);
        }
    }
    let timing = if s.timing & BEFORE != 0 {
        TriggerTiming::Before
    } else {
        TriggerTiming::After
    };
    let table = table_mut(catalog, &table_name)?;
    let trigger = Trigger {
        name: s.trigname.clone(),
        timing,
        events,
        for_each_row: s.row,
        function,
    };
    match table.triggers.iter_mut().find(|t| t.name == s.trigname) {
        Some(existing) if s.replace => *existing = trigger,
        Some(_) => {
            return Err(ReplayError::new(format!(
                "trigger \"{}\" for relation \"{table_name}\" already exists",
                s.trigname
            )));
        }
        None => table.triggers.push(trigger),
    }
    Ok(Applied::Schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name index is only a shortcut: statement by statement, replaying through it must give
    /// the results and the catalog the plain scans give. The script stresses what it tracks:
    /// many indexes on one table (each new one joins the index alone), clashes with the first
    /// and a middle one, a drop and re-create, `IF NOT EXISTS`, a rename, a dropped table.
    #[test]
    fn the_name_index_answers_as_the_scans_do() {
        let mut sql = String::from("CREATE TABLE big (a int, b int); CREATE TABLE other (a int);");
        for i in 0..300 {
            sql.push_str(&format!("CREATE INDEX big_{i}_idx ON big (a);"));
        }
        // Each statement, and whether it must fail.
        let script = [
            ("CREATE INDEX big_0_idx ON other (a)", true),
            ("CREATE INDEX big_150_idx ON other (a)", true),
            ("CREATE INDEX IF NOT EXISTS big_299_idx ON other (a)", false),
            ("DROP INDEX big_150_idx", false),
            ("CREATE INDEX big_150_idx ON other (a)", false),
            ("CREATE INDEX big_150_idx ON big (b)", true),
            ("CREATE INDEX ON big (b)", false),
            ("ALTER TABLE big RENAME TO renamed", false),
            ("CREATE INDEX renamed_extra_idx ON renamed (a)", false),
            ("CREATE INDEX big_1_idx ON renamed (b)", true),
            ("CREATE INDEX big_nope_idx ON big (a)", true),
            ("DROP TABLE renamed", false),
            ("CREATE INDEX big_1_idx ON other (a)", false),
            ("CREATE INDEX other_missing_idx ON other (missing)", true),
        ];
        for (statement, _) in script {
            sql.push_str(statement);
            sql.push(';');
        }
        let statements = parse_script(&sql).expect("parses");
        let (mut plain, mut indexed) = (Catalog::default(), Catalog::default());
        let mut names = NameIndex::default();
        let mut failed = Vec::new();
        for st in &statements {
            let expected = apply(&mut plain, &st.node);
            let got = names.apply(&mut indexed, &st.node);
            assert_eq!(got, expected, "{}", st.text);
            assert_eq!(indexed, plain, "{}", st.text);
            failed.push(expected.is_err());
        }
        // The script reaches the cases it is about: the clashes fail, the rest applies.
        let tail = &failed[failed.len() - script.len()..];
        let must_fail: Vec<bool> = script.iter().map(|(_, fails)| *fails).collect();
        assert_eq!(tail, must_fail);
        assert!(!failed[..failed.len() - script.len()].contains(&true));
        assert_eq!(plain.tables.len(), 1, "only `other` is left");
        assert_eq!(
            plain.tables[0].indexes.len(),
            2,
            "{:?}",
            plain.tables[0].indexes
        );
    }

    #[test]
    fn positions_are_computed_in_one_pass_and_match_position_of() {
        let sql = "-- head\nCREATE TABLE a (id int);  CREATE TABLE b (id int);\n\n  /* c */ CREATE TABLE \"ü\" (id int);";
        let statements = parse_script(sql).expect("parses");
        let got: Vec<(usize, usize)> = statements
            .iter()
            .map(|s| (s.pos.line, s.pos.column))
            .collect();
        assert_eq!(got, vec![(2, 1), (2, 27), (4, 11)]);
        for s in &statements {
            assert_eq!(s.pos, position_of(sql, s.offset));
        }
    }

    #[test]
    fn recovering_parse_keeps_the_statements_around_a_broken_one() {
        let sql =
            "CREATE TABLE a (id int);\nCREATE TABLE oops (id int,);\nCREATE TABLE b (id int);";
        let parsed = parse_script_recovering(sql);
        let kinds: Vec<String> = parsed
            .iter()
            .map(|p| match p {
                ParsedStatement::Statement(s) => format!("ok {}:{}", s.pos.line, s.text),
                ParsedStatement::Error { error, text } => {
                    format!("error {}:{} {text}", error.pos.line, error.pos.column)
                }
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "ok 1:CREATE TABLE a (id int)",
                "error 2:1 CREATE TABLE oops (id int,)",
                "ok 3:CREATE TABLE b (id int)",
            ]
        );
        let error = parse_script(sql).expect_err("fails");
        assert_eq!(error.pos, Pos { line: 2, column: 1 });
        // An unclosed parenthesis swallows the rest, which is reported, never dropped.
        let sql = "CREATE TABLE a (id int);\nCREATE TABLE oops (;\nCREATE TABLE b (id int);";
        let parsed = parse_script_recovering(sql);
        assert_eq!(parsed.len(), 2, "{parsed:?}");
        match &parsed[1] {
            ParsedStatement::Error { error, text } => {
                assert_eq!(error.pos, Pos { line: 2, column: 1 });
                assert!(text.ends_with("CREATE TABLE b (id int);"), "{text}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn types_the_model_cannot_hold_are_named_with_the_reason() {
        for (sql, message) in [
            (
                "CREATE TABLE t (r tstzrange)",
                "unsupported type `tstzrange`: neither a built-in type the model knows nor an enum created earlier",
            ),
            (
                "CREATE TABLE t (id serial)",
                "unsupported type `serial`: serial is not a real type; use uuid with default gen_random_uuid(), or an integer with an identity",
            ),
            (
                "CREATE TABLE t (n numeric(2000))",
                "unsupported type `numeric(2000)`: bad type modifier: ",
            ),
        ] {
            let mut catalog = Catalog::default();
            let (_, got) = replay_script(&mut catalog, sql).expect_err(sql);
            assert!(got.starts_with(message), "{sql}: {got}");
        }
    }

    #[test]
    fn a_token_the_scanner_cannot_finish_does_not_hide_the_statements_before_it() {
        let kinds = |sql: &str| -> Vec<String> {
            parse_script_recovering(sql)
                .iter()
                .map(|p| match p {
                    ParsedStatement::Statement(s) => format!("ok {}", s.text),
                    ParsedStatement::Error { error, text } => {
                        format!("error {}:{} {text}", error.pos.line, error.pos.column)
                    }
                })
                .collect()
        };
        let before = "CREATE TABLE a (id int);\nCREATE TABLE \"b;\" (id int);\n";
        for (broken, message) in [
            (
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; CREATE TABLE c (id int);\n",
                "unterminated dollar-quoted string",
            ),
            (
                "INSERT INTO a VALUES ('x); CREATE TABLE c (id int);\n",
                "unterminated quoted string",
            ),
            ("/* CREATE TABLE c (id int);\n", "unterminated /* comment"),
        ] {
            let sql = format!("{before}{broken}");
            assert_eq!(
                kinds(&sql),
                vec![
                    "ok CREATE TABLE a (id int)".to_owned(),
                    "ok CREATE TABLE \"b;\" (id int)".to_owned(),
                    format!("error 3:1 {}", broken.trim_end()),
                ],
                "{sql}"
            );
            let error = parse_script(&sql).expect_err("fails");
            assert_eq!(error.pos, Pos { line: 3, column: 1 }, "{sql}");
            assert!(error.message.contains(message), "{}", error.message);
        }
        // The broken statement started before the token: all of it is the error.
        assert_eq!(
            kinds("CREATE TABLE a (id int); SELECT 'x"),
            vec!["ok CREATE TABLE a (id int)", "error 1:26 SELECT 'x"]
        );
        // Nothing before it: one error, as before.
        assert_eq!(kinds("SELECT $$"), vec!["error 1:1 SELECT $$"]);
    }

    #[test]
    fn unique_and_primary_key_using_index_adopt_the_index() {
        let mut catalog = Catalog::default();
        replay_script(
            &mut catalog,
            "CREATE TABLE t (id uuid NOT NULL, code text NOT NULL);
             CREATE UNIQUE INDEX t_code_idx ON t (code);
             CREATE UNIQUE INDEX t_id_idx ON t (id);
             ALTER TABLE t ADD CONSTRAINT t_code_key UNIQUE USING INDEX t_code_idx;
             ALTER TABLE t ADD PRIMARY KEY USING INDEX t_id_idx;",
        )
        .expect("replays");
        let t = catalog.table("t").expect("table");
        assert!(t.indexes.is_empty(), "{:?}", t.indexes);
        assert_eq!(
            t.uniques,
            vec![UniqueConstraint {
                name: "t_code_key".into(),
                columns: vec!["code".into()]
            }]
        );
        assert_eq!(
            t.primary_key,
            Some(PrimaryKey {
                name: "t_id_idx".into(),
                columns: vec!["id".into()]
            })
        );
        let mut bad = catalog.clone();
        assert!(
            replay_script(
                &mut bad,
                "ALTER TABLE t ADD CONSTRAINT x UNIQUE USING INDEX nosuch;"
            )
            .is_err()
        );
    }
}
