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
//! The attributes and what the derive generates are documented on the derive itself
//! (`macros::Repository`, re-exported as `repo_runtime::Repository`), where an IDE shows them.

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
