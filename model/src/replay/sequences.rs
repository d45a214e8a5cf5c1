//! Sequences: `CREATE/ALTER SEQUENCE`, `OWNED BY`, the sequence behind a `serial` column, and
//! the options identity columns share with them.

use pg_query::NodeEnum;
use pg_query::protobuf;

use super::ast::{split_name, strings};
use super::tables::{RelationKind, claim_relation_name, created_relation};
use super::{Applied, Replay, ReplayError, Result, does_not_exist};
use crate::catalog::*;
use crate::ident::pg_unique_name;
use crate::types::DataType;

/// The options clauses of `CREATE/ALTER SEQUENCE` and of identity columns, as written: `None`
/// where a clause is absent, `Some(None)` for `NO MINVALUE` and the like.
#[derive(Debug, Default)]
pub(super) struct SequenceClauses<'a> {
    start: Option<Option<i64>>,
    increment: Option<Option<i64>>,
    min_value: Option<Option<i64>>,
    max_value: Option<Option<i64>>,
    cache: Option<Option<i64>>,
    cycle: Option<bool>,
    /// `AS type`.
    pub data_type: Option<&'a protobuf::TypeName>,
    /// `OWNED BY table.column` (`["none"]` for `OWNED BY NONE`).
    pub owned_by: Option<Vec<String>>,
    /// `SET GENERATED ALWAYS / BY DEFAULT` of an identity column.
    pub always: Option<bool>,
}

impl SequenceClauses<'_> {
    /// The options over `current`.
    pub fn apply_to(&self, current: &mut SequenceOptions) {
        let set = |field: &mut Option<i64>, clause: Option<Option<i64>>| {
            if let Some(value) = clause {
                *field = value;
            }
        };
        set(&mut current.start, self.start);
        set(&mut current.increment, self.increment);
        set(&mut current.min_value, self.min_value);
        set(&mut current.max_value, self.max_value);
        set(&mut current.cache, self.cache);
        if let Some(cycle) = self.cycle {
            current.cycle = cycle;
        }
    }

    pub fn options(&self) -> SequenceOptions {
        let mut options = SequenceOptions::default();
        self.apply_to(&mut options);
        options
    }
}

/// Reads the `DefElem` list of sequence options.
pub(super) fn sequence_clauses(options: &[protobuf::Node]) -> SequenceClauses<'_> {
    let mut out = SequenceClauses::default();
    for option in options {
        let Some(NodeEnum::DefElem(d)) = option.node.as_ref() else {
            continue;
        };
        let arg = d.arg.as_deref().and_then(|a| a.node.as_ref());
        let number = || -> Option<i64> {
            match arg {
                Some(NodeEnum::Integer(i)) => Some(i64::from(i.ival)),
                Some(NodeEnum::Float(f)) => f.fval.parse().ok(),
                _ => None,
            }
        };
        match d.defname.as_str() {
            "start" => out.start = Some(number()),
            "increment" => out.increment = Some(number()),
            "minvalue" => out.min_value = Some(number()),
            "maxvalue" => out.max_value = Some(number()),
            "cache" => out.cache = Some(number()),
            "cycle" => {
                out.cycle = Some(matches!(arg, Some(NodeEnum::Boolean(b)) if b.boolval));
            }
            "as" => {
                if let Some(NodeEnum::TypeName(t)) = arg {
                    out.data_type = Some(t);
                }
            }
            "owned_by" => {
                if let Some(NodeEnum::List(list)) = arg {
                    out.owned_by = Some(strings(&list.items));
                }
            }
            // `SET GENERATED ALWAYS` carries the attribute's code letter as an integer.
            "generated" => {
                if let Some(NodeEnum::Integer(i)) = arg {
                    out.always = Some(i.ival == i32::from(b'a'));
                }
            }
            // `RESTART`, `SEQUENCE NAME` (of an identity) and the rest change nothing modelled.
            _ => {}
        }
    }
    out
}

/// The options of a `DefElem` list, and `SET GENERATED` if it is there.
pub(super) fn sequence_options(options: &[protobuf::Node]) -> (SequenceOptions, Option<bool>) {
    let clauses = sequence_clauses(options);
    (clauses.options(), clauses.always)
}

