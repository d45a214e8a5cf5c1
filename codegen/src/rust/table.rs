use super::names::{Names, field_names, ident};
use super::types::rust_type;
use super::{
    AUDIT_TABLE, CREDENTIAL_COLUMNS, RANDOM_UUID_DEFAULT, SOFT_DELETE_COLUMN, TIMESTAMP_COLUMNS,
    doc_lines,
};
use model::{Catalog, Column, DataType, FkAction, Table};
use proc_macro2::TokenStream;
use quote::quote;

/// Whether the table gets `#[derive(Repository)]`, or why not.
pub(super) fn derives_repository(table: &Table, _catalog: &Catalog) -> Result<(), String> {
    if !table.qualified_name().is_public() {
        return Err(format!(
            "the table is in schema `{}`, and the repositories address tables in `public` only",
            table.schema
        ));
    }
    if table.name == AUDIT_TABLE {
        return Err(
            "the audit trail is append-only and written by the repositories themselves".to_owned(),
        );
    }
    match &table.primary_key {
        Some(pk) if pk.columns.len() == 1 => {
            match table.column(&pk.columns[0]).map(|c| &c.data_type) {
                Some(DataType::Uuid) => Ok(()),
                _ => Err("the primary key is not a uuid".to_owned()),
            }
        }
        Some(_) => Err("a composite primary key".to_owned()),
        None => Err("no primary key".to_owned()),
    }
}

/// The single uuid primary key column of `table`, if it has one.
pub(super) fn uuid_key(table: &Table) -> Option<&str> {
    match &table.primary_key {
        Some(pk) if pk.columns.len() == 1 => {
            let column = table.column(&pk.columns[0])?;
            matches!(column.data_type, DataType::Uuid).then_some(column.name.as_str())
        }
        _ => None,
    }
}

/// One `ON DELETE CASCADE` foreign key on the way from a table to the rows its deletion removes:
/// rows of `table` (primary key `key`) whose `column` refers to a removed row of `parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CascadeEdge {
    table: String,
    key: String,
    column: String,
    parent: String,
}

/// The rows a hard delete of `root` removes through `ON DELETE CASCADE`, transitively, as the
/// derive's `#[repo(cascade = "...")]` takes them: grouped by table, each table after every table
/// of the set it refers to through a cascade (so its rows are found from its parents' deleted
/// keys). Only single-column keys referring to the parent's uuid primary key, from tables with a
/// uuid primary key (the audit rows' `resource_id`), in `public`; a table on a cycle of cascades
/// (one referring to itself) is left to PostgreSQL.
pub(super) fn cascades(root: &Table, catalog: &Catalog, names: &Names) -> Vec<CascadeEdge> {
    // Every cascading edge into the set, found breadth-first.
    let mut reached: Vec<String> = vec![root.name.clone()];
    let mut edges: Vec<CascadeEdge> = Vec::new();
    let mut next = 0;
    while next < reached.len() {
        let parent_name = reached[next].clone();
        next += 1;
        let Some(parent) = names
            .public_tables
            .get(&parent_name)
            .map(|&i| &catalog.tables[i])
        else {
            continue;
        };
        let Some(parent_key) = uuid_key(parent) else {
            continue;
        };
        let children = names.cascading_children.get(&parent_name);
        for child in children.into_iter().flatten().map(|&i| &catalog.tables[i]) {
            let Some(child_key) = uuid_key(child) else {
                continue;
            };
            for fk in &child.foreign_keys {
                if fk.on_delete != FkAction::Cascade
                    || !fk.ref_table.is(model::DEFAULT_SCHEMA, &parent_name)
                    || fk.columns.len() != 1
                    || fk.ref_columns != [parent_key.to_owned()]
                    || child.name == root.name
                    || child.name == parent_name
                {
                    continue;
                }
                edges.push(CascadeEdge {
                    table: child.name.clone(),
                    key: child_key.to_owned(),
                    column: fk.columns[0].clone(),
                    parent: parent_name.clone(),
                });
                if !reached.contains(&child.name) {
                    reached.push(child.name.clone());
                }
            }
        }
    }
    // Tables in an order where every parent comes first (Kahn's algorithm, in discovery order);
    // tables on a cycle never become ready and are left out.
    let mut ordered: Vec<String> = vec![root.name.clone()];
    let mut pending: Vec<String> = reached[1..].to_vec();
    loop {
        let ready = pending.iter().position(|t| {
            edges
                .iter()
                .filter(|e| &e.table == t)
                .all(|e| ordered.contains(&e.parent))
        });
        match ready {
            Some(i) => ordered.push(pending.remove(i)),
            None => break,
        }
    }
    let mut out = Vec::new();
    for table in &ordered[1..] {
        out.extend(edges.iter().filter(|e| &e.table == table).cloned());
    }
    out
}

