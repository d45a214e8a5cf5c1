//! The locks a statement takes: for one parsed statement and the schema before it, the table-level
//! lock PostgreSQL takes on each table it touches, what that lock blocks of the application, and
//! what the statement does to the table while holding it.
//!
//! The one place the workspace knows lock levels: the linter's lock rules, the runner's
//! `--dry-run` ([`script_locks`]) and the end-to-end test that holds this module equal to what
//! `pg_locks` shows on PostgreSQL 15 all read them from here.
//!
//! PostgreSQL's eight table lock modes, weakest first, and what each blocks of an application
//! that reads (`SELECT`: `ACCESS SHARE`) and writes (`INSERT`/`UPDATE`/`DELETE`: `ROW
//! EXCLUSIVE`):
//!
//! | mode | taken by | blocks |
//! |---|---|---|
//! | `ACCESS SHARE` | `SELECT` | nothing |
//! | `ROW SHARE` | `SELECT ... FOR UPDATE/SHARE`, foreign-key checks | nothing |
//! | `ROW EXCLUSIVE` | `INSERT`, `UPDATE`, `DELETE`, `MERGE` | nothing |
//! | `SHARE UPDATE EXCLUSIVE` | `CREATE INDEX CONCURRENTLY`, `VALIDATE CONSTRAINT`, `ANALYZE`, `VACUUM`, `COMMENT`, `SET STATISTICS` | nothing (other DDL and `VACUUM`) |
//! | `SHARE` | `CREATE INDEX` | writes |
//! | `SHARE ROW EXCLUSIVE` | `CREATE TRIGGER`, `ADD FOREIGN KEY` (both tables), `ENABLE/DISABLE TRIGGER` | writes |
//! | `EXCLUSIVE` | `REFRESH MATERIALIZED VIEW CONCURRENTLY` | writes (and `SELECT ... FOR UPDATE`) |
//! | `ACCESS EXCLUSIVE` | most `ALTER TABLE`, `DROP`, `TRUNCATE`, `RENAME`, `VACUUM FULL`, `CLUSTER` | reads and writes |
//!
//! A statement that waits for its lock also blocks everything queued behind it that conflicts
//! with the lock it waits for: an `ALTER TABLE` waiting behind a long report blocks every read
//! of the table until it has run.
//!
//! What is modelled: `ALTER TABLE` subcommand by subcommand (PostgreSQL's
//! `AlterTableGetLockLevel`: the strongest level of the subcommands, on the table and, without
//! `ONLY`, its partitions and children), plus the other tables a subcommand locks (the
//! referenced table of a foreign key added, validated, dropped or retyped); `CREATE [UNIQUE]
//! INDEX [CONCURRENTLY]`, `DROP` of tables, indexes, triggers, policies and rules (with the
//! tables whose foreign-key triggers go with them), renames, `SET SCHEMA`, `TRUNCATE`,
//! `REINDEX`, `VACUUM`, `ANALYZE`, `CLUSTER`, `CREATE TRIGGER`, `CREATE POLICY`, `COMMENT` (`SHARE
//! UPDATE EXCLUSIVE` on a table or column; a constraint's or trigger's table is only opened),
//! `LOCK`, `CREATE TABLE` (the tables it references, inherits or is a partition of, copies with
//! `LIKE`), views and `CREATE TABLE AS` (the tables their query reads), and DML (the target,
//! the tables read, and the foreign-key checks and actions of the rows written: taken only when
//! a row is written). `GRANT`, `SET`, `DO` blocks (their statements run at migration time and
//! are not read here), functions, types and sequences take no table lock here. Locks on
//! indexes, sequences, views and TOAST tables are not listed: only tables (and partitioned
//! tables) are.

use std::fmt;
use std::ops::Range;

use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType};
use pg_query::{NodeEnum, NodeRef};

use crate::catalog::{Catalog, FkAction, QualifiedName, Table};
use crate::replay::{ScriptStatement, Session, SyntaxError, parse_script};
use crate::types::DataType;

/// PostgreSQL's table lock modes, weakest first (the order of their numbers in the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum LockMode {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

/// What a lock blocks of an application's ordinary queries on the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Blocks {
    /// Neither reads nor writes (it may block other DDL, `VACUUM` or `CREATE INDEX`).
    Nothing,
    /// `INSERT`, `UPDATE`, `DELETE` (and `SELECT ... FOR UPDATE`); plain reads go on.
    Writes,
    /// Everything, plain `SELECT` included.
    ReadsAndWrites,
}

impl Blocks {
    pub fn describe(self) -> &'static str {
        match self {
            Blocks::Nothing => "blocks neither reads nor writes",
            Blocks::Writes => "blocks writes",
            Blocks::ReadsAndWrites => "blocks reads and writes",
        }
    }
}

impl LockMode {
    pub const ALL: [LockMode; 8] = [
        LockMode::AccessShare,
        LockMode::RowShare,
        LockMode::RowExclusive,
        LockMode::ShareUpdateExclusive,
        LockMode::Share,
        LockMode::ShareRowExclusive,
        LockMode::Exclusive,
        LockMode::AccessExclusive,
    ];

    /// As SQL spells it (`LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`, the documentation).
    pub fn sql(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// "a" or "an", for messages ("an ACCESS EXCLUSIVE lock").
    pub fn article(self) -> &'static str {
        match self {
            LockMode::AccessShare | LockMode::Exclusive | LockMode::AccessExclusive => "an",
            _ => "a",
        }
    }

    /// The mode with its article, for messages: "an ACCESS EXCLUSIVE".
    pub fn with_article(self) -> String {
        format!("{} {}", self.article(), self.sql())
    }

