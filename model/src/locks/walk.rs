//! The walk over one statement: which tables it names, reads, writes and reaches through
//! foreign keys, with the lock each gets.

use pg_query::protobuf::{self, ConstrType, ObjectType};
use pg_query::{NodeEnum, NodeRef};

use super::levels::create_index_mode;
use super::nodes::{column_constraints, contype, range_var, target_names};
use super::{LockMode, RelationLock, Work};
use crate::catalog::{Catalog, FkAction, QualifiedName, Table};
use crate::replay::Session;

pub(super) struct Locks<'a> {
    pub(super) catalog: &'a Catalog,
    pub(super) session: &'a Session,
    pub(super) out: Vec<RelationLock>,
}

impl<'a> Locks<'a> {
    pub(super) fn add(&mut self, table: QualifiedName, mode: LockMode, work: Work) {
        if let Some(l) = self.out.iter_mut().find(|l| l.table == table) {
            l.mode = l.mode.combine(mode);
            l.work = l.work.max(work);
        } else {
            self.out.push(RelationLock { table, mode, work });
        }
    }

    pub(super) fn resolve(&self, schema: &str, name: &str) -> QualifiedName {
        self.session.resolve_table(self.catalog, schema, name)
    }

    /// [`Self::add`] for a statement's optional target relation, the table alone (no children).
    pub(super) fn add_target(
        &mut self,
        r: Option<&protobuf::RangeVar>,
        mode: LockMode,
        work: Work,
    ) {
        if let Some(r) = r {
            let name = self.relation(r);
            self.add(name, mode, work);
        }
    }

    /// The reads of a view's or `CREATE TABLE AS`'s query.
    pub(super) fn reads_query(&mut self, query: Option<&protobuf::Node>) {
        if let Some(q) = query.and_then(|q| q.node.as_ref()) {
            self.reads(q);
        }
    }

    pub(super) fn relation(&self, r: &protobuf::RangeVar) -> QualifiedName {
        self.resolve(&r.schemaname, &r.relname)
    }

    pub(super) fn table(&self, name: &QualifiedName) -> Option<&'a Table> {
        self.session.table(self.catalog, name)
    }

    /// A table and, when `recurse`, its partitions and children (as PostgreSQL's
    /// `find_all_inheritors`: `ONLY` does not recurse).
    pub(super) fn add_tree(
        &mut self,
        name: QualifiedName,
        recurse: bool,
        mode: LockMode,
        work: Work,
    ) {
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

    pub(super) fn add_relation(&mut self, r: &protobuf::RangeVar, mode: LockMode, work: Work) {
        let name = self.relation(r);
        self.add_tree(name, r.inh, mode, work);
    }

    /// The partitions and children of `name`, recursively.
    pub(super) fn descendants(&self, name: &QualifiedName) -> Vec<QualifiedName> {
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

    pub(super) fn statement(&mut self, node: &NodeEnum) {
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

    /// Tables with a foreign key to `name`: `mode` on each (recursively through their own
    /// referencing tables when `cascade`: `TRUNCATE ... CASCADE`).
    pub(super) fn referencing(&mut self, name: &QualifiedName, mode: LockMode, cascade: bool) {
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
    pub(super) fn foreign_key_checks(&mut self, name: &QualifiedName, columns: Option<&Vec<&str>>) {
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
    pub(super) fn referencing_actions(
        &mut self,
        name: &QualifiedName,
        columns: Option<&Vec<&str>>,
    ) {
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
    pub(super) fn reads(&mut self, node: &NodeEnum) {
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

    pub(super) fn create_table(&mut self, s: &protobuf::CreateStmt) {
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
