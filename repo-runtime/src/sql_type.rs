//! The PostgreSQL type each parameter is sent with.
//!
//! The generated statements go out with their parameter types (`query_typed`, or
//! `prepare_typed` once on a [`crate::Prepared`] connection), so no round trip is spent asking
//! the server for them.

use postgres_types::{Kind, Type};

/// A Rust type that maps to one PostgreSQL type, for statement parameters.
///
/// Implemented for `bool`, `i16`, `i32`, `i64`, `f32`, `f64`, `String`, `Vec<u8>` (bytea),
/// `uuid::Uuid`, `serde_json::Value` (jsonb), the `chrono` date and time types,
/// `std::net::IpAddr` (inet), `Option<T>` and `Vec<T>` (arrays). For a PostgreSQL enum derived
/// with `postgres_types::{ToSql, FromSql}`, implement it with [`enum_type`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no PostgreSQL type for #[derive(Repository)]",
    label = "no `SqlType` implementation",
    note = "implement `repo_runtime::SqlType` (for a PostgreSQL enum: `repo_runtime::enum_type(\"name\", &[labels])`)"
)]
pub trait SqlType {
    /// The type to declare the parameter with.
    fn sql_type() -> Type;
}

/// A type that can be the element of an array parameter (`Vec<T>`).
///
/// Not implemented for enums: a binary array parameter carries its element type's OID, which
/// differs between databases for a user-defined type and cannot be known at compile time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the element of an array parameter",
    note = "arrays of built-in types are supported; arrays of enums are not (their OID differs per database)"
)]
pub trait SqlArrayElement: SqlType {
    /// The array type whose elements are `Self`.
    fn sql_array_type() -> Type;
}

/// The parameter type of a PostgreSQL enum `name` with `labels` in order, for a
/// [`SqlType`] implementation. The OID is left to the server to infer (0): enum OIDs differ
/// between databases, and the label list is what `postgres_types`' derived `ToSql` checks.
pub fn enum_type(name: &str, labels: &[&str]) -> Type {
    Type::new(
        name.to_owned(),
        0,
        Kind::Enum(labels.iter().map(|l| (*l).to_owned()).collect()),
        "public".to_owned(),
    )
}

macro_rules! builtin {
    ($($rust:ty => $scalar:ident, $array:ident;)*) => {$(
        impl SqlType for $rust {
            fn sql_type() -> Type {
                Type::$scalar
            }
        }
        impl SqlArrayElement for $rust {
            fn sql_array_type() -> Type {
                Type::$array
            }
        }
    )*};
}

builtin! {
    bool => BOOL, BOOL_ARRAY;
    i16 => INT2, INT2_ARRAY;
    i32 => INT4, INT4_ARRAY;
    i64 => INT8, INT8_ARRAY;
    f32 => FLOAT4, FLOAT4_ARRAY;
    f64 => FLOAT8, FLOAT8_ARRAY;
    String => TEXT, TEXT_ARRAY;
    Vec<u8> => BYTEA, BYTEA_ARRAY;
    uuid::Uuid => UUID, UUID_ARRAY;
    serde_json::Value => JSONB, JSONB_ARRAY;
    chrono::DateTime<chrono::Utc> => TIMESTAMPTZ, TIMESTAMPTZ_ARRAY;
    chrono::NaiveDateTime => TIMESTAMP, TIMESTAMP_ARRAY;
    chrono::NaiveDate => DATE, DATE_ARRAY;
    chrono::NaiveTime => TIME, TIME_ARRAY;
    std::net::IpAddr => INET, INET_ARRAY;
}

impl<T: SqlType> SqlType for Option<T> {
    fn sql_type() -> Type {
        T::sql_type()
    }
}

impl<T: SqlArrayElement> SqlType for Vec<T> {
    fn sql_type() -> Type {
        T::sql_array_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_take_their_element_type() {
        assert_eq!(<Option<i64>>::sql_type(), Type::INT8);
        assert_eq!(<Vec<String>>::sql_type(), Type::TEXT_ARRAY);
        assert_eq!(<Vec<u8>>::sql_type(), Type::BYTEA);
        assert_eq!(<Option<Vec<Vec<u8>>>>::sql_type(), Type::BYTEA_ARRAY);
    }

    #[test]
    fn enum_types_carry_their_labels() {
        let t = enum_type("mood", &["sad", "ok"]);
        assert_eq!(t.name(), "mood");
        assert_eq!(t.oid(), 0);
        assert_eq!(*t.kind(), Kind::Enum(vec!["sad".into(), "ok".into()]));
    }
}