pub(super) fn has_updated_at_trigger(table: &Table) -> bool {
    table.triggers.iter().any(|t| {
        t.function
            .is(model::DEFAULT_SCHEMA, model::yaml::SET_UPDATED_AT)
    })
}

pub(super) fn column_doc(column: &Column, table: &Table) -> Vec<TokenStream> {
    let mut facts = vec![format!("`{}`", column.data_type)];
    if column.nullable {
        facts.push("nullable".to_owned());
    }
    if let Some(default) = &column.default {
        facts.push(format!("default `{default}`"));
    }
    if let Some(identity) = &column.identity {
        facts.push(format!("`{}`", model::compare::describe_identity(identity)));
    }
    if let Some(expression) = &column.generated {
        facts.push(format!("generated as `{expression}`"));
    }
    if table
        .primary_key
        .as_ref()
        .is_some_and(|pk| pk.columns == [column.name.clone()])
    {
        facts.push("primary key".to_owned());
    }
    if column.sensitivity.pii {
        facts.push("**PII**".to_owned());
    }
    if column.sensitivity.phi {
        facts.push("**PHI**".to_owned());
    }
    if column.sensitivity.encrypted {
        facts.push("stored encrypted (the repository encrypts and decrypts it)".to_owned());
    }
    if CREDENTIAL_COLUMNS.contains(&column.name.as_str()) {
        facts.push("a credential: never serialized".to_owned());
    }
    let summary = format!("{}.", facts.join(", "));
    let text = match &column.comment {
        Some(c) => format!("{c}\n\n{summary}"),
        None => summary,
    };
    doc_lines(&text)
}

