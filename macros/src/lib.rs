//! `#[derive(Repository)]`: typed, audited table access over `postgres::GenericClient` or a
//! `repo_runtime::Prepared` connection.
//!
//! A thin shim: the parsing, validation and expansion live in the `repo-core` library (where
//! they are unit-tested); the generated code calls into `repo-runtime`, which re-exports this
//! derive. The attributes are documented in `repo-core`.

use proc_macro::TokenStream;

/// Generates the insert (`New<Struct>`) and update (`<Struct>Patch`) companion structs, an
/// implementation of `repo_runtime::Table`, and the audited methods `insert`, `get`, `update`,
/// `soft_delete`, `restore` (with a `soft_delete` field), `hard_delete`, `list` and, per `jsonb`
/// field, `find_by_<field>_containing`. See `repo-core` for the `#[repo(...)]` attributes.
#[proc_macro_derive(Repository, attributes(repo))]
pub fn derive_repository(input: TokenStream) -> TokenStream {
    repo_core::derive_repository(input.into()).into()
}