    /// As `pg_locks.mode` shows it (`AccessExclusiveLock`).
    pub fn pg_locks_name(self) -> &'static str {
        match self {
            LockMode::AccessShare => "AccessShareLock",
            LockMode::RowShare => "RowShareLock",
            LockMode::RowExclusive => "RowExclusiveLock",
            LockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            LockMode::Share => "ShareLock",
            LockMode::ShareRowExclusive => "ShareRowExclusiveLock",
            LockMode::Exclusive => "ExclusiveLock",
            LockMode::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// The mode `pg_locks.mode` names.
    pub fn from_pg_locks_name(name: &str) -> Option<LockMode> {
        LockMode::ALL
            .into_iter()
            .find(|m| m.pg_locks_name() == name)
    }

    /// The server's number for the mode (`LOCK`'s `mode` in the parse tree: 1 to 8).
    pub fn from_number(n: i32) -> Option<LockMode> {
        usize::try_from(n - 1)
            .ok()
            .and_then(|i| LockMode::ALL.get(i).copied())
    }

    /// Bit `m` set for every mode `m` this one conflicts with (PostgreSQL's conflict table).
    fn conflicts(self) -> u8 {
        use LockMode::*;
        let bits = |modes: &[LockMode]| modes.iter().fold(0u8, |b, m| b | (1 << *m as u8));
        match self {
            AccessShare => bits(&[AccessExclusive]),
            RowShare => bits(&[Exclusive, AccessExclusive]),
            RowExclusive => bits(&[Share, ShareRowExclusive, Exclusive, AccessExclusive]),
            ShareUpdateExclusive => bits(&[
                ShareUpdateExclusive,
                Share,
                ShareRowExclusive,
                Exclusive,
                AccessExclusive,
            ]),
            Share => bits(&[
                RowExclusive,
                ShareUpdateExclusive,
                ShareRowExclusive,
                Exclusive,
                AccessExclusive,
            ]),
            ShareRowExclusive => bits(&[
                RowExclusive,
                ShareUpdateExclusive,
                Share,
                ShareRowExclusive,
                Exclusive,
                AccessExclusive,
            ]),
            Exclusive => !bits(&[AccessShare]),
            AccessExclusive => !0,
        }
    }

    /// Whether a transaction holding `self` makes one asking for `other` wait (and the other
    /// way round: the table is symmetric).
    pub fn conflicts_with(self, other: LockMode) -> bool {
        self.conflicts() & (1 << other as u8) != 0
    }

    /// What holding (or waiting for) this lock blocks of the application.
    pub fn blocks(self) -> Blocks {
        if self.conflicts_with(LockMode::AccessShare) {
            Blocks::ReadsAndWrites
        } else if self.conflicts_with(LockMode::RowExclusive) {
            Blocks::Writes
        } else {
            Blocks::Nothing
        }
    }

    /// The one mode that conflicts with exactly what `self` and `other` held together conflict
    /// with: the stronger one, except that `SHARE` and `SHARE UPDATE EXCLUSIVE` together
    /// amount to `SHARE ROW EXCLUSIVE`.
    pub fn combine(self, other: LockMode) -> LockMode {
        let union = self.conflicts() | other.conflicts();
        LockMode::ALL
            .into_iter()
            .find(|m| m.conflicts() == union)
            .unwrap_or(self.max(other))
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

/// What a statement does to a table while it holds the lock: how long the lock is held grows
/// with the table for everything but [`Work::Catalog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Work {
    /// Changes the catalog only: done in milliseconds once the lock is granted.
    Catalog,
    /// Reads or writes the rows a query selects (DML, a query that reads the table).
    Rows,
    /// Reads every row to check it (a constraint validated, `SET NOT NULL`, a narrowing type).
    Scan,
    /// Builds an index (`CREATE INDEX`, a primary key or unique constraint added, `REINDEX`).
    IndexBuild,
    /// Writes the whole table anew (most type changes, a volatile default, `VACUUM FULL`,
    /// `CLUSTER`, `SET TABLESPACE`).
    Rewrite,
}

impl Work {
    pub fn describe(self) -> &'static str {
        match self {
            Work::Catalog => "changes the catalog",
            Work::Rows => "reads or writes rows",
            Work::Scan => "scans the table",
            Work::IndexBuild => "builds an index",
            Work::Rewrite => "rewrites the table",
        }
    }
}

/// The lock a statement takes on one table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RelationLock {
    pub table: QualifiedName,
    pub mode: LockMode,
    pub work: Work,
}

impl RelationLock {
    pub fn blocks(&self) -> Blocks {
        self.mode.blocks()
    }

    /// Whether the lock blocks reads or writes for as long as work that grows with the table
    /// (a rewrite, a scan, an index build).
    pub fn blocks_while_working(&self) -> bool {
        self.blocks() != Blocks::Nothing
            && matches!(self.work, Work::Scan | Work::IndexBuild | Work::Rewrite)
    }
}

impl fmt::Display for RelationLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} ({})",
            self.mode,
            self.table.display(),
            self.blocks().describe()
        )
    }
}

/// Built-in functions whose volatility is VOLATILE (`pg_proc.provolatile = 'v'`) and that
/// appear in column defaults: a column added with such a default is filled row by row, which
/// rewrites the table.
pub const VOLATILE_BUILTINS: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "gen_random_bytes",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setval",
];

/// The names of the `serial` pseudo-types: a column added with one is filled from `nextval()`.
pub const SERIAL_TYPES: &[&str] = &[
    "serial",
    "serial4",
    "bigserial",
    "serial8",
    "smallserial",
    "serial2",
];

/// Whether PostgreSQL changes a column of type `from` into `to` without rewriting or scanning
/// the table.
pub fn binary_compatible(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    let wider = |a: &Option<u32>, b: &Option<u32>| match (a, b) {
        (_, None) => true,
        (Some(a), Some(b)) => b >= a,
        (None, Some(_)) => false,
    };
    match (from, to) {
        _ if from == to => true,
        (Varchar(a), Varchar(b)) => wider(a, b),
        (Varchar(_), Text) | (Text, Varchar(None)) => true,
        (Numeric(_), Numeric(None)) => true,
        (Numeric(Some((p, s))), Numeric(Some((q, t)))) => {
            q >= p && s.unwrap_or(0) == t.unwrap_or(0)
        }
        (Timestamp(a), Timestamp(b)) | (Timestamptz(a), Timestamptz(b)) | (Time(a), Time(b)) => {
            wider(a, b)
        }
        _ => false,
    }
}

/// The level `CREATE INDEX` takes on its table: `SHARE` (writes wait for the whole build), or
/// `SHARE UPDATE EXCLUSIVE` with `CONCURRENTLY`.
pub fn create_index_mode(concurrent: bool) -> LockMode {
    if concurrent {
        LockMode::ShareUpdateExclusive
    } else {
        LockMode::Share
    }
}

/// The level `DROP INDEX` takes on the index's table: `ACCESS EXCLUSIVE`, or `SHARE UPDATE
/// EXCLUSIVE` with `CONCURRENTLY`.
pub fn drop_index_mode(concurrent: bool) -> LockMode {
    if concurrent {
        LockMode::ShareUpdateExclusive
    } else {
        LockMode::AccessExclusive
    }
}

