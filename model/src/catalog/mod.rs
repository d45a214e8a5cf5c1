//! The catalog: one in-memory model of a PostgreSQL schema.
//!
//! Every source loads into this type (`schema.yaml`, replayed SQL migrations, a live database)
//! and every output is produced from it (migration SQL, Rust structs, docs, lint findings). It
//! therefore holds the *resolved* schema, exactly as PostgreSQL would see it: YAML conveniences
//! such as `timestamps: true` or an automatic foreign-key index are already expanded into the
//! columns, triggers and indexes they stand for, every constraint and index carries its final
//! name, and every object its schema. Two catalogs describing the same database compare equal.
//!
//! - `names.rs`: [`QualifiedName`], how objects in different schemas are told apart;
//! - `table.rs`: tables and what belongs to them (columns, keys, constraints, indexes,
//!   triggers, privileges, flags, partitioning);
//! - `objects.rs`: everything else (schemas, extensions, enum, domain and composite types,
//!   sequences, functions, views).

mod names;
mod objects;
mod table;

use serde::{Deserialize, Serialize};

pub use names::{DEFAULT_SCHEMA, QualifiedName, display_name, sql_name};
pub use objects::*;
pub use table::*;

/// A whole schema, each kind of object in declaration order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// Schemas created besides [`DEFAULT_SCHEMA`], which every database has.
    pub schemas: Vec<Schema>,
    pub extensions: Vec<Extension>,
    pub enums: Vec<EnumType>,
    pub domains: Vec<Domain>,
    pub composite_types: Vec<CompositeType>,
    /// Sequences of their own (`CREATE SEQUENCE`, or the one behind a `serial` column); an
    /// identity column's sequence belongs to the column and is not listed here.
    pub sequences: Vec<Sequence>,
    pub functions: Vec<Function>,
    pub tables: Vec<Table>,
    /// Views and materialized views.
    pub views: Vec<View>,
}

