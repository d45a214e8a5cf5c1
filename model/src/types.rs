//! Column data types: parsed from the many spellings PostgreSQL accepts into one canonical form.
//!
//! `int4`, `integer` and `int` are the same type; the catalog stores it once so that a schema
//! written by hand, replayed from SQL or read from `pg_catalog` compares equal.

use std::fmt;

use crate::catalog::QualifiedName;

/// A column type. Built-in types are spelled as PostgreSQL's `format_type` would, user enums by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DataType {
    SmallInt,
    Integer,
    BigInt,
    Real,
    DoublePrecision,
    /// `numeric(precision, scale)`.
    Numeric(Option<(u32, Option<u32>)>),
    Boolean,
    Text,
    Varchar(Option<u32>),
    Char(Option<u32>),
    Uuid,
    Json,
    Jsonb,
    Bytea,
    Date,
    /// `time` with optional fractional-second precision.
    Time(Option<u32>),
    Timestamp(Option<u32>),
    Timestamptz(Option<u32>),
    Interval,
    Inet,
    Cidr,
    Macaddr,
    /// A user-defined enum type of the catalog.
    Enum(QualifiedName),
    /// A domain of the catalog, with its base type: a domain over `jsonb` is jsonb to the rules.
    Domain {
        name: QualifiedName,
        base: Box<DataType>,
    },
    /// A composite type of the catalog.
    Composite(QualifiedName),
    /// Any other type, as written (normalised): an extension's (`citext`, `geometry(Point,4326)`),
    /// a range, a table's row type, a built-in the model does not tell apart. Replayed SQL never
    /// fails on a type; `schema.yaml` accepts only the types above.
    Other(String),
    /// A column whose type the replay cannot tell (a `CREATE TABLE AS` expression): rules treat
    /// it as no particular type.
    Unknown,
    Array(Box<DataType>),
}

/// Why a type name was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeError {
    /// Not a built-in type and not one of the catalog's enums.
    Unknown(String),
    /// A known type with modifiers it does not take or that are out of range.
    BadModifier(String),
    /// A pseudo-type such as `serial`, with the advice to give instead.
    Unsupported { name: String, advice: &'static str },
}

impl std::fmt::Display for TypeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeError::Unknown(_) => {
                f.write_str("neither a built-in type the model knows nor an enum created earlier")
            }
            TypeError::BadModifier(why) => write!(f, "bad type modifier: {why}"),
            TypeError::Unsupported { advice, .. } => f.write_str(advice),
        }
    }
}

/// Spellings of the built-in types that take no modifiers, mapped to the canonical type.
const PLAIN_TYPES: &[(&str, DataType)] = &[
    ("smallint", DataType::SmallInt),
    ("int2", DataType::SmallInt),
    ("integer", DataType::Integer),
    ("int", DataType::Integer),
    ("int4", DataType::Integer),
    ("bigint", DataType::BigInt),
    ("int8", DataType::BigInt),
    ("real", DataType::Real),
    ("float4", DataType::Real),
    ("double precision", DataType::DoublePrecision),
    ("float8", DataType::DoublePrecision),
    ("boolean", DataType::Boolean),
    ("bool", DataType::Boolean),
    ("text", DataType::Text),
    ("uuid", DataType::Uuid),
    ("json", DataType::Json),
    ("jsonb", DataType::Jsonb),
    ("bytea", DataType::Bytea),
    ("date", DataType::Date),
    ("interval", DataType::Interval),
    ("inet", DataType::Inet),
    ("cidr", DataType::Cidr),
    ("macaddr", DataType::Macaddr),
];

/// Every name a schema author may write, for "did you mean" suggestions.
pub const KNOWN_TYPE_NAMES: &[&str] = &[
    "smallint",
    "integer",
    "bigint",
    "real",
    "double precision",
    "numeric",
    "boolean",
    "text",
    "varchar",
    "char",
    "uuid",
    "json",
    "jsonb",
    "bytea",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
    "inet",
    "cidr",
    "macaddr",
];

