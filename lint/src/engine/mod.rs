//! The lint run: files in order, statements in order, one replayed schema.
//!
//! For each statement the statement rules see the schema *before* it; then the statement is
//! applied with [`model::replay::Session::apply`] (the replay the migration diff uses). Schema-state
//! problems are tracked per table: a problem that appears when a statement is applied is
//! recorded with that statement as its origin, and one that disappears (an index added later,
//! in the same file or a later one) is forgotten. After each file the tables it touched are
//! checked again, so the state after every file is what counts. Whatever is still a problem
//! after the last file is reported at its origin: the statement that created it, or the end of
//! the file whose drop introduced it.
//!
//! "Existing" tables, for the lock rules, are those created before the current file: a table
//! created earlier in the same file has no rows and no traffic yet.
//!
//! - `problems.rs`: the bookkeeping of schema-state problems (keys, origins, the memo);
//! - `statements.rs`: what a statement touches, renames and notes, read off its parse tree;
//! - `report.rs`: the report at the end (suppressions, severities, positions).

mod problems;
mod report;
mod statements;
mod timeouts;

pub use problems::{Cause, Origin, Pending, ProblemKey, ProblemMemo};
use problems::{KeyView, by_key, has_key, memo_view, pending_of_tables};
use statements::{Rename, is_drop, mentioned_types, replay_note, summarize, touched_tables};

use std::collections::{BTreeMap, BTreeSet, HashSet};

use model::replay::{Session, TEMP_SCHEMA};
use model::{Catalog, QualifiedName};
use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableType, ObjectType, TransactionStmtKind};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::finding::{Finding, Report};
use crate::parse::{self, Item};
use crate::registry::{Check, RULES};
use crate::rules::{self, FileScope, Problem, Resolver, StatementContext, alter_table_cmds};
use crate::source::SourceFile;
use crate::suppress::{self, Suppression};

/// What one file contributed, kept so a cached run can report it again without re-parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub statements: usize,
    pub findings: Vec<Finding>,
    pub suppressions: Vec<Suppression>,
}

/// The whole state of a lint run between two files: what the cache stores.
#[derive(Debug, Clone, Default)]
pub struct Linter {
    pub config: Config,
    pub state: Catalog,
    pub pending: BTreeMap<ProblemKey, Pending>,
    pub files: Vec<FileRecord>,
    /// Functions created by the migrations as VOLATILE (the default).
    pub volatile_functions: HashSet<String>,
    /// Tables (and types) whose creation could not be replayed: later failures on them are
    /// consequences, not news.
    pub poisoned: HashSet<String>,
    /// The replay session: the `search_path`, and name lookups in `state` (a long history has
    /// thousands of tables). It follows the replay; after replacing `state` by other means,
    /// `session.reset()`.
    pub session: Session,
    /// Valid for `state` as the replay left it; set it to the default after replacing `state`.
    pub memo: ProblemMemo,
}

enum Touched {
    Tables(Vec<QualifiedName>),
    All,
}

impl Linter {
    pub fn new(config: Config) -> Self {
        Linter {
            session: Session::lenient(config.search_path.clone()),
            config,
            ..Default::default()
        }
    }

    pub fn statements(&self) -> usize {
        self.files.iter().map(|f| f.statements).sum()
    }

