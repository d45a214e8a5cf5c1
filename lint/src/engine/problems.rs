//! Schema-state problems between statements: their identity, where each is reported, and the
//! memo that saves running the rules twice on an unchanged table.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use model::QualifiedName;
use model::replay::FastHash;
use serde::{Deserialize, Serialize};

use crate::rules::Problem;

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

/// Schema-state problems per table, valid for the current state only: emptied before every
/// replayed statement, so that the "before" of a statement reuses the "after" of the previous
/// one on the same table (and the end-of-file check that of the last) instead of running the
/// rules again.
#[derive(Debug, Clone, Default)]
pub struct ProblemMemo(pub(super) HashMap<QualifiedName, Vec<Problem>, FastHash>);

/// A problem's identity, borrowed: `pending` is looked up with a [`Problem`] or a
/// [`ProblemKey`] alike, without building a key (three allocations) per lookup.
pub(super) trait KeyView {
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
    pub(super) fn of(p: &Problem) -> ProblemKey {
        ProblemKey {
            rule: p.rule.to_string(),
            table: p.table.clone(),
            columns: p.columns.clone(),
        }
    }
}

/// Problems sorted by key, one per key: the last of equal keys, as inserting them into a map
/// in order keeps.
pub(super) fn by_key<P: std::borrow::Borrow<Problem>>(mut problems: Vec<P>) -> Vec<P> {
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
pub(super) fn has_key<P: std::borrow::Borrow<Problem>>(
    sorted: &[P],
    key: (&str, &str, &[String]),
) -> bool {
    sorted
        .binary_search_by(|p| p.borrow().key().cmp(&key))
        .is_ok()
}

/// The memo's problems of the named tables (each name once), in the order of the names.
pub(super) fn memo_view<'m>(memo: &'m ProblemMemo, names: &[QualifiedName]) -> Vec<&'m Problem> {
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
pub(super) fn pending_of_tables<'p>(
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
