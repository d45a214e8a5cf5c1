//! `ALTER ... RENAME` and `ALTER ... SET SCHEMA` of every modelled kind of object, with every
//! reference to the object following it (foreign keys, owned sequences, partitions, columns of
//! a renamed type).

use pg_query::NodeEnum;
use pg_query::protobuf::{self, ObjectType};

use super::ast::{column_mut, list_names, split_name, strings};
use super::routines::find_functions;
use super::sequences::find_sequence;
use super::tables::descendants;
use super::types::{TypeAt, find_type, rename_type_uses};
use super::views::find_view;
use super::{Applied, Replay, ReplayError, Result, does_not_exist};
use crate::catalog::*;
use crate::types::DataType;

pub(super) fn rename(cx: &mut Replay<'_>, s: &protobuf::RenameStmt) -> Result<Applied> {
    let kind = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
    let relation = s.relation.as_ref();
    let (schema, relname) = relation
        .map(|r| (r.schemaname.clone(), r.relname.clone()))
        .unwrap_or_default();
    let object_names = || -> Vec<String> {
        match s.object.as_deref().and_then(|o| o.node.as_ref()) {
            Some(NodeEnum::TypeName(t)) => strings(&t.names),
            Some(NodeEnum::ObjectWithArgs(o)) => strings(&o.objname),
            Some(_) => s.object.as_deref().map(list_names).unwrap_or_default(),
            None => Vec::new(),
        }
    };
    let new = s.newname.clone();
    match kind {
        ObjectType::ObjectTable
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectSequence
        | ObjectType::ObjectIndex
        | ObjectType::ObjectForeignTable => {
            if !rename_relation(cx, &schema, &relname, &new)? {
                if s.missing_ok {
                    return Ok(Applied::Schema);
                }
                return Err(does_not_exist("relation", &schema, &relname));
            }
        }
        ObjectType::ObjectColumn => {
            let Some(table) = cx.find_table(&schema, &relname) else {
                if let Some(v) = find_view(cx, &schema, &relname) {
                    if let Some(c) = cx.catalog.views[v]
                        .columns
                        .iter_mut()
                        .find(|c| c.name == s.subname)
                    {
                        c.name = new;
                    }
                    return Ok(Applied::Schema);
                }
                if let Some(TypeAt::Composite(t)) = find_type(cx, &schema, &relname) {
                    if let Some(a) = cx.catalog.composite_types[t]
                        .attributes
                        .iter_mut()
                        .find(|a| a.name == s.subname)
                    {
                        a.name = new;
                    }
                    return Ok(Applied::Schema);
                }
                if s.missing_ok {
                    return Ok(Applied::Schema);
                }
                return Err(does_not_exist("relation", &schema, &relname));
            };
            let mut targets = vec![table];
            if relation.is_some_and(|r| r.inh) && cx.may_have_children(table) {
                targets.extend(descendants(cx.catalog, table));
            }
            for (n, t) in targets.into_iter().enumerate() {
                if n > 0 && cx.catalog.tables[t].column(&s.subname).is_none() {
                    continue;
                }
                rename_column(cx, t, &s.subname, &new)?;
            }
        }
        ObjectType::ObjectTabconstraint => {
            let table = cx
                .find_table(&schema, &relname)
                .ok_or_else(|| does_not_exist("relation", &schema, &relname))?;
            let t = &mut cx.catalog.tables[table];
            let (old, new) = (&s.subname, &s.newname);
            let mut found = false;
            if let Some(pk) = t.primary_key.as_mut().filter(|pk| &pk.name == old) {
                pk.name = new.clone();
                found = true;
            }
            for name in t
                .uniques
                .iter_mut()
                .map(|u| &mut u.name)
                .chain(t.checks.iter_mut().map(|c| &mut c.name))
                .chain(t.foreign_keys.iter_mut().map(|f| &mut f.name))
                .chain(t.indexes.iter_mut().map(|i| &mut i.name))
            {
                if name == old {
                    *name = new.clone();
                    found = true;
                }
            }
            if !found {
                return Err(ReplayError::new(format!(
                    "constraint \"{old}\" for table \"{}\" does not exist",
                    t.display_name()
                )));
            }
            cx.session.reset();
        }
        ObjectType::ObjectType | ObjectType::ObjectDomain => {
            let (schema, name) = split_name(&object_names());
            let at = find_type(cx, &schema, &name)
                .ok_or_else(|| does_not_exist("type", &schema, &name))?;
            move_type(cx, at, None, Some(&new));
        }
        ObjectType::ObjectAttribute => {
            let (schema, name) = (schema, relname);
            if let Some(TypeAt::Composite(t)) = find_type(cx, &schema, &name)
                && let Some(a) = cx.catalog.composite_types[t]
                    .attributes
                    .iter_mut()
                    .find(|a| a.name == s.subname)
            {
                a.name = new;
            }
        }
        ObjectType::ObjectTrigger => {
            let Some(table) = cx.find_table(&schema, &relname) else {
                return Err(does_not_exist("relation", &schema, &relname));
            };
            cx.catalog.tables[table]
                .triggers
                .iter_mut()
                .find(|t| t.name == s.subname)
                .ok_or_else(|| {
                    ReplayError::new(format!("trigger \"{}\" does not exist", s.subname))
                })?
                .name = new;
        }
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            let Some(NodeEnum::ObjectWithArgs(o)) =
                s.object.as_deref().and_then(|o| o.node.as_ref())
            else {
                return Err(ReplayError::new("expected a function name"));
            };
            let found = find_functions(cx, o);
            if found.is_empty() {
                let (schema, name) = split_name(&strings(&o.objname));
                return Err(does_not_exist("function", &schema, &name));
            }
            for at in found {
                let old = cx.catalog.functions[at].qualified_name();
                cx.catalog.functions[at].name.clone_from(&new);
                let renamed = QualifiedName::new(&old.schema, &new);
                for t in cx
                    .catalog
                    .tables
                    .iter_mut()
                    .flat_map(|t| t.triggers.iter_mut())
                {
                    if t.function == old {
                        t.function = renamed.clone();
                    }
                }
            }
        }
        ObjectType::ObjectSchema => {
            let old = s.subname.clone();
            let Some(at) = cx.catalog.schemas.iter().position(|x| x.name == old) else {
                return Err(does_not_exist("schema", "", &old));
            };
            cx.catalog.schemas[at].name.clone_from(&new);
            rename_schema(cx.catalog, &old, &new);
            cx.session.reset();
        }
        _ => return Ok(Applied::Unmodelled("RENAME of an unmodelled object")),
    }
    Ok(Applied::Schema)
}

