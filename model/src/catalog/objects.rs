//! The schema's objects besides tables: schemas, extensions, types, sequences, functions and
//! views.

use serde::{Deserialize, Serialize};

use super::{CheckConstraint, Column, Index, QualifiedName, Table};
use crate::types::DataType;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    pub schema: String,
    pub name: String,
    /// Labels in their declared (and sort) order.
    pub values: Vec<String>,
    pub comment: Option<String>,
}

/// A function the schema owns: the `updated_at` trigger function, and the compliance functions
/// generated from the tables' declared properties (retention purge, erasure, export, consent
/// and append-only guards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// Arguments in order. A function is identified by its schema, name and the types of its
    /// input arguments ([`Function::signature_types`]), so overloads are distinct functions.
    pub arguments: Vec<FunctionArgument>,
    /// The SQL return type, e.g. `trigger`.
    pub returns: String,
    pub language: String,
    /// The function body, without dollar quotes; for a SQL-standard body its canonical text
    /// (`RETURN n + 1`, `BEGIN ATOMIC ...; END`, see [`crate::expr::sql_body_text`]).
    pub body: String,
    /// The body is SQL-standard (`RETURN expression` or `BEGIN ATOMIC ... END`, written after
    /// the options instead of `AS '...'`): PostgreSQL parses it when the function is created.
    #[serde(default)]
    pub sql_standard_body: bool,
    /// `SECURITY DEFINER`: runs with its owner's privileges (always with a pinned
    /// `search_path`), the one way roles without a privilege can use it in a controlled form.
    pub security_definer: bool,
    /// Who may call it (`EXECUTE`), sorted; [`PUBLIC`] stands for every role, which is
    /// PostgreSQL's default for a new function.
    pub execute: Vec<String>,
}

/// The grantee name of PostgreSQL's pseudo-role that every role belongs to.
pub const PUBLIC: &str = "public";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionArgument {
    /// Empty for an unnamed argument.
    pub name: String,
    /// The SQL type, canonical (see [`DataType`]).
    pub data_type: DataType,
    pub mode: ArgumentMode,
    /// `DEFAULT expression`, as SQL.
    pub default: Option<String>,
}

impl FunctionArgument {
    /// A named input argument without default.
    pub fn input(name: impl Into<String>, data_type: DataType) -> Self {
        FunctionArgument {
            name: name.into(),
            data_type,
            mode: ArgumentMode::In,
            default: None,
        }
    }

    /// Whether the argument is part of the function's identity (`OUT` and `TABLE` columns are
    /// results, not arguments).
    pub fn is_input(&self) -> bool {
        matches!(
            self.mode,
            ArgumentMode::In | ArgumentMode::InOut | ArgumentMode::Variadic
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ArgumentMode {
    #[default]
    In,
    Out,
    InOut,
    Variadic,
    /// A column of `RETURNS TABLE (...)`.
    Table,
}

impl Function {
    /// The input argument types as `GRANT`, `REVOKE` and `DROP` identify the function:
    /// `(text, uuid)`.
    pub fn signature_types(&self) -> String {
        let types: Vec<String> = self
            .arguments
            .iter()
            .filter(|a| a.is_input())
            .map(|a| a.data_type.to_string())
            .collect();
        format!("({})", types.join(", "))
    }
}

impl Function {
    /// Grants (`grant`) or revokes `EXECUTE` for `role`, keeping [`Function::execute`] sorted.
    pub fn set_execute(&mut self, role: &str, grant: bool) {
        self.execute.retain(|r| r != role);
        if grant {
            let at = self.execute.partition_point(|r| r.as_str() < role);
            self.execute.insert(at, role.to_string());
        }
    }
}

impl EnumType {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// The name as SQL (see [`QualifiedName::sql`]).
    pub fn sql_name(&self) -> String {
        super::sql_name(&self.schema, &self.name)
    }
}

impl Function {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }
}

/// `CREATE SCHEMA name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    pub comment: Option<String>,
}

/// `CREATE EXTENSION name [SCHEMA schema]`: its types are named types of the catalog
/// ([`DataType::Other`]), its functions are not modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    /// Where its objects live.
    pub schema: String,
    /// The version asked for (`CREATE EXTENSION ... VERSION`, `version:` in schema.yaml); `None`
    /// takes the default version, and compares equal to any version.
    pub version: Option<String>,
}

/// `CREATE DOMAIN name AS base ...`: a type that is its base type with constraints. Columns of
/// a domain carry the base type too ([`DataType::Domain`]), so a domain over `jsonb` is jsonb to
/// every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub schema: String,
    pub name: String,
    pub base: DataType,
    pub nullable: bool,
    pub default: Option<String>,
    pub checks: Vec<CheckConstraint>,
    pub comment: Option<String>,
}

impl Domain {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }
}

/// `CREATE TYPE name AS (attribute type, ...)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeType {
    pub schema: String,
    pub name: String,
    pub attributes: Vec<CompositeAttribute>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeAttribute {
    pub name: String,
    pub data_type: DataType,
}

/// `CREATE SEQUENCE`, or the sequence PostgreSQL makes for a `serial` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    /// `smallint`, `integer` or `bigint` (the default).
    pub data_type: DataType,
    pub options: SequenceOptions,
    /// `OWNED BY table.column`: dropped with the column.
    pub owned_by: Option<SequenceOwner>,
}

impl Sequence {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// The default of a column that draws from this sequence, as PostgreSQL writes the one it
    /// gives a `serial` column: `nextval('seq'::regclass)`, the name schema-qualified outside
    /// `public`.
    pub fn nextval_default(&self) -> String {
        format!(
            "nextval({}::regclass)",
            crate::ident::quote_literal(&self.qualified_name().sql())
        )
    }
}