/// The level of one `ALTER TABLE` subcommand on the altered table (PostgreSQL's
/// `AlterTableGetLockLevel`); the statement takes the strongest of its subcommands'.
pub fn alter_table_cmd_mode(cmd: &protobuf::AlterTableCmd) -> LockMode {
    use AlterTableType::*;
    use LockMode::*;
    let subtype = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
    match subtype {
        // Trigger firing affects writes only.
        AtEnableTrig | AtEnableAlwaysTrig | AtEnableReplicaTrig | AtEnableTrigAll
        | AtEnableTrigUser | AtDisableTrig | AtDisableTrigAll | AtDisableTrigUser => {
            ShareRowExclusive
        }
        AtAddConstraint | AtReAddConstraint => match cmd_constraint(cmd).map(contype) {
            // Adds triggers to both tables: at least CREATE TRIGGER's level.
            Some(ConstrType::ConstrForeign) => ShareRowExclusive,
            _ => AccessExclusive,
        },
        // Planner statistics and maintenance strategy: no change to what queries return.
        AtSetStatistics
        | AtClusterOn
        | AtDropCluster
        | AtSetOptions
        | AtResetOptions
        | AtValidateConstraint
        | AtAttachPartition
        | AtDetachPartitionFinalize => ShareUpdateExclusive,
        AtDetachPartition => match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
            Some(NodeEnum::PartitionCmd(p)) if p.concurrent => ShareUpdateExclusive,
            _ => AccessExclusive,
        },
        AtSetRelOptions | AtResetRelOptions => reloptions_mode(cmd),
        _ => AccessExclusive,
    }
}

/// `SET (...)` / `RESET (...)` of storage parameters: `SHARE UPDATE EXCLUSIVE` for the
/// parameters that only tune vacuum, fill factor and the planner, `ACCESS EXCLUSIVE` for the
/// others (PostgreSQL's `AlterTableGetRelOptionsLockLevel`).
fn reloptions_mode(cmd: &protobuf::AlterTableCmd) -> LockMode {
    const EXCLUSIVE: &[&str] = &[
        "user_catalog_table",
        "security_barrier",
        "security_invoker",
        "check_option",
        "fastupdate",
        "buffering",
    ];
    let Some(NodeEnum::List(list)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) else {
        return LockMode::AccessExclusive;
    };
    let mut mode = LockMode::ShareUpdateExclusive;
    for item in &list.items {
        if let Some(NodeEnum::DefElem(d)) = item.node.as_ref()
            && (EXCLUSIVE.contains(&d.defname.as_str()) || !d.defnamespace.is_empty())
        {
            mode = LockMode::AccessExclusive;
        }
    }
    mode
}

/// Whether a statement of this kind only ever takes locks that block neither reads nor writes
/// (queries, DML, `SET`, transaction control, `COPY`, ...): a cheap test before
/// [`statement_locks`].
pub fn never_blocks(node: &NodeEnum) -> bool {
    matches!(
        node,
        NodeEnum::SelectStmt(_)
            | NodeEnum::InsertStmt(_)
            | NodeEnum::UpdateStmt(_)
            | NodeEnum::DeleteStmt(_)
            | NodeEnum::MergeStmt(_)
            | NodeEnum::CopyStmt(_)
            | NodeEnum::VariableSetStmt(_)
            | NodeEnum::VariableShowStmt(_)
            | NodeEnum::TransactionStmt(_)
            | NodeEnum::GrantStmt(_)
            | NodeEnum::GrantRoleStmt(_)
            | NodeEnum::CreateFunctionStmt(_)
            | NodeEnum::CreateEnumStmt(_)
            | NodeEnum::AlterEnumStmt(_)
            | NodeEnum::CreateSchemaStmt(_)
            | NodeEnum::CreateExtensionStmt(_)
            | NodeEnum::CreateSeqStmt(_)
            | NodeEnum::CreateDomainStmt(_)
            | NodeEnum::CompositeTypeStmt(_)
            | NodeEnum::ViewStmt(_)
            | NodeEnum::CreateTableAsStmt(_)
            | NodeEnum::ExplainStmt(_)
            | NodeEnum::NotifyStmt(_)
            | NodeEnum::CreateRoleStmt(_)
            | NodeEnum::AlterRoleStmt(_)
            | NodeEnum::AlterDefaultPrivilegesStmt(_)
    )
}

/// The locks `node` takes on tables, given the schema before it (`catalog`, with `session`'s
/// `search_path` and name index): one entry per table, in the order the statement names them,
/// with the modes a table gets combined ([`LockMode::combine`]).
pub fn statement_locks(node: &NodeEnum, catalog: &Catalog, session: &Session) -> Vec<RelationLock> {
    let mut cx = Locks {
        catalog,
        session,
        out: Vec::new(),
    };
    cx.statement(node);
    cx.out
}

/// One statement of a script with the locks it takes: see [`script_locks`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementLocks<'a> {
    /// The statement, without the separating semicolon.
    pub text: &'a str,
    /// Where `text` is in the script (byte offsets).
    pub span: Range<usize>,
    pub locks: Vec<RelationLock>,
}

/// What the runner's `--dry-run` prints: every statement of a migration script, with its
/// place in the script and the locks it takes, each seen against the schema the statements
/// before it leave (`before`: the schema the earlier migrations built, e.g. by
/// `migrate::history` replaying them; `search_path` as the runner sets it). The replay is
/// lenient: a statement it cannot follow still has its locks listed.
pub fn script_locks<'a>(
    before: &Catalog,
    search_path: &[String],
    script: &'a str,
) -> Result<Vec<StatementLocks<'a>>, SyntaxError> {
    let statements = parse_script(script)?;
    let mut catalog = before.clone();
    let mut session = Session::lenient(search_path.to_vec());
    let mut out = Vec::with_capacity(statements.len());
    for ScriptStatement {
        text, offset, node, ..
    } in &statements
    {
        let locks = statement_locks(node, &catalog, &session);
        out.push(StatementLocks {
            text,
            span: *offset..*offset + text.len(),
            locks,
        });
        let _ = session.apply(&mut catalog, node);
        session.take_notes();
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------

struct Locks<'a> {
    catalog: &'a Catalog,
    session: &'a Session,
    out: Vec<RelationLock>,
}

