//! Rebuilding a table that holds rows into a new shape PostgreSQL cannot `ALTER` it into: a plain
//! table becoming partitioned (or back), without losing a row and without a long lock.
//!
//! The statements run outside a transaction (`-- codegen:no-transaction`), one at a time, each
//! safe to run again when an interrupted run resumes:
//!
//! 1. a trigger function that copies each row inserted into the old table into the new one;
//! 2. the new table under a temporary name (`<table>_rebuild`, its keys and indexes too), with
//!    its indexes, triggers, comments, grants and foreign keys, the partitions the old rows and
//!    the next `ahead` intervals need, and the copy trigger on the old table: from its commit on,
//!    every new row reaches both tables;
//! 3. the rows that were there before, moved in batches in primary-key order, each batch its own
//!    transaction (`ON CONFLICT DO NOTHING`: a row the trigger already copied, or a batch an
//!    interrupted run already moved, is skipped);
//! 4. a check that every row of the old table is in the new one;
//! 5. the swap, in one short transaction: the old table is locked, dropped, and the new one
//!    takes its name and its keys' and indexes' names;
//! 6. the copy function is dropped.
//!
//! Only step 5 blocks the application, and only for the catalog changes (the runner's lock
//! timeout and retries apply to it as to every statement); steps 2 and 5 take the brief lock a
//! trigger or a drop needs. The old table's rows stay where they are until the swap, so a failed
//! run loses nothing.

use model::compliance::create_partitions_name;
use model::ident::{derived_name, quote, quote_literal};
use model::{QualifiedName, Table};

use crate::sql;

/// Rows per batch in step 3: small enough that each transaction is short, large enough that
/// the per-batch overhead (one index probe for the batch's end) is negligible.
pub const BATCH_ROWS: u32 = 5000;

/// The temporary name of the table that replaces `table`.
pub fn temporary_name(table: &str) -> String {
    derived_name(&[table], "rebuild")
}

fn temporary(name: &str) -> String {
    derived_name(&[name], "rebuild")
}

