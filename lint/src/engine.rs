//! The lint run: files in order, statements in order, one replayed schema.
//!
//! For each statement the statement rules see the schema *before* it; then the statement is
//! applied with [`model::replay::apply`] (the replay the migration diff uses). Schema-state
//! problems are tracked per table: a problem that appears when a statement is applied is
//! recorded with that statement as its origin, and one that disappears (an index added later,
//! in the same file or a later one) is forgotten. After each file the tables it touched are
//! checked again, so the state after every file is what counts. Whatever is still a problem
//! after the last file is reported at its origin: the statement that created it, or the end of
//! the file whose drop introduced it.
//!
//! "Existing" tables, for the lock rules, are those created before the current file: a table
//! created earlier in the same file has no rows and no traffic yet.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use model::replay::{FastHash, Location, ReplayError, Session, TEMP_SCHEMA};
use model::{Catalog, QualifiedName};
use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, DropBehavior, ObjectType, TransactionStmtKind};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::finding::{Finding, Report, Reported};
use crate::parse::{self, Item};
use crate::registry::{Check, RULES};
use crate::rules::{
    self, FileScope, Problem, Resolver, StatementContext, alter_table_cmds, object_names,
};
use crate::source::SourceFile;
use crate::suppress::{self, Scope, Suppression};

/// Identity of a schema-state problem: the same key before and after a statement is the same
/// problem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProblemKey {
    pub rule: String,
    pub table: String,
    pub columns: Vec<String>,
}

/// Where a schema-state problem is reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    Statement {
        file: usize,
        statement: usize,
        start: usize,
        end: usize,
    },
    /// Introduced by a drop (or found only when the file was checked as a whole): reported at
    /// the end of the file; `cause` is the statement that introduced it, when known.
    EndOfFile { file: usize, cause: Option<Cause> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    pub statement: usize,
    pub start: usize,
    /// The statement's first line, shortened.
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub origin: Origin,
    pub message: String,
    pub help: String,
}

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

/// Schema-state problems per table, valid for the current state only: emptied before every
/// replayed statement, so that the "before" of a statement reuses the "after" of the previous
/// one on the same table (and the end-of-file check that of the last) instead of running the
/// rules again.
#[derive(Debug, Clone, Default)]
pub struct ProblemMemo(HashMap<QualifiedName, Vec<Problem>, FastHash>);

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
                ) => scope.explicit_transaction = false,
                _ => {}
            },
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

    /// The report: findings of every file plus the schema-state problems still open, after
    /// suppressions and the configured severities.
    pub fn finish(&self, files: Vec<SourceFile>) -> Report {
        let mut all: Vec<Finding> = self
            .files
            .iter()
            .flat_map(|f| f.findings.iter().cloned())
            .collect();
        for (key, pending) in &self.pending {
            all.push(self.state_finding(key, pending, &files));
        }
        let suppressions: Vec<&Suppression> =
            self.files.iter().flat_map(|f| &f.suppressions).collect();
        let mut used = vec![false; suppressions.len()];
        let mut suppressed = 0;
        all.retain(|f| {
            let hit = suppressions.iter().position(|s| {
                s.file == f.file
                    && s.rules.contains(&f.rule)
                    && match s.scope {
                        Scope::File => true,
                        Scope::Statement(Some(st)) => f.statement == Some(st),
                        Scope::Statement(None) => false,
                    }
            });
            match hit {
                Some(i) => {
                    used[i] = true;
                    suppressed += 1;
                    false
                }
                None => true,
            }
        });
        for (s, used) in suppressions.iter().zip(used) {
            all.extend(suppression_findings(s, used));
        }
        let mut findings: Vec<Reported> = all
            .into_iter()
            .filter_map(|finding| {
                let severity = self.config.severity(&finding.rule)?;
                Some(Reported { finding, severity })
            })
            .collect();
        findings.sort_by(|a, b| {
            (
                a.finding.file,
                a.finding.start,
                &a.finding.rule,
                &a.finding.message,
            )
                .cmp(&(
                    b.finding.file,
                    b.finding.start,
                    &b.finding.rule,
                    &b.finding.message,
                ))
        });
        findings.dedup_by(|a, b| a.finding == b.finding);
        Report {
            statements: self.statements(),
            files,
            findings,
            suppressed,
        }
    }

    fn state_finding(&self, key: &ProblemKey, p: &Pending, files: &[SourceFile]) -> Finding {
        let (file, span, statement, message) = match &p.origin {
            Origin::Statement {
                file,
                statement,
                start,
                end,
            } => (*file, (*start, *end), Some(*statement), p.message.clone()),
            Origin::EndOfFile { file, cause } => {
                let source = files.get(*file);
                let span = source.map_or((0, 0), SourceFile::end_span);
                let message = match (cause, source) {
                    (Some(c), Some(src)) => format!(
                        "{} (since `{}` on line {})",
                        p.message,
                        c.summary,
                        src.position(c.start).line
                    ),
                    _ => p.message.clone(),
                };
                (*file, span, cause.as_ref().map(|c| c.statement), message)
            }
        };
        let mut f = Finding::new(&key.rule, file, span, message)
            .with_help(p.help.clone())
            .with_table(&key.table, &key.columns);
        f.statement = statement;
        f
    }
}

