//! The lock modes, what they block, and the work a statement does under one.

use std::fmt;

use crate::catalog::QualifiedName;

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
        // A row per mode and a column per mode, weakest first as in `LockMode`; `X` where a
        // lock held in the row's mode makes one asked in the column's mode wait. Symmetric.
        const TABLE: [&[u8; 8]; 8] = [
            b".......X", // ACCESS SHARE
            b"......XX", // ROW SHARE
            b"....XXXX", // ROW EXCLUSIVE
            b"...XXXXX", // SHARE UPDATE EXCLUSIVE
            b"..XX.XXX", // SHARE
            b"..XXXXXX", // SHARE ROW EXCLUSIVE
            b".XXXXXXX", // EXCLUSIVE
            b"XXXXXXXX", // ACCESS EXCLUSIVE
        ];
        let row = TABLE[self as usize];
        (0..8)
            .filter(|&m| row[m] == b'X')
            .fold(0, |bits, m| bits | (1 << m))
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