/// The statements that move `old` (with its rows) into the shape of `new`, same name. `Err`
/// says why it cannot be done this way.
pub fn rebuild_table(old: &Table, new: &Table) -> Result<String, String> {
    let shown = new.display_name();
    let key = old
        .primary_key
        .as_ref()
        .ok_or_else(|| format!("table `{shown}` has no primary key to move its rows by"))?;
    let mut key_columns = Vec::new();
    for k in &key.columns {
        let c = old
            .column(k)
            .ok_or_else(|| format!("`{shown}`: key column `{k}` is missing"))?;
        if new.column(k).is_none() {
            return Err(format!(
                "`{shown}`: its primary key column `{k}` cannot be dropped while the table is rebuilt"
            ));
        }
        key_columns.push(c);
    }
    if let Some(c) = old
        .columns
        .iter()
        .chain(&new.columns)
        .find(|c| c.identity.is_some())
    {
        return Err(format!(
            "`{shown}`: the identity column `{}` cannot be carried over by a rebuild",
            c.name
        ));
    }
    if let Some(c) = new.columns.iter().find(|c| {
        old.column(&c.name).is_none() && !c.nullable && c.default.is_none() && c.generated.is_none()
    }) {
        return Err(format!(
            "`{shown}`: the new NOT NULL column `{}` has no default for the rows moved over; add it in a migration of its own",
            c.name
        ));
    }
    // Columns moved: those both tables have, except generated ones (computed again).
    let moved: Vec<String> = new
        .columns
        .iter()
        .filter(|c| {
            c.generated.is_none() && old.column(&c.name).is_some_and(|o| o.generated.is_none())
        })
        .map(|c| quote(&c.name))
        .collect();
    let columns = moved.join(", ");

    let tmp_name = temporary_name(&new.name);
    let mut tmp = new.clone();
    tmp.name = tmp_name.clone();
    let mut renames = Vec::new();
    if let Some(pk) = &mut tmp.primary_key {
        let temporary_name = temporary(&pk.name);
        let final_name = std::mem::replace(&mut pk.name, temporary_name);
        renames.push(format!(
            "        ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
            new.sql_name(),
            quote(&pk.name),
            quote(&final_name)
        ));
    }
    for u in &mut tmp.uniques {
        let temporary_name = temporary(&u.name);
        let final_name = std::mem::replace(&mut u.name, temporary_name);
        renames.push(format!(
            "        ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
            new.sql_name(),
            quote(&u.name),
            quote(&final_name)
        ));
    }
    for ix in &mut tmp.indexes {
        let temporary_name = temporary(&ix.name);
        let final_name = std::mem::replace(&mut ix.name, temporary_name);
        renames.push(format!(
            "        ALTER INDEX {} RENAME TO {};",
            model::sql_name(&new.schema, &ix.name),
            quote(&final_name)
        ));
    }
    let tmp_sql = tmp.sql_name();
    let tmp_literal = quote_literal(&tmp_sql);
    let old_sql = old.sql_name();

    // 1. The copy trigger's function.
    let copy = QualifiedName::new(&new.schema, derived_name(&[&new.name], "rebuild_copy"));
    let values: Vec<String> = new
        .columns
        .iter()
        .filter(|c| {
            c.generated.is_none() && old.column(&c.name).is_some_and(|o| o.generated.is_none())
        })
        .map(|c| format!("NEW.{}", quote(&c.name)))
        .collect();
    let copy_function = format!(
        "CREATE OR REPLACE FUNCTION {}() RETURNS trigger\n    LANGUAGE plpgsql\n    AS $$\nBEGIN\n    INSERT INTO {tmp_sql} ({columns})\n    VALUES ({})\n    ON CONFLICT DO NOTHING;\n    RETURN NULL;\nEND;\n$$;",
        copy.sql(),
        values.join(", ")
    );

    // 2. The new table, complete, and the copy trigger.
    let mut create: Vec<String> = vec![sql::create_table(&tmp, &[])];
    create.extend(
        sql::folded_uniques(&tmp)
            .into_iter()
            .map(|u| sql::add_unique(&tmp, u)),
    );
    create.extend(tmp.indexes.iter().map(|ix| sql::create_index(&tmp, ix)));
    create.extend(tmp.triggers.iter().map(|tr| sql::create_trigger(&tmp, tr)));
    create.extend(sql::comment_on_table(&tmp));
    create.extend(
        tmp.columns
            .iter()
            .filter_map(|c| sql::comment_on_column(&tmp, c)),
    );
    for g in &tmp.grants {
        create.push(sql::table_privileges(&tmp, &g.role, &g.privileges, true));
    }
    create.extend(
        tmp.foreign_keys
            .iter()
            .map(|fk| sql::add_foreign_key(&tmp, fk)),
    );
    if let Some(p) = &new.flags.partitioning {
        let column = quote(&p.column);
        create.push(format!(
            "-- Partitions for every row there is, and for the next {ahead} intervals.\nPERFORM {function}({tmp_name}, coalesce(least((SELECT min({column}) FROM {old_sql}), now()), now()),\n        greatest((SELECT max({column}) FROM {old_sql}), now() + interval {interval} * {ahead}));",
            ahead = p.ahead,
            function = QualifiedName::new(&new.schema, create_partitions_name(&new.name)).sql(),
            tmp_name = quote_literal(&tmp_name),
            interval = quote_literal(&p.interval),
        ));
    }
    create.push(format!(
        "-- From here on, every row inserted into {old_shown} is copied.\nCREATE TRIGGER {trigger} AFTER INSERT ON {old_sql} FOR EACH ROW EXECUTE FUNCTION {function}();",
        old_shown = old.display_name(),
        trigger = quote(&copy.name),
        function = copy.sql(),
    ));
    let create = format!(
        "DO $rebuild$\nBEGIN\n    IF to_regclass({tmp_literal}) IS NULL THEN\n{}\n    END IF;\nEND\n$rebuild$;",
        create.join("\n")
    );

    // 3. The rows already there, in batches of primary-key order.
    let keys: Vec<String> = key_columns.iter().map(|c| quote(&c.name)).collect();
    let keys = keys.join(", ");
    let last: Vec<String> = (1..=key_columns.len())
        .map(|i| format!("v_last{i}"))
        .collect();
    let high: Vec<String> = (1..=key_columns.len())
        .map(|i| format!("v_high{i}"))
        .collect();
    let mut declare = String::new();
    for (i, c) in key_columns.iter().enumerate() {
        declare.push_str(&format!(
            "    v_last{n} {t};\n    v_high{n} {t};\n",
            n = i + 1,
            t = c.data_type
        ));
    }
    let descending: Vec<String> = key_columns
        .iter()
        .map(|c| format!("{} DESC", quote(&c.name)))
        .collect();
    let batch_end = |filter: &str| {
        format!(
            "SELECT {keys} INTO {high}\n              FROM (SELECT {keys} FROM {old_sql}{filter} ORDER BY {keys} LIMIT {BATCH_ROWS}) AS batch\n             ORDER BY {descending} LIMIT 1;",
            high = high.join(", "),
            descending = descending.join(", "),
        )
    };
    let after_last = format!(" WHERE ({keys}) > ({})", last.join(", "));
    let up_to_high = format!("({keys}) <= ({})", high.join(", "));
    let move_rows = format!(
        "DO $rebuild$\nDECLARE\n{declare}    v_first boolean := true;\nBEGIN\n    IF to_regclass({tmp_literal}) IS NULL THEN\n        RETURN;\n    END IF;\n    LOOP\n        IF v_first THEN\n            {first_end}\n        ELSE\n            {next_end}\n        END IF;\n        EXIT WHEN NOT FOUND;\n        IF v_first THEN\n            INSERT INTO {tmp_sql} ({columns})\n            SELECT {columns} FROM {old_sql} WHERE {up_to_high}\n            ON CONFLICT DO NOTHING;\n        ELSE\n            INSERT INTO {tmp_sql} ({columns})\n            SELECT {columns} FROM {old_sql}{after_last} AND {up_to_high}\n            ON CONFLICT DO NOTHING;\n        END IF;\n        {advance}\n        v_first := false;\n        COMMIT;\n    END LOOP;\nEND\n$rebuild$;",
        first_end = batch_end(""),
        next_end = batch_end(&after_last),
        advance = last
            .iter()
            .zip(&high)
            .map(|(l, h)| format!("{l} := {h};"))
            .collect::<Vec<_>>()
            .join(" "),
    );

    // 4. Nothing left behind.
    let matches: Vec<String> = key_columns
        .iter()
        .map(|c| format!("n.{k} = o.{k}", k = quote(&c.name)))
        .collect();
    let check = format!(
        "DO $rebuild$\nBEGIN\n    IF to_regclass({tmp_literal}) IS NOT NULL AND EXISTS (\n        SELECT 1 FROM {old_sql} AS o\n         WHERE NOT EXISTS (SELECT 1 FROM {tmp_sql} AS n WHERE {})\n    ) THEN\n        RAISE EXCEPTION 'rows of {} are missing from {}: not swapped', {}, {};\n    END IF;\nEND\n$rebuild$;",
        matches.join(" AND "),
        "%",
        "%",
        quote_literal(&old.display_name()),
        quote_literal(&tmp.display_name()),
    );

    // 5. The swap.
    let swap = format!(
        "DO $rebuild$\nBEGIN\n    IF to_regclass({tmp_literal}) IS NOT NULL THEN\n        -- Waits for the inserts in flight (their rows are copied by the trigger), then blocks\n        -- the table for the catalog changes below only.\n        LOCK TABLE {old_sql} IN ACCESS EXCLUSIVE MODE;\n        DROP TABLE {old_sql};\n        ALTER TABLE {tmp_sql} RENAME TO {};\n{}\n    END IF;\nEND\n$rebuild$;",
        quote(&new.name),
        renames.join("\n"),
    );

    // 6. Cleanup.
    let cleanup = format!("DROP FUNCTION IF EXISTS {}();", copy.sql());

    Ok([copy_function, create, move_rows, check, swap, cleanup].join("\n\n"))
}
