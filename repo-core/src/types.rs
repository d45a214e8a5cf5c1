//! Which field types the derive can map to a PostgreSQL column, judged from their syntax.
//!
//! A proc macro sees tokens, not types, so this check is syntactic: it refuses what can never be
//! a column (references, tuples, unsigned integers PostgreSQL has no type for, maps, ...) with a
//! message at the field. Other named types are accepted here and must implement
//! `repo_runtime::SqlType`, which the expansion asserts at the field's type.

use syn::spanned::Spanned;
use syn::{GenericArgument, PathArguments, Type, TypePath};

/// What the derive needs to know about a field's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldType {
    /// `Option<T>`: a nullable column.
    pub optional: bool,
    /// The last path segment of the type inside any `Option`, e.g. `Uuid`, `Value`, `Vec`.
    pub base: String,
}

/// The single type argument of the last segment (`T` of `Option<T>` or `Vec<T>`).
fn single_argument(path: &TypePath) -> Option<&Type> {
    let last = path.path.segments.last()?;
    match &last.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first() {
            Some(GenericArgument::Type(t)) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn last_ident(path: &TypePath) -> String {
    path.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// Why a named type cannot be a column, with what to use instead.
fn refused(name: &str) -> Option<&'static str> {
    Some(match name {
        "u8" | "i8" => "PostgreSQL has no one-byte integer: use `i16` (smallint)",
        "u16" => "PostgreSQL has no unsigned integers: use `i32` (integer)",
        "u32" => "PostgreSQL has no unsigned integers: use `i64` (bigint)",
        "u64" | "usize" | "isize" => {
            "PostgreSQL has no unsigned or pointer-sized integers: use `i64` (bigint)"
        }
        "u128" | "i128" => {
            "PostgreSQL has no 128-bit integers: use `numeric` through a decimal type"
        }
        "char" => "PostgreSQL has no character type: use `String` (text)",
        "str" => "use an owned `String` (text)",
        "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" | "VecDeque" | "LinkedList" => {
            "maps and sets have no column type: use `serde_json::Value` (jsonb) or `Vec<T>` (an array)"
        }
        "Box" | "Rc" | "Arc" | "Cell" | "RefCell" | "Cow" | "PhantomData" => {
            "smart pointers and cells are not columns: use the owned value type"
        }
        _ => return None,
    })
}

fn unmappable(ty: &Type, why: &str) -> syn::Error {
    syn::Error::new(
        ty.span(),
        format!("#[derive(Repository)] cannot map this field type to a PostgreSQL column: {why}"),
    )
}

/// Checks `ty` and describes it, or explains why it cannot be a column.
pub fn classify(ty: &Type) -> syn::Result<FieldType> {
    let (optional, inner) = match strip(ty) {
        Type::Path(path) if path.qself.is_none() && last_ident(path) == "Option" => {
            match single_argument(path) {
                Some(inner) => (true, inner),
                None => return Err(unmappable(ty, "`Option` needs one type argument")),
            }
        }
        _ => (false, ty),
    };
    let base = check_value(inner, true)?;
    if base == "Option" {
        return Err(unmappable(
            ty,
            "`Option<Option<T>>`: a column is either NULL or a value",
        ));
    }
    Ok(FieldType { optional, base })
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip(&p.elem),
        Type::Group(g) => strip(&g.elem),
        other => other,
    }
}

/// Checks a non-optional value type; returns its last path segment.
fn check_value(ty: &Type, top: bool) -> syn::Result<String> {
    match strip(ty) {
        Type::Path(path) if path.qself.is_none() => {
            let name = last_ident(path);
            if let Some(why) = refused(&name)
                && (name != "u8" || top)
            {
                return Err(unmappable(ty, why));
            }
            match name.as_str() {
                "Option" if !top => Err(unmappable(
                    ty,
                    "arrays with NULL elements (`Vec<Option<T>>`) are not supported",
                )),
                "Vec" => {
                    let Some(element) = single_argument(path) else {
                        return Err(unmappable(ty, "`Vec` needs one type argument"));
                    };
                    let element_name = check_value(element, false)?;
                    // `Vec<u8>` is bytea and `Vec<Vec<u8>>` bytea[]; other nesting would be a
                    // multi-dimensional array, which has no Rust mapping here.
                    if element_name == "Vec" && !is_bytes(element) {
                        return Err(unmappable(ty, "multi-dimensional arrays are not supported"));
                    }
                    Ok(name)
                }
                _ => Ok(name),
            }
        }
        Type::Reference(_) => Err(unmappable(
            ty,
            "a row owns its values: use an owned type (`String` for `&str`)",
        )),
        Type::Tuple(t) if t.elems.is_empty() => Err(unmappable(ty, "`()` holds nothing")),
        Type::Tuple(_) => Err(unmappable(
            ty,
            "tuples have no column type: use one field per column",
        )),
        Type::Array(_) | Type::Slice(_) => Err(unmappable(ty, "use `Vec<T>` for an array column")),
        _ => Err(unmappable(ty, "only named types can be columns")),
    }
}

fn is_bytes(ty: &Type) -> bool {
    match strip(ty) {
        Type::Path(path) => {
            last_ident(path) == "Vec"
                && single_argument(path)
                    .is_some_and(|t| matches!(strip(t), Type::Path(p) if last_ident(p) == "u8"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> FieldType {
        classify(&syn::parse_str(src).expect("type")).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn err(src: &str) -> String {
        match classify(&syn::parse_str(src).expect("type")) {
            Ok(t) => panic!("{src} was accepted as {t:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn usual_types_are_accepted() {
        assert_eq!(
            ok("Uuid"),
            FieldType {
                optional: false,
                base: "Uuid".into()
            }
        );
        assert_eq!(ok("Option<chrono::DateTime<chrono::Utc>>").base, "DateTime");
        assert!(ok("Option<String>").optional);
        assert_eq!(ok("Vec<u8>").base, "Vec");
        assert_eq!(ok("Vec<Vec<u8>>").base, "Vec");
        assert_eq!(ok("Vec<String>").base, "Vec");
        assert_eq!(ok("serde_json::Value").base, "Value");
        assert_eq!(ok("CaseStatus").base, "CaseStatus");
    }

    #[test]
    fn impossible_types_are_refused_with_advice() {
        assert!(err("u32").contains("use `i64`"));
        assert!(err("&str").contains("owned type"));
        assert!(err("(i32, i32)").contains("tuples"));
        assert!(err("[u8; 4]").contains("Vec<T>"));
        assert!(err("Option<Option<i32>>").contains("NULL or a value"));
        assert!(err("Vec<Option<i32>>").contains("NULL elements"));
        assert!(err("Vec<Vec<i32>>").contains("multi-dimensional"));
        assert!(err("HashMap<String, String>").contains("jsonb"));
        assert!(err("u8").contains("smallint"));
        assert!(err("Box<str>").contains("smart pointers"));
        assert!(err("fn()").contains("named types"));
    }
}
