use std::collections::BTreeSet;

use super::doc_lines;
use super::names::{Names, enum_key, ident, pascal, unique};
use model::{DataType, EnumType};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The enums, derived `ToSql`/`FromSql` with `allow_mismatch`: without it, `postgres-types`
/// accepts a column of the enum only when the server's labels are exactly the compiled ones, so
/// once a migration adds a label (an expand-only change the application must survive) every read
/// of the enum on a new connection fails ("error deserializing column"), even of rows holding old
/// labels. With it, only a value the application does not know fails to decode (found by
/// `tests/tests/under_load.rs`).
pub(super) fn enums_file(enums: &[&EnumType], names: &Names) -> TokenStream {
    let items = enums.iter().map(|e| {
        let ty = ident(&names.enum_type(&enum_key(e)));
        let pg_name = &e.name;
        let mut taken = BTreeSet::new();
        let variants: Vec<Ident> = e
            .values
            .iter()
            .map(|v| {
                let mut name = unique(pascal(v), "Value", &mut taken);
                if name == "Self" {
                    name = "SelfValue".to_owned();
                }
                ident(&name)
            })
            .collect();
        let labels = &e.values;
        let count = e.values.len();
        let docs = doc_lines(e.comment.as_deref().unwrap_or(&format!(
            "The PostgreSQL enum `{pg_name}`, labels in its sort order."
        )));
        let variant_items = variants.iter().zip(labels).map(|(v, label)| {
            let doc = format!(" `{label}`");
            quote! {
                #[doc = #doc]
                #[postgres(name = #label)]
                #[serde(rename = #label)]
                #v,
            }
        });
        quote! {
            #(#docs)*
            #[derive(
                Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                postgres_types::ToSql, postgres_types::FromSql,
                serde::Serialize, serde::Deserialize,
            )]
            #[postgres(name = #pg_name, allow_mismatch)]
            pub enum #ty {
                #(#variant_items)*
            }

            impl #ty {
                /// Every label, in PostgreSQL's sort order.
                pub const ALL: [Self; #count] = [#(Self::#variants),*];

                /// The PostgreSQL label.
                pub fn as_str(self) -> &'static str {
                    match self {
                        #(Self::#variants => #labels,)*
                    }
                }
            }

            impl repo_runtime::SqlType for #ty {
                fn sql_type() -> postgres_types::Type {
                    repo_runtime::enum_type(#pg_name, &[#(#labels),*])
                }
            }
        }
    });
    quote! {
        #![doc = " The schema's PostgreSQL enum types."]
        #(#items)*
    }
}

/// The Rust type of a column, or why it has none.
pub(super) fn rust_type(
    data_type: &DataType,
    names: &Names,
    in_array: bool,
) -> Result<TokenStream, String> {
    Ok(match data_type {
        DataType::SmallInt => quote!(i16),
        DataType::Integer => quote!(i32),
        DataType::BigInt => quote!(i64),
        DataType::Real => quote!(f32),
        DataType::DoublePrecision => quote!(f64),
        DataType::Boolean => quote!(bool),
        DataType::Text | DataType::Varchar(_) | DataType::Char(_) => quote!(String),
        DataType::Uuid => quote!(uuid::Uuid),
        DataType::Json | DataType::Jsonb => quote!(serde_json::Value),
        DataType::Bytea => quote!(Vec<u8>),
        DataType::Date => quote!(chrono::NaiveDate),
        DataType::Time(_) => quote!(chrono::NaiveTime),
        DataType::Timestamp(_) => quote!(chrono::NaiveDateTime),
        DataType::Timestamptz(_) => quote!(chrono::DateTime<chrono::Utc>),
        DataType::Inet => quote!(std::net::IpAddr),
        DataType::Enum(name) if in_array => {
            return Err(format!(
                "`{}[]`: array parameters of enums need the enum's OID, which differs per database",
                name.display()
            ));
        }
        DataType::Enum(name) => {
            let ty = ident(&names.enum_type(&name.yaml()));
            quote!(crate::enums::#ty)
        }
        DataType::Array(element) => {
            let element = rust_type(element, names, true)?;
            quote!(Vec<#element>)
        }
        DataType::Domain { base, .. } => rust_type(base, names, in_array)?,
        other @ (DataType::Numeric(_)
        | DataType::Interval
        | DataType::Cidr
        | DataType::Macaddr
        | DataType::Composite(_)
        | DataType::Other(_)
        | DataType::Unknown) => {
            return Err(format!("`{other}` has no Rust mapping yet"));
        }
    })
}
