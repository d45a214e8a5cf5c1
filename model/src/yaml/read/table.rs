use super::{
    COLUMN_KEYS, ColumnDecl, FOREIGN_KEY_KEYS, ForeignKeyDecl, IDENTITY_KEYS, INDEX_KEYS,
    IdentityDecl, IndexDecl, Reader, Sp, TABLE_KEYS, TableDecl, kind, node_pos, pos_of,
};
use crate::diagnostics::Diagnostic;
use marked_yaml::Node;

impl Reader<'_> {
    pub(super) fn table(&mut self, name: Sp<String>, node: &Node) -> TableDecl {
        let mut table = TableDecl {
            name,
            comment: None,
            columns: Vec::new(),
            primary_key: None,
            unique: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            soft_delete: None,
            timestamps: None,
            renamed_from: None,
            grants: Vec::new(),
            append_only: None,
            retention: None,
            data_subject: None,
            erasure: None,
            consent: None,
            requires_consent: None,
            partitioning: None,
        };
        let Some(map) = self.expect_mapping(node, "a table is a mapping with at least `columns`")
        else {
            return table;
        };
        // The schema is part of the table's key; a `schema:` key would be a second way to say it.
        if let Some((key, _)) = map.iter().find(|(k, _)| k.as_str() == "schema") {
            self.errors.push(
                Diagnostic::new(
                    pos_of(key.span()),
                    "a table's schema is written in its name, not with a `schema:` key",
                )
                .with_help(format!(
                    "write the table as `<schema>.{}:` under `tables`, and declare the schema under the top-level `schemas`",
                    table.name.value.rsplit('.').next().unwrap_or_default()
                )),
            );
        }
        for (key, value) in self.entries_skipping(map, TABLE_KEYS, "table key", &["schema"]) {
            match key {
                "comment" => table.comment = self.string(value, "a comment is text"),
                "columns" => {
                    if let Some(columns) =
                        self.expect_mapping(value, "`columns` maps column names to columns")
                    {
                        for (name, column) in columns.iter() {
                            let name = self.name_key(name);
                            table.columns.push(self.column(name, column));
                        }
                    }
                }
                "primary_key" => {
                    let columns =
                        self.name_list(value, "a composite primary key is a list of columns");
                    table.primary_key = Some(Sp {
                        value: columns,
                        pos: node_pos(value),
                    });
                }
                "unique" => match value {
                    Node::Sequence(groups) => {
                        for group in groups.iter() {
                            let columns = self
                                .name_list(group, "each unique constraint is a list of columns");
                            table.unique.push(Sp {
                                value: columns,
                                pos: node_pos(group),
                            });
                        }
                    }
                    other => self.error(
                        node_pos(other),
                        format!(
                            "expected a list of column lists, found {}: `unique: [[a, b]]`",
                            kind(other)
                        ),
                    ),
                },
                "checks" => {
                    if let Some(checks) = self.expect_mapping(
                        value,
                        "`checks` maps constraint names to boolean expressions",
                    ) {
                        for (name, expression) in checks.iter() {
                            let name = self.name_key(name);
                            if let Some(expression) =
                                self.string(expression, "a check is a SQL expression")
                            {
                                table.checks.push((name, expression));
                            }
                        }
                    }
                }
                "foreign_keys" => {
                    for item in self.sequence(value, "`foreign_keys` is a list of foreign keys") {
                        if let Some(fk) = self.foreign_key(item) {
                            table.foreign_keys.push(fk);
                        }
                    }
                }
                "indexes" => {
                    for item in self.sequence(value, "`indexes` is a list of indexes") {
                        if let Some(index) = self.index(item) {
                            table.indexes.push(index);
                        }
                    }
                }
                "soft_delete" => table.soft_delete = self.bool(value, key),
                "timestamps" => table.timestamps = self.bool(value, key),
                "renamed_from" => {
                    table.renamed_from =
                        self.name(value, "`renamed_from` names the table's previous name")
                }
                "grants" => {
                    if let Some(grants) = self
                        .expect_mapping(value, "`grants` maps role names to lists of privileges")
                    {
                        for (role, privileges) in grants.iter() {
                            let role = self.name_key(role);
                            let privileges = self.string_list(
                                privileges,
                                "privileges are a list such as [select, insert]",
                            );
                            table.grants.push((role, privileges));
                        }
                    }
                }
                "append_only" => table.append_only = self.bool(value, key),
                "retention" => table.retention = self.retention(value),
                "partitioning" => table.partitioning = self.partitioning(value),
                "data_subject" => {
                    table.data_subject = self.name(
                        value,
                        "`data_subject` names the column identifying a person",
                    )
                }
                "erasure" => {
                    table.erasure = self.string(value, "`erasure` is `delete` or `anonymize`")
                }
                "consent" => {
                    table.consent = self.name(value, "`consent` names the column recording consent")
                }
                "requires_consent" => {
                    table.requires_consent = self.name(
                        value,
                        "`requires_consent` names a foreign-key column to a table with `consent`",
                    )
                }
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        table
    }

    pub(super) fn column(&mut self, name: Sp<String>, node: &Node) -> ColumnDecl {
        let mut column = ColumnDecl {
            name,
            data_type: None,
            nullable: None,
            default: None,
            primary_key: None,
            unique: None,
            references: None,
            on_delete: None,
            on_update: None,
            index: None,
            pii: None,
            phi: None,
            comment: None,
            renamed_from: None,
            encrypted: None,
            identity: None,
            generated: None,
        };
        match node {
            // Shorthand: `name: text` declares the type alone.
            Node::Scalar(s) => {
                column.data_type = Some(Sp {
                    value: s.as_str().to_string(),
                    pos: pos_of(s.span()),
                })
            }
            Node::Mapping(map) => {
                for (key, value) in self.entries(map, COLUMN_KEYS, "column key") {
                    let text =
                        |r: &mut Self| r.string(value, &format!("`{key}` takes a single value"));
                    match key {
                        "type" => column.data_type = text(self),
                        "nullable" => column.nullable = self.bool(value, key),
                        "default" => column.default = text(self),
                        "primary_key" => column.primary_key = self.bool(value, key),
                        "unique" => column.unique = self.bool(value, key),
                        "references" => column.references = text(self),
                        "on_delete" => column.on_delete = text(self),
                        "on_update" => column.on_update = text(self),
                        "index" => column.index = self.bool(value, key),
                        "pii" => column.pii = self.bool(value, key),
                        "phi" => column.phi = self.bool(value, key),
                        "comment" => column.comment = text(self),
                        "renamed_from" => {
                            column.renamed_from =
                                self.name(value, "`renamed_from` names the column's previous name")
                        }
                        "encrypted" => column.encrypted = self.bool(value, key),
                        "identity" => column.identity = self.identity(value),
                        "generated" => {
                            column.generated =
                                self.string(value, "`generated` is the SQL expression computing it")
                        }
                        _ => unreachable!("entries() yields only known keys"),
                    }
                }
            }
            Node::Sequence(_) => self.error(
                node_pos(node),
                "expected a column (a type name, or a mapping with `type`), found a list",
            ),
        }
        column
    }

    pub(super) fn index(&mut self, node: &Node) -> Option<IndexDecl> {
        let map = self.expect_mapping(node, "an index is a mapping with `columns`")?;
        let mut index = IndexDecl {
            pos: node_pos(node),
            columns: Vec::new(),
            include: Vec::new(),
            using: None,
            unique: None,
            predicate: None,
            name: None,
        };
        for (key, value) in self.entries(map, INDEX_KEYS, "index key") {
            match key {
                "columns" => index.columns = self.string_list(value, "index columns are a list"),
                "include" => {
                    index.include = self.name_list(value, "`include` is a list of columns")
                }
                "using" => index.using = self.string(value, "`using` names an index method"),
                "unique" => index.unique = self.bool(value, key),
                "where" => index.predicate = self.string(value, "`where` is a SQL predicate"),
                "name" => index.name = self.name(value, "`name` is an identifier"),
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        Some(index)
    }

    pub(super) fn foreign_key(&mut self, node: &Node) -> Option<ForeignKeyDecl> {
        let map = self.expect_mapping(
            node,
            "a foreign key is a mapping with `columns` and `references`",
        )?;
        let mut fk = ForeignKeyDecl {
            pos: node_pos(node),
            columns: Vec::new(),
            references: None,
            ref_columns: Vec::new(),
            on_delete: None,
            on_update: None,
            name: None,
        };
        for (key, value) in self.entries(map, FOREIGN_KEY_KEYS, "foreign key key") {
            let what = format!("`{key}` takes a single value");
            match key {
                "columns" => fk.columns = self.name_list(value, "foreign key columns are a list"),
                "references" => fk.references = self.string(value, &what),
                "ref_columns" => fk.ref_columns = self.name_list(value, "`ref_columns` is a list"),
                "on_delete" => fk.on_delete = self.string(value, &what),
                "on_update" => fk.on_update = self.string(value, &what),
                "name" => fk.name = self.name(value, &what),
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        Some(fk)
    }

    /// `identity: always`, `identity: by default`, or `identity: { generated: ..., start: ... }`.
    pub(super) fn identity(&mut self, node: &Node) -> Option<IdentityDecl> {
        let mut identity = IdentityDecl {
            pos: node_pos(node),
            generated: None,
            start: None,
            increment: None,
            min: None,
            max: None,
            cache: None,
            cycle: None,
        };
        match node {
            Node::Scalar(s) => {
                identity.generated = Some(Sp {
                    value: s.as_str().to_string(),
                    pos: pos_of(s.span()),
                });
            }
            Node::Mapping(map) => {
                for (key, value) in self.entries(map, IDENTITY_KEYS, "identity key") {
                    match key {
                        "generated" => {
                            identity.generated =
                                self.string(value, "`generated` is `always` or `by default`")
                        }
                        "start" => identity.start = self.integer(value, key),
                        "increment" => identity.increment = self.integer(value, key),
                        "min" => identity.min = self.integer(value, key),
                        "max" => identity.max = self.integer(value, key),
                        "cache" => identity.cache = self.integer(value, key),
                        "cycle" => identity.cycle = self.bool(value, key),
                        _ => unreachable!("entries() yields only known keys"),
                    }
                }
            }
            Node::Sequence(_) => {
                self.error(
                    node_pos(node),
                    "expected `always`, `by default` or a mapping, found a list: `identity` makes the column an identity column",
                );
                return None;
            }
        }
        Some(identity)
    }
}