/// `ALTER ... SET SCHEMA`.
pub(super) fn set_schema(
    cx: &mut Replay<'_>,
    s: &protobuf::AlterObjectSchemaStmt,
) -> Result<Applied> {
    let kind = ObjectType::try_from(s.object_type).unwrap_or(ObjectType::Undefined);
    let target = s.newschema.clone();
    match kind {
        ObjectType::ObjectTable
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectSequence => {
            let r = s
                .relation
                .as_ref()
                .ok_or_else(|| ReplayError::new("SET SCHEMA without a name"))?;
            if let Some(t) = cx.find_table(&r.schemaname, &r.relname) {
                let old = cx.catalog.tables[t].qualified_name();
                let new = QualifiedName::new(&target, &old.name);
                cx.catalog.tables[t].schema.clone_from(&target);
                rename_relation_refs(cx.catalog, &old, &new);
                // Sequences the table owns move with it.
                for seq in &mut cx.catalog.sequences {
                    if seq.owned_by.as_ref().is_some_and(|o| o.table == new) {
                        seq.schema.clone_from(&target);
                    }
                }
            } else if let Some(v) = find_view(cx, &r.schemaname, &r.relname) {
                cx.catalog.views[v].schema = target;
            } else if let Some(q) = find_sequence(cx, &r.schemaname, &r.relname) {
                cx.catalog.sequences[q].schema = target;
            } else if !s.missing_ok {
                return Err(does_not_exist("relation", &r.schemaname, &r.relname));
            }
            cx.session.reset();
        }
        ObjectType::ObjectType | ObjectType::ObjectDomain => {
            let names = match s.object.as_deref().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::TypeName(t)) => strings(&t.names),
                _ => s.object.as_deref().map(list_names).unwrap_or_default(),
            };
            let (schema, name) = split_name(&names);
            match find_type(cx, &schema, &name) {
                Some(at) => move_type(cx, at, Some(&target), None),
                None if s.missing_ok => {}
                None => return Err(does_not_exist("type", &schema, &name)),
            }
        }
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            if let Some(NodeEnum::ObjectWithArgs(o)) =
                s.object.as_deref().and_then(|o| o.node.as_ref())
            {
                for at in find_functions(cx, o) {
                    cx.catalog.functions[at].schema.clone_from(&target);
                }
            }
        }
        ObjectType::ObjectExtension => {
            let name = s
                .object
                .as_deref()
                .map(list_names)
                .and_then(|n| n.last().cloned())
                .unwrap_or_default();
            if let Some(e) = cx.catalog.extensions.iter_mut().find(|e| e.name == name) {
                e.schema = target;
            }
        }
        _ => return Ok(Applied::Unmodelled("SET SCHEMA of an unmodelled object")),
    }
    Ok(Applied::Schema)
}