fn suppression_findings(s: &Suppression, used: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let span = (s.start, s.end);
    let form = match s.scope {
        Scope::File => "lint:ignore-file",
        Scope::Statement(_) => "lint:ignore",
    };
    if s.reason.is_none() {
        out.push(
            Finding::new(
                rules::suppression_without_reason::NAME,
                s.file,
                span,
                format!("`-- {form} {}` gives no reason", s.rules.join(",")),
            )
            .with_help(format!(
                "say why: `-- {form} {} <reason>`",
                s.rules.join(",")
            )),
        );
    }
    let unknown: Vec<&String> = s
        .rules
        .iter()
        .filter(|r| {
            crate::registry::rule(r).is_none()
                || **r == rules::unused_suppression::NAME
                || **r == rules::suppression_without_reason::NAME
        })
        .collect();
    if s.rules.is_empty() {
        out.push(Finding::new(
            rules::unused_suppression::NAME,
            s.file,
            span,
            format!("`-- {form}` names no rule"),
        ));
    } else if let Some(name) = unknown.first() {
        let hint = model::diagnostics::suggest(name, RULES.iter().map(|r| r.name))
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| "`lint --list-rules` lists the rules".into());
        out.push(
            Finding::new(
                rules::unused_suppression::NAME,
                s.file,
                span,
                format!("`{name}` is not a rule that can be suppressed"),
            )
            .with_help(hint),
        );
    } else if !used {
        let target = match s.scope {
            Scope::File => "in this file",
            Scope::Statement(Some(_)) => "on the next statement",
            Scope::Statement(None) => "(no statement follows it)",
        };
        out.push(
            Finding::new(
                rules::unused_suppression::NAME,
                s.file,
                span,
                format!(
                    "suppression of {} matches no finding {target}",
                    rules::list(&s.rules)
                ),
            )
            .with_help("remove it, or move it above the statement it is meant for"),
        );
    }
    out
}

/// A table or column rename, to keep following a problem under its new name.
struct Rename {
    table: QualifiedName,
    new_table: Option<QualifiedName>,
    column: Option<(String, String)>,
}

impl Rename {
    /// The rename a statement makes, resolved against the schema before it.
    fn of(node: &NodeEnum, names: Resolver<'_>) -> Option<Rename> {
        let NodeEnum::RenameStmt(s) = node else {
            return None;
        };
        let table = names.relation(s.relation.as_ref()?);
        match ObjectType::try_from(s.rename_type).ok()? {
            ObjectType::ObjectTable => Some(Rename {
                new_table: Some(QualifiedName::new(&table.schema, &s.newname)),
                table,
                column: None,
            }),
            ObjectType::ObjectColumn => Some(Rename {
                table,
                new_table: None,
                column: Some((s.subname.clone(), s.newname.clone())),
            }),
            _ => None,
        }
    }

    fn qualified_name(&self, name: QualifiedName) -> QualifiedName {
        match &self.new_table {
            Some(new) if name == self.table => new.clone(),
            _ => name,
        }
    }

