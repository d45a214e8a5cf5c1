//! What a statement means for the linter's bookkeeping, read off its parse tree: the tables
//! whose problems it may change, the rename it makes, the notes of the replay as findings.

use model::QualifiedName;
use model::replay::{Location, ReplayError};
use pg_query::NodeEnum;
use pg_query::protobuf::{self, AlterTableType, DropBehavior, ObjectType};

use super::Touched;
use super::problems::ProblemKey;
use crate::finding::Finding;
use crate::parse;
use crate::rules::{self, Resolver, alter_table_cmds, object_names};

/// A table or column rename, to keep following a problem under its new name.
pub(super) struct Rename {
    pub(super) table: QualifiedName,
    pub(super) new_table: Option<QualifiedName>,
    column: Option<(String, String)>,
}

impl Rename {
    /// The rename a statement makes, resolved against the schema before it.
    pub(super) fn of(node: &NodeEnum, names: Resolver<'_>) -> Option<Rename> {
        let NodeEnum::RenameStmt(s) = node else {
            return None;
        };
        let table = names.relation(s.relation.as_ref()?);
        match ObjectType::try_from(s.rename_type).ok()? {
            ObjectType::ObjectTable => Some(Rename {
                new_table: Some(QualifiedName::new(&table.schema, &s.newname)),
                table,
                column: None,
            }),
            ObjectType::ObjectColumn => Some(Rename {
                table,
                new_table: None,
                column: Some((s.subname.clone(), s.newname.clone())),
            }),
            _ => None,
        }
    }

    pub(super) fn qualified_name(&self, name: QualifiedName) -> QualifiedName {
        match &self.new_table {
            Some(new) if name == self.table => new.clone(),
            _ => name,
        }
    }

    pub(super) fn apply(&self, mut key: ProblemKey) -> ProblemKey {
        self.apply_to(&mut key.table, &mut key.columns);
        key
    }

    /// Follows a problem's table key and columns through the rename.
    pub(super) fn apply_to(&self, table: &mut String, columns: &mut [String]) {
        if *table != self.table.display() {
            return;
        }
        if let Some((old, new)) = &self.column {
            for c in columns.iter_mut() {
                if c == old {
                    c.clone_from(new);
                }
            }
        }
        if let Some(new) = &self.new_table {
            *table = new.display().into_owned();
        }
    }
}

/// Tables whose schema-state problems a statement may change.
pub(super) fn touched_tables(node: &NodeEnum, names: Resolver<'_>) -> Touched {
    let index_owner = |list: &[String]| names.index_owner(list).map(model::Table::qualified_name);
    // A partitioned table's indexes count for its partitions too.
    let partitioned =
        |name: &QualifiedName| names.table(name).is_some_and(|t| t.partition_by.is_some());
    let tables = match node {
        NodeEnum::CreateStmt(s) => s.relation.iter().map(|r| names.relation(r)).collect(),
        NodeEnum::CreateTableAsStmt(s) => s
            .into
            .as_ref()
            .and_then(|i| i.rel.as_ref())
            .map(|r| names.relation(r))
            .into_iter()
            .collect(),
        NodeEnum::SelectStmt(s) => s
            .into_clause
            .as_ref()
            .and_then(|i| i.rel.as_ref())
            .map(|r| names.relation(r))
            .into_iter()
            .collect(),
        NodeEnum::AlterTableStmt(s) => {
            let Some((_, _)) = names.altered_table(node) else {
                return Touched::Tables(Vec::new());
            };
            let Some(r) = s.relation.as_ref() else {
                return Touched::Tables(Vec::new());
            };
            let name = names.relation(r);
            let spreads = alter_table_cmds(s).any(|(kind, c)| {
                DropBehavior::try_from(c.behavior) == Ok(DropBehavior::DropCascade)
                    || matches!(
                        kind,
                        AlterTableType::AtAttachPartition
                            | AlterTableType::AtDetachPartition
                            | AlterTableType::AtAddInherit
                            | AlterTableType::AtDropInherit
                    )
            });
            // Changes to a parent reach its partitions and children.
            let parent = names.session.may_have_children(&name)
                && names.catalog.tables.iter().any(|t| {
                    t.inherits.contains(&name)
                        || t.partition_of.as_ref().is_some_and(|p| p.parent == name)
                });
            if spreads || parent {
                return Touched::All;
            }
            vec![name]
        }
        NodeEnum::IndexStmt(s) => {
            let Some(r) = s.relation.as_ref() else {
                return Touched::Tables(Vec::new());
            };
            let name = names.relation(r);
            if partitioned(&name) {
                return Touched::All;
            }
            vec![name]
        }
        NodeEnum::DropStmt(s) => {
            let cascade = DropBehavior::try_from(s.behavior) == Ok(DropBehavior::DropCascade);
            match ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined) {
                ObjectType::ObjectTable | ObjectType::ObjectType | ObjectType::ObjectDomain
                    if cascade =>
                {
                    return Touched::All;
                }
                ObjectType::ObjectSchema => return Touched::All,
                ObjectType::ObjectTable => s
                    .objects
                    .iter()
                    .map(|o| names.object(&object_names(o)))
                    .collect(),
                ObjectType::ObjectIndex => {
                    let owners: Vec<QualifiedName> = s
                        .objects
                        .iter()
                        .filter_map(|o| index_owner(&object_names(o)))
                        .collect();
                    if owners.iter().any(partitioned) {
                        return Touched::All;
                    }
                    owners
                }
                _ => vec![],
            }
        }
        NodeEnum::RenameStmt(s) => {
            let table = s.relation.as_ref().map(|r| names.relation(r));
            match ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined) {
                ObjectType::ObjectTable => {
                    let new = table
                        .as_ref()
                        .map(|t| QualifiedName::new(&t.schema, &s.newname));
                    table.into_iter().chain(new).collect()
                }
                ObjectType::ObjectColumn
                | ObjectType::ObjectTabconstraint
                | ObjectType::ObjectTrigger => table.into_iter().collect(),
                ObjectType::ObjectIndex => {
                    let index: Vec<String> = s
                        .relation
                        .iter()
                        .flat_map(|r| [r.schemaname.clone(), r.relname.clone()])
                        .filter(|n| !n.is_empty())
                        .collect();
                    index_owner(&index).into_iter().collect()
                }
                ObjectType::ObjectSchema => return Touched::All,
                _ => vec![],
            }
        }
        NodeEnum::CommentStmt(s) => {
            let list = s.object.as_deref().map(object_names).unwrap_or_default();
            match ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined) {
                ObjectType::ObjectTable => vec![names.object(&list)],
                ObjectType::ObjectColumn => match list.split_last() {
                    Some((_, table)) => vec![names.object(table)],
                    None => vec![],
                },
                _ => vec![],
            }
        }
        // Anything may happen in these.
        NodeEnum::DoStmt(_) | NodeEnum::AlterObjectSchemaStmt(_) => return Touched::All,
        NodeEnum::CreateSchemaStmt(s) if !s.schema_elts.is_empty() => return Touched::All,
        _ => vec![],
    };
    Touched::Tables(tables)
}

