//! Relations: tables, views, their columns, sequences, constraints, indexes and triggers.

use std::collections::HashMap;

use model::annotations::{parse_column_comment, parse_table_comment};
use model::catalog::*;
use model::expr::{canonical, canonical_statement};
use model::types::DataType;

use crate::{IntrospectError, Reader, not_extension_member, partition_by};

impl Reader<'_, '_> {
    pub(crate) fn relations(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.relispartition,
                    obj_description(c.oid, 'pg_class'),
                    -- Privileges of roles other than the owner, as `role:privilege`.
                    ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public'
                                      ELSE pg_get_userbyid(a.grantee)::text END
                                 || ':' || lower(a.privilege_type)
                            FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
                           WHERE a.grantee <> c.relowner),
                    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                    CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
                    ARRAY(SELECT pn.nspname::text FROM pg_inherits i
                            JOIN pg_class pc ON pc.oid = i.inhparent
                            JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                           WHERE i.inhrelid = c.oid ORDER BY i.inhseqno),
                    ARRAY(SELECT pc.relname::text FROM pg_inherits i
                            JOIN pg_class pc ON pc.oid = i.inhparent
                           WHERE i.inhrelid = c.oid ORDER BY i.inhseqno)
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {}
                -- An identity column's sequence belongs to the column.
                AND NOT (c.relkind = 'S' AND EXISTS (
                    SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                       AND d.objid = c.oid AND d.deptype = 'i'))
              ORDER BY 2, 3",
            not_extension_member("pg_class", "c.oid")
        );
        for row in self.rows("relations", &sql)? {
            let oid: u32 = row.get(0);
            let schema: String = row.get(1);
            let name: String = row.get(2);
            let kind: String = row.get(3);
            let comment: Option<String> = row.get(5);
            let shown = display_name(&schema, &name).into_owned();
            match kind.as_str() {
                "f" => {
                    self.note(format!("foreign table `{shown}` is not modelled"));
                    continue;
                }
                "S" => {
                    self.sequences.insert(oid, self.catalog.sequences.len());
                    self.catalog.sequences.push(Sequence {
                        schema,
                        name,
                        data_type: DataType::BigInt,
                        options: SequenceOptions::default(),
                        owned_by: None,
                    });
                    continue;
                }
                "v" | "m" => {
                    self.views.insert(oid, self.catalog.views.len());
                    self.catalog.views.push(View {
                        schema,
                        name,
                        materialized: kind == "m",
                        columns: Vec::new(),
                        query: String::new(),
                        indexes: Vec::new(),
                        comment,
                        depends_on: Vec::new(),
                    });
                    continue;
                }
                _ => {}
            }
            let acl: Vec<String> = row.get(6);
            let partition_key: Option<String> = row.get(7);
            let bound: Option<String> = row.get(8);
            let parent_schemas: Vec<String> = row.get(9);
            let parent_names: Vec<String> = row.get(10);
            let parents: Vec<QualifiedName> = parent_schemas
                .into_iter()
                .zip(parent_names)
                .map(|(s, n)| QualifiedName::new(s, n))
                .collect();
            let (comment, flags) = comment
                .as_deref()
                .map(parse_table_comment)
                .unwrap_or_default();
            let mut table = Table {
                comment,
                flags,
                ..Table::new(&schema, &name)
            };
            if let Some(key) = partition_key {
                match partition_by(&key) {
                    Some(p) => table.partition_by = Some(p),
                    None => self.note(format!(
                        "table `{shown}`: the partition key `{key}` is not modelled (operator classes or collations)"
                    )),
                }
            }
            match bound {
                Some(bound) => {
                    table.partition_of = parents.first().map(|parent| PartitionOf {
                        parent: parent.clone(),
                        bound,
                    });
                }
                None => table.inherits = parents,
            }
            for entry in &acl {
                let Some((role, privilege)) = entry.rsplit_once(':') else {
                    continue;
                };
                match Privilege::parse(privilege) {
                    Some(p) => table.set_privileges(role, &[p], true),
                    None => self.note(format!(
                        "table `{shown}`: privilege `{privilege}` of `{role}` is not modelled"
                    )),
                }
            }
            self.tables.insert(oid, self.catalog.tables.len());
            self.catalog.tables.push(table);
        }
        Ok(())
    }

    pub(crate) fn table_mut(&mut self, oid: u32) -> Option<&mut Table> {
        let i = *self.tables.get(&oid)?;
        self.catalog.tables.get_mut(i)
    }

    pub(crate) fn table_name(&self, oid: u32) -> Option<String> {
        let i = *self.tables.get(&oid)?;
        self.catalog
            .tables
            .get(i)
            .map(|t| t.display_name().into_owned())
    }

    pub(crate) fn columns(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT a.attrelid, a.attname::text, a.atttypid, format_type(a.atttypid, a.atttypmod),
                    a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
                    col_description(a.attrelid, a.attnum), a.attidentity::text,
                    a.attgenerated::text,
                    a.attcollation <> 0 AND a.attcollation <> t.typcollation,
                    s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm')
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_type t ON t.oid = a.atttypid
               LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
               -- The sequence of an identity column.
               LEFT JOIN pg_depend dep ON a.attidentity <> ''
                    AND dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
                    AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i'
               LEFT JOIN pg_sequence s ON s.seqrelid = dep.objid
              WHERE n.nspname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attrelid, a.attnum";
        for row in self.rows("columns", sql)? {
            let oid: u32 = row.get(0);
            let name: String = row.get(1);
            let data_type = self.resolve(row.get(2), &row.get::<_, String>(3));
            if let Some(&view) = self.views.get(&oid) {
                self.catalog.views[view]
                    .columns
                    .push(ViewColumn { name, data_type });
                continue;
            }
            let Some(table_name) = self.table_name(oid) else {
                continue;
            };
            let object = format!("column `{table_name}.{name}`");
            let not_null: bool = row.get(4);
            let expression: Option<String> = row.get(5);
            let comment: Option<String> = row.get(6);
            let identity: String = row.get(7);
            let generated: String = row.get(8);
            let collated: bool = row.get(9);
            let (default, generated) = if generated.trim().is_empty() {
                (expression.as_deref().map(canonical), None)
            } else {
                (None, expression.as_deref().map(canonical))
            };
            let identity = match identity.as_str() {
                "a" | "d" => {
                    let options = SequenceOptions {
                        start: row.get(10),
                        increment: row.get(11),
                        min_value: row.get(12),
                        max_value: row.get(13),
                        cache: row.get(14),
                        cycle: row.get::<_, Option<bool>>(15).unwrap_or(false),
                    };
                    Some(Identity {
                        always: identity == "a",
                        options: options.without_defaults(&data_type),
                    })
                }
                _ => None,
            };
            if collated {
                self.note(format!("{object}: column collations are not modelled"));
            }
            let (comment, sensitivity) = comment
                .as_deref()
                .map(parse_column_comment)
                .unwrap_or_default();
            if let Some(table) = self.table_mut(oid) {
                table.columns.push(Column {
                    nullable: !not_null,
                    default,
                    identity,
                    generated,
                    comment,
                    sensitivity,
                    ..Column::new(name, data_type)
                });
            }
        }
        Ok(())
    }

    /// Each sequence's type, options and owning column.
    pub(crate) fn sequences(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT s.seqrelid, s.seqtypid, format_type(s.seqtypid, NULL),
                    s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                    tn.nspname::text, tc.relname::text, ta.attname::text
               FROM pg_sequence s
               JOIN pg_class c ON c.oid = s.seqrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
               LEFT JOIN pg_class tc ON tc.oid = d.refobjid
               LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
               LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
              WHERE n.nspname = ANY($1)";
        for row in self.rows("sequences", sql)? {
            let oid: u32 = row.get(0);
            let Some(&at) = self.sequences.get(&oid) else {
                continue;
            };
            let data_type = self.resolve(row.get(1), &row.get::<_, String>(2));
            let options = SequenceOptions {
                start: Some(row.get(3)),
                increment: Some(row.get(4)),
                min_value: Some(row.get(5)),
                max_value: Some(row.get(6)),
                cache: Some(row.get(7)),
                cycle: row.get(8),
            }
            .without_defaults(&data_type);
            let owner: (Option<String>, Option<String>, Option<String>) =
                (row.get(9), row.get(10), row.get(11));
            let sequence = &mut self.catalog.sequences[at];
            sequence.data_type = data_type;
            sequence.options = options;
            if let (Some(schema), Some(table), Some(column)) = owner {
                sequence.owned_by = Some(SequenceOwner {
                    table: QualifiedName::new(schema, table),
                    column,
                });
            }
        }
        Ok(())
    }

    pub(crate) fn constraints(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT con.conrelid, con.conname::text, con.contype::text,
                    ARRAY(SELECT a.attname::text
                            FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                           ORDER BY k.ord),
                    rc.relname::text, rn.nspname::text,
                    ARRAY(SELECT a.attname::text
                            FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                            JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                           ORDER BY k.ord),
                    con.confdeltype::text, con.confupdtype::text,
                    pg_get_expr(con.conbin, con.conrelid), pg_get_constraintdef(con.oid),
                    con.conparentid <> 0, con.conislocal, c.relispartition
               FROM pg_constraint con
               JOIN pg_class c ON c.oid = con.conrelid AND c.relkind IN ('r', 'p')
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_class rc ON rc.oid = con.confrelid
               LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
              WHERE n.nspname = ANY($1)
              ORDER BY con.conrelid, con.conname";
        for row in self.rows("constraints", sql)? {
            let oid: u32 = row.get(0);
            let Some(table_name) = self.table_name(oid) else {
                continue;
            };
            let name: String = row.get(1);
            let kind: String = row.get(2);
            let columns: Vec<String> = row.get(3);
            let definition: String = row.get(10);
            let cloned: bool = row.get(11);
            let local: bool = row.get(12);
            let partition: bool = row.get(13);
            // What a partitioned table's keys, foreign keys and checks put on its partitions
            // belongs to the partitioned table.
            if cloned || (partition && !local) {
                continue;
            }
            let object = format!("constraint `{table_name}.{name}`");
            for (marker, what) in [
                (" DEFERRABLE", "deferrable constraints are"),
                (" NOT VALID", "NOT VALID is"),
                (" NO INHERIT", "NO INHERIT is"),
                (" INCLUDE (", "INCLUDE columns of constraints are"),
                (" NULLS NOT DISTINCT", "NULLS NOT DISTINCT is"),
                (" MATCH FULL", "MATCH FULL is"),
                ("SET NULL (", "column lists of SET NULL are"),
                ("SET DEFAULT (", "column lists of SET DEFAULT are"),
            ] {
                if definition.contains(marker) {
                    self.note(format!("{object}: {what} not modelled (`{definition}`)"));
                }
            }
            match kind.as_str() {
                "p" => {
                    if let Some(table) = self.table_mut(oid) {
                        table.primary_key = Some(PrimaryKey { name, columns });
                    }
                }
                "u" => {
                    if let Some(table) = self.table_mut(oid) {
                        table.uniques.push(UniqueConstraint { name, columns });
                    }
                }
                "c" => {
                    let expression: Option<String> = row.get(9);
                    let expression = canonical(expression.as_deref().unwrap_or_default());
                    if let Some(table) = self.table_mut(oid) {
                        table.checks.push(CheckConstraint { name, expression });
                    }
                }
                "f" => {
                    let ref_table: Option<String> = row.get(4);
                    let ref_schema: Option<String> = row.get(5);
                    let action = |code: String| match code.as_str() {
                        "r" => FkAction::Restrict,
                        "c" => FkAction::Cascade,
                        "n" => FkAction::SetNull,
                        "d" => FkAction::SetDefault,
                        _ => FkAction::NoAction,
                    };
                    let fk = ForeignKey {
                        name,
                        columns,
                        ref_table: QualifiedName::new(
                            ref_schema.unwrap_or_default(),
                            ref_table.unwrap_or_default(),
                        ),
                        ref_columns: row.get(6),
                        on_delete: action(row.get(7)),
                        on_update: action(row.get(8)),
                    };
                    if let Some(table) = self.table_mut(oid) {
                        table.foreign_keys.push(fk);
                    }
                }
                // PostgreSQL 18 records NOT NULL as constraints too; attnotnull already says it.
                "n" => {}
                // Read with the indexes: the model holds an exclusion constraint as its index.
                "x" => self.note(format!(
                    "{object}: the operators of exclusion constraints are not modelled; read as its index (`{definition}`)"
                )),
                _ => self.note(format!(
                    "{object}: constraint triggers are not modelled (`{definition}`)"
                )),
            }
        }
        Ok(())
    }

    pub(crate) fn indexes(&mut self) -> Result<(), IntrospectError> {
        // Opclasses are reported only when they are not the one PostgreSQL picks by default for
        // the column's type and the index method (as pg_get_indexdef prints them): a default
        // opclass is either declared for the exact type or, when none is, for a type the column
        // is binary-coercible to (text_ops for varchar, enum_ops, array_ops).
        let sql = "SELECT i.indrelid, ic.relname::text, am.amname::text, i.indisunique,
                    i.indnkeyatts::int4, i.indkey::int2[], i.indoption::int2[],
                    pg_get_expr(i.indpred, i.indrelid), i.indisvalid,
                    pg_get_indexdef(i.indexrelid),
                    ARRAY(SELECT CASE WHEN oc.opcdefault AND (oc.opcintype = a.atttypid OR NOT EXISTS (
                                          SELECT 1 FROM pg_opclass d
                                           WHERE d.opcmethod = oc.opcmethod AND d.opcdefault
                                             AND d.opcintype = a.atttypid))
                                      THEN '' ELSE oc.opcname::text END
                            FROM unnest(i.indclass::oid[], i.indkey::int2[]) WITH ORDINALITY k(opc, attnum, ord)
                            JOIN pg_opclass oc ON oc.oid = k.opc
                            LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                           ORDER BY k.ord),
                    ARRAY(SELECT CASE WHEN k.attnum = 0
                                      THEN pg_get_indexdef(i.indexrelid, k.ord::int4, true)
                                      ELSE '' END
                            FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                           ORDER BY k.ord),
                    EXISTS (SELECT 1 FROM pg_constraint con
                             WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                               AND con.contype = 'x'),
                    -- A key column's collation when it is not the column's own.
                    ARRAY(SELECT CASE WHEN k.attnum > 0 AND k.coll <> 0
                                           AND k.coll <> a.attcollation
                                      THEN coll.collname::text ELSE '' END
                            FROM unnest(i.indcollation::oid[], i.indkey::int2[])
                                 WITH ORDINALITY k(coll, attnum, ord)
                            LEFT JOIN pg_attribute a
                                   ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                            LEFT JOIN pg_collation coll ON coll.oid = k.coll
                           ORDER BY k.ord)
               FROM pg_index i
               JOIN pg_class ic ON ic.oid = i.indexrelid
               JOIN pg_class c ON c.oid = i.indrelid AND c.relkind IN ('r', 'p', 'm')
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_am am ON am.oid = ic.relam
              WHERE n.nspname = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                                 WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                                   AND con.contype IN ('p', 'u'))
                -- A partition's part of a partitioned table's index belongs to that index.
                AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid)
              ORDER BY i.indrelid, ic.relname";
        // Column names by (relation oid, attnum).
        let mut names: HashMap<(u32, i16), String> = HashMap::new();
        let attributes = "SELECT a.attrelid, a.attnum, a.attname::text
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'm')
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped";
        for row in self.rows("index columns", attributes)? {
            names.insert((row.get(0), row.get(1)), row.get(2));
        }
        for row in self.rows("indexes", sql)? {
            let oid: u32 = row.get(0);
            let relation = match (self.table_name(oid), self.views.get(&oid)) {
                (Some(name), _) => name,
                (None, Some(&v)) => self.catalog.views[v]
                    .qualified_name()
                    .display()
                    .into_owned(),
                (None, None) => continue,
            };
            let name: String = row.get(1);
            let method_name: String = row.get(2);
            let unique: bool = row.get(3);
            let key_count = usize::try_from(row.get::<_, i32>(4)).unwrap_or(0);
            let attnums: Vec<i16> = row.get(5);
            let options: Vec<i16> = row.get(6);
            let predicate: Option<String> = row.get(7);
            let valid: bool = row.get(8);
            let opclasses: Vec<String> = row.get(10);
            let expressions: Vec<String> = row.get(11);
            let exclusion: bool = row.get(12);
            let collations: Vec<String> = row.get(13);
            let object = format!("index `{relation}.{name}`");
            let method = IndexMethod::of_sql(&method_name);
            if method == IndexMethod::Other {
                self.note(format!(
                    "{object}: read with an extension's index method; the name `{method_name}` is not modelled"
                ));
            }
            if !valid {
                self.note(format!(
                    "{object}: the index is invalid (a failed CREATE INDEX CONCURRENTLY?); read anyway"
                ));
            }
            let column = |attnum: i16| names.get(&(oid, attnum)).cloned().unwrap_or_default();
            let mut keys = Vec::new();
            for (k, &attnum) in attnums.iter().take(key_count).enumerate() {
                // INDOPTION_DESC and INDOPTION_NULLS_FIRST.
                let option = options.get(k).copied().unwrap_or(0);
                let descending = option & 1 != 0;
                let nulls_first = option & 2 != 0;
                if descending != nulls_first {
                    self.note(format!(
                        "{object}: NULLS FIRST/LAST ordering is not modelled; read without it"
                    ));
                }
                let opclass = opclasses.get(k).filter(|o| !o.is_empty()).cloned();
                keys.push(if attnum == 0 {
                    IndexKey {
                        column: String::new(),
                        expression: expressions.get(k).map(|e| canonical(e)),
                        opclass,
                        collation: None,
                        descending,
                    }
                } else {
                    IndexKey {
                        opclass,
                        collation: collations.get(k).filter(|c| !c.is_empty()).cloned(),
                        descending,
                        ..IndexKey::on(column(attnum))
                    }
                });
            }
            let include = attnums.iter().skip(key_count).map(|&a| column(a)).collect();
            let index = Index {
                name,
                method,
                unique: unique && !exclusion,
                keys,
                include,
                predicate: predicate.as_deref().map(canonical),
            };
            if let Some(table) = self.table_mut(oid) {
                table.indexes.push(index);
            } else if let Some(&v) = self.views.get(&oid) {
                self.catalog.views[v].indexes.push(index);
            }
        }
        Ok(())
    }

    pub(crate) fn triggers(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT tg.tgrelid, tg.tgname::text, tg.tgtype::int4, p.proname::text,
                    pn.nspname::text, tg.tgnargs::int4,
                    coalesce(array_length(tg.tgattr::int2[], 1), 0) > 0, tg.tgqual IS NOT NULL,
                    tg.tgconstraint <> 0, tg.tgenabled::text, pg_get_triggerdef(tg.oid),
                    c.relkind IN ('v', 'm'), n.nspname::text, c.relname::text
               FROM pg_trigger tg
               JOIN pg_class c ON c.oid = tg.tgrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_proc p ON p.oid = tg.tgfoid
               JOIN pg_namespace pn ON pn.oid = p.pronamespace
              WHERE n.nspname = ANY($1) AND NOT tg.tgisinternal
                -- A partitioned table's trigger, as each partition has it, is the table's.
                AND tg.tgparentid = 0
              ORDER BY tg.tgrelid, tg.tgname";
        for row in self.rows("triggers", sql)? {
            let oid: u32 = row.get(0);
            let name: String = row.get(1);
            let bits: i32 = row.get(2);
            let function: String = row.get(3);
            let function_schema: String = row.get(4);
            let nargs: i32 = row.get(5);
            let columns: bool = row.get(6);
            let when: bool = row.get(7);
            let constraint: bool = row.get(8);
            let enabled: String = row.get(9);
            let definition: String = row.get(10);
            let on_view: bool = row.get(11);
            let relation =
                display_name(&row.get::<_, String>(12), &row.get::<_, String>(13)).into_owned();
            let object = format!("trigger `{relation}.{name}`");
            let unmodelled = if on_view || bits & tgtype::INSTEAD != 0 {
                Some("triggers on views are")
            } else if nargs != 0 || columns || when {
                Some("trigger arguments, column lists and WHEN conditions are")
            } else if constraint {
                Some("constraint triggers are")
            } else {
                None
            };
            if let Some(why) = unmodelled {
                self.note(format!(
                    "{object}: {why} not modelled; left out (`{definition}`)"
                ));
                continue;
            }
            if self.table_name(oid).is_none() {
                continue;
            }
            if enabled == "D" {
                self.note(format!(
                    "{object}: the trigger is disabled; read as enabled (not modelled)"
                ));
            }
            let trigger = Trigger {
                name,
                timing: TriggerTiming::from_tgtype(bits),
                events: TriggerEvent::from_tgtype(bits),
                for_each_row: bits & tgtype::ROW != 0,
                function: QualifiedName::new(function_schema, function),
            };
            if let Some(table) = self.table_mut(oid) {
                table.triggers.push(trigger);
            }
        }
        Ok(())
    }

    /// Each view's query and the tables and views it reads.
    pub(crate) fn view_definitions(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT c.oid, pg_get_viewdef(c.oid),
                    ARRAY(SELECT DISTINCT rn.nspname::text || '.' || rc.relname::text
                            FROM pg_rewrite r
                            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                 AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
                            JOIN pg_class rc ON rc.oid = d.refobjid
                            JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                           WHERE r.ev_class = c.oid
                           ORDER BY 1)
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = ANY($1) AND c.relkind IN ('v', 'm')";
        for row in self.rows("view definitions", sql)? {
            let oid: u32 = row.get(0);
            let Some(&at) = self.views.get(&oid) else {
                continue;
            };
            let definition: Option<String> = row.get(1);
            let depends_on: Vec<String> = row.get(2);
            let view = &mut self.catalog.views[at];
            view.query = canonical_statement(definition.as_deref().unwrap_or_default());
            view.depends_on = depends_on
                .iter()
                .filter_map(|q| q.split_once('.'))
                .map(|(schema, name)| QualifiedName::new(schema, name))
                .collect();
        }
        Ok(())
    }
}