impl DataType {
    /// Parses a type as written in `schema.yaml` or SQL. `enum_named` gives the catalog's enum
    /// type a text names, if any (it sees the text as written, trimmed: an enum's name may hold
    /// white space that must not be normalised away).
    pub fn parse(
        text: &str,
        enum_named: &dyn Fn(&str) -> Option<QualifiedName>,
    ) -> Result<DataType, TypeError> {
        let trimmed = text.trim();
        if let Some(element) = trimmed.strip_suffix("[]") {
            let element = Self::parse(element, enum_named)?;
            if matches!(element, DataType::Array(_)) {
                // PostgreSQL ignores declared dimensions; one level keeps the model honest.
                return Err(TypeError::Unsupported {
                    name: text.split_whitespace().collect::<Vec<_>>().join(" "),
                    advice: "multi-dimensional arrays are not supported; use jsonb",
                });
            }
            return Ok(DataType::Array(Box::new(element)));
        }
        if let Some(name) = enum_named(trimmed) {
            return Ok(DataType::Enum(name));
        }
        let normal = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
        let lower = normal.to_ascii_lowercase();
        if let Some((_, ty)) = PLAIN_TYPES.iter().find(|(name, _)| *name == lower) {
            return Ok(ty.clone());
        }
        let (base, modifiers) = split_modifiers(&lower).ok_or_else(|| {
            TypeError::BadModifier(format!("unbalanced parentheses in `{normal}`"))
        })?;
        let bad = |why: &str| TypeError::BadModifier(format!("`{normal}`: {why}"));
        let one = |max: u32| -> Result<Option<u32>, TypeError> {
            match modifiers.as_slice() {
                [] => Ok(None),
                [n] if (1..=max).contains(n) || (max == 6 && *n == 0) => Ok(Some(*n)),
                [_] => Err(bad(&format!("the modifier must be between 1 and {max}"))),
                _ => Err(bad("takes one modifier")),
            }
        };
        if !modifiers.is_empty() && PLAIN_TYPES.iter().any(|(name, _)| *name == base) {
            return Err(bad("takes no modifiers"));
        }
        let ty = match base.as_str() {
            "varchar" | "character varying" => DataType::Varchar(one(10_485_760)?),
            "char" | "character" | "bpchar" => DataType::Char(one(10_485_760)?),
            "numeric" | "decimal" => match modifiers.as_slice() {
                [] => DataType::Numeric(None),
                [p] if (1..=1000).contains(p) => DataType::Numeric(Some((*p, None))),
                [p, s] if (1..=1000).contains(p) && s <= p => {
                    DataType::Numeric(Some((*p, Some(*s))))
                }
                _ => {
                    return Err(bad(
                        "takes a precision from 1 to 1000 and a scale no larger than it",
                    ));
                }
            },
            "time" | "time without time zone" => DataType::Time(one(6)?),
            "timestamp" | "timestamp without time zone" => DataType::Timestamp(one(6)?),
            "timestamptz" | "timestamp with time zone" => DataType::Timestamptz(one(6)?),
            "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2" => {
                return Err(TypeError::Unsupported {
                    name: normal,
                    advice: "serial is not a real type: it can only be the type of a column (the column then owns its sequence)",
                });
            }
            _ => return Err(TypeError::Unknown(normal)),
        };
        Ok(ty)
    }

    /// The name of the enum type this column uses, directly or as an array element.
    pub fn enum_name(&self) -> Option<&QualifiedName> {
        match self {
            DataType::Enum(name) => Some(name),
            DataType::Array(element) => element.enum_name(),
            _ => None,
        }
    }

    /// The type values really have: a domain's base type (through nested domains), else itself.
    pub fn base(&self) -> &DataType {
        match self {
            DataType::Domain { base, .. } => base.base(),
            other => other,
        }
    }

    /// Whether the type is `jsonb`, or a domain over it.
    pub fn is_jsonb(&self) -> bool {
        matches!(self.base(), DataType::Jsonb)
    }

    /// Types a GIN index can serve with a default operator class.
    pub fn supports_gin(&self) -> bool {
        matches!(self.base(), DataType::Jsonb | DataType::Array(_))
    }

    /// The smallest and largest value of an integer type (`bigint`'s for any other type), as
    /// sequences and identity columns take their default bounds from it.
    pub fn integer_range(&self) -> (i64, i64) {
        match self.base() {
            DataType::SmallInt => (i64::from(i16::MIN), i64::from(i16::MAX)),
            DataType::Integer => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        }
    }

    /// Whether values of this type are character strings.
    pub fn is_text_like(&self) -> bool {
        matches!(
            self.base(),
            DataType::Text | DataType::Varchar(_) | DataType::Char(_)
        )
    }

    /// Whether PostgreSQL accepts a foreign key from a column of this type to a column of type
    /// `referenced`, as `ATAddForeignKeyConstraint` decides: the referenced key's operator family
    /// has an equality operator between the two types (the integer types among themselves,
    /// `real` and `double precision`, the date and time stamps, `inet` and `cidr`, the string
    /// types through `text`), or this type casts implicitly to the referenced one (an integer to
    /// `numeric` or a float type, `varchar` to `char`). Type modifiers and domains do not matter.
    pub fn references_compatibly(&self, referenced: &DataType) -> bool {
        use DataType::*;
        let (from, to) = (self.base(), referenced.base());
        let integer = |t: &DataType| matches!(t, SmallInt | Integer | BigInt);
        let float = |t: &DataType| matches!(t, Real | DoublePrecision);
        let stamp = |t: &DataType| matches!(t, Date | Timestamp(_) | Timestamptz(_));
        let string = |t: &DataType| matches!(t, Text | Varchar(_) | Char(_));
        let network = |t: &DataType| matches!(t, Inet | Cidr);
        match (from, to) {
            (Numeric(_), Numeric(_)) | (Time(_), Time(_)) => true,
            (Array(a), Array(b)) => a.base() == b.base(),
            _ if integer(from) && (integer(to) || float(to) || matches!(to, Numeric(_))) => true,
            _ if float(from) && float(to) => true,
            _ if stamp(from) && stamp(to) => true,
            _ if string(from) && string(to) => true,
            _ if network(from) && network(to) => true,
            _ => from == to,
        }
    }

