//! Hash indexes over the names of a catalog that is replayed for a long time.

use std::collections::HashMap;

use pg_query::NodeEnum;

use super::{Applied, Result};
use crate::catalog::*;

/// Hash indexes over the catalog's table and index names, kept beside a catalog that is
/// replayed statement by statement for a long time (the linter replays whole histories:
/// thousands of tables). Without it every lookup scans the table list and every `CREATE INDEX`
/// scans every index for a name clash, which is quadratic over a long history.
///
/// The catalog's fields stay the one source of truth: a hit is checked against the catalog
/// before it is believed (a stale one falls back to a scan), tables appended since the last use
/// are indexed on the next lookup, a shorter table list (a drop) and a rename make it rebuild.
/// It follows every change made through [`super::apply`]; after changing the catalog by other
/// means, call [`NameIndex::reset`].
///
/// Keys are hashes of the names, not the names: the catalog holds those, every hit is compared
/// with it anyway, and thousands of copied names cost more to make and free than the lookups.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    /// Hash of a table name -> positions in `catalog.tables`.
    tables: HashMap<u64, Positions, FastHash>,
    /// Hash of an index name -> positions of the tables holding it.
    indexes: HashMap<u64, Positions, FastHash>,
    /// Hash of a table name -> positions of the tables with a foreign key to it (or that had
    /// one: a hit is checked), so dropping a table does not scan every table's keys.
    referenced_by: HashMap<u64, Positions, FastHash>,
    /// Hashes of the names of tables that have (or had) partitions or children: only their
    /// changes reach other tables, and most histories have none, so the scan for them is
    /// skipped for every other table.
    parents: std::collections::HashSet<u64, FastHash>,
    /// Whether a temporary table was ever indexed: unqualified names look in `pg_temp` first
    /// only then.
    temporary: bool,
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

fn name_hash(schema: &str, name: &str) -> u64 {
    use std::hash::BuildHasher;
    FastHash::default().hash_one((schema, name))
}

fn add_position(map: &mut HashMap<u64, Positions, FastHash>, schema: &str, name: &str, i: usize) {
    let key = name_hash(schema, name);
    if let Some(new) = Positions::add(map.get_mut(&key), i) {
        map.insert(key, new);
    }
}

/// Takes position `i` out of the slot of `schema.name`, and the slot out when it held only `i`.
fn remove_position(
    map: &mut HashMap<u64, Positions, FastHash>,
    schema: &str,
    name: &str,
    i: usize,
) {
    let key = name_hash(schema, name);
    let emptied = match map.get_mut(&key) {
        Some(Positions::One(j)) => *j == i,
        Some(Positions::Many(v)) => {
            v.retain(|&j| j != i);
            v.is_empty()
        }
        None => false,
    };
    if emptied {
        map.remove(&key);
    }
}

/// The names of a table's indexes: its own, and those behind its primary key and unique
/// constraints (which share the relation namespace).
fn index_names(t: &Table) -> impl Iterator<Item = &str> {
    t.indexes
        .iter()
        .map(|ix| ix.name.as_str())
        .chain(t.primary_key.iter().map(|pk| pk.name.as_str()))
        .chain(t.uniques.iter().map(|u| u.name.as_str()))
}

