//! A new index on a partitioned table, without blocking writes. PostgreSQL cannot build a
//! partitioned table's index concurrently, and a plain `CREATE INDEX` on the parent builds it on
//! every partition under a lock that blocks writes until the last one is done. So codegen writes
//! `CREATE INDEX IF NOT EXISTS ... ON ONLY parent`, which makes the parent's index alone, at
//! once, and INVALID; and the runner, right after that statement, builds each partition's index
//! with `CREATE INDEX CONCURRENTLY` and attaches it (`ALTER INDEX ... ATTACH PARTITION`).
//! PostgreSQL marks the parent's index valid when every partition has one attached, and gives
//! partitions created later their own.
//!
//! The partitions are the ones the database has when the migration runs (`maintain_partitions`
//! creates them over time), which is why this happens at run time and not in the SQL. An
//! interrupted run is resumed: the `ON ONLY` statement runs again (`IF NOT EXISTS`), partitions
//! whose index is already attached are skipped, and an INVALID index left by an interrupted
//! concurrent build is dropped and built again.

use pg_query::NodeEnum;

use super::Runner;
use super::apply::classify;
use crate::history::Directives;

/// `CREATE INDEX ... ON ONLY table`: the index of a partitioned parent, which the runner
/// completes partition by partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ParentIndex {
    /// The table as SQL (quoted, qualified when the statement qualifies it).
    pub(super) table: String,
    pub(super) index: String,
}

impl ParentIndex {
    /// The parent index a statement creates, when it is `CREATE INDEX ... ON ONLY` with a name.
    pub(super) fn of(node: &NodeEnum) -> Option<ParentIndex> {
        let NodeEnum::IndexStmt(index) = node else {
            return None;
        };
        let relation = index.relation.as_ref()?;
        if relation.inh || index.concurrent || index.idxname.is_empty() {
            return None;
        }
        Some(ParentIndex {
            table: qualified(&relation.schemaname, &relation.relname),
            index: index.idxname.clone(),
        })
    }
}

/// A relation as SQL, qualified only when `schema` is given (as a statement wrote it).
pub(super) fn qualified(schema: &str, name: &str) -> String {
    let name = model::ident::quote(name);
    if schema.is_empty() {
        name
    } else {
        format!("{}.{name}", model::ident::quote(schema))
    }
}

/// The name of a partition's index: the parent index's name with the partition's name in place
/// of the parent table's (`audit_logs_action_idx` on `audit_logs_p2026_12` gives
/// `audit_logs_p2026_12_action_idx`), shortened with a hash to fit PostgreSQL's limit.
fn partition_index_name(parent_table: &str, parent_index: &str, partition: &str) -> String {
    let rest = parent_index
        .strip_prefix(parent_table)
        .and_then(|r| r.strip_prefix('_'))
        .filter(|r| !r.is_empty())
        .unwrap_or(parent_index);
    model::ident::derived_name(&[partition], rest)
}

/// `definition` (the parent index's, from `pg_get_indexdef`) rewritten to build `name` on
/// `schema.partition` concurrently.
fn partition_index_sql(
    definition: &str,
    name: &str,
    schema: &str,
    partition: &str,
) -> Result<String, String> {
    let statements = model::replay::parse_script(definition).map_err(|e| {
        format!(
            "cannot read the index definition `{definition}`: {}",
            e.message
        )
    })?;
    let Some(NodeEnum::IndexStmt(index)) = statements.into_iter().next().map(|s| s.node) else {
        return Err(format!("`{definition}` is not an index definition"));
    };
    let mut index = *index;
    index.idxname = name.to_string();
    index.concurrent = true;
    index.if_not_exists = true;
    let relation = index
        .relation
        .as_mut()
        .ok_or_else(|| format!("`{definition}` names no table"))?;
    relation.schemaname = schema.to_string();
    relation.relname = partition.to_string();
    relation.inh = true;
    NodeEnum::IndexStmt(Box::new(index))
        .deparse(Default::default())
        .map_err(|e| format!("cannot write the index of partition {partition}: {e}"))
}

