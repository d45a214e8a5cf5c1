//! Stage 1: the `#[repo(...)]` attributes, parsed into typed values. Unknown and duplicate keys
//! are collected as errors spanned at the key; parsing goes on after them.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr, Token};

/// The struct-level keys, for "expected one of" messages.
pub const STRUCT_KEYS: &[&str] = &["table", "new", "patch", "cascade"];
/// The field-level keys.
pub const FIELD_KEYS: &[&str] = &[
    "primary_key",
    "random_uuid",
    "column",
    "default",
    "read_only",
    "soft_delete",
    "sort_key",
    "jsonb",
    "pii",
    "phi",
    "encrypted",
    "find",
];

/// `#[repo(...)]` on the struct.
#[derive(Debug, Default)]
pub struct StructAttrs {
    pub table: Option<LitStr>,
    pub new: Option<LitStr>,
    pub patch: Option<LitStr>,
    /// `cascade = "table(key).column -> parent"`, in order.
    pub cascade: Vec<CascadeAttr>,
}

/// One `#[repo(cascade = "table(key).column -> parent")]`: rows of `table` (primary key `key`,
/// a uuid) whose `column` refers to a deleted row of `parent` are removed by `ON DELETE
/// CASCADE`; `hard_delete` deletes and audits them itself. Listed parents first (codegen writes
/// them so).
#[derive(Debug)]
pub struct CascadeAttr {
    pub table: LitStr,
    pub key: LitStr,
    pub column: LitStr,
    pub parent: LitStr,
}

/// `#[repo(...)]` on a field. A flag is `Some(span of the key)` when present.
#[derive(Debug, Default)]
pub struct FieldAttrs {
    pub primary_key: Option<Span>,
    pub random_uuid: Option<Span>,
    pub column: Option<LitStr>,
    pub default: Option<Span>,
    pub read_only: Option<Span>,
    pub soft_delete: Option<Span>,
    pub sort_key: Option<Span>,
    pub jsonb: Option<Span>,
    pub pii: Option<Span>,
    pub phi: Option<Span>,
    pub encrypted: Option<Span>,
    pub find: Option<Span>,
}

fn is_repo(attr: &Attribute) -> bool {
    attr.path().is_ident("repo")
}

fn unknown(key: &Ident, expected: &[&str]) -> syn::Error {
    syn::Error::new(
        key.span(),
        format!(
            "unknown attribute `{key}`; expected one of: {}",
            expected.join(", ")
        ),
    )
}

fn duplicate(key: &Ident) -> syn::Error {
    syn::Error::new(key.span(), format!("duplicate attribute `{key}`"))
}

/// Skips `= value` after an unknown key, so that parsing can go on with the next key.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    }
    Ok(())
}

fn set_string(
    slot: &mut Option<LitStr>,
    key: &Ident,
    meta: &syn::meta::ParseNestedMeta<'_>,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<()> {
    let value: LitStr = meta.value()?.parse()?;
    if value.value().is_empty() {
        errors.push(syn::Error::new(
            value.span(),
            format!("`{key}` cannot be empty"),
        ));
    }
    if slot.is_some() {
        errors.push(duplicate(key));
    } else {
        *slot = Some(value);
    }
    Ok(())
}

/// Parses `cascade = "table(key).column -> parent"`.
fn parse_cascade(
    meta: &syn::meta::ParseNestedMeta<'_>,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<Option<CascadeAttr>> {
    let value: LitStr = meta.value()?.parse()?;
    let text = value.value();
    let parsed = (|| {
        let (child, parent) = text.split_once("->")?;
        let (child, parent) = (child.trim(), parent.trim());
        let (table_key, column) = child.rsplit_once('.')?;
        let (table, key) = table_key.strip_suffix(')')?.split_once('(')?;
        let parts = [table, key, column, parent];
        if parts
            .iter()
            .any(|p| p.is_empty() || p.contains(char::is_whitespace))
        {
            return None;
        }
        Some(parts.map(|p| LitStr::new(p, value.span())))
    })();
    match parsed {
        Some([table, key, column, parent]) => Ok(Some(CascadeAttr {
            table,
            key,
            column,
            parent,
        })),
        None => {
            errors.push(syn::Error::new(
                value.span(),
                "expected `cascade = \"table(key).column -> parent\"`",
            ));
            Ok(None)
        }
    }
}

/// Parses the struct's `#[repo(...)]` attributes (there may be several).
pub fn parse_struct(attrs: &[Attribute], errors: &mut Vec<syn::Error>) -> StructAttrs {
    let mut out = StructAttrs::default();
    for attr in attrs.iter().filter(|a| is_repo(a)) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(key) = meta.path.get_ident().cloned() else {
                errors.push(syn::Error::new(
                    meta.path.span(),
                    "expected a key such as `table`",
                ));
                return skip_value(&meta);
            };
            match key.to_string().as_str() {
                "table" => set_string(&mut out.table, &key, &meta, errors),
                "new" => set_string(&mut out.new, &key, &meta, errors),
                "patch" => set_string(&mut out.patch, &key, &meta, errors),
                "cascade" => {
                    if let Some(cascade) = parse_cascade(&meta, errors)? {
                        out.cascade.push(cascade);
                    }
                    Ok(())
                }
                _ => {
                    errors.push(unknown(&key, STRUCT_KEYS));
                    skip_value(&meta)
                }
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}

/// Parses one field's `#[repo(...)]` attributes.
pub fn parse_field(attrs: &[Attribute], errors: &mut Vec<syn::Error>) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in attrs.iter().filter(|a| is_repo(a)) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(key) = meta.path.get_ident().cloned() else {
                errors.push(syn::Error::new(
                    meta.path.span(),
                    "expected a key such as `pii`",
                ));
                return skip_value(&meta);
            };
            let flag = match key.to_string().as_str() {
                "column" => return set_string(&mut out.column, &key, &meta, errors),
                "primary_key" => &mut out.primary_key,
                "random_uuid" => &mut out.random_uuid,
                "default" => &mut out.default,
                "read_only" => &mut out.read_only,
                "soft_delete" => &mut out.soft_delete,
                "sort_key" => &mut out.sort_key,
                "jsonb" => &mut out.jsonb,
                "pii" => &mut out.pii,
                "phi" => &mut out.phi,
                "encrypted" => &mut out.encrypted,
                "find" => &mut out.find,
                _ => {
                    errors.push(unknown(&key, FIELD_KEYS));
                    return skip_value(&meta);
                }
            };
            if meta.input.peek(Token![=]) {
                errors.push(syn::Error::new(
                    key.span(),
                    format!("`{key}` is a flag and takes no value"),
                ));
                skip_value(&meta)?;
            }
            if flag.is_some() {
                errors.push(duplicate(&key));
            } else {
                *flag = Some(key.span());
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}