/// Renames a table, view, sequence or index `schema.old` to `new`; `false` when there is none.
fn rename_relation(cx: &mut Replay<'_>, schema: &str, old: &str, new: &str) -> Result<bool> {
    if let Some(t) = cx.find_table(schema, old) {
        let before = cx.catalog.tables[t].qualified_name();
        if cx.relation_exists(&before.schema, new) {
            return Err(ReplayError::new(format!(
                "relation \"{}\" already exists",
                display_name(&before.schema, new)
            )));
        }
        let after = QualifiedName::new(&before.schema, new);
        cx.catalog.tables[t].name = new.to_string();
        rename_relation_refs(cx.catalog, &before, &after);
    } else if let Some(v) = find_view(cx, schema, old) {
        cx.catalog.views[v].name = new.to_string();
    } else if let Some(q) = find_sequence(cx, schema, old) {
        let before = cx.catalog.sequences[q].qualified_name();
        cx.catalog.sequences[q].name = new.to_string();
        let after = cx.catalog.sequences[q].qualified_name();
        // `nextval('old'::regclass)` follows the sequence, as the server's stored default does.
        let (from, to) = (
            crate::ident::quote_literal(&before.sql()),
            crate::ident::quote_literal(&after.sql()),
        );
        for c in cx
            .catalog
            .tables
            .iter_mut()
            .flat_map(|t| t.columns.iter_mut())
        {
            if let Some(d) = &mut c.default
                && d.contains(&from)
            {
                *d = d.replace(&from, &to);
            }
        }
    } else if let Some(t) = cx.index_owner(schema, old) {
        // Renaming the index of a primary key or unique constraint renames the constraint.
        let t = &mut cx.catalog.tables[t];
        for name in t
            .indexes
            .iter_mut()
            .map(|i| &mut i.name)
            .chain(t.primary_key.iter_mut().map(|pk| &mut pk.name))
            .chain(t.uniques.iter_mut().map(|u| &mut u.name))
        {
            if name == old {
                *name = new.to_string();
            }
        }
    } else {
        let schemas = cx.lookup_schemas(schema);
        let view = cx
            .catalog
            .views
            .iter_mut()
            .find(|v| schemas.contains(&v.schema) && v.indexes.iter().any(|i| i.name == old));
        let Some(view) = view else {
            return Ok(false);
        };
        if let Some(ix) = view.indexes.iter_mut().find(|i| i.name == old) {
            ix.name = new.to_string();
        }
    }
    cx.session.reset();
    Ok(true)
}

/// Every reference to table `old` now names `new`.
fn rename_relation_refs(catalog: &mut Catalog, old: &QualifiedName, new: &QualifiedName) {
    for t in &mut catalog.tables {
        for fk in &mut t.foreign_keys {
            if fk.ref_table == *old {
                fk.ref_table = new.clone();
            }
        }
        if let Some(p) = &mut t.partition_of
            && p.parent == *old
        {
            p.parent = new.clone();
        }
        for parent in &mut t.inherits {
            if parent == old {
                *parent = new.clone();
            }
        }
    }
    for s in &mut catalog.sequences {
        if let Some(owner) = &mut s.owned_by
            && owner.table == *old
        {
            owner.table = new.clone();
        }
    }
    // A table's row type has the table's name.
    rename_type_uses(catalog, old, new);
}

