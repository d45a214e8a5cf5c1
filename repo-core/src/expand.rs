//! Stage 3: the expansion of a validated [`Model`]: the insert and update companion structs, the
//! `repo_runtime::Table` implementation and the typed, audited methods.
//!
//! The methods are thin: they bind the struct's fields as typed parameters and call
//! `repo_runtime::__private`, where the statements are built and run. What varies per struct
//! (types, names, which methods exist) is here; what does not is ordinary, tested library code.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{Field, Model};

/// The expansion of a validated struct.
pub fn expand(model: &Model) -> TokenStream {
    let companions = companions(model);
    let table_impl = table_impl(model);
    let blocking_methods = methods(model, Mode::Blocking);
    let async_methods = methods(model, Mode::Async);
    let asserts = model.fields.iter().map(|f| {
        let ty = &f.ty;
        // Spanned at the field's type, so a type without `SqlType` is reported there.
        quote_spanned!(ty.span()=> ::repo_runtime::__private::assert_sql_type::<#ty>();)
    });
    quote! {
        #companions
        #table_impl
        #blocking_methods
        #async_methods
        const _: () = {
            #(#asserts)*
        };
    }
}

fn companions(model: &Model) -> TokenStream {
    let vis = &model.vis;
    let ident = &model.ident;
    let new_ident = &model.new_ident;
    let patch_ident = &model.patch_ident;
    let new_fields = model.insert_fields().map(|f| {
        let (name, ty, docs) = (&f.ident, &f.ty, &f.docs);
        if f.default {
            let separator = (!docs.is_empty()).then(|| quote!(#[doc = ""]));
            let none = if f.random_uuid {
                " `None`: a random (version 4) UUID drawn by the repository, as the database default would."
            } else {
                " `None`: the column's database default."
            };
            quote! {
                #(#docs)*
                #separator
                #[doc = #none]
                #vis #name: ::core::option::Option<#ty>,
            }
        } else {
            quote! { #(#docs)* #vis #name: #ty, }
        }
    });
    let patch_fields = model.patch_fields().map(|(_, f)| {
        let (name, ty, docs) = (&f.ident, &f.ty, &f.docs);
        quote! { #(#docs)* #vis #name: ::core::option::Option<#ty>, }
    });
    let new_doc = format!(
        " A new row of [`{ident}`] (table `{}`), for [`{ident}::insert`].",
        model.table
    );
    let patch_doc = format!(
        " Changes to a row of [`{ident}`], for [`{ident}::update`]: `Some` fields are set, `None` fields are left as they are."
    );
    quote! {
        #[doc = #new_doc]
        #[derive(Debug, Clone)]
        #vis struct #new_ident {
            #(#new_fields)*
        }

        #[doc = #patch_doc]
        #[derive(Debug, Clone, Default)]
        #vis struct #patch_ident {
            #(#patch_fields)*
        }
    }
}

fn key_type(model: &Model) -> TokenStream {
    let pk = &model.pk().ty;
    match model.sort_key {
        Some(i) => {
            let sort = &model.fields[i].ty;
            quote!((#sort, #pk))
        }
        None => quote!((#pk,)),
    }
}

fn table_impl(model: &Model) -> TokenStream {
    let ident = &model.ident;
    let table = &model.table;
    let pk_column = &model.pk().column;
    let pk_field = &model.pk().ident;
    let option = |i: Option<usize>| match i.map(|i| &model.fields[i].column) {
        Some(c) => quote!(::core::option::Option::Some(#c)),
        None => quote!(::core::option::Option::None),
    };
    let soft_delete = option(model.soft_delete);
    let sort_key = option(model.sort_key);
    let columns = model.fields.iter().map(|f| {
        let (name, pii, phi, encrypted) = (&f.column, f.pii, f.phi, f.encrypted);
        quote!(::repo_runtime::ColumnMeta { name: #name, pii: #pii, phi: #phi, encrypted: #encrypted })
    });
    let decode = model.fields.iter().enumerate().map(|(i, f)| {
        let (name, column) = (&f.ident, &f.column);
        if f.encrypted {
            quote!(#name: ::repo_runtime::__private::decrypt_column(row, #i, data_key, #table, #column)?)
        } else {
            quote!(#name: ::repo_runtime::__private::column(row, #i, &types[#i])?)
        }
    });
    let sql_types = model.fields.iter().map(|f| {
        let ty = &f.ty;
        quote!(::repo_runtime::__private::sql_type::<#ty>())
    });
    let cascade = model.cascade.iter().map(|c| {
        let (t, k, col, p) = (&c.table, &c.key, &c.column, &c.parent);
        quote!(::repo_runtime::Cascade { table: #t, key: #k, column: #col, parent: #p })
    });
    // Named only when used, so a table without encrypted columns has no unused variable.
    let data_key = if model.fields.iter().any(|f| f.encrypted) {
        format_ident!("data_key")
    } else {
        format_ident!("_data_key")
    };
    let key_type = key_type(model);
    let pk_index = model.primary_key;
    let row_key = match model.sort_key {
        Some(i) => quote!((
            ::repo_runtime::__private::column(row, #i, &types[#i])?,
            ::repo_runtime::__private::column(row, #pk_index, &types[#pk_index])?,
        )),
        None => quote!((::repo_runtime::__private::column(row, #pk_index, &types[#pk_index])?,)),
    };
    let key_value = match model.sort_key {
        Some(i) => {
            let sort = &model.fields[i].ident;
            quote!((::core::clone::Clone::clone(&self.#sort), self.#pk_field))
        }
        None => quote!((self.#pk_field,)),
    };
    quote! {
        impl ::repo_runtime::Table for #ident {
            const META: ::repo_runtime::TableMeta = ::repo_runtime::TableMeta {
                table: #table,
                columns: &[#(#columns),*],
                primary_key: #pk_column,
                soft_delete: #soft_delete,
                sort_key: #sort_key,
                cascade: &[#(#cascade),*],
            };

            type Key = #key_type;

            fn column_types() -> &'static ::repo_runtime::ColumnTypes {
                static TYPES: ::std::sync::OnceLock<::repo_runtime::ColumnTypes> =
                    ::std::sync::OnceLock::new();
                TYPES.get_or_init(|| {
                    ::repo_runtime::ColumnTypes::new(::std::vec![#(#sql_types),*])
                })
            }

            fn from_row(
                row: &::repo_runtime::__private::Row,
                #data_key: ::core::option::Option<&::repo_runtime::DataKey>,
            ) -> ::core::result::Result<Self, ::repo_runtime::RepoError> {
                let types = <Self as ::repo_runtime::Table>::column_types().types();
                ::core::result::Result::Ok(Self { #(#decode),* })
            }

            fn id(&self) -> ::repo_runtime::__private::Uuid {
                self.#pk_field
            }

            fn key(&self) -> Self::Key {
                #key_value
            }

            fn row_key(
                row: &::repo_runtime::__private::Row,
            ) -> ::core::result::Result<Self::Key, ::repo_runtime::RepoError> {
                let types = <Self as ::repo_runtime::Table>::column_types().types();
                ::core::result::Result::Ok(#row_key)
            }
        }
    }
}

/// `values.push("column", &source.field);`, or inside `if let Some` for optional ones;
/// `push_encrypted` for encrypted fields (encrypted when the statement runs).
fn push(field: &Field, source: &syn::Ident, optional: bool) -> TokenStream {
    let (name, column) = (&field.ident, &field.column);
    let push = if field.encrypted {
        format_ident!("push_encrypted")
    } else {
        format_ident!("push")
    };
    if optional {
        quote! {
            if let ::core::option::Option::Some(value) = &#source.#name {
                values.#push(#column, value);
            }
        }
    } else {
        quote!(values.#push(#column, &#source.#name);)
    }
}

/// Which methods: the blocking ones (on an `Executor`: `postgres`) or their async forms (on an
/// `AsyncExecutor`: tokio-postgres, deadpool-postgres), named `<method>_async`. Both run the same
/// runtime bodies over the same SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Blocking,
    Async,
}

fn methods(model: &Model, mode: Mode) -> TokenStream {
    let asynchronous = mode == Mode::Async;
    // `pub fn name<C: Executor + ?Sized>` or `pub async fn name_async<C: AsyncExecutor + ?Sized>`.
    let sig = |name: &str| {
        if asynchronous {
            let name = format_ident!("{name}_async");
            quote!(pub async fn #name<C: ::repo_runtime::AsyncExecutor + ?Sized>)
        } else {
            let name = format_ident!("{name}");
            quote!(pub fn #name<C: ::repo_runtime::Executor + ?Sized>)
        }
    };
    // The runtime function `name` of this mode, and what follows its call.
    let (exec, done) = if asynchronous {
        (
            quote!(::repo_runtime::__private::asynchronous),
            quote!(.await),
        )
    } else {
        (quote!(::repo_runtime::__private), quote!())
    };
    let ident_text = model.ident.to_string();
    // An async method's doc points to its blocking twin.
    let doc = |name: &str, text: String| {
        if asynchronous {
            format!(
                " The async form of [`{ident_text}::{name}`] (on a tokio-postgres client or transaction, or a deadpool-postgres pooled connection or transaction with repo-runtime's `deadpool` feature): the same statement, audit rows and errors."
            )
        } else {
            text
        }
    };
    let ident = &model.ident;
    let new_ident = &model.new_ident;
    let patch_ident = &model.patch_ident;
    let table = &model.table;
    let key_type = key_type(model);
    let audits_reads = model.fields.iter().any(|f| f.phi);
    let encrypted: Vec<String> = model
        .fields
        .iter()
        .filter(|f| f.encrypted)
        .map(|f| format!("`{}`", f.column))
        .collect();
    let crypt_note = if encrypted.is_empty() {
        String::new()
    } else {
        format!(
            " The encrypted columns ({}) are encrypted before they are sent and decrypted when read: the actor needs a data key (`Actor::with_data_key`), or the call fails with `RepoError::Encryption` before anything runs.",
            encrypted.join(", ")
        )
    };
    let read_note = if audits_reads {
        format!(
            "The table holds PHI: the read writes one `data_access` row to `audit_logs` in the same statement.{crypt_note}"
        )
    } else {
        format!("The table holds no PHI: reads are not audited.{crypt_note}")
    };
    let rt = quote!(::repo_runtime);
    let private = quote!(::repo_runtime::__private);
    let client_args = quote! {
        client: &mut C,
        actor: #rt::Actor<'_>,
    };

    let new_source = format_ident!("new");
    let insert_count = model.insert_fields().count();
    // A key with a random default is drawn here when `new` leaves it out (see `Field::random_uuid`).
    let drawn_key = model.pk().random_uuid.then(|| {
        let key = &model.pk().ident;
        quote!(let drawn_key = ::core::option::Option::unwrap_or_else(#new_source.#key, #private::random_uuid);)
    });
    let insert_pushes = model.insert_fields().map(|f| {
        if f.random_uuid {
            let column = &f.column;
            quote!(values.push(#column, &drawn_key);)
        } else {
            push(f, &new_source, f.default)
        }
    });
    let patch_source = format_ident!("patch");
    let patch_count = model.patch_fields().count();
    let patch_pushes = model
        .patch_fields()
        .map(|(_, f)| push(f, &patch_source, true));

    let insert_doc = format!(
        " Inserts a row into `{table}` and its `data_create` row into `audit_logs`, in one statement; returns the row as stored (defaults filled in).{crypt_note}"
    );
    let insert_doc = doc("insert", insert_doc);
    let sig_insert = sig("insert");
    let fetch_doc = format!(
        " The live row of `{table}` with this id, or `RepoError::NotFound` as `update` answers for a missing row: for callers that name a row they expect (a URL's id). Audited like [`{ident}::get`]."
    );
    let fetch_doc = doc("fetch", fetch_doc);
    let sig_fetch = sig("fetch");
    let get_doc = format!(
        " The live row of `{table}` with this id, or `None`. {read_note} Soft-deleted rows are not returned."
    );
    let get_doc = doc("get", get_doc);
    let sig_get = sig("get");
    let update_doc = format!(
        " Sets the `Some` fields of `patch` on the live row `id` of `{table}` and writes one `data_update` row to `audit_logs` naming each changed column with its old and new value (PII/PHI as keyed hashes), in one statement. Errors with `NotFound` when there is no such live row and `EmptyPatch` when no field is set.{crypt_note}{}",
        if encrypted.is_empty() {
            ""
        } else {
            " An encrypted column the patch sets is always listed as changed (its ciphertext changes even when the plaintext does not)."
        }
    );
    let update_doc = doc("update", update_doc);
    let sig_update = sig("update");
    let mut cascaded: Vec<String> = Vec::new();
    for c in &model.cascade {
        let name = format!("`{}`", c.table.value());
        if !cascaded.contains(&name) {
            cascaded.push(name);
        }
    }
    let hard_delete_doc = format!(
        " Deletes the row `id` of `{table}` for good (soft-deleted or not) and writes one `data_delete` row to `audit_logs`, in one statement.{}",
        if cascaded.is_empty() {
            String::new()
        } else {
            format!(
                " The rows of {} that `ON DELETE CASCADE` would remove are deleted by the same statement, each with its own `data_delete` audit row (`details.cascade_from` names this row).",
                cascaded.join(", ")
            )
        }
    );
    let hard_delete_doc = doc("hard_delete", hard_delete_doc);
    let sig_hard_delete = sig("hard_delete");
    let list_doc = format!(
        " A page of `{table}` in a stable order ({}, then the primary key), resumed after `page.after`; soft-deleted rows only with `include_deleted`. {read_note}",
        model.sort_key.map_or_else(
            || "the primary key".to_owned(),
            |i| format!("`{}`", model.fields[i].column)
        ),
    );
    let list_doc = doc("list", list_doc);
    let sig_list = sig("list");

    let soft_delete_methods = model.soft_delete.map(|_| {
        let soft_doc = format!(
            " Soft-deletes the live row `id` of `{table}` (sets its deletion time) and writes one `data_delete` row to `audit_logs`, in one statement; returns the row."
        );
        let restore_doc = format!(
            " Restores the soft-deleted row `id` of `{table}` and writes one `data_update` row to `audit_logs`, in one statement; returns the row."
        );
        let soft_doc = doc("soft_delete", soft_doc);
        let restore_doc = doc("restore", restore_doc);
        let sig_soft_delete = sig("soft_delete");
        let sig_restore = sig("restore");
        quote! {
            #[doc = #soft_doc]
            #sig_soft_delete(
                #client_args
                id: &#private::Uuid,
            ) -> ::core::result::Result<Self, #rt::RepoError> {
                #exec::soft_delete::<Self, C>(client, actor, id) #done
            }

            #[doc = #restore_doc]
            #sig_restore(
                #client_args
                id: &#private::Uuid,
            ) -> ::core::result::Result<Self, #rt::RepoError> {
                #exec::restore::<Self, C>(client, actor, id) #done
            }
        }
    });

    // A finder and its `explain_` twin: the same parameters (`params`, then `page`), passed on
    // to the runtime's `runtime` and `explain_<runtime>` (type arguments `Self, C` and
    // `generics`; arguments `client, actor`, `args`, `page`); one returns the page, the other
    // the plan of its statement.
    let finder_pair = |name: String,
                       find_doc: String,
                       explain_note: &str,
                       runtime: &str,
                       generics: TokenStream,
                       params: TokenStream,
                       args: TokenStream| {
        let explain_name = format!("explain_{name}");
        let explain_doc = format!(
            " The query plan of [`{ident}::{name}`] (`EXPLAIN`: runs nothing, writes no audit row), one line per element{explain_note}"
        );
        let find_doc = doc(&name, find_doc);
        let explain_doc = doc(&explain_name, explain_doc);
        let find_sig = sig(&name);
        let explain_sig = sig(&explain_name);
        let run = format_ident!("{runtime}");
        let explain_run = format_ident!("explain_{runtime}");
        quote! {
            #[doc = #find_doc]
            #find_sig(
                #client_args
                #params
                page: &#rt::PageRequest<#key_type>,
            ) -> ::core::result::Result<#rt::Page<Self, #key_type>, #rt::RepoError> {
                #exec::#run::<Self, C #generics>(client, actor, #args page) #done
            }

            #[doc = #explain_doc]
            #explain_sig(
                #client_args
                #params
                page: &#rt::PageRequest<#key_type>,
            ) -> ::core::result::Result<::std::vec::Vec<::std::string::String>, #rt::RepoError> {
                #exec::#explain_run::<Self, C #generics>(client, actor, #args page) #done
            }
        }
    };

    let finders = model.fields.iter().filter(|f| f.jsonb).map(|f| {
        let column = &f.column;
        let find_doc = format!(
            " Rows of `{table}` whose `{column}` contains `filter` (`{column} @> filter`, served by its GIN index), paginated like [`{ident}::list`]. {read_note}"
        );
        finder_pair(
            format!("find_by_{}_containing", f.name()),
            find_doc,
            ": lets tests and operators check that the GIN index is used.",
            "find_containing",
            quote!(),
            quote!(filter: &#private::Value,),
            quote!(#column, filter,),
        )
    });

    let equal_finders = model.fields.iter().filter(|f| f.find).map(|f| {
        let (column, ty) = (&f.column, &f.ty);
        let find_doc = format!(
            " Rows of `{table}` whose `{column}` equals `value`, served by the btree index that leads with it, in the listing order of [`{ident}::list`] or reversed (`Order::Descending`: newest first), paginated like it. {read_note}"
        );
        finder_pair(
            format!("find_by_{}", f.name()),
            find_doc,
            ".",
            "find_equal",
            quote!(, #ty),
            quote!(value: &#ty, order: #rt::Order,),
            quote!(#column, value, order,),
        )
    });

    quote! {
        impl #ident {
            #[doc = #insert_doc]
            #sig_insert(
                #client_args
                new: &#new_ident,
            ) -> ::core::result::Result<Self, #rt::RepoError> {
                #drawn_key
                let mut values = #private::Values::with_capacity(#insert_count);
                #(#insert_pushes)*
                #exec::insert::<Self, C>(client, actor, values) #done
            }

            #[doc = #fetch_doc]
            #sig_fetch(
                #client_args
                id: &#private::Uuid,
            ) -> ::core::result::Result<Self, #rt::RepoError> {
                #exec::fetch::<Self, C>(client, actor, id) #done
            }

            #[doc = #get_doc]
            #sig_get(
                #client_args
                id: &#private::Uuid,
            ) -> ::core::result::Result<::core::option::Option<Self>, #rt::RepoError> {
                #exec::get::<Self, C>(client, actor, id) #done
            }

            #[doc = #update_doc]
            #sig_update(
                #client_args
                id: &#private::Uuid,
                patch: &#patch_ident,
            ) -> ::core::result::Result<Self, #rt::RepoError> {
                let mut values = #private::Values::with_capacity(#patch_count);
                #(#patch_pushes)*
                #exec::update::<Self, C>(client, actor, id, values) #done
            }

            #soft_delete_methods

            #[doc = #hard_delete_doc]
            #sig_hard_delete(
                #client_args
                id: &#private::Uuid,
            ) -> ::core::result::Result<(), #rt::RepoError> {
                #exec::hard_delete::<Self, C>(client, actor, id) #done
            }

            #[doc = #list_doc]
            #sig_list(
                #client_args
                page: &#rt::PageRequest<#key_type>,
            ) -> ::core::result::Result<#rt::Page<Self, #key_type>, #rt::RepoError> {
                #exec::list::<Self, C>(client, actor, page) #done
            }

            #(#finders)*

            #(#equal_finders)*
        }
    }
}
