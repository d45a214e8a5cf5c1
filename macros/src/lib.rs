//! `#[derive(Repository)]`: typed, audited table access over `postgres::GenericClient` or a
//! `repo_runtime::Prepared` connection, and over tokio-postgres for the `_async` methods.
//!
//! A thin shim: the parsing, validation and expansion live in the `repo-core` library (where
//! they are unit-tested); the generated code calls into `repo-runtime`, which re-exports this
//! derive. The attribute reference is on the derive, `Repository`.

use proc_macro::TokenStream;

/// Typed, audited access to one table: every write, and every read of a table with a `phi`
/// field, writes its `audit_logs` row in the same transaction, with `pii`/`phi` values never
/// in clear.
///
/// # What it generates
///
/// - the insert companion (`New<Struct>`: every field but `read_only` ones, `default` ones as
///   `Option`) and the update companion (`<Struct>Patch`: every field optional);
/// - an implementation of `repo_runtime::Table`;
/// - the audited methods `insert`, `get` (`Ok(None)` when absent), `fetch` (`NotFound` when
///   absent), `update`, `soft_delete` and `restore` (with a `soft_delete` field), `hard_delete`
///   (deleting and auditing the rows its `cascade` paths name first), `list` (keyset pages by
///   the sort key), `find_by_<field>` per `find` field and `find_by_<field>_containing` per
///   `jsonb` field (keyset pages, both directions), each finder with an `explain_` twin that
///   returns the statement's plan;
/// - an `_async` twin of every method (`insert_async`, ...) over `repo_runtime::AsyncExecutor`
///   (a tokio-postgres client or transaction, or a deadpool-postgres connection): the same SQL,
///   audit, errors and encryption.
///
/// Errors are `repo_runtime::RepoError`; `docs/repositories.md` maps them to HTTP statuses.
///
/// # Attributes
///
/// On the struct, `#[repo(...)]` with:
/// - `table = "name"` (required): the table;
/// - `new = "Name"`: the insert companion's name (default `New<Struct>`);
/// - `patch = "Name"`: the update companion's name (default `<Struct>Patch`);
/// - `cascade = "table(key).column -> parent"`, repeatable: rows of `table` (uuid primary key
///   `key`) whose `column` refers to a deleted row of `parent` go with it by `ON DELETE
///   CASCADE`; `hard_delete` deletes and audits them itself, parents listed first (codegen
///   writes these from the schema).
///
/// On a field, `#[repo(...)]` with any of:
/// - `primary_key`: the primary key, exactly one, of type `Uuid` (it is `audit_logs.resource_id`);
/// - `random_uuid`, on the primary key: its database default is a random UUID
///   (`gen_random_uuid()`). Optional in the insert companion like `default`, but when it is left
///   out the repository draws a version 4 UUID itself, so the insert sets the key and the audit
///   row is written from that parameter, beside the insert, instead of reading the insert's
///   result. Not for any other default (a time-ordered UUID, say): give such a key `default`;
/// - `column = "name"`: the column, when it is not the field's name;
/// - `default`: the column has a database default: optional (`Option<T>`) in the insert companion;
/// - `read_only`: set by the database (e.g. `created_at`, `updated_at`): in neither companion;
/// - `soft_delete`: the nullable timestamp of soft deletes (e.g. `deleted_at`); adds
///   `soft_delete` and `restore`, and listings leave soft-deleted rows out;
/// - `sort_key`: listings are ordered by this column, then the primary key (default: the key);
/// - `find`: a column a btree index leads with: adds `find_by_<field>` (equality, keyset pages);
///   not on `encrypted` or `jsonb` fields;
/// - `jsonb`: a JSONB column with a GIN index: adds `find_by_<field>_containing` (`@>`);
/// - `pii`, `phi`: personal / health information: never in the audit log in clear; a `phi`
///   field makes every read of the table audited too;
/// - `encrypted`: on a `String` or `Option<String>` field (a `text` column): stored encrypted by
///   the application (`enc:v1:` + base64 of AES-256-GCM, see `repo_runtime::DataKey`), decrypted
///   transparently on every read; the actor needs a data key. Also sensitive like `pii`; cannot be
///   the primary key, the sort key, `jsonb`, `soft_delete` or `read_only`.
///
/// Every problem in the attributes is reported at once, each at the attribute or field at fault.
#[proc_macro_derive(Repository, attributes(repo))]
pub fn derive_repository(input: TokenStream) -> TokenStream {
    repo_core::derive_repository(input.into()).into()
}