/// Enum types a statement's column definitions use (for poisoned-type consequences).
pub(super) fn mentioned_types(node: &NodeEnum) -> Vec<String> {
    let column_type = |c: &protobuf::ColumnDef| {
        c.type_name
            .as_ref()
            .map(|t| rules::strings(&t.names).join("."))
    };
    match node {
        NodeEnum::CreateStmt(s) => s
            .table_elts
            .iter()
            .filter_map(|e| match e.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => column_type(c),
                _ => None,
            })
            .collect(),
        NodeEnum::AlterTableStmt(s) => alter_table_cmds(s)
            .filter_map(|(_, cmd)| rules::cmd_column(cmd).and_then(column_type))
            .collect(),
        _ => vec![],
    }
}

/// A part of a statement the replay could not follow, as a `replay-failed` finding: at the line
/// of a `DO` block it concerns, else on the whole statement. The statement still applied as far
/// as it could.
pub(super) fn replay_note(
    file: usize,
    index: usize,
    st: &parse::Statement,
    text: &str,
    note: &ReplayError,
) -> Finding {
    let statement = (st.offset, st.offset + st.len);
    let span = note
        .at
        .and_then(|at| body_line(text, st.location_base, at))
        .filter(|(start, end)| *start >= statement.0 && *end <= statement.1)
        .unwrap_or(statement);
    let mut f = Finding::new(
        rules::replay_failed::NAME,
        file,
        span,
        format!("cannot replay part of this statement: {}", note.message),
    )
    .with_help(
        "the rest of the statement is replayed; schema-state rules may miss problems on the \
         objects this part touches",
    );
    f.statement = Some(index);
    f
}

/// The span of line `at.line` of the string literal at `at.literal` (a node location), within
/// `text`: the literal's value starts after its opening quote (`$tag$` or `'`).
pub(super) fn body_line(text: &str, location_base: usize, at: Location) -> Option<(usize, usize)> {
    let start = location_base + usize::try_from(at.literal).ok()?;
    let rest = text.get(start..)?;
    let quote = if let Some(tag) = rest.strip_prefix('$') {
        tag.find('$')? + 2
    } else if rest.starts_with("E'") || rest.starts_with("e'") {
        2
    } else {
        1
    };
    let mut line_start = start + quote;
    for _ in 1..at.line {
        line_start += text.get(line_start..)?.find('\n')? + 1;
    }
    let line = text.get(line_start..)?;
    let end = line_start + line.find('\n').unwrap_or(line.len());
    let trimmed = text[line_start..end].trim();
    let lead = text[line_start..end].len() - text[line_start..end].trim_start().len();
    Some((line_start + lead, line_start + lead + trimmed.len()))
}

/// Statements whose new problems are reported at the end of the file.
pub(super) fn is_drop(node: &NodeEnum) -> bool {
    match node {
        NodeEnum::DropStmt(_) => true,
        NodeEnum::AlterTableStmt(s) => alter_table_cmds(s).any(|(t, _)| {
            matches!(
                t,
                AlterTableType::AtDropColumn | AlterTableType::AtDropConstraint
            )
        }),
        _ => false,
    }
}

pub(super) fn summarize(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim();
    if first.chars().count() > 60 {
        format!("{}...", first.chars().take(57).collect::<String>())
    } else if text.contains('\n') {
        format!("{first} ...")
    } else {
        first.to_string()
    }
}