    /// Lints the next file. `index` is its position in the run (the same as `self.files.len()`).
    pub fn lint_file(&mut self, source: &SourceFile, items: &[Item]) {
        let index = self.files.len();
        if index == 0 {
            self.create_bookkeeping_table(source.layout);
        }
        let mut scope = FileScope {
            transactional_file: self.config.assume_in_transaction
                && source.runs_in_transaction(items),
            layout: source.layout,
            transaction: source.transaction,
            ..Default::default()
        };
        let spans: Vec<(usize, usize)> = items.iter().map(Item::span).collect();
        let suppressions = suppress::collect(index, &source.text, &spans);
        let mut findings = Vec::new();
        let mut dirty: HashSet<QualifiedName> = HashSet::new();
        let mut all_dirty = false;
        let mut statements = 0;
        for (i, item) in items.iter().enumerate() {
            match item {
                Item::Error(e) => {
                    let mut f = Finding::new(
                        rules::syntax_error::NAME,
                        index,
                        e.at,
                        format!("syntax error: {}", e.message),
                    );
                    f.statement = Some(i);
                    findings.push(f);
                }
                Item::Statement(st) => {
                    statements += 1;
                    let touched =
                        self.statement(index, i, st, &source.text, &mut scope, &mut findings);
                    match touched {
                        Touched::All => all_dirty = true,
                        Touched::Tables(t) => dirty.extend(t),
                    }
                }
            }
        }
        self.reconcile(index, all_dirty, &dirty);
        self.files.push(FileRecord {
            statements,
            findings,
            suppressions,
        });
    }

    fn statement(
        &mut self,
        file: usize,
        index: usize,
        st: &parse::Statement,
        text: &str,
        scope: &mut FileScope,
        findings: &mut Vec<Finding>,
    ) -> Touched {
        let stmt_text = &text[st.offset..st.offset + st.len];
        let resolver = Resolver {
            catalog: &self.state,
            session: &self.session,
        };
        let ctx = StatementContext {
            node: &st.node,
            text: stmt_text,
            offset: st.offset,
            location_base: st.location_base,
            file,
            statement: index,
            catalog: &self.state,
            scope,
            config: &self.config,
            volatile_functions: &self.volatile_functions,
            names: resolver,
        };
        for rule in RULES {
            if let Check::Statement(check) = rule.check {
                check(&ctx, findings);
            }
        }
        let touched = touched_tables(&st.node, resolver);
        let rename = Rename::of(&st.node, resolver);
        let mut before = self.take_problems(&touched);
        self.memo.0.clear();
        let result = self.session.apply(&mut self.state, &st.node);
        let notes = self.session.take_notes();
        let names: Vec<String> = match &touched {
            Touched::Tables(t) => t.iter().map(|n| n.display().into_owned()).collect(),
            Touched::All => Vec::new(),
        };
        for note in &notes {
            findings.push(replay_note(file, index, st, text, note));
        }
        match result {
            Err(e) => {
                let consequence = names.iter().any(|n| self.poisoned.contains(n))
                    || mentioned_types(&st.node)
                        .iter()
                        .any(|t| self.poisoned.contains(t));
                if !consequence {
                    let mut f = Finding::new(
                        rules::replay_failed::NAME,
                        file,
                        (st.offset, st.offset + st.len),
                        format!("cannot replay this statement: {}", e.message),
                    )
                    .with_help(
                        "the statement fails on the schema built by the migrations before it; \
                         schema-state rules may miss problems on the objects it touches",
                    );
                    f.statement = Some(index);
                    findings.push(f);
                }
                self.poisoned.extend(names.iter().cloned());
                if let NodeEnum::CreateEnumStmt(s) = &st.node {
                    self.poisoned.insert(rules::strings(&s.type_name).join("."));
                }
            }
            Ok(_) => {
                if let NodeEnum::CreateStmt(_) | NodeEnum::CreateEnumStmt(_) = &st.node {
                    for n in &names {
                        self.poisoned.remove(n);
                    }
                }
            }
        }
        self.update_scope(&st.node, scope, rename.as_ref());
        if let Some(rename) = &rename {
            let pending = std::mem::take(&mut self.pending);
            self.pending = pending
                .into_iter()
                .map(|(k, v)| (rename.apply(k), v))
                .collect();
            for p in &mut before {
                rename.apply_to(&mut p.table, &mut p.columns);
            }
            before = by_key(before);
        }
        let everything;
        let after: Vec<&Problem> = match &touched {
            Touched::All => {
                everything = by_key(self.compute_all());
                everything.iter().collect()
            }
            Touched::Tables(names) => {
                self.fill_memo(names);
                by_key(memo_view(&self.memo, names))
            }
        };
        for problem in after.iter().copied() {
            match self.pending.get_mut(problem as &dyn KeyView) {
                Some(p) if has_key(&before, problem.key()) => {
                    p.message.clone_from(&problem.message);
                    p.help.clone_from(&problem.help);
                }
                _ => {
                    let origin = if is_drop(&st.node) {
                        Origin::EndOfFile {
                            file,
                            cause: Some(Cause {
                                statement: index,
                                start: st.offset,
                                summary: summarize(stmt_text),
                            }),
                        }
                    } else {
                        Origin::Statement {
                            file,
                            statement: index,
                            start: st.offset,
                            end: st.offset + st.len,
                        }
                    };
                    self.pending.insert(
                        ProblemKey::of(problem),
                        Pending {
                            origin,
                            message: problem.message.clone(),
                            help: problem.help.clone(),
                        },
                    );
                }
            }
        }
        for p in &before {
            if !has_key(&after, p.key()) {
                self.pending.remove(p as &dyn KeyView);
            }
        }
        match touched {
            Touched::All => Touched::All,
            Touched::Tables(mut t) => {
                if let Some(rename) = &rename {
                    t = t.into_iter().map(|n| rename.qualified_name(n)).collect();
                }
                Touched::Tables(t)
            }
        }
    }

