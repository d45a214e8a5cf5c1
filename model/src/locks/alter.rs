//! `ALTER TABLE` subcommand by subcommand, and the other DDL that names its tables: `DROP`,
//! renames, `REINDEX`, `VACUUM`, `COMMENT`.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, ConstrType, ObjectType};

use super::levels::{
    SERIAL_TYPES, alter_table_cmd_mode, binary_compatible, calls_volatile, drop_index_mode,
    reindex_concurrently,
};
use super::nodes::{
    cmd_column, cmd_constraint, column_constraints, contype, names_of, split, string_value, strings,
};
use super::walk::Locks;
use super::{LockMode, Work};
use crate::catalog::{QualifiedName, Table};
use crate::types::DataType;

impl Locks<'_> {
    pub(super) fn alter_table(&mut self, s: &protobuf::AlterTableStmt) {
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

    pub(super) fn drop(&mut self, s: &protobuf::DropStmt) {
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

    pub(super) fn rename(&mut self, s: &protobuf::RenameStmt) {
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

    pub(super) fn reindex(&mut self, s: &protobuf::ReindexStmt) {
        let concurrent = reindex_concurrently(s);
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

    pub(super) fn vacuum(&mut self, s: &protobuf::VacuumStmt) {
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

    pub(super) fn comment(&mut self, s: &protobuf::CommentStmt) {
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
}