/// The hasher of the maps keyed by names from the migrations being replayed: foldhash with a
/// fixed seed (the names come from the repository, not from an adversary, and SipHash cost more
/// than the lookups it served). Keys are the names' 64-bit hashes, so collisions cost scans: a
/// hand-written FxHash gave 962 of 5,000 names shaped `big_a_N_idx` a hash another one had.
pub type FastHash = foldhash::fast::FixedState;

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
                self.referenced_by.clear();
                self.parents.clear();
                self.temporary = false;
                0
            }
        };
        for (i, t) in catalog.tables.iter().enumerate().skip(from) {
            add_position(&mut self.tables, &t.schema, &t.name, i);
            for name in index_names(t) {
                add_position(&mut self.indexes, &t.schema, name, i);
            }
            for fk in &t.foreign_keys {
                add_position(
                    &mut self.referenced_by,
                    &fk.ref_table.schema,
                    &fk.ref_table.name,
                    i,
                );
            }
            for parent in t.partition_of.iter().map(|p| &p.parent).chain(&t.inherits) {
                self.parent_added(parent);
            }
            self.temporary |= t.schema == super::tables::TEMP_SCHEMA;
        }
        self.synced = Some(len);
    }

    /// Forgets the table at `position`, which is about to be removed from `catalog.tables`.
    /// Removing the last table keeps the index up to date: a down migration drops tables in
    /// the reverse of their creation order, and rebuilding the index after each of thousands of
    /// drops was quadratic. Any other position shifts the tables after it: the next use
    /// rebuilds.
    pub(super) fn removing_table(&mut self, catalog: &Catalog, position: usize) {
        let len = catalog.tables.len();
        if self.synced != Some(len) || position + 1 != len {
            self.reset();
            return;
        }
        let t = &catalog.tables[position];
        remove_position(&mut self.tables, &t.schema, &t.name, position);
        for name in index_names(t) {
            remove_position(&mut self.indexes, &t.schema, name, position);
        }
        for fk in &t.foreign_keys {
            remove_position(
                &mut self.referenced_by,
                &fk.ref_table.schema,
                &fk.ref_table.name,
                position,
            );
        }
        // Its parents stay recorded: `parents` and `temporary` only ever say "maybe".
        self.synced = Some(len - 1);
    }

    /// The position of table `schema.name` in `catalog.tables`. Scans when the index is behind.
    pub fn table_position(&self, catalog: &Catalog, schema: &str, name: &str) -> Option<usize> {
        let is = |t: &Table| t.name == name && t.schema == schema;
        // Most statements touch the table created last: no hashing for it.
        if let Some(last) = catalog.tables.last()
            && is(last)
        {
            return Some(catalog.tables.len() - 1);
        }
        if self.synced == Some(catalog.tables.len()) {
            let positions = self.tables.get(&name_hash(schema, name))?;
            // The newest table of a name, as the scan finds it.
            let found = positions.as_slice().iter().copied();
            if let Some(i) = found
                .filter(|&i| catalog.tables.get(i).is_some_and(is))
                .max()
            {
                return Some(i);
            }
            // Another name with the same hash: fall through to the scan.
        }
        catalog.tables.iter().rposition(is)
    }

    /// The position of the table of `schema` that has an index named `name`, its own or the
    /// one behind its primary key or a unique constraint (index names are unique within a
    /// schema). Scans when the index is behind.
    pub fn index_position(&self, catalog: &Catalog, schema: &str, name: &str) -> Option<usize> {
        let has = |t: &Table| t.schema == schema && index_names(t).any(|n| n == name);
        if self.synced == Some(catalog.tables.len()) {
            let positions = self.indexes.get(&name_hash(schema, name))?;
            // The first table holding it, as the scan finds it.
            let found = positions.as_slice().iter().copied();
            // A position past the end is the stale hit of an index dropped before its table.
            if let Some(i) = found
                .filter(|&i| catalog.tables.get(i).is_some_and(has))
                .min()
            {
                return Some(i);
            }
            // Dropped since, or another name with the same hash: the scan decides.
        }
        catalog.tables.iter().position(has)
    }

    /// The schemas an unqualified relation name is looked up in before the `search_path`:
    /// `pg_temp`, when there may be temporary tables.
    pub(super) fn temporary_schema(&self) -> Option<&'static str> {
        (self.temporary || self.synced.is_none()).then_some(super::tables::TEMP_SCHEMA)
    }

    /// Records that `parent` has a partition or a child (`ATTACH PARTITION`, `INHERIT`).
    pub(super) fn parent_added(&mut self, parent: &QualifiedName) {
        self.parents.insert(name_hash(&parent.schema, &parent.name));
    }

    /// Whether `schema.name` may have partitions or children (`false`: it certainly has none).
    pub fn may_have_children(&self, schema: &str, name: &str) -> bool {
        self.synced.is_none() || self.parents.contains(&name_hash(schema, name))
    }

    /// Records an index just added to the table at `position` (re-adding every index of the
    /// table would make a table with thousands of indexes quadratic).
    pub(super) fn index_added(&mut self, catalog: &Catalog, position: usize, name: &str) {
        if self.synced == Some(catalog.tables.len()) {
            add_position(
                &mut self.indexes,
                &catalog.tables[position].schema,
                name,
                position,
            );
        }
    }

    /// Records a foreign key just added to the table at `position`, referencing `referenced`.
    pub(super) fn foreign_key_added(&mut self, position: usize, referenced: &QualifiedName) {
        // A table not indexed yet is indexed with its keys by the next `sync`.
        if self.synced.is_some_and(|n| position < n) {
            add_position(
                &mut self.referenced_by,
                &referenced.schema,
                &referenced.name,
                position,
            );
        }
    }

    /// The positions, in order, of the tables that may have a foreign key to `schema.name`
    /// (every table that has one is among them); `None` when the index is behind.
    pub fn may_reference(&self, catalog: &Catalog, schema: &str, name: &str) -> Option<Vec<usize>> {
        if self.synced != Some(catalog.tables.len()) {
            return None;
        }
        let mut found: Vec<usize> = self
            .referenced_by
            .get(&name_hash(schema, name))
            .map(|p| p.as_slice().to_vec())
            .unwrap_or_default();
        found.retain(|&i| i < catalog.tables.len());
        found.sort_unstable();
        found.dedup();
        Some(found)
    }

    /// What a statement changed that [`NameIndex::sync`] cannot see by itself.
    pub(super) fn follow(&mut self, catalog: &Catalog, node: &NodeEnum, result: &Result<Applied>) {
        match node {
            // These append tables, add indexes (recorded by `index_added`), remove tables or
            // indexes (a shorter list rebuilds; a removed index is a stale hit, checked), or
            // change neither.
            NodeEnum::IndexStmt(_)
            | NodeEnum::CreateStmt(_)
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
            | NodeEnum::CreateDomainStmt(_)
            | NodeEnum::CompositeTypeStmt(_)
            | NodeEnum::CreateTableAsStmt(_)
            | NodeEnum::CreatePolicyStmt(_)
            | NodeEnum::AlterPolicyStmt(_) => {}
            _ if matches!(result, Ok(Applied::NoSchemaChange(_))) => {}
            // Renames (and whatever else) change names in place.
            _ => self.reset(),
        }
        self.sync(catalog);
    }
}