/// The pseudo-types `serial`, `bigserial` and `smallserial` (and their `serialN` spellings),
/// with the integer type each stands for. `type_name` as PostgreSQL reads it (lower case).
pub fn serial_integer(type_name: &str) -> Option<DataType> {
    match type_name {
        "serial" | "serial4" => Some(DataType::Integer),
        "bigserial" | "serial8" => Some(DataType::BigInt),
        "smallserial" | "serial2" => Some(DataType::SmallInt),
        _ => None,
    }
}

/// How a `serial` column of integer type `data_type` is written: `serial`, `bigserial` or
/// `smallserial`.
pub fn serial_name(data_type: &DataType) -> Option<&'static str> {
    match data_type {
        DataType::Integer => Some("serial"),
        DataType::BigInt => Some("bigserial"),
        DataType::SmallInt => Some("smallserial"),
        _ => None,
    }
}

/// The sequence that makes `column` of `table` what PostgreSQL makes of a `serial` column, if
/// it is one: owned by the column, in the table's schema, of the column's integer type, with
/// default options, the column NOT NULL and defaulting to its next value. Such a column is
/// written as `serial` (in SQL and in `schema.yaml`) and its sequence is not written at all.
pub fn serial_sequence<'a>(
    sequences: &'a [Sequence],
    table: &Table,
    column: &Column,
) -> Option<&'a Sequence> {
    serial_name(&column.data_type)?;
    if column.nullable || column.identity.is_some() || column.generated.is_some() {
        return None;
    }
    let default = column.default.as_deref()?;
    sequences.iter().find(|s| {
        s.schema == table.schema
            && s.data_type == column.data_type
            && s.owned_by.as_ref().is_some_and(|o| {
                o.table.schema == table.schema
                    && o.table.name == table.name
                    && o.column == column.name
            })
            && s.options.without_defaults(&s.data_type) == SequenceOptions::default()
            && s.nextval_default() == default
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOwner {
    pub table: QualifiedName,
    pub column: String,
}

/// A sequence's options; `None` is PostgreSQL's default for the sequence's type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SequenceOptions {
    pub start: Option<i64>,
    pub increment: Option<i64>,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    pub cache: Option<i64>,
    pub cycle: bool,
}

impl SequenceOptions {
    /// The same options with every value PostgreSQL would choose by itself for a sequence of
    /// `data_type` left out (`None`): increment 1; for an ascending sequence minimum 1 and the
    /// type's maximum, for a descending one maximum -1 and the type's minimum; start at the
    /// minimum (ascending) or maximum (descending); cache 1. This is the form catalogs hold, so
    /// `START WITH 1` written in SQL, nothing written, and a live sequence read back compare
    /// equal.
    pub fn without_defaults(&self, data_type: &DataType) -> SequenceOptions {
        let (type_min, type_max) = data_type.integer_range();
        let increment = self.increment.unwrap_or(1);
        let ascending = increment > 0;
        let default_min = if ascending { 1 } else { type_min };
        let default_max = if ascending { type_max } else { -1 };
        let min = self.min_value.unwrap_or(default_min);
        let max = self.max_value.unwrap_or(default_max);
        let start = self.start.unwrap_or(if ascending { min } else { max });
        let default_start = if ascending { min } else { max };
        SequenceOptions {
            start: (start != default_start).then_some(start),
            increment: (increment != 1).then_some(increment),
            min_value: (min != default_min).then_some(min),
            max_value: (max != default_max).then_some(max),
            cache: self.cache.filter(|c| *c != 1),
            cycle: self.cycle,
        }
    }
}

/// `CREATE VIEW` or `CREATE MATERIALIZED VIEW`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub schema: String,
    pub name: String,
    /// A materialized view stores its rows and can have indexes.
    pub materialized: bool,
    pub columns: Vec<ViewColumn>,
    /// The query, as SQL.
    pub query: String,
    /// Indexes of a materialized view.
    pub indexes: Vec<Index>,
    pub comment: Option<String>,
    /// The tables and views the query reads: `DROP ... CASCADE` of one of them drops the view.
    pub depends_on: Vec<QualifiedName>,
}

impl View {
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    pub name: String,
    /// [`DataType::Unknown`] where the query does not say.
    pub data_type: DataType,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_options_without_postgresqls_defaults() {
        let written = |start, increment, min, max, cache| SequenceOptions {
            start,
            increment,
            min_value: min,
            max_value: max,
            cache,
            cycle: false,
        };
        // Everything PostgreSQL would choose by itself for an integer sequence.
        assert_eq!(
            written(Some(1), Some(1), Some(1), Some(2_147_483_647), Some(1))
                .without_defaults(&DataType::Integer),
            SequenceOptions::default()
        );
        // bigint's maximum is not integer's.
        assert_eq!(
            written(None, None, None, Some(2_147_483_647), None)
                .without_defaults(&DataType::BigInt)
                .max_value,
            Some(2_147_483_647)
        );
        // A start at a raised minimum is the default start.
        assert_eq!(
            written(Some(10), None, Some(10), None, None).without_defaults(&DataType::BigInt),
            written(None, None, Some(10), None, None)
        );
        // Descending: maximum -1, minimum the type's, start at the maximum.
        assert_eq!(
            written(Some(-1), Some(-1), Some(-32768), Some(-1), None)
                .without_defaults(&DataType::SmallInt),
            written(None, Some(-1), None, None, None)
        );
        assert_eq!(
            written(Some(100), Some(5), None, None, Some(20)).without_defaults(&DataType::Integer),
            written(Some(100), Some(5), None, None, Some(20))
        );
    }
}
