//! Stage 2: the struct and its attributes, validated into a [`Model`] the expansion can trust.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, Type, Visibility};

use crate::attrs::{self, FieldAttrs};
use crate::types::{self, FieldType};

/// A validated struct: what the expansion generates from.
#[derive(Debug)]
pub struct Model {
    pub ident: Ident,
    pub vis: Visibility,
    pub table: String,
    /// The insert companion's name.
    pub new_ident: Ident,
    /// The update companion's name.
    pub patch_ident: Ident,
    pub fields: Vec<Field>,
    /// Index into `fields` of the primary key.
    pub primary_key: usize,
    /// Index into `fields` of the soft-delete column.
    pub soft_delete: Option<usize>,
    /// Index into `fields` of the listing order column.
    pub sort_key: Option<usize>,
    /// The rows `hard_delete` also removes (`#[repo(cascade = "table(key).column -> parent")]`), parents first.
    pub cascade: Vec<crate::attrs::CascadeAttr>,
}

/// A validated field.
#[derive(Debug)]
pub struct Field {
    pub ident: Ident,
    pub ty: Type,
    pub type_info: FieldType,
    pub column: String,
    /// The field's `///` comments, carried over to the companion structs.
    pub docs: Vec<Attribute>,
    pub default: bool,
    /// The primary key's database default draws a random UUID (`gen_random_uuid()`): inserts
    /// that leave it out get one drawn by the repository instead, the same kind of value, which
    /// lets the statement write the audit row without reading the insert's result.
    pub random_uuid: bool,
    pub read_only: bool,
    pub jsonb: bool,
    pub pii: bool,
    pub phi: bool,
    /// Stored encrypted by the application (`String` or `Option<String>`, a `text` column).
    pub encrypted: bool,
    /// Gets a finder by equality (`find_by_<field>`): a column a btree index leads with.
    pub find: bool,
}

impl Field {
    /// The column name, and the Rust name the generated finder uses (`r#type` -> `type`).
    pub fn name(&self) -> String {
        let name = self.ident.to_string();
        name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
    }
}

impl Model {
    /// Parses and validates `input`; every problem found is in the error.
    pub fn from_input(input: &DeriveInput) -> syn::Result<Model> {
        let mut errors = Vec::new();
        let struct_attrs = attrs::parse_struct(&input.attrs, &mut errors);

        if !input.generics.params.is_empty() {
            errors.push(syn::Error::new(
                input.generics.span(),
                "#[derive(Repository)] does not support generic structs",
            ));
        }
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => Some(named),
                other => {
                    errors.push(syn::Error::new(
                        other.span(),
                        "#[derive(Repository)] needs a struct with named fields, one per column",
                    ));
                    None
                }
            },
            _ => {
                errors.push(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Repository)] can only be used on a struct",
                ));
                None
            }
        };

        let table = match &struct_attrs.table {
            Some(t) => t.value(),
            None => {
                errors.push(syn::Error::new(
                    input.ident.span(),
                    "missing #[repo(table = \"...\")]: which table does this struct map to?",
                ));
                String::new()
            }
        };
        let companion = |lit: &Option<syn::LitStr>, default: String| -> Ident {
            match lit {
                Some(l) => match syn::parse_str::<Ident>(&l.value()) {
                    Ok(i) => Ident::new(&i.to_string(), l.span()),
                    Err(_) => {
                        // Reported below; a placeholder keeps the rest of the checks going.
                        Ident::new(&default, l.span())
                    }
                },
                None => Ident::new(&default, input.ident.span()),
            }
        };
        for lit in [&struct_attrs.new, &struct_attrs.patch]
            .into_iter()
            .flatten()
        {
            if syn::parse_str::<Ident>(&lit.value()).is_err() {
                errors.push(syn::Error::new(lit.span(), "not a valid struct name"));
            }
        }
        let new_ident = companion(&struct_attrs.new, format!("New{}", input.ident));
        let patch_ident = companion(&struct_attrs.patch, format!("{}Patch", input.ident));

        let mut fields = Vec::new();
        let mut primary_keys: Vec<(usize, Span)> = Vec::new();
        let mut soft_deletes: Vec<(usize, Span)> = Vec::new();
        let mut sort_keys: Vec<(usize, Span)> = Vec::new();
        for field in named.map(|n| n.named.iter()).into_iter().flatten() {
            let Some(ident) = field.ident.clone() else {
                continue;
            };
            let a = attrs::parse_field(&field.attrs, &mut errors);
            let type_info = match types::classify(&field.ty) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(e);
                    None
                }
            };
            let index = fields.len();
            check_field(&a, type_info.as_ref(), field, &mut errors);
            if let Some(span) = a.primary_key {
                primary_keys.push((index, span));
            }
            if let Some(span) = a.soft_delete {
                soft_deletes.push((index, span));
            }
            if let Some(span) = a.sort_key {
                sort_keys.push((index, span));
            }
            let name = ident.to_string();
            let column = a.column.as_ref().map_or_else(
                || name.strip_prefix("r#").unwrap_or(&name).to_owned(),
                syn::LitStr::value,
            );
            fields.push(Field {
                ident,
                ty: field.ty.clone(),
                type_info: type_info.unwrap_or(FieldType {
                    optional: false,
                    base: String::new(),
                }),
                column,
                docs: field
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("doc"))
                    .cloned()
                    .collect(),
                // The key is optional in the insert companion: the repository draws one.
                default: a.default.is_some() || a.random_uuid.is_some(),
                random_uuid: a.random_uuid.is_some(),
                read_only: a.read_only.is_some() || a.soft_delete.is_some(),
                jsonb: a.jsonb.is_some(),
                pii: a.pii.is_some(),
                phi: a.phi.is_some(),
                encrypted: a.encrypted.is_some(),
                find: a.find.is_some(),
            });
        }

        if named.is_some() && primary_keys.is_empty() {
            errors.push(syn::Error::new(
                input.ident.span(),
                "no primary key: mark the `Uuid` key field with #[repo(primary_key)]",
            ));
        }
        for (what, found) in [
            ("primary_key", &primary_keys),
            ("soft_delete", &soft_deletes),
            ("sort_key", &sort_keys),
        ] {
            for (_, span) in found.iter().skip(1) {
                errors.push(syn::Error::new(
                    *span,
                    format!("only one field can be `{what}` (composite keys are not supported)"),
                ));
            }
        }
        for (i, field) in fields.iter().enumerate() {
            if let Some(first) = fields[..i].iter().find(|f| f.column == field.column) {
                errors.push(syn::Error::new(
                    field.ident.span(),
                    format!(
                        "column `{}` is already mapped by field `{}`",
                        field.column, first.ident
                    ),
                ));
            }
        }

        crate::combine(errors)?;
        let primary_key = primary_keys.first().map_or(0, |(i, _)| *i);
        Ok(Model {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            table,
            new_ident,
            patch_ident,
            fields,
            primary_key,
            soft_delete: soft_deletes.first().map(|(i, _)| *i),
            sort_key: sort_keys.first().map(|(i, _)| *i),
            cascade: struct_attrs.cascade,
        })
    }

    pub fn pk(&self) -> &Field {
        &self.fields[self.primary_key]
    }

    /// Fields the insert companion has: all but the ones the database sets.
    pub fn insert_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.read_only)
    }

    /// Fields the update companion has: all but the key and the ones the database sets.
    pub fn patch_fields(&self) -> impl Iterator<Item = (usize, &Field)> {
        self.fields
            .iter()
            .enumerate()
            .filter(|(i, f)| *i != self.primary_key && !f.read_only)
    }
}