    /// The problems of one table in the current state, by every schema-state rule.
    fn table_problems(&self, table: &model::Table, out: &mut Vec<Problem>) {
        for rule in RULES {
            if let Check::State(check) = rule.check {
                check(table, &self.state, out);
            }
        }
    }

    /// The problems of every table in the current state (temporary tables aside: they are
    /// gone when the migration's session ends).
    fn compute_all(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for t in &self.state.tables {
            if t.schema != TEMP_SCHEMA {
                self.table_problems(t, &mut out);
            }
        }
        out
    }

    /// The table `name` of the current state, unless it is temporary.
    fn lintable(&self, name: &QualifiedName) -> Option<&model::Table> {
        self.session
            .table(&self.state, name)
            .filter(|t| t.schema != TEMP_SCHEMA)
    }

    /// Makes the memo hold the problems of each named table (none for a missing one).
    fn fill_memo(&mut self, names: &[QualifiedName]) {
        for name in names {
            if !self.memo.0.contains_key(name) {
                let mut found = Vec::new();
                if let Some(t) = self.lintable(name) {
                    self.table_problems(t, &mut found);
                }
                self.memo.0.insert(name.clone(), found);
            }
        }
    }

    /// The problems of the touched tables in the current state, by key; what the memo holds is
    /// taken out of it (the caller is about to change the state).
    fn take_problems(&mut self, touched: &Touched) -> Vec<Problem> {
        match touched {
            Touched::All => by_key(self.compute_all()),
            Touched::Tables(names) => {
                let mut found = Vec::new();
                let mut seen = BTreeSet::new();
                for name in names {
                    if !seen.insert(name) {
                        continue;
                    }
                    match self.memo.0.remove(name) {
                        Some(known) => found.extend(known),
                        None => {
                            if let Some(t) = self.lintable(name) {
                                self.table_problems(t, &mut found);
                            }
                        }
                    }
                }
                by_key(found)
            }
        }
    }

