//! The sequences of `serial` columns, the only sequences `schema.yaml` declares.
//!
//! A new table or column creates its sequence by being written as `serial`, and dropping the
//! table or column drops it; what is left is a serial column that stays while its table or
//! itself is renamed (PostgreSQL keeps the sequence's old name), becomes serial, or stops
//! being serial.

use model::ident::quote;
use model::{Catalog, Column, QualifiedName, Sequence, Table, serial_sequence};

use super::{Differ, Part, Phase};

impl Differ {
    /// Whether `column` of `table` owns a `serial` sequence in the target.
    pub(super) fn is_serial(&self, table: &Table, column: &Column) -> bool {
        serial_sequence(&self.sequences, table, column).is_some()
    }

    /// Brings the serial sequences of columns that exist on both sides in line, and records in
    /// `old` what the statements do, so that the column comparison that follows sees only what
    /// is left (a default drawing from a sequence that now exists).
    pub(super) fn serial_sequences(&mut self, old: &mut Catalog, new: &Catalog) {
        for t in &new.tables {
            let Some(old_table) = old.table_named(&t.qualified_name()).cloned() else {
                continue;
            };
            for c in &t.columns {
                let Some(old_column) = old_table.column(&c.name) else {
                    continue;
                };
                let before = serial_sequence(&old.sequences, &old_table, old_column).cloned();
                let after = serial_sequence(&new.sequences, t, c);
                match (before, after) {
                    (Some(b), Some(a)) => self.keep_serial(old, &old_table, &b, a),
                    (None, Some(a)) => self.make_serial(old, t, c, a),
                    (Some(b), None) => self.stop_serial(t, c, &b),
                    (None, None) => {}
                }
            }
        }
    }

    fn keep_serial(
        &mut self,
        old: &mut Catalog,
        table: &Table,
        before: &Sequence,
        after: &Sequence,
    ) {
        let shown = table.display_name();
        if before.name != after.name {
            self.push(
                Part::Main,
                Phase::Renames,
                format!("2 {shown} {}", before.name),
                format!(
                    "ALTER SEQUENCE {} RENAME TO {};",
                    before.qualified_name().sql(),
                    quote(&after.name)
                ),
                format!("rename_{}_to_{}", before.name, after.name),
            );
        }
        if before.data_type != after.data_type {
            // `ALTER COLUMN ... TYPE` leaves the sequence's own type as it was: a column
            // widened to bigint would still stop at the integer maximum.
            self.push(
                Part::Main,
                Phase::Columns,
                format!("{shown} {} 0", column_of(after)),
                format!(
                    "ALTER SEQUENCE {} AS {};",
                    after.qualified_name().sql(),
                    after.data_type
                ),
                format!("alter_{}_type", after.name),
            );
        }
        replace_sequence(old, &before.qualified_name(), after);
    }

    /// An existing integer column becomes `serial`: its sequence is created, owned by it and
    /// set past the values already there; the column comparison then adds the default and
    /// the NOT NULL.
    fn make_serial(&mut self, old: &mut Catalog, table: &Table, column: &Column, after: &Sequence) {
        let shown = table.display_name();
        let sequence = after.qualified_name().sql();
        let statements = [
            format!(
                "CREATE SEQUENCE {sequence} AS {} OWNED BY {}.{};",
                after.data_type,
                table.sql_name(),
                quote(&column.name)
            ),
            format!(
                "SELECT setval({}, COALESCE(max({}), 0) + 1, false) FROM {};",
                model::ident::quote_literal(&sequence),
                quote(&column.name),
                table.sql_name()
            ),
        ];
        self.push(
            Part::Main,
            Phase::Columns,
            format!("{shown} {} 0", column.name),
            statements.join("\n"),
            format!("create_{}", after.name),
        );
        old.sequences.push(after.clone());
    }

    /// A `serial` column that stays but is serial no more: once its default is changed or
    /// dropped, the sequence it owned goes (PostgreSQL would keep it, unused).
    fn stop_serial(&mut self, table: &Table, column: &Column, before: &Sequence) {
        self.push(
            Part::Main,
            Phase::Columns,
            format!("{} {} 9", table.display_name(), column.name),
            format!("DROP SEQUENCE {};", before.qualified_name().sql()),
            format!("drop_{}", before.name),
        );
    }
}

fn column_of(sequence: &Sequence) -> &str {
    sequence.owned_by.as_ref().map_or("", |o| o.column.as_str())
}

/// `old` with the sequence `name` replaced by `after`, and every column default that drew from
/// it drawing from `after`: what `ALTER SEQUENCE ... RENAME`/`AS` leaves in the database.
fn replace_sequence(old: &mut Catalog, name: &QualifiedName, after: &Sequence) {
    let Some(at) = old
        .sequences
        .iter()
        .position(|s| s.qualified_name() == *name)
    else {
        return;
    };
    let before_default = old.sequences[at].nextval_default();
    old.sequences[at] = after.clone();
    let after_default = after.nextval_default();
    for t in &mut old.tables {
        for c in &mut t.columns {
            if c.default.as_deref() == Some(before_default.as_str()) {
                c.default = Some(after_default.clone());
            }
        }
    }
}