    fn apply(&self, mut key: ProblemKey) -> ProblemKey {
        self.apply_to(&mut key.table, &mut key.columns);
        key
    }

    /// Follows a problem's table key and columns through the rename.
    fn apply_to(&self, table: &mut String, columns: &mut [String]) {
        if *table != self.table.display() {
            return;
        }
        if let Some((old, new)) = &self.column {
            for c in columns.iter_mut() {
                if c == old {
                    c.clone_from(new);
                }
            }
        }
        if let Some(new) = &self.new_table {
            *table = new.display().into_owned();
        }
    }
}

/// A problem's identity, borrowed: `pending` is looked up with a [`Problem`] or a
/// [`ProblemKey`] alike, without building a key (three allocations) per lookup.
trait KeyView {
    fn key(&self) -> (&str, &str, &[String]);
}

impl KeyView for ProblemKey {
    fn key(&self) -> (&str, &str, &[String]) {
        (&self.rule, &self.table, &self.columns)
    }
}

impl KeyView for Problem {
    fn key(&self) -> (&str, &str, &[String]) {
        (self.rule, &self.table, &self.columns)
    }
}

impl PartialEq for dyn KeyView + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for dyn KeyView + '_ {}

impl PartialOrd for dyn KeyView + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

// The same order as `ProblemKey`'s derived one (rule, table, columns), as `Borrow` requires.
impl Ord for dyn KeyView + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl<'a> std::borrow::Borrow<dyn KeyView + 'a> for ProblemKey {
    fn borrow(&self) -> &(dyn KeyView + 'a) {
        self
    }
}

impl ProblemKey {
    fn of(p: &Problem) -> ProblemKey {
        ProblemKey {
            rule: p.rule.to_string(),
            table: p.table.clone(),
            columns: p.columns.clone(),
        }
    }
}

/// Problems sorted by key, one per key: the last of equal keys, as inserting them into a map
/// in order keeps.
fn by_key<P: std::borrow::Borrow<Problem>>(mut problems: Vec<P>) -> Vec<P> {
    problems.sort_by(|a, b| a.borrow().key().cmp(&b.borrow().key()));
    let mut out: Vec<P> = Vec::with_capacity(problems.len());
    for p in problems {
        if out
            .last()
            .is_some_and(|last| last.borrow().key() == p.borrow().key())
        {
            out.pop();
        }
        out.push(p);
    }
    out
}

/// Whether problems sorted by [`by_key`] hold `key`.
fn has_key<P: std::borrow::Borrow<Problem>>(sorted: &[P], key: (&str, &str, &[String])) -> bool {
    sorted
        .binary_search_by(|p| p.borrow().key().cmp(&key))
        .is_ok()
}

/// The memo's problems of the named tables (each name once), in the order of the names.
fn memo_view<'m>(memo: &'m ProblemMemo, names: &[QualifiedName]) -> Vec<&'m Problem> {
    let mut seen = BTreeSet::new();
    names
        .iter()
        .filter(|n| seen.insert(*n))
        .filter_map(|n| memo.0.get(n))
        .flatten()
        .collect()
}

/// The keys of `pending` whose table is in `tables`. Keys sort by rule, then table: one range
/// per rule present and table.
fn pending_of_tables<'p>(
    pending: &'p BTreeMap<ProblemKey, Pending>,
    tables: &'p [String],
) -> impl Iterator<Item = &'p ProblemKey> + 'p {
    let key = |rule: &str, table: String| ProblemKey {
        rule: rule.to_string(),
        table,
        columns: Vec::new(),
    };
    let mut rules = Vec::new();
    let mut next = pending.keys().next();
    while let Some(k) = next {
        rules.push(k.rule.clone());
        // `rule + "\0"` is the least string after `rule`: the next rule's first key.
        next = pending
            .range(key(&format!("{}\0", k.rule), String::new())..)
            .next()
            .map(|(k, _)| k);
    }
    rules.into_iter().flat_map(move |rule| {
        tables.iter().flat_map(move |t| {
            pending
                .range(key(&rule, t.clone())..key(&rule, format!("{t}\0")))
                .map(|(k, _)| k)
        })
    })
}