fn string_value(node: &protobuf::Node) -> Option<&str> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

fn strings(nodes: &[protobuf::Node]) -> Vec<&str> {
    nodes.iter().filter_map(string_value).collect()
}

fn contype(c: &protobuf::Constraint) -> ConstrType {
    ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined)
}

fn cmd_constraint(cmd: &protobuf::AlterTableCmd) -> Option<&protobuf::Constraint> {
    match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::Constraint(c)) => Some(c),
        _ => None,
    }
}

fn cmd_column(cmd: &protobuf::AlterTableCmd) -> Option<&protobuf::ColumnDef> {
    match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::ColumnDef(c)) => Some(c),
        _ => None,
    }
}

fn column_constraints(c: &protobuf::ColumnDef) -> impl Iterator<Item = &protobuf::Constraint> {
    c.constraints.iter().filter_map(|n| match n.node.as_ref() {
        Some(NodeEnum::Constraint(k)) => Some(k.as_ref()),
        _ => None,
    })
}

/// The `[schema, ] name` at the end of a name list; `drop` names dropped off the end first (the
/// column of `COMMENT ON COLUMN`, the trigger of `DROP TRIGGER`).
fn names_of(node: &protobuf::Node, drop: usize) -> Vec<&str> {
    let mut names = match node.node.as_ref() {
        Some(NodeEnum::List(list)) => strings(&list.items),
        Some(NodeEnum::String(s)) => vec![s.sval.as_str()],
        _ => Vec::new(),
    };
    names.truncate(names.len().saturating_sub(drop));
    names
}

fn split<'n>(names: &[&'n str]) -> Option<(&'n str, &'n str)> {
    match names {
        [] => None,
        [name] => Some(("", name)),
        [.., schema, name] => Some((schema, name)),
    }
}

impl<'a> Locks<'a> {
    fn add(&mut self, table: QualifiedName, mode: LockMode, work: Work) {
        if let Some(l) = self.out.iter_mut().find(|l| l.table == table) {
            l.mode = l.mode.combine(mode);
            l.work = l.work.max(work);
        } else {
            self.out.push(RelationLock { table, mode, work });
        }
    }

    fn resolve(&self, schema: &str, name: &str) -> QualifiedName {
        self.session.resolve_table(self.catalog, schema, name)
    }

    /// [`Self::add`] for a statement's optional target relation, the table alone (no children).
    fn add_target(&mut self, r: Option<&protobuf::RangeVar>, mode: LockMode, work: Work) {
        if let Some(r) = r {
            let name = self.relation(r);
            self.add(name, mode, work);
        }
    }

    /// The reads of a view's or `CREATE TABLE AS`'s query.
    fn reads_query(&mut self, query: Option<&protobuf::Node>) {
        if let Some(q) = query.and_then(|q| q.node.as_ref()) {
            self.reads(q);
        }
    }

    fn relation(&self, r: &protobuf::RangeVar) -> QualifiedName {
        self.resolve(&r.schemaname, &r.relname)
    }