/// Flag combinations and types that do not fit together on one field.
fn check_field(
    a: &FieldAttrs,
    type_info: Option<&FieldType>,
    field: &syn::Field,
    errors: &mut Vec<syn::Error>,
) {
    if let (Some(span), None) = (a.random_uuid, a.primary_key) {
        errors.push(syn::Error::new(
            span,
            "`random_uuid` marks a primary key whose database default is a random UUID; this field is not the primary key",
        ));
    }
    let conflicts: [(&str, Option<Span>, &str, Option<Span>); 13] = [
        ("primary_key", a.primary_key, "soft_delete", a.soft_delete),
        ("primary_key", a.primary_key, "read_only", a.read_only),
        ("read_only", a.read_only, "default", a.default),
        ("soft_delete", a.soft_delete, "default", a.default),
        ("soft_delete", a.soft_delete, "sort_key", a.sort_key),
        ("primary_key", a.primary_key, "jsonb", a.jsonb),
        // An encrypted value cannot be compared, ordered or searched in SQL, nor set by it.
        ("primary_key", a.primary_key, "encrypted", a.encrypted),
        ("sort_key", a.sort_key, "encrypted", a.encrypted),
        ("jsonb", a.jsonb, "encrypted", a.encrypted),
        ("soft_delete", a.soft_delete, "encrypted", a.encrypted),
        ("read_only", a.read_only, "encrypted", a.encrypted),
        ("find", a.find, "encrypted", a.encrypted),
        ("find", a.find, "jsonb", a.jsonb),
    ];
    for (first, x, second, y) in conflicts {
        if let (Some(_), Some(span)) = (x, y) {
            errors.push(syn::Error::new(
                span,
                format!("`{second}` cannot be combined with `{first}`"),
            ));
        }
    }
    let Some(t) = type_info else {
        return;
    };
    if let Some(span) = a.primary_key {
        if t.optional || t.base != "Uuid" {
            errors.push(syn::Error::new(
                span.join(field.ty.span()).unwrap_or(span),
                "the primary key must be a `Uuid`: it is written to audit_logs.resource_id (uuid)",
            ));
        }
        if a.pii.is_some() || a.phi.is_some() {
            errors.push(syn::Error::new(
                span,
                "the primary key is written to the audit log: it cannot be pii or phi",
            ));
        }
    }
    if let Some(span) = a.soft_delete
        && !t.optional
    {
        errors.push(syn::Error::new(
            span,
            "the `soft_delete` column must be nullable (`Option<...>`): NULL means live",
        ));
    }
    if let Some(span) = a.sort_key
        && t.optional
    {
        errors.push(syn::Error::new(
            span,
            "the `sort_key` column cannot be nullable: NULLs have no place in a keyset order",
        ));
    }
    if let Some(span) = a.encrypted
        && t.base != "String"
    {
        errors.push(syn::Error::new(
            span.join(field.ty.span()).unwrap_or(span),
            "`encrypted` fields must be `String` (or `Option<String>`): the column stays `text`, holding `enc:v1:` and base64",
        ));
    }
    if let Some(span) = a.jsonb
        && t.base != "Value"
    {
        errors.push(syn::Error::new(
            span,
            "`jsonb` fields must be `serde_json::Value` (or `Option<serde_json::Value>`)",
        ));
    }
}