/// Tables whose schema-state problems a statement may change.
fn touched_tables(node: &NodeEnum, names: Resolver<'_>) -> Touched {
    let index_owner = |list: &[String]| names.index_owner(list).map(model::Table::qualified_name);
    // A partitioned table's indexes count for its partitions too.
    let partitioned =
        |name: &QualifiedName| names.table(name).is_some_and(|t| t.partition_by.is_some());
    let tables = match node {
        NodeEnum::CreateStmt(s) => s.relation.iter().map(|r| names.relation(r)).collect(),
        NodeEnum::CreateTableAsStmt(s) => s
            .into
            .as_ref()
            .and_then(|i| i.rel.as_ref())
            .map(|r| names.relation(r))
            .into_iter()
            .collect(),
        NodeEnum::SelectStmt(s) => s
            .into_clause
            .as_ref()
            .and_then(|i| i.rel.as_ref())
            .map(|r| names.relation(r))
            .into_iter()
            .collect(),
        NodeEnum::AlterTableStmt(s) => {
            let Some((_, _)) = names.altered_table(node) else {
                return Touched::Tables(Vec::new());
            };
            let Some(r) = s.relation.as_ref() else {
                return Touched::Tables(Vec::new());
            };
            let name = names.relation(r);
            let spreads = alter_table_cmds(s).any(|(kind, c)| {
                DropBehavior::try_from(c.behavior) == Ok(DropBehavior::DropCascade)
                    || matches!(
                        kind,
                        AlterTableType::AtAttachPartition
                            | AlterTableType::AtDetachPartition
                            | AlterTableType::AtAddInherit
                            | AlterTableType::AtDropInherit
                    )
            });
            // Changes to a parent reach its partitions and children.
            let parent = names.catalog.tables.iter().any(|t| {
                t.inherits.contains(&name)
                    || t.partition_of.as_ref().is_some_and(|p| p.parent == name)
            });
            if spreads || parent {
                return Touched::All;
            }
            vec![name]
        }
        NodeEnum::IndexStmt(s) => {
            let Some(r) = s.relation.as_ref() else {
                return Touched::Tables(Vec::new());
            };
            let name = names.relation(r);
            if partitioned(&name) {
                return Touched::All;
            }
            vec![name]
        }
        NodeEnum::DropStmt(s) => {
            let cascade = DropBehavior::try_from(s.behavior) == Ok(DropBehavior::DropCascade);
            match ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) {
                ObjectType::ObjectTable | ObjectType::ObjectType | ObjectType::ObjectDomain
                    if cascade =>
                {
                    return Touched::All;
                }
                ObjectType::ObjectSchema => return Touched::All,
                ObjectType::ObjectTable => s
                    .objects
                    .iter()
                    .map(|o| names.object(&object_names(o)))
                    .collect(),
                ObjectType::ObjectIndex => {
                    let owners: Vec<QualifiedName> = s
                        .objects
                        .iter()
                        .filter_map(|o| index_owner(&object_names(o)))
                        .collect();
                    if owners.iter().any(partitioned) {
                        return Touched::All;
                    }
                    owners
                }
                _ => vec![],
            }
        }
        NodeEnum::RenameStmt(s) => {
            let table = s.relation.as_ref().map(|r| names.relation(r));
            match ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined) {
                ObjectType::ObjectTable => {
                    let new = table
                        .as_ref()
                        .map(|t| QualifiedName::new(&t.schema, &s.newname));
                    table.into_iter().chain(new).collect()
                }
                ObjectType::ObjectColumn
                | ObjectType::ObjectTabconstraint
                | ObjectType::ObjectTrigger => table.into_iter().collect(),
                ObjectType::ObjectIndex => {
                    let index: Vec<String> = s
                        .relation
                        .iter()
                        .flat_map(|r| [r.schemaname.clone(), r.relname.clone()])
                        .filter(|n| !n.is_empty())
                        .collect();
                    index_owner(&index).into_iter().collect()
                }
                ObjectType::ObjectSchema => return Touched::All,
                _ => vec![],
            }
        }
        NodeEnum::CommentStmt(s) => {
            let list = s.object.as_deref().map(object_names).unwrap_or_default();
            match ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined) {
                ObjectType::ObjectTable => vec![names.object(&list)],
                ObjectType::ObjectColumn => match list.split_last() {
                    Some((_, table)) => vec![names.object(table)],
                    None => vec![],
                },
                _ => vec![],
            }
        }
        // Anything may happen in these.
        NodeEnum::DoStmt(_) | NodeEnum::AlterObjectSchemaStmt(_) => return Touched::All,
        NodeEnum::CreateSchemaStmt(s) if !s.schema_elts.is_empty() => return Touched::All,
        _ => vec![],
    };
    Touched::Tables(tables)
}