    fn table(&self, name: &QualifiedName) -> Option<&'a Table> {
        self.session.table(self.catalog, name)
    }

    /// A table and, when `recurse`, its partitions and children (as PostgreSQL's
    /// `find_all_inheritors`: `ONLY` does not recurse).
    fn add_tree(&mut self, name: QualifiedName, recurse: bool, mode: LockMode, work: Work) {
        let children = if recurse {
            self.descendants(&name)
        } else {
            Vec::new()
        };
        self.add(name, mode, work);
        for c in children {
            self.add(c, mode, work);
        }
    }

    fn add_relation(&mut self, r: &protobuf::RangeVar, mode: LockMode, work: Work) {
        let name = self.relation(r);
        self.add_tree(name, r.inh, mode, work);
    }

    /// The partitions and children of `name`, recursively.
    fn descendants(&self, name: &QualifiedName) -> Vec<QualifiedName> {
        let mut out: Vec<QualifiedName> = Vec::new();
        if !self.session.may_have_children(name) {
            return out;
        }
        let mut queue = vec![name.clone()];
        while let Some(parent) = queue.pop() {
            for t in &self.catalog.tables {
                let child = t.partition_of.as_ref().is_some_and(|p| p.parent == parent)
                    || t.inherits.contains(&parent);
                let q = t.qualified_name();
                if child && q != *name && !out.contains(&q) {
                    out.push(q.clone());
                    queue.push(q);
                }
            }
        }
        out
    }

    fn statement(&mut self, node: &NodeEnum) {
        use LockMode::*;
        match node {
            NodeEnum::AlterTableStmt(s) => self.alter_table(s),
            NodeEnum::IndexStmt(s) => {
                if let Some(r) = &s.relation {
                    self.add_relation(r, create_index_mode(s.concurrent), Work::IndexBuild);
                }
            }
            NodeEnum::DropStmt(s) => self.drop(s),
            NodeEnum::RenameStmt(s) => self.rename(s),
            NodeEnum::AlterObjectSchemaStmt(s) => {
                let kind = ObjectType::try_from(s.object_type).unwrap_or(ObjectType::Undefined);
                if kind == ObjectType::ObjectTable {
                    self.add_target(s.relation.as_ref(), AccessExclusive, Work::Catalog);
                }
            }
            NodeEnum::TruncateStmt(s) => {
                let cascade = s.behavior == protobuf::DropBehavior::DropCascade as i32;
                for r in s.relations.iter().filter_map(range_var) {
                    let name = self.relation(r);
                    self.add_tree(name.clone(), r.inh, AccessExclusive, Work::Catalog);
                    if cascade {
                        self.referencing(&name, AccessExclusive, true);
                    }
                }
            }
            NodeEnum::ReindexStmt(s) => self.reindex(s),
            NodeEnum::VacuumStmt(s) => self.vacuum(s),
            NodeEnum::ClusterStmt(s) => {
                self.add_target(s.relation.as_ref(), AccessExclusive, Work::Rewrite)
            }
            NodeEnum::CreateTrigStmt(s) => {
                self.add_target(s.relation.as_ref(), ShareRowExclusive, Work::Catalog)
            }
            NodeEnum::CreatePolicyStmt(s) => {
                self.add_target(s.table.as_ref(), AccessExclusive, Work::Catalog)
            }
            NodeEnum::AlterPolicyStmt(s) => {
                self.add_target(s.table.as_ref(), AccessExclusive, Work::Catalog)
            }
            NodeEnum::RuleStmt(s) => {
                self.add_target(s.relation.as_ref(), AccessExclusive, Work::Catalog)
            }
            NodeEnum::CommentStmt(s) => self.comment(s),
            NodeEnum::LockStmt(s) => {
                let mode = LockMode::from_number(s.mode).unwrap_or(AccessExclusive);
                for r in s.relations.iter().filter_map(range_var) {
                    self.add_relation(r, mode, Work::Catalog);
                }
            }
            NodeEnum::CreateStmt(s) => self.create_table(s),
            NodeEnum::ViewStmt(s) => self.reads_query(s.query.as_deref()),
            NodeEnum::CreateTableAsStmt(s) => self.reads_query(s.query.as_deref()),
            NodeEnum::SelectStmt(_) | NodeEnum::ExplainStmt(_) => self.reads(node),
            NodeEnum::InsertStmt(s) => {
                self.reads(node);
                if let Some(r) = &s.relation {
                    let name = self.relation(r);
                    self.add(name.clone(), RowExclusive, Work::Rows);
                    let columns = target_names(&s.cols);
                    self.foreign_key_checks(&name, (!columns.is_empty()).then_some(&columns));
                }
            }
            NodeEnum::UpdateStmt(s) => {
                self.reads(node);
                if let Some(r) = &s.relation {
                    let name = self.relation(r);
                    self.add_tree(name.clone(), r.inh, RowExclusive, Work::Rows);
                    let columns = target_names(&s.target_list);
                    self.foreign_key_checks(&name, Some(&columns));
                    self.referencing_actions(&name, Some(&columns));
                }
            }
            NodeEnum::DeleteStmt(s) => {
                self.reads(node);
                if let Some(r) = &s.relation {
                    let name = self.relation(r);
                    self.add_tree(name.clone(), r.inh, RowExclusive, Work::Rows);
                    self.referencing_actions(&name, None);
                }
            }
            NodeEnum::MergeStmt(s) => {
                self.reads(node);
                if let Some(r) = &s.relation {
                    self.add_relation(r, RowExclusive, Work::Rows);
                }
            }
            NodeEnum::CopyStmt(s) => {
                if let Some(r) = &s.relation {
                    let mode = if s.is_from { RowExclusive } else { AccessShare };
                    self.add_relation(r, mode, Work::Rows);
                } else if let Some(q) = s.query.as_deref().and_then(|q| q.node.as_ref()) {
                    self.reads(q);
                }
            }
            NodeEnum::RefreshMatViewStmt(s) => {
                if let Some(r) = &s.relation {
                    let name = self.relation(r);
                    if let Some(v) = self.catalog.view_named(&name) {
                        for t in v.depends_on.clone() {
                            if self.table(&t).is_some() {
                                self.add(t, AccessShare, Work::Rows);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn alter_table(&mut self, s: &protobuf::AlterTableStmt) {
        use AlterTableType::*;
        use LockMode::*;
        let kind = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
        if kind != ObjectType::ObjectTable {
            return;
        }
        let Some(r) = &s.relation else {
            return;
        };
        let name = self.relation(r);
        let table = self.table(&name);
        let mut mode: Option<LockMode> = None;
        let mut work = Work::Catalog;
        let mut extra: Vec<(QualifiedName, LockMode, Work)> = Vec::new();
        let mut recurse = r.inh;
        for cmd in s.cmds.iter().filter_map(|c| match c.node.as_ref() {
            Some(NodeEnum::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
            _ => None,
        }) {
            let subtype =
                AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
            let m = alter_table_cmd_mode(cmd);
            mode = Some(mode.map_or(m, |x| x.max(m)));
            let mut w = Work::Catalog;
            match subtype {
                AtAddColumn => {
                    if let Some(c) = cmd_column(cmd) {
                        w = self.added_column_work(c);
                        for k in column_constraints(c) {
                            if contype(k) == ConstrType::ConstrForeign
                                && let Some(p) = &k.pktable
                            {
                                let referenced = self.relation(p);
                                if referenced != name {
                                    extra.push((referenced, ShareRowExclusive, Work::Scan));
                                }
                            }
                        }
                    }
                }
                AtAddConstraint => {
                    if let Some(c) = cmd_constraint(cmd) {
                        w = match contype(c) {
                            ConstrType::ConstrPrimary
                            | ConstrType::ConstrUnique
                            | ConstrType::ConstrExclusion
                                if c.indexname.is_empty() =>
                            {
                                Work::IndexBuild
                            }
                            ConstrType::ConstrCheck | ConstrType::ConstrForeign
                                if !c.skip_validation =>
                            {
                                Work::Scan
                            }
                            _ => Work::Catalog,
                        };
                        if contype(c) == ConstrType::ConstrForeign
                            && let Some(p) = &c.pktable
                        {
                            let referenced = self.relation(p);
                            if referenced != name {
                                extra.push((referenced, ShareRowExclusive, w));
                            }
                        }
                    }
                }
                AtValidateConstraint => {
                    w = Work::Scan;
                    if let Some(fk) =
                        table.and_then(|t| t.foreign_keys.iter().find(|fk| fk.name == cmd.name))
                        && fk.ref_table != name
                    {
                        extra.push((fk.ref_table.clone(), RowShare, Work::Scan));
                    }
                }
                AtDropConstraint => {
                    if let Some(fk) =
                        table.and_then(|t| t.foreign_keys.iter().find(|fk| fk.name == cmd.name))
                        && fk.ref_table != name
                    {
                        extra.push((fk.ref_table.clone(), AccessExclusive, Work::Catalog));
                    }
                    // A key other tables' foreign keys reference goes with them (`CASCADE`).
                    if cmd.behavior == protobuf::DropBehavior::DropCascade as i32
                        && let Some(t) = table
                    {
                        let key = t
                            .primary_key
                            .iter()
                            .map(|k| (&k.name, &k.columns))
                            .chain(t.uniques.iter().map(|u| (&u.name, &u.columns)))
                            .find(|(n, _)| **n == cmd.name);
                        if let Some((_, columns)) = key {
                            for (other, fk) in self.catalog.incoming_foreign_keys(t) {
                                if fk.ref_columns == *columns && !other.is(&name) {
                                    extra.push((
                                        other.qualified_name(),
                                        AccessExclusive,
                                        Work::Catalog,
                                    ));
                                }
                            }
                        }
                    }
                }
                AtDropColumn | AtAlterColumnType => {
                    if subtype == AtAlterColumnType {
                        w = self.type_change_work(table, cmd);
                    }
                    // The foreign keys on the column go (or are made again): their triggers
                    // on the other table with them.
                    if let Some(t) = table {
                        for fk in &t.foreign_keys {
                            if fk.columns.contains(&cmd.name) && fk.ref_table != name {
                                extra.push((fk.ref_table.clone(), AccessExclusive, Work::Catalog));
                            }
                        }
                        let cascade = subtype == AtAlterColumnType
                            || cmd.behavior == protobuf::DropBehavior::DropCascade as i32;
                        if cascade {
                            for (other, fk) in self.catalog.incoming_foreign_keys(t) {
                                if fk.ref_columns.contains(&cmd.name) && !other.is(&name) {
                                    extra.push((
                                        other.qualified_name(),
                                        AccessExclusive,
                                        Work::Catalog,
                                    ));
                                }
                            }
                        }
                    }
                }
                AtSetNotNull => w = Work::Scan,
                AtSetLogged | AtSetUnLogged | AtSetTableSpace | AtSetAccessMethod => {
                    w = Work::Rewrite;
                }
                AtAddIndexConstraint => {}
                AtAttachPartition | AtDetachPartition => {
                    recurse = false;
                    if let Some(NodeEnum::PartitionCmd(p)) =
                        cmd.def.as_deref().and_then(|d| d.node.as_ref())
                        && let Some(pr) = &p.name
                    {
                        let partition = self.relation(pr);
                        let (pm, pw) = if subtype == AtAttachPartition {
                            (AccessExclusive, Work::Scan)
                        } else if p.concurrent {
                            (ShareUpdateExclusive, Work::Catalog)
                        } else {
                            (AccessExclusive, Work::Catalog)
                        };
                        extra.push((partition, pm, pw));
                    }
                }
                AtAddInherit | AtDropInherit => {
                    recurse = false;
                    if let Some(NodeEnum::RangeVar(p)) =
                        cmd.def.as_deref().and_then(|d| d.node.as_ref())
                    {
                        extra.push((self.relation(p), ShareUpdateExclusive, Work::Catalog));
                    }
                }
                AtChangeOwner | AtReplicaIdentity | AtEnableRowSecurity | AtDisableRowSecurity
                | AtForceRowSecurity | AtNoForceRowSecurity | AtClusterOn | AtDropCluster
                | AtSetRelOptions | AtResetRelOptions => {
                    recurse = false;
                }
                _ => {}
            }
            work = work.max(w);
        }
        if let Some(mode) = mode {
            self.add_tree(name, recurse, mode, work);
        }
        for (t, m, w) in extra {
            self.add(t, m, w);
        }
    }

    /// What adding column `c` does to the existing rows.
    fn added_column_work(&self, c: &protobuf::ColumnDef) -> Work {
        let type_name = c
            .type_name
            .as_ref()
            .and_then(|t| strings(&t.names).last().map(|n| n.to_string()))
            .unwrap_or_default();
        if SERIAL_TYPES.contains(&type_name.as_str()) {
            return Work::Rewrite;
        }
        let mut work = Work::Catalog;
        let default = c.raw_default.as_deref();
        for k in column_constraints(c) {
            match contype(k) {
                ConstrType::ConstrIdentity => return Work::Rewrite,
                ConstrType::ConstrGenerated => return Work::Rewrite,
                ConstrType::ConstrDefault => {
                    if let Some(expr) = k.raw_expr.as_deref().and_then(|e| e.node.as_ref())
                        && calls_volatile(expr)
                    {
                        return Work::Rewrite;
                    }
                }
                ConstrType::ConstrPrimary | ConstrType::ConstrUnique => {
                    work = work.max(Work::IndexBuild);
                }
                ConstrType::ConstrCheck | ConstrType::ConstrForeign => {
                    work = work.max(Work::Scan);
                }
                _ => {}
            }
        }
        if let Some(expr) = default.and_then(|e| e.node.as_ref())
            && calls_volatile(expr)
        {
            return Work::Rewrite;
        }
        work
    }

    /// What `ALTER COLUMN ... TYPE` does to the rows: nothing for a binary-compatible change
    /// without `USING`, a scan for a narrowing `varchar`, else a rewrite.
    fn type_change_work(&self, table: Option<&Table>, cmd: &protobuf::AlterTableCmd) -> Work {
        let Some(def) = cmd_column(cmd) else {
            return Work::Rewrite;
        };
        let Some(old) = table.and_then(|t| t.column(&cmd.name)) else {
            return Work::Rewrite;
        };
        let new = def
            .type_name
            .as_ref()
            .map(|t| self.session.data_type(self.catalog, t));
        let plain = def.raw_default.is_none();
        match new {
            Some(new) if plain && binary_compatible(&old.data_type, &new) => Work::Catalog,
            Some(DataType::Varchar(Some(_)))
                if plain && matches!(old.data_type, DataType::Text | DataType::Varchar(_)) =>
            {
                Work::Scan
            }
            _ => Work::Rewrite,
        }
    }

    /// Tables with a foreign key to `name`: `mode` on each (recursively through their own
    /// referencing tables when `cascade`: `TRUNCATE ... CASCADE`).
    fn referencing(&mut self, name: &QualifiedName, mode: LockMode, cascade: bool) {
        let mut queue = vec![name.clone()];
        let mut seen = vec![name.clone()];
        while let Some(n) = queue.pop() {
            let Some(t) = self.table(&n) else { continue };
            let others: Vec<QualifiedName> = self
                .catalog
                .incoming_foreign_keys(t)
                .map(|(o, _)| o.qualified_name())
                .collect();
            for o in others {
                if !seen.contains(&o) {
                    seen.push(o.clone());
                    self.add(o.clone(), mode, Work::Catalog);
                    if cascade {
                        queue.push(o);
                    }
                }
            }
        }
    }

    /// The foreign-key checks of rows written to `name` (`columns`: those written; `None`: all):
    /// `ROW SHARE` on each referenced table (`SELECT ... FOR KEY SHARE`), per row written.
    fn foreign_key_checks(&mut self, name: &QualifiedName, columns: Option<&Vec<&str>>) {
        let Some(t) = self.table(name) else { return };
        for fk in &t.foreign_keys {
            let written =
                columns.is_none_or(|cols| fk.columns.iter().any(|c| cols.contains(&c.as_str())));
            if written && fk.ref_table != *name {
                self.add(fk.ref_table.clone(), LockMode::RowShare, Work::Rows);
            }
        }
    }

    /// The foreign-key actions of rows updated or deleted in `name` (`columns`: those updated;
    /// `None`: a delete): a check on each referencing table (`ROW SHARE`), or a cascaded write
    /// (`ROW EXCLUSIVE`).
    fn referencing_actions(&mut self, name: &QualifiedName, columns: Option<&Vec<&str>>) {
        let Some(t) = self.table(name) else { return };
        let mut found = Vec::new();
        for (other, fk) in self.catalog.incoming_foreign_keys(t) {
            if other.is(name) {
                continue;
            }
            let action = match columns {
                None => fk.on_delete,
                Some(cols) if fk.ref_columns.iter().any(|c| cols.contains(&c.as_str())) => {
                    fk.on_update
                }
                Some(_) => continue,
            };
            let mode = match action {
                FkAction::NoAction | FkAction::Restrict => LockMode::RowShare,
                FkAction::Cascade | FkAction::SetNull | FkAction::SetDefault => {
                    LockMode::RowExclusive
                }
            };
            found.push((other.qualified_name(), mode));
        }
        for (o, m) in found {
            self.add(o, m, Work::Rows);
        }
    }

    /// The tables a query reads: `ACCESS SHARE` (`ROW SHARE` under `FOR UPDATE/SHARE`), common
    /// table expressions aside.
    fn reads(&mut self, node: &NodeEnum) {
        let nodes = node.nodes();
        let ctes: Vec<&str> = nodes
            .iter()
            .filter_map(|(n, _, _, _)| match n {
                NodeRef::CommonTableExpr(c) => Some(c.ctename.as_str()),
                _ => None,
            })
            .collect();
        let locking = matches!(node, NodeEnum::SelectStmt(s) if !s.locking_clause.is_empty());
        let mode = if locking {
            LockMode::RowShare
        } else {
            LockMode::AccessShare
        };
        for (n, _, _, _) in &nodes {
            if let NodeRef::RangeVar(r) = n {
                if r.schemaname.is_empty() && ctes.contains(&r.relname.as_str()) {
                    continue;
                }
                let name = self.relation(r);
                if self.table(&name).is_some() {
                    self.add_tree(name, r.inh, mode, Work::Rows);
                }
            }
        }
    }

    fn drop(&mut self, s: &protobuf::DropStmt) {
        use LockMode::*;
        let kind = ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined);
        let cascade = s.behavior == protobuf::DropBehavior::DropCascade as i32;
        for object in &s.objects {
            match kind {
                ObjectType::ObjectTable => {
                    let names = names_of(object, 0);
                    let Some((schema, table)) = split(&names) else {
                        continue;
                    };
                    let name = self.resolve(schema, table);
                    let t = self.table(&name);
                    let partitioned = t.is_some_and(|t| t.partition_by.is_some());
                    self.add_tree(
                        name.clone(),
                        partitioned || cascade,
                        AccessExclusive,
                        Work::Catalog,
                    );
                    // Its foreign keys' triggers on the tables they reference go with it.
                    if let Some(t) = t {
                        for fk in &t.foreign_keys {
                            if fk.ref_table != name {
                                self.add(fk.ref_table.clone(), AccessExclusive, Work::Catalog);
                            }
                        }
                    }
                    if cascade {
                        self.referencing(&name, AccessExclusive, false);
                    }
                }
                ObjectType::ObjectIndex => {
                    let names = names_of(object, 0);
                    let Some((schema, index)) = split(&names) else {
                        continue;
                    };
                    if let Some(t) = self.session.index_owner(self.catalog, schema, index) {
                        self.add(
                            t.qualified_name(),
                            drop_index_mode(s.concurrent),
                            Work::Catalog,
                        );
                    }
                }
                ObjectType::ObjectTrigger | ObjectType::ObjectPolicy | ObjectType::ObjectRule => {
                    let names = names_of(object, 1);
                    if let Some((schema, table)) = split(&names) {
                        let name = self.resolve(schema, table);
                        self.add(name, AccessExclusive, Work::Catalog);
                    }
                }
                ObjectType::ObjectSchema if cascade => {
                    let names = names_of(object, 0);
                    if let Some((_, schema)) = split(&names) {
                        let tables: Vec<QualifiedName> = self
                            .catalog
                            .tables
                            .iter()
                            .filter(|t| t.schema == schema)
                            .map(Table::qualified_name)
                            .collect();
                        for t in tables {
                            self.add(t, AccessExclusive, Work::Catalog);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn rename(&mut self, s: &protobuf::RenameStmt) {
        let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
        match kind {
            ObjectType::ObjectTable
            | ObjectType::ObjectColumn
            | ObjectType::ObjectTabconstraint
            | ObjectType::ObjectTrigger
            | ObjectType::ObjectPolicy
            | ObjectType::ObjectRule => {
                let relation_kind =
                    ObjectType::try_from(s.relation_type).unwrap_or(ObjectType::Undefined);
                // `ALTER VIEW ... RENAME COLUMN` and the like lock a view, not a table.
                if kind != ObjectType::ObjectTable
                    && kind != ObjectType::ObjectTabconstraint
                    && kind != ObjectType::ObjectTrigger
                    && kind != ObjectType::ObjectPolicy
                    && kind != ObjectType::ObjectRule
                    && relation_kind != ObjectType::ObjectTable
                {
                    return;
                }
                if let Some(r) = &s.relation {
                    let recurse = r.inh
                        && matches!(
                            kind,
                            ObjectType::ObjectColumn | ObjectType::ObjectTabconstraint
                        );
                    let name = self.relation(r);
                    self.add_tree(name, recurse, LockMode::AccessExclusive, Work::Catalog);
                }
            }
            _ => {}
        }
    }

    fn reindex(&mut self, s: &protobuf::ReindexStmt) {
        let concurrent = s.params.iter().any(|p| match p.node.as_ref() {
            Some(NodeEnum::DefElem(d)) => {
                d.defname == "concurrently"
                    && d.arg
                        .as_deref()
                        .and_then(string_value)
                        .is_none_or(|v| v != "false")
            }
            _ => false,
        });
        let mode = if concurrent {
            LockMode::ShareUpdateExclusive
        } else {
            LockMode::Share
        };
        let Some(r) = &s.relation else { return };
        match protobuf::ReindexObjectType::try_from(s.kind) {
            Ok(protobuf::ReindexObjectType::ReindexObjectTable) => {
                let name = self.relation(r);
                self.add(name, mode, Work::IndexBuild);
            }
            Ok(protobuf::ReindexObjectType::ReindexObjectIndex) => {
                if let Some(t) = self
                    .session
                    .index_owner(self.catalog, &r.schemaname, &r.relname)
                {
                    self.add(t.qualified_name(), mode, Work::IndexBuild);
                }
            }
            _ => {}
        }
    }

    fn vacuum(&mut self, s: &protobuf::VacuumStmt) {
        let full = s.is_vacuumcmd
            && s.options.iter().any(|o| match o.node.as_ref() {
                Some(NodeEnum::DefElem(d)) => {
                    d.defname == "full"
                        && d.arg
                            .as_deref()
                            .and_then(string_value)
                            .is_none_or(|v| v != "false")
                }
                _ => false,
            });
        let (mode, work) = if full {
            (LockMode::AccessExclusive, Work::Rewrite)
        } else {
            (LockMode::ShareUpdateExclusive, Work::Scan)
        };
        let relations: Vec<&protobuf::RangeVar> = s
            .rels
            .iter()
            .filter_map(|n| match n.node.as_ref() {
                Some(NodeEnum::VacuumRelation(v)) => v.relation.as_ref(),
                _ => None,
            })
            .collect();
        if relations.is_empty() {
            // Every table of the database, one after the other.
            let all: Vec<QualifiedName> = self
                .catalog
                .tables
                .iter()
                .filter(|t| t.schema != crate::replay::TEMP_SCHEMA)
                .map(Table::qualified_name)
                .collect();
            for t in all {
                self.add(t, mode, work);
            }
        }
        for r in relations {
            self.add_relation(r, mode, work);
        }
    }

    fn comment(&mut self, s: &protobuf::CommentStmt) {
        let kind = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
        let drop = match kind {
            ObjectType::ObjectTable => 0,
            ObjectType::ObjectColumn
            | ObjectType::ObjectTabconstraint
            | ObjectType::ObjectTrigger
            | ObjectType::ObjectPolicy
            | ObjectType::ObjectRule => 1,
            _ => return,
        };
        let Some(object) = s.object.as_deref() else {
            return;
        };
        let names = names_of(object, drop);
        if let Some((schema, table)) = split(&names) {
            let name = self.resolve(schema, table);
            // A table or column is locked itself; a constraint, trigger, policy or rule is an
            // object of its own (locked as such), its table only opened (`ACCESS SHARE`).
            let mode = match kind {
                ObjectType::ObjectTable | ObjectType::ObjectColumn => {
                    LockMode::ShareUpdateExclusive
                }
                _ => LockMode::AccessShare,
            };
            // `COMMENT ON COLUMN` of a view locks the view.
            if kind == ObjectType::ObjectColumn && self.table(&name).is_none() {
                return;
            }
            self.add(name, mode, Work::Catalog);
        }
    }

    fn create_table(&mut self, s: &protobuf::CreateStmt) {
        use LockMode::*;
        let Some(r) = &s.relation else { return };
        for parent in s.inh_relations.iter().filter_map(range_var) {
            let mode = if s.partbound.is_some() {
                AccessExclusive
            } else {
                ShareUpdateExclusive
            };
            let name = self.relation(parent);
            self.add(name, mode, Work::Catalog);
        }
        let mut constraints: Vec<&protobuf::Constraint> = Vec::new();
        for e in &s.table_elts {
            match e.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => constraints.extend(column_constraints(c)),
                Some(NodeEnum::Constraint(c)) => constraints.push(c),
                Some(NodeEnum::TableLikeClause(l)) => {
                    if let Some(src) = &l.relation {
                        let name = self.relation(src);
                        self.add(name, AccessShare, Work::Catalog);
                    }
                }
                _ => {}
            }
        }
        for c in s.constraints.iter().filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::Constraint(c)) => Some(c.as_ref()),
            _ => None,
        }) {
            constraints.push(c);
        }
        for c in constraints {
            if contype(c) == ConstrType::ConstrForeign
                && let Some(p) = &c.pktable
            {
                // A key referencing its own table locks nothing more.
                let name = self.relation(p);
                if name != self.relation(r) {
                    self.add(name, ShareRowExclusive, Work::Catalog);
                }
            }
        }
    }
}

/// The column names of an INSERT's column list or an UPDATE's SET list.
fn target_names(list: &[protobuf::Node]) -> Vec<&str> {
    list.iter()
        .filter_map(|c| match c.node.as_ref() {
            Some(NodeEnum::ResTarget(t)) => Some(t.name.as_str()),
            _ => None,
        })
        .collect()
}

fn range_var(n: &protobuf::Node) -> Option<&protobuf::RangeVar> {
    match n.node.as_ref() {
        Some(NodeEnum::RangeVar(r)) => Some(r),
        _ => None,
    }
}

/// Whether an expression calls a built-in volatile function ([`VOLATILE_BUILTINS`]).
fn calls_volatile(expr: &NodeEnum) -> bool {
    volatile_builtin_call(expr).is_some()
}

/// The first built-in volatile function ([`VOLATILE_BUILTINS`]) an expression calls, by its
/// name in lower case; `is_volatile` says which other functions are volatile (a function
/// created by the migrations without `IMMUTABLE` or `STABLE`).
pub fn volatile_call(expr: &NodeEnum, is_volatile: impl Fn(&str) -> bool) -> Option<String> {
    expr.nodes()
        .into_iter()
        .find_map(|(node, _, _, _)| match node {
            NodeRef::FuncCall(f) => {
                let names = strings(&f.funcname);
                let name = names.last()?.to_lowercase();
                let builtin = names.len() == 1 || names[0] == "pg_catalog" || names[0] == "public";
                ((builtin && VOLATILE_BUILTINS.contains(&name.as_str())) || is_volatile(&name))
                    .then_some(name)
            }
            _ => None,
        })
}

fn volatile_builtin_call(expr: &NodeEnum) -> Option<String> {
    volatile_call(expr, |_| false)
}

#[cfg(test)]
mod tests;