impl Catalog {
    /// The table `name` in [`DEFAULT_SCHEMA`].
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.table_in(DEFAULT_SCHEMA, name)
    }

    pub fn table_in(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name == name && t.schema == schema)
    }

    pub fn table_named(&self, name: &QualifiedName) -> Option<&Table> {
        self.table_in(&name.schema, &name.name)
    }

    /// The enum type `name` in [`DEFAULT_SCHEMA`].
    pub fn enum_type(&self, name: &str) -> Option<&EnumType> {
        self.enum_named(&QualifiedName::public(name))
    }

    pub fn enum_named(&self, name: &QualifiedName) -> Option<&EnumType> {
        self.enums
            .iter()
            .find(|e| e.name == name.name && e.schema == name.schema)
    }

    /// The function `name` in [`DEFAULT_SCHEMA`].
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.function_named(&QualifiedName::public(name))
    }

    pub fn function_named(&self, name: &QualifiedName) -> Option<&Function> {
        self.functions
            .iter()
            .find(|f| f.name == name.name && f.schema == name.schema)
    }

    pub fn domain_named(&self, name: &QualifiedName) -> Option<&Domain> {
        self.domains
            .iter()
            .find(|d| d.name == name.name && d.schema == name.schema)
    }

    pub fn composite_named(&self, name: &QualifiedName) -> Option<&CompositeType> {
        self.composite_types
            .iter()
            .find(|c| c.name == name.name && c.schema == name.schema)
    }

    pub fn sequence_named(&self, name: &QualifiedName) -> Option<&Sequence> {
        self.sequences
            .iter()
            .find(|s| s.name == name.name && s.schema == name.schema)
    }

    pub fn view_named(&self, name: &QualifiedName) -> Option<&View> {
        self.views
            .iter()
            .find(|v| v.name == name.name && v.schema == name.schema)
    }

    /// Whether the schema exists: [`DEFAULT_SCHEMA`] always does.
    pub fn has_schema(&self, name: &str) -> bool {
        name == DEFAULT_SCHEMA || self.schemas.iter().any(|s| s.name == name)
    }

    /// The same schema with every order that carries no meaning made canonical: each kind of
    /// object by schema and name, and each table's columns, constraints, indexes and triggers
    /// by name. Enum label order is kept: it is the sort order. Column order is not compared
    /// because PostgreSQL cannot change it (`ADD COLUMN` appends), so a column added later sits
    /// after the `timestamps` columns in the database but before them in `schema.yaml`. Compare
    /// catalogs from different sources through this.
    pub fn normalized(&self) -> Catalog {
        self.clone().into_normalized()
    }

    /// [`Catalog::normalized`] in place, for a catalog that is not needed as it was: a schema of
    /// thousands of tables is not copied again.
    pub fn into_normalized(self) -> Catalog {
        fn by_name<T>(items: &mut [T], key: impl Fn(&T) -> (&str, &str)) {
            items.sort_by(|a, b| key(a).cmp(&key(b)));
        }
        let mut c = self;
        c.schemas.sort_by(|a, b| a.name.cmp(&b.name));
        by_name(&mut c.extensions, |e| (&e.schema, &e.name));
        // A version asked for is what a server without it installs by default: not compared.
        for e in &mut c.extensions {
            e.version = None;
        }
        by_name(&mut c.enums, |e| (&e.schema, &e.name));
        by_name(&mut c.domains, |d| (&d.schema, &d.name));
        by_name(&mut c.composite_types, |t| (&t.schema, &t.name));
        by_name(&mut c.sequences, |s| (&s.schema, &s.name));
        by_name(&mut c.functions, |f| (&f.schema, &f.name));
        by_name(&mut c.tables, |t| (&t.schema, &t.name));
        by_name(&mut c.views, |v| (&v.schema, &v.name));
        for t in &mut c.tables {
            t.columns.sort_by(|a, b| a.name.cmp(&b.name));
            t.uniques.sort_by(|a, b| a.name.cmp(&b.name));
            t.checks.sort_by(|a, b| a.name.cmp(&b.name));
            t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
            t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            t.triggers.sort_by(|a, b| a.name.cmp(&b.name));
            t.grants.sort_by(|a, b| a.role.cmp(&b.role));
        }
        for d in &mut c.domains {
            d.checks.sort_by(|a, b| a.name.cmp(&b.name));
        }
        for v in &mut c.views {
            v.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        }
        c
    }

    /// Foreign keys of every table that point at `table`, with the table that holds each.
    pub fn incoming_foreign_keys<'a>(
        &'a self,
        table: &'a Table,
    ) -> impl Iterator<Item = (&'a Table, &'a ForeignKey)> + 'a {
        self.tables.iter().flat_map(move |t| {
            t.foreign_keys
                .iter()
                .filter(move |fk| fk.ref_table.is(&table.schema, &table.name))
                .map(move |fk| (t, fk))
        })
    }

    /// The tables `table` takes columns from: the table it is a partition of, and those it
    /// inherits from, recursively (nearest first).
    pub fn ancestors<'a>(&'a self, table: &'a Table) -> Vec<&'a Table> {
        let mut out: Vec<&Table> = Vec::new();
        let mut queue: Vec<&QualifiedName> = table
            .partition_of
            .iter()
            .map(|p| &p.parent)
            .chain(&table.inherits)
            .collect();
        while let Some(name) = queue.pop() {
            let Some(parent) = self.table_named(name) else {
                continue;
            };
            if out.iter().any(|t| t.is(name)) || parent.is(&table.qualified_name()) {
                continue;
            }
            out.push(parent);
            queue.extend(parent.partition_of.iter().map(|p| &p.parent));
            queue.extend(&parent.inherits);
        }
        out
    }

    /// Whether an index leading with `columns` serves `table` (see
    /// [`Table::has_index_leading_with`]): its own, or for a partition one on a partitioned
    /// table it belongs to (PostgreSQL builds a partitioned index on every partition).
    pub fn has_index_leading_with(&self, table: &Table, columns: &[String]) -> bool {
        if table.has_index_leading_with(columns) {
            return true;
        }
        let mut partition = table;
        while let Some(p) = &partition.partition_of {
            match self.table_named(&p.parent) {
                Some(parent) if !parent.is(&table.qualified_name()) => {
                    if parent.has_index_leading_with(columns) {
                        return true;
                    }
                    partition = parent;
                }
                _ => break,
            }
        }
        false
    }

    /// Whether `column` of `table` comes from a table it is a partition of or inherits from:
    /// the server reports such columns (their GIN index, say) on that table.
    pub fn is_inherited_column(&self, table: &Table, column: &str) -> bool {
        self.ancestors(table)
            .iter()
            .any(|t| t.column(column).is_some())
    }

    /// Every role holding a privilege on a table or function of the schema (not [`PUBLIC`]),
    /// sorted. Roles are cluster-wide objects: the schema does not own them, it grants to them.
    pub fn roles(&self) -> Vec<&str> {
        let mut roles: Vec<&str> = self
            .tables
            .iter()
            .flat_map(|t| t.grants.iter().map(|g| g.role.as_str()))
            .chain(
                self.functions
                    .iter()
                    .flat_map(|f| f.execute.iter().map(String::as_str)),
            )
            .filter(|r| *r != PUBLIC)
            .collect();
        roles.sort_unstable();
        roles.dedup();
        roles
    }
}