/// Enum types a statement's column definitions use (for poisoned-type consequences).
fn mentioned_types(node: &NodeEnum) -> Vec<String> {
    let column_type = |c: &protobuf::ColumnDef| {
        c.type_name
            .as_ref()
            .map(|t| rules::strings(&t.names).join("."))
    };
    match node {
        NodeEnum::CreateStmt(s) => s
            .table_elts
            .iter()
            .filter_map(|e| match e.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => column_type(c),
                _ => None,
            })
            .collect(),
        NodeEnum::AlterTableStmt(s) => alter_table_cmds(s)
            .filter_map(|(_, cmd)| rules::cmd_column(cmd).and_then(column_type))
            .collect(),
        _ => vec![],
    }
}

/// A part of a statement the replay could not follow, as a `replay-failed` finding: at the line
/// of a `DO` block it concerns, else on the whole statement. The statement still applied as far
/// as it could.
fn replay_note(
    file: usize,
    index: usize,
    st: &parse::Statement,
    text: &str,
    note: &ReplayError,
) -> Finding {
    let statement = (st.offset, st.offset + st.len);
    let span = note
        .at
        .and_then(|at| body_line(text, st.location_base, at))
        .filter(|(start, end)| *start >= statement.0 && *end <= statement.1)
        .unwrap_or(statement);
    let mut f = Finding::new(
        rules::replay_failed::NAME,
        file,
        span,
        format!("cannot replay part of this statement: {}", note.message),
    )
    .with_help(
        "the rest of the statement is replayed; schema-state rules may miss problems on the \
         objects this part touches",
    );
    f.statement = Some(index);
    f
}

/// The span of line `at.line` of the string literal at `at.literal` (a node location), within
/// `text`: the literal's value starts after its opening quote (`$tag$` or `'`).
fn body_line(text: &str, location_base: usize, at: Location) -> Option<(usize, usize)> {
    let start = location_base + usize::try_from(at.literal).ok()?;
    let rest = text.get(start..)?;
    let quote = if let Some(tag) = rest.strip_prefix('$') {
        tag.find('$')? + 2
    } else if rest.starts_with("E'") || rest.starts_with("e'") {
        2
    } else {
        1
    };
    let mut line_start = start + quote;
    for _ in 1..at.line {
        line_start += text.get(line_start..)?.find('\n')? + 1;
    }
    let line = text.get(line_start..)?;
    let end = line_start + line.find('\n').unwrap_or(line.len());
    let trimmed = text[line_start..end].trim();
    let lead = text[line_start..end].len() - text[line_start..end].trim_start().len();
    Some((line_start + lead, line_start + lead + trimmed.len()))
}

/// Statements whose new problems are reported at the end of the file.
fn is_drop(node: &NodeEnum) -> bool {
    match node {
        NodeEnum::DropStmt(_) => true,
        NodeEnum::AlterTableStmt(s) => alter_table_cmds(s).any(|(t, _)| {
            matches!(
                t,
                AlterTableType::AtDropColumn | AlterTableType::AtDropConstraint
            )
        }),
        _ => false,
    }
}

fn summarize(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim();
    if first.chars().count() > 60 {
        format!("{}...", first.chars().take(57).collect::<String>())
    } else if text.contains('\n') {
        format!("{first} ...")
    } else {
        first.to_string()
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