pub(super) fn table_file(
    table: &Table,
    catalog: &Catalog,
    names: &Names,
) -> Result<TokenStream, String> {
    let repository = derives_repository(table, catalog);
    let timestamps = has_updated_at_trigger(table);
    let pk_column = table
        .primary_key
        .as_ref()
        .filter(|pk| pk.columns.len() == 1)
        .map(|pk| pk.columns[0].clone());
    let sort_key = table
        .column("created_at")
        .filter(|c| !c.nullable && matches!(c.data_type, DataType::Timestamptz(_)))
        .map(|c| c.name.clone());
    let idents = field_names(table)?;
    let mut fields = Vec::new();
    for (column, (name, renamed)) in table.columns.iter().zip(idents) {
        let mut ty = rust_type(&column.data_type, names, false)
            .map_err(|why| format!("column `{}`: {why}", column.name))?;
        if column.nullable {
            ty = quote!(Option<#ty>);
        }
        let mut flags: Vec<TokenStream> = Vec::new();
        if repository.is_ok() {
            let is_pk = pk_column.as_deref() == Some(column.name.as_str());
            let soft_delete = table.flags.soft_delete && column.name == SOFT_DELETE_COLUMN;
            // The database computes identity and generated columns: like the timestamps, they are
            // read, never written by the repository (a generated column refuses any value, an
            // identity `ALWAYS` one any but `OVERRIDING SYSTEM VALUE`).
            let computed = column.identity.is_some() || column.generated.is_some();
            let read_only = (timestamps && TIMESTAMP_COLUMNS.contains(&column.name.as_str()))
                || (computed && !is_pk);
            // The repository may draw such a key itself (and so audit the insert without reading
            // its result); any other default is left to the database.
            let random_uuid = is_pk && column.default.as_deref() == Some(RANDOM_UUID_DEFAULT);
            if is_pk {
                flags.push(quote!(primary_key));
            }
            if random_uuid {
                flags.push(quote!(random_uuid));
            }
            if renamed {
                let c = &column.name;
                flags.push(quote!(column = #c));
            }
            if soft_delete {
                flags.push(quote!(soft_delete));
            } else if read_only {
                flags.push(quote!(read_only));
            } else if column.default.is_some() && !random_uuid {
                flags.push(quote!(default));
            }
            if sort_key.as_deref() == Some(column.name.as_str()) {
                flags.push(quote!(sort_key));
            }
            if column.data_type.is_jsonb() && table.has_gin_index_on(&column.name) {
                flags.push(quote!(jsonb));
            }
            if column.sensitivity.pii {
                flags.push(quote!(pii));
            }
            if column.sensitivity.phi {
                flags.push(quote!(phi));
            }
            if column.sensitivity.encrypted {
                flags.push(quote!(encrypted));
            }
            let leads_a_btree_index = table.indexes.iter().any(|ix| {
                ix.method == model::IndexMethod::Btree
                    && !ix.unique
                    && ix.predicate.is_none()
                    && ix
                        .keys
                        .first()
                        .is_some_and(|k| k.expression.is_none() && k.column == column.name)
            });
            // A finder by equality for each column an index leads with, but the key, the
            // listing order, the soft-delete mark and what SQL cannot compare (encrypted) or a
            // value cannot equal (NULL).
            if leads_a_btree_index
                && !is_pk
                && !soft_delete
                && sort_key.as_deref() != Some(column.name.as_str())
                && !column.nullable
                && !column.sensitivity.encrypted
                && !column.data_type.is_jsonb()
            {
                flags.push(quote!(find));
            }
        }
        let attr = (!flags.is_empty()).then(|| quote!(#[repo(#(#flags),*)]));
        let serde = CREDENTIAL_COLUMNS
            .contains(&column.name.as_str())
            .then(|| quote!(#[serde(skip_serializing)]));
        let docs = column_doc(column, table);
        fields.push(quote! {
            #(#docs)*
            #attr
            #serde
            pub #name: #ty,
        });
    }

    let ty = ident(&names.table_type(&table.qualified_name().yaml()));
    let table_name = &table.display_name().into_owned();
    let mut doc = table.comment.clone().unwrap_or_default();
    if !doc.is_empty() {
        doc.push_str("\n\n");
    }
    doc.push_str(&format!("A row of the table `{table_name}`."));
    if table.flags.soft_delete {
        doc.push_str(" Soft-deleted through `deleted_at`.");
    }
    if table.columns.iter().any(|c| c.sensitivity.phi) {
        doc.push_str(" Holds PHI: every read through the repository is audited.");
    }
    if let Err(why) = &repository {
        doc.push_str(&format!("\n\nNo repository: {why}."));
    } else {
        let mut removed: Vec<String> = Vec::new();
        for edge in cascades(table, catalog, names) {
            let name = format!("`{}`", edge.table);
            if !removed.contains(&name) {
                removed.push(name);
            }
        }
        if !removed.is_empty() {
            doc.push_str(&format!(
                " `hard_delete` also deletes the rows of {} that `ON DELETE CASCADE` would remove, each with its own `data_delete` audit row.",
                removed.join(", ")
            ));
        }
    }
    let docs = doc_lines(&doc);
    let (derive, repo_attr) = match repository {
        Ok(()) => {
            let cascade = cascades(table, catalog, names).into_iter().map(|e| {
                let edge = format!("{}({}).{} -> {}", e.table, e.key, e.column, e.parent);
                quote!(#[repo(cascade = #edge)])
            });
            (
                quote!(, repo_runtime::Repository),
                quote!(#[repo(table = #table_name)] #(#cascade)*),
            )
        }
        Err(_) => (quote!(), quote!()),
    };
    let module_doc = format!(" The table `{table_name}`.");
    Ok(quote! {
        #![doc = #module_doc]
        #(#docs)*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize #derive)]
        #repo_attr
        pub struct #ty {
            #(#fields)*
        }
    })
}
