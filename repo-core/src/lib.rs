//! The logic of `#[derive(Repository)]`, as an ordinary library: the `macros` crate is a thin
//! proc-macro shim over [`derive_repository`], so everything here is unit-testable (the tests
//! snapshot an expansion, pretty-printed).
//!
//! Three stages, each in its module:
//! 1. [`attrs`]: parse the `#[repo(...)]` attributes into typed values;
//! 2. [`model`]: validate them against the struct (one primary key, mappable field types,
//!    consistent flags) into a [`model::Model`];
//! 3. [`expand`]: generate the companion structs, the `Table` implementation and the methods.
//!
//! Stages 1 and 2 collect every problem as a `syn::Error` spanned at the offending attribute or
//! field and report them all at once.
//!
//! # Attributes
//!
//! On the struct, `#[repo(...)]` with:
//! - `table = "name"` (required): the table;
//! - `new = "Name"`: the insert companion's name (default `New<Struct>`);
//! - `patch = "Name"`: the update companion's name (default `<Struct>Patch`).
//!
//! On a field, `#[repo(...)]` with any of:
//! - `primary_key`: the primary key, exactly one, of type `Uuid` (it is `audit_logs.resource_id`);
//! - `random_uuid`, on the primary key: its database default is a random UUID
//!   (`gen_random_uuid()`). Optional in the insert companion like `default`, but when it is left
//!   out the repository draws a version 4 UUID itself, so the insert sets the key and the audit
//!   row is written from that parameter, beside the insert, instead of reading the insert's
//!   result (less work for the server). Do not use it for any other default (a time-ordered
//!   UUID, say): give such a key `default` and the database fills it in;
//! - `column = "name"`: the column, when it is not the field's name;
//! - `default`: the column has a database default: optional (`Option<T>`) in the insert companion;
//! - `read_only`: set by the database (e.g. `created_at`, `updated_at`): in neither companion;
//! - `soft_delete`: the nullable timestamp of soft deletes (e.g. `deleted_at`); adds
//!   `soft_delete` and `restore`, and listings leave soft-deleted rows out;
//! - `sort_key`: listings are ordered by this column, then the primary key (default: the key);
//! - `jsonb`: a JSONB column with a GIN index: adds `find_by_<field>_containing` (`@>`);
//! - `pii`, `phi`: personal / health information: never in the audit log in clear; a `phi`
//!   field makes every read of the table audited too.
//! - `encrypted`: on a `String` or `Option<String>` field (a `text` column): stored encrypted by
//!   the application (`enc:v1:` + base64 of AES-256-GCM, see `repo_runtime::DataKey`), decrypted
//!   transparently on every read; the actor needs a data key. Also sensitive like `pii`; cannot be
//!   the primary key, the sort key, `jsonb`, `soft_delete` or `read_only`.

pub mod attrs;
pub mod expand;
pub mod model;
pub mod types;

use proc_macro2::TokenStream;

/// The whole derive: tokens of the item in, tokens of the expansion (or of the errors) out.
pub fn derive_repository(input: TokenStream) -> TokenStream {
    match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => match model::Model::from_input(&input) {
            Ok(model) => expand::expand(&model),
            Err(errors) => errors.to_compile_error(),
        },
        Err(e) => e.to_compile_error(),
    }
}

/// Combines collected errors into one `syn::Error` (which reports each), or `Ok` when none.
pub(crate) fn combine(errors: Vec<syn::Error>) -> syn::Result<()> {
    let mut iter = errors.into_iter();
    match iter.next() {
        None => Ok(()),
        Some(mut first) => {
            for e in iter {
                first.combine(e);
            }
            Err(first)
        }
    }
}