    /// Whether the user-defined type `name` (enum, domain or composite) is this type, directly,
    /// as an array element or as a domain's base.
    pub fn uses_type(&self, name: &QualifiedName) -> bool {
        match self {
            DataType::Enum(n) | DataType::Composite(n) => n == name,
            DataType::Domain { name: n, base } => n == name || base.uses_type(name),
            DataType::Array(element) => element.uses_type(name),
            _ => false,
        }
    }
}

/// Splits `name(1, 2)` into `name` and `[1, 2]`; `name` alone gives no modifiers.
fn split_modifiers(text: &str) -> Option<(String, Vec<u32>)> {
    let Some(open) = text.find('(') else {
        return Some((text.to_string(), Vec::new()));
    };
    let close = text.rfind(')')?;
    if close < open {
        return None;
    }
    let base = text[..open].trim();
    // `timestamp(3) with time zone` puts the modifier in the middle.
    let rest = text[close + 1..].trim();
    let base = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base} {rest}")
    };
    let mut modifiers = Vec::new();
    for part in text[open + 1..close].split(',') {
        modifiers.push(part.trim().parse().ok()?);
    }
    Some((base, modifiers))
}

impl fmt::Display for DataType {
    /// The SQL spelling used in generated DDL (short forms PostgreSQL accepts everywhere).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with = |f: &mut fmt::Formatter<'_>, name: &str, m: &Option<u32>| match m {
            Some(n) => write!(f, "{name}({n})"),
            None => f.write_str(name),
        };
        match self {
            DataType::SmallInt => f.write_str("smallint"),
            DataType::Integer => f.write_str("integer"),
            DataType::BigInt => f.write_str("bigint"),
            DataType::Real => f.write_str("real"),
            DataType::DoublePrecision => f.write_str("double precision"),
            DataType::Numeric(None) => f.write_str("numeric"),
            DataType::Numeric(Some((p, None))) => write!(f, "numeric({p})"),
            DataType::Numeric(Some((p, Some(s)))) => write!(f, "numeric({p},{s})"),
            DataType::Boolean => f.write_str("boolean"),
            DataType::Text => f.write_str("text"),
            DataType::Varchar(m) => with(f, "varchar", m),
            DataType::Char(m) => with(f, "char", m),
            DataType::Uuid => f.write_str("uuid"),
            DataType::Json => f.write_str("json"),
            DataType::Jsonb => f.write_str("jsonb"),
            DataType::Bytea => f.write_str("bytea"),
            DataType::Date => f.write_str("date"),
            DataType::Time(m) => with(f, "time", m),
            DataType::Timestamp(m) => with(f, "timestamp", m),
            DataType::Timestamptz(m) => with(f, "timestamptz", m),
            DataType::Interval => f.write_str("interval"),
            DataType::Inet => f.write_str("inet"),
            DataType::Cidr => f.write_str("cidr"),
            DataType::Macaddr => f.write_str("macaddr"),
            DataType::Enum(name) | DataType::Composite(name) | DataType::Domain { name, .. } => {
                f.write_str(&name.sql())
            }
            DataType::Other(text) => f.write_str(text),
            DataType::Unknown => f.write_str("unknown"),
            DataType::Array(element) => write!(f, "{element}[]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DataType, TypeError> {
        DataType::parse(text, &|name| {
            (name == "job_status").then(|| QualifiedName::public(name))
        })
    }

    #[test]
    fn spellings_resolve_to_one_canonical_type() {
        for (text, expected) in [
            ("int4", "integer"),
            ("INT", "integer"),
            ("character varying(255)", "varchar(255)"),
            ("timestamp with time zone", "timestamptz"),
            ("timestamptz(3)", "timestamptz(3)"),
            ("timestamp(3) with time zone", "timestamptz(3)"),
            ("decimal(10, 2)", "numeric(10,2)"),
            ("text[]", "text[]"),
            ("job_status", "job_status"),
            ("job_status[]", "job_status[]"),
            ("double   precision", "double precision"),
        ] {
            assert_eq!(
                parse(text).map(|t| t.to_string()),
                Ok(expected.to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_types_are_reported() {
        assert_eq!(parse("uuidd"), Err(TypeError::Unknown("uuidd".into())));
        assert!(matches!(
            parse("varchar(0)"),
            Err(TypeError::BadModifier(_))
        ));
        assert!(matches!(parse("uuid(3)"), Err(TypeError::BadModifier(_))));
        assert!(matches!(
            parse("numeric(2,5)"),
            Err(TypeError::BadModifier(_))
        ));
        assert!(matches!(
            parse("varchar(12"),
            Err(TypeError::BadModifier(_))
        ));
        assert!(matches!(
            parse("serial"),
            Err(TypeError::Unsupported { .. })
        ));
        assert!(matches!(
            parse("int[][]"),
            Err(TypeError::Unsupported { .. })
        ));
    }
}