    /// After a file: the state of every table it touched is checked as a whole.
    fn reconcile(&mut self, file: usize, all: bool, dirty: &HashSet<QualifiedName>) {
        let everything;
        let dirty: Vec<QualifiedName> = dirty.iter().cloned().collect();
        let dirty_keys: Vec<String> = dirty.iter().map(|n| n.display().into_owned()).collect();
        let current: Vec<&Problem> = if all {
            everything = by_key(self.compute_all());
            everything.iter().collect()
        } else {
            self.fill_memo(&dirty);
            by_key(memo_view(&self.memo, &dirty))
        };
        if all {
            self.pending.retain(|k, _| has_key(&current, k.key()));
        } else {
            // Only the dirty tables' entries can go: found by range, not by a walk over every
            // open problem of the history after each file.
            let stale = pending_of_tables(&self.pending, &dirty_keys)
                .filter(|k| !has_key(&current, k.key()))
                .cloned()
                .collect::<Vec<_>>();
            for k in stale {
                self.pending.remove(&k);
            }
        }
        for problem in current {
            if !self.pending.contains_key(problem as &dyn KeyView) {
                self.pending.insert(
                    ProblemKey::of(problem),
                    Pending {
                        origin: Origin::EndOfFile { file, cause: None },
                        message: problem.message.clone(),
                        help: problem.help.clone(),
                    },
                );
            }
        }
    }

    /// What the statement (just applied) tells about the file: new tables, indexes and
    /// columns, transaction blocks, volatile functions. `rename` is the statement's rename,
    /// resolved before it was applied.
    fn update_scope(&mut self, node: &NodeEnum, scope: &mut FileScope, rename: Option<&Rename>) {
        let names = Resolver {
            catalog: &self.state,
            session: &self.session,
        };
        match node {
            NodeEnum::CreateStmt(s) => {
                if let Some(r) = &s.relation {
                    scope.new_tables.insert(names.key(r));
                }
            }
            // CREATE TABLE AS and CREATE MATERIALIZED VIEW: new too, nobody reads or writes them
            // yet.
            NodeEnum::CreateTableAsStmt(s) => {
                if let Some(r) = s.into.as_ref().and_then(|i| i.rel.as_ref()) {
                    scope.new_tables.insert(names.key(r));
                }
            }
            NodeEnum::IndexStmt(s) if !s.idxname.is_empty() => {
                scope.new_indexes.insert(s.idxname.clone());
            }
            NodeEnum::AlterTableStmt(_) => {
                if let Some((s, table)) = names.altered_table(node) {
                    for (t, cmd) in alter_table_cmds(s) {
                        if t == AlterTableType::AtAddColumn
                            && let Some(c) = rules::cmd_column(cmd)
                        {
                            scope.new_columns.insert((table.clone(), c.colname.clone()));
                        }
                    }
                }
            }
            NodeEnum::RenameStmt(s) => {
                let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
                let table = rename.map(|r| r.table.display().into_owned());
                match (kind, table) {
                    (ObjectType::ObjectTable, Some(table)) if scope.new_tables.remove(&table) => {
                        if let Some(new) = rename.and_then(|r| r.new_table.as_ref()) {
                            scope.new_tables.insert(new.display().into_owned());
                        }
                    }
                    (ObjectType::ObjectColumn, Some(table))
                        if scope
                            .new_columns
                            .remove(&(table.clone(), s.subname.clone())) =>
                    {
                        scope.new_columns.insert((table, s.newname.clone()));
                    }
                    (ObjectType::ObjectIndex, _) => {
                        let old = s.relation.as_ref().map(|r| r.relname.clone());
                        if old.is_some_and(|o| scope.new_indexes.remove(&o)) {
                            scope.new_indexes.insert(s.newname.clone());
                        }
                    }
                    _ => {}
                }
            }
            NodeEnum::TransactionStmt(s) => match TransactionStmtKind::try_from(s.kind) {
                Ok(TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart) => {
                    scope.explicit_transaction = true;
                }
                Ok(
                    TransactionStmtKind::TransStmtCommit
                    | TransactionStmtKind::TransStmtRollback
                    | TransactionStmtKind::TransStmtPrepare,
                ) => {
                    scope.explicit_transaction = false;
                    // `SET LOCAL` ends with the transaction.
                    for t in [&mut scope.lock_timeout, &mut scope.statement_timeout] {
                        if *t == rules::Timeout::Local {
                            *t = rules::Timeout::Unset;
                        }
                    }
                }
                _ => {}
            },
            NodeEnum::VariableSetStmt(_) | NodeEnum::SelectStmt(_) => {
                timeouts::follow(node, scope);
            }
            NodeEnum::CreateFunctionStmt(s) => {
                let name = rules::strings(&s.funcname).join(".");
                let volatile = !s.options.iter().any(|o| match o.node.as_ref() {
                    Some(NodeEnum::DefElem(d)) if d.defname == "volatility" => d
                        .arg
                        .as_deref()
                        .and_then(rules::string_value)
                        .is_some_and(|v| v != "volatile"),
                    _ => false,
                });
                let name = name.rsplit('.').next().unwrap_or(&name).to_lowercase();
                if volatile {
                    self.volatile_functions.insert(name);
                } else {
                    self.volatile_functions.remove(&name);
                }
            }
            _ => {}
        }
    }
}