/// The integer type of `AS type` (`bigint` without one).
fn sequence_type(cx: &Replay<'_>, t: Option<&protobuf::TypeName>) -> DataType {
    match t {
        Some(t) => cx.session.data_type(cx.catalog, t),
        None => DataType::BigInt,
    }
}

pub(super) fn create_sequence(cx: &mut Replay<'_>, s: &protobuf::CreateSeqStmt) -> Result<Applied> {
    let (r, schema) = created_relation(cx, s.sequence.as_ref(), "CREATE SEQUENCE")?;
    if !claim_relation_name(
        cx,
        &schema,
        &r.relname,
        s.if_not_exists,
        RelationKind::Sequence,
    )? {
        return Ok(Applied::Schema);
    }
    let clauses = sequence_clauses(&s.options);
    let owned_by = owner(cx, clauses.owned_by.as_deref())?;
    let data_type = sequence_type(cx, clauses.data_type);
    cx.catalog.sequences.push(Sequence {
        schema,
        name: r.relname.clone(),
        options: clauses.options().without_defaults(&data_type),
        data_type,
        owned_by,
    });
    Ok(Applied::Schema)
}

pub(super) fn alter_sequence(cx: &mut Replay<'_>, s: &protobuf::AlterSeqStmt) -> Result<Applied> {
    let r = s
        .sequence
        .as_ref()
        .ok_or_else(|| ReplayError::new("ALTER SEQUENCE without a name"))?;
    let Some(at) = find_sequence(cx, &r.schemaname, &r.relname) else {
        if s.missing_ok {
            return Ok(Applied::Schema);
        }
        return Err(does_not_exist("relation", &r.schemaname, &r.relname));
    };
    let clauses = sequence_clauses(&s.options);
    let owned_by = match clauses.owned_by.as_deref() {
        Some(names) => Some(owner(cx, Some(names))?),
        None => None,
    };
    let data_type = clauses.data_type.map(|t| sequence_type(cx, Some(t)));
    let sequence = &mut cx.catalog.sequences[at];
    clauses.apply_to(&mut sequence.options);
    if let Some(owned_by) = owned_by {
        sequence.owned_by = owned_by;
    }
    if let Some(data_type) = data_type {
        sequence.data_type = data_type;
    }
    sequence.options = sequence.options.without_defaults(&sequence.data_type);
    Ok(Applied::Schema)
}

/// The position of sequence `schema.name` (`schema` empty: through the `search_path`).
pub(super) fn find_sequence(cx: &Replay<'_>, schema: &str, name: &str) -> Option<usize> {
    cx.lookup_schemas(schema).iter().find_map(|s| {
        cx.catalog
            .sequences
            .iter()
            .position(|q| q.name == name && q.schema == *s)
    })
}

/// `OWNED BY table.column` as an owner; `OWNED BY NONE` and no clause as none.
fn owner(cx: &mut Replay<'_>, names: Option<&[String]>) -> Result<Option<SequenceOwner>> {
    let Some(names) = names else {
        return Ok(None);
    };
    if names.len() == 1 && names[0].eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let Some((column, table)) = names.split_last() else {
        return Ok(None);
    };
    let (schema, table) = split_name(table);
    let position = cx
        .find_table(&schema, &table)
        .ok_or_else(|| does_not_exist("relation", &schema, &table))?;
    Ok(Some(SequenceOwner {
        table: cx.catalog.tables[position].qualified_name(),
        column: column.clone(),
    }))
}

/// Creates the sequence a `serial` column owns, named as PostgreSQL names it
/// (`table_column_seq`, numbered when taken), and returns the column's default.
pub(super) fn create_owned(
    cx: &mut Replay<'_>,
    schema: &str,
    table: &str,
    column: &str,
    data_type: DataType,
) -> String {
    let name = pg_unique_name(table, Some(column), "seq", |candidate| {
        cx.relation_exists(schema, candidate)
    });
    let owner = SequenceOwner {
        table: QualifiedName::new(schema, table),
        column: column.to_string(),
    };
    let sequence = Sequence {
        schema: schema.to_string(),
        name,
        data_type,
        options: SequenceOptions::default(),
        owned_by: Some(owner),
    };
    let default = sequence.nextval_default();
    cx.catalog.sequences.push(sequence);
    default
}