impl Runner {
    /// Builds and attaches the index of each partition of `parent.table` that has none attached
    /// to `parent.index` yet (see the module documentation); `context` names the statement.
    pub(super) fn index_partitions(
        &mut self,
        context: &str,
        parent: &ParentIndex,
        directives: &Directives,
    ) -> Result<(), String> {
        let found = self
            .client
            .query_opt(
                "SELECT pg_get_indexdef(i.oid), format('%I.%I', n.nspname, i.relname), t.relname
                   FROM pg_index x
                   JOIN pg_class i ON i.oid = x.indexrelid
                   JOIN pg_class t ON t.oid = x.indrelid
                   JOIN pg_namespace n ON n.oid = i.relnamespace
                  WHERE x.indrelid = to_regclass($1) AND i.relname = $2 AND t.relkind = 'p'",
                &[&parent.table, &parent.index],
            )
            .map_err(|e| Self::sql_error(&format!("{context}: cannot read the new index"), &e))?;
        // Not a partitioned table: ON ONLY built the whole index already.
        let Some(row) = found else {
            return Ok(());
        };
        let (definition, index, table_name): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        let missing = self
            .client
            .query(
                "SELECT n.nspname, c.relname, c.relkind = 'p'
                   FROM pg_inherits h
                   JOIN pg_class c ON c.oid = h.inhrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE h.inhparent = to_regclass($1)
                    AND NOT EXISTS (
                        SELECT 1 FROM pg_inherits hi JOIN pg_index x ON x.indexrelid = hi.inhrelid
                         WHERE hi.inhparent = to_regclass($2) AND x.indrelid = c.oid)
                  ORDER BY c.relname",
                &[&parent.table, &index],
            )
            .map_err(|e| Self::sql_error(&format!("{context}: cannot list the partitions"), &e))?;
        let total = missing.len();
        for (n, row) in missing.iter().enumerate() {
            let (schema, partition, sub_partitioned): (String, String, bool) =
                (row.get(0), row.get(1), row.get(2));
            let partition_sql = qualified(&schema, &partition);
            if sub_partitioned {
                return Err(format!(
                    "{context}: partition {partition_sql} is itself partitioned; the runner builds the index of one level of partitions only. Build its index by hand (CREATE INDEX ... ON ONLY, CREATE INDEX CONCURRENTLY on each of its partitions, ALTER INDEX ... ATTACH PARTITION), then run the command again"
                ));
            }
            let name = partition_index_name(&table_name, &parent.index, &partition);
            let build = partition_index_sql(&definition, &name, &schema, &partition)
                .map_err(|e| format!("{context}: {e}"))?;
            let attach = format!(
                "ALTER INDEX {index} ATTACH PARTITION {}",
                qualified(&schema, &name)
            );
            self.drop_invalid_index(&partition_sql, &name)?;
            let aftermath = format!(
                "The index is built on {n} of {total} partitions; the next run goes on with the others."
            );
            // The build blocks nobody; attaching takes brief locks on the two indexes.
            for (sql, blocks_application) in [(&build, false), (&attach, true)] {
                let step = self
                    .settings
                    .outside_transaction(directives, blocks_application);
                let what = format!("{context}, index of partition {partition_sql}");
                let failed = format!("{what} failed ({aftermath})");
                self.with_lock_retries(&what, step.lock_timeout, &aftermath, |r| {
                    let url = r.url.clone();
                    let fail = |e: postgres::Error| classify(&url, &failed, &e, &step);
                    r.client
                        .batch_execute(&step.set_statements(false))
                        .map_err(fail)?;
                    r.client.batch_execute(sql).map_err(fail)
                })?;
            }
        }
        let valid: bool = self
            .client
            .query_one(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)",
                &[&index],
            )
            .map_err(|e| Self::sql_error(&format!("{context}: cannot check {index}"), &e))?
            .get(0);
        if !valid {
            return Err(format!(
                "{context}: index {index} is still INVALID after every partition's was attached (a partition was added meanwhile?); run the command again"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_named_on_only_index_is_completed_per_partition() {
        let cases = [
            (
                "CREATE INDEX IF NOT EXISTS audit_logs_action_idx ON ONLY public.audit_logs (action)",
                Some(("public.audit_logs", "audit_logs_action_idx")),
            ),
            (
                r#"CREATE UNIQUE INDEX "Odd" ON ONLY "Events" (id)"#,
                Some((r#""Events""#, "Odd")),
            ),
            ("CREATE INDEX a_idx ON a (x)", None),
            ("CREATE INDEX ON ONLY a (x)", None),
            ("CREATE INDEX CONCURRENTLY a_idx ON a (x)", None),
            ("SELECT 1", None),
        ];
        for (sql, expected) in cases {
            let node = &model::replay::parse_script(sql).expect("parses")[0].node;
            let expected = expected.map(|(table, index)| ParentIndex {
                table: table.to_string(),
                index: index.to_string(),
            });
            assert_eq!(ParentIndex::of(node), expected, "{sql}");
        }
    }

    #[test]
    fn a_partition_index_is_the_parent_definition_built_concurrently_on_the_partition() {
        let sql = partition_index_sql(
            "CREATE INDEX audit_logs_action_idx ON ONLY public.audit_logs USING btree (action) WHERE (action IS NOT NULL)",
            "audit_logs_p2026_12_action_idx",
            "public",
            "audit_logs_p2026_12",
        )
        .expect("rewritten");
        assert_eq!(
            sql,
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_logs_p2026_12_action_idx ON public.audit_logs_p2026_12 USING btree (action) WHERE action IS NOT NULL"
        );
        assert!(partition_index_sql("SELECT 1", "x", "public", "p").is_err());
    }

    #[test]
    fn a_partition_index_name_takes_the_partition_in_place_of_the_table() {
        assert_eq!(
            partition_index_name("audit_logs", "audit_logs_action_idx", "audit_logs_p2026_12"),
            "audit_logs_p2026_12_action_idx"
        );
        assert_eq!(
            partition_index_name("audit_logs", "by_action", "audit_logs_p2026_12"),
            "audit_logs_p2026_12_by_action"
        );
        let long = partition_index_name("t", "t_a_very_long_index_name_idx", &"p".repeat(60));
        assert!(long.len() <= 63, "{long}");
    }
}