/// Renames column `old` of the table at `table` to `new`, in its keys, constraints and indexes
/// and in the foreign keys that reference it.
fn rename_column(cx: &mut Replay<'_>, table: usize, old: &str, new: &str) -> Result<()> {
    let t = &mut cx.catalog.tables[table];
    if t.column(new).is_some() {
        return Err(ReplayError::new(format!(
            "column \"{new}\" of relation \"{}\" already exists",
            t.display_name()
        )));
    }
    column_mut(t, old)?.name = new.to_string();
    let rename_in = |cols: &mut Vec<String>| {
        for c in cols.iter_mut() {
            if c == old {
                *c = new.to_string();
            }
        }
    };
    if let Some(pk) = &mut t.primary_key {
        rename_in(&mut pk.columns);
    }
    t.uniques.iter_mut().for_each(|u| rename_in(&mut u.columns));
    t.foreign_keys
        .iter_mut()
        .for_each(|f| rename_in(&mut f.columns));
    for ix in &mut t.indexes {
        for k in &mut ix.keys {
            if k.column == old {
                k.column = new.to_string();
            }
            if let Some(e) = &mut k.expression {
                *e = rename_word(e, old, new);
            }
        }
        rename_in(&mut ix.include);
        if let Some(p) = &mut ix.predicate {
            *p = rename_word(p, old, new);
        }
    }
    for c in &mut t.checks {
        c.expression = rename_word(&c.expression, old, new);
    }
    let name = t.qualified_name();
    for t in &mut cx.catalog.tables {
        for fk in &mut t.foreign_keys {
            if fk.ref_table == name {
                rename_in(&mut fk.ref_columns);
            }
        }
    }
    for s in &mut cx.catalog.sequences {
        if let Some(owner) = &mut s.owned_by
            && owner.table == name
            && owner.column == old
        {
            owner.column = new.to_string();
        }
    }
    Ok(())
}

/// `text` with the identifier `old` (a whole word, quoted or not) spelled `new`: expressions
/// here were printed by the deparser, so identifiers are words.
fn rename_word(text: &str, old: &str, new: &str) -> String {
    if !super::tables::mentions(text, old) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.trim_matches('"') == old {
            out.push_str(&crate::ident::quote(new));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == '"' {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Moves and/or renames a user type, and every use of it follows.
fn move_type(cx: &mut Replay<'_>, at: TypeAt, schema: Option<&str>, name: Option<&str>) {
    let (s, n) = match at {
        TypeAt::Enum(i) => {
            let e = &mut cx.catalog.enums[i];
            (&mut e.schema, &mut e.name)
        }
        TypeAt::Domain(i) => {
            let d = &mut cx.catalog.domains[i];
            (&mut d.schema, &mut d.name)
        }
        TypeAt::Composite(i) => {
            let t = &mut cx.catalog.composite_types[i];
            (&mut t.schema, &mut t.name)
        }
    };
    let old = QualifiedName::new(s.clone(), n.clone());
    if let Some(schema) = schema {
        *s = schema.to_string();
    }
    if let Some(name) = name {
        *n = name.to_string();
    }
    let new = QualifiedName::new(s.clone(), n.clone());
    rename_type_uses(cx.catalog, &old, &new);
}

/// `ALTER SCHEMA old RENAME TO new`: every object in it, and every reference to one, follows.
fn rename_schema(catalog: &mut Catalog, old: &str, new: &str) {
    let moved = |q: &mut QualifiedName| {
        if q.schema == old {
            q.schema = new.to_string();
        }
    };
    let moved_type = |t: &mut DataType| {
        fn walk(t: &mut DataType, old: &str, new: &str) {
            match t {
                DataType::Enum(q) | DataType::Composite(q) if q.schema == old => {
                    q.schema = new.to_string();
                }
                DataType::Domain { name, base } => {
                    if name.schema == old {
                        name.schema = new.to_string();
                    }
                    walk(base, old, new);
                }
                DataType::Array(e) => walk(e, old, new),
                _ => {}
            }
        }
        walk(t, old, new);
    };
    let rename = |s: &mut String| {
        if s == old {
            *s = new.to_string();
        }
    };
    for t in &mut catalog.tables {
        rename(&mut t.schema);
        t.foreign_keys
            .iter_mut()
            .for_each(|fk| moved(&mut fk.ref_table));
        t.triggers.iter_mut().for_each(|tr| moved(&mut tr.function));
        t.inherits.iter_mut().for_each(moved);
        if let Some(p) = &mut t.partition_of {
            moved(&mut p.parent);
        }
        t.columns
            .iter_mut()
            .for_each(|c| moved_type(&mut c.data_type));
    }
    catalog.enums.iter_mut().for_each(|e| rename(&mut e.schema));
    for d in &mut catalog.domains {
        rename(&mut d.schema);
        moved_type(&mut d.base);
    }
    for c in &mut catalog.composite_types {
        rename(&mut c.schema);
        c.attributes
            .iter_mut()
            .for_each(|a| moved_type(&mut a.data_type));
    }
    for s in &mut catalog.sequences {
        rename(&mut s.schema);
        if let Some(o) = &mut s.owned_by {
            moved(&mut o.table);
        }
    }
    catalog
        .functions
        .iter_mut()
        .for_each(|f| rename(&mut f.schema));
    catalog.views.iter_mut().for_each(|v| rename(&mut v.schema));
    catalog
        .extensions
        .iter_mut()
        .for_each(|e| rename(&mut e.schema));
}