/// Runs the schema-state rules on a whole catalog (a live database's, for `--database-url`).
/// The report has one synthetic source, `name`, listing the tables one per line; each finding
/// points at the line of its table.
pub fn lint_catalog(catalog: &Catalog, name: &str, config: &Config) -> Report {
    let mut tables: Vec<String> = catalog
        .tables
        .iter()
        .map(|t| t.display_name().into_owned())
        .collect();
    tables.sort_unstable();
    let mut text = String::new();
    let mut starts = std::collections::HashMap::new();
    for t in &tables {
        starts.insert(
            t.as_str(),
            (text.len(), text.len() + "table ".len() + t.len()),
        );
        text.push_str("table ");
        text.push_str(t);
        text.push('\n');
    }
    let mut linter = Linter::new(config.clone());
    linter.state = catalog.clone();
    let mut findings = Vec::new();
    for problem in by_key(linter.compute_all()) {
        let span = starts
            .get(problem.table.as_str())
            .copied()
            .unwrap_or((0, 0));
        findings.push(
            Finding::new(problem.rule, 0, span, problem.message)
                .with_help(problem.help)
                .with_table(&problem.table, &problem.columns),
        );
    }
    linter.files.push(FileRecord {
        statements: 0,
        findings,
        suppressions: Vec::new(),
    });
    linter.finish(vec![SourceFile::new(name, text)])
}

impl Linter {
    /// The migration tool's own table, which it creates before the first migration (see
    /// [`crate::layout::Layout::bookkeeping_table`]): in the state, without findings.
    fn create_bookkeeping_table(&mut self, layout: crate::layout::Layout) {
        let Some(sql) = layout.bookkeeping_table() else {
            return;
        };
        if let Ok(statements) = model::replay::parse_script(sql) {
            for statement in statements {
                // `IF NOT EXISTS`: a table of that name already there is kept.
                let _ = self.session.apply(&mut self.state, &statement.node);
            }
        }
        self.session.take_notes();
    }
}

/// Lints files in order, parsing on `threads` threads while replaying.
pub fn lint_sources(files: Vec<SourceFile>, config: &Config, threads: usize) -> Report {
    let mut linter = Linter::new(config.clone());
    linter.lint_all(&files, threads);
    if threads <= 1 {
        return linter.finish(files);
    }
    // Freeing the replayed schema (hundreds of thousands of allocations after a long history)
    // is a tenth of a run: another thread does it while the report is made.
    let tables = std::mem::take(&mut linter.state.tables);
    std::thread::scope(|scope| {
        scope.spawn(move || drop(tables));
        let report = linter.finish(files);
        drop(linter);
        report
    })
}

impl Linter {
    /// Lints `files[self.files.len()..]`: the files a checkpoint does not cover yet.
    pub fn lint_all(&mut self, files: &[SourceFile], threads: usize) {
        let start = self.files.len();
        let rest = &files[start.min(files.len())..];
        let texts: Vec<&str> = rest.iter().map(|f| f.text.as_str()).collect();
        parse::parse_files_each(&texts, threads, |i, items| {
            self.lint_file(&rest[i], items);
        });
    }
}
