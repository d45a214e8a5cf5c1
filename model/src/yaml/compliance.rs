//! The compliance declarations of `schema.yaml`: roles and grants, `append_only`, `retention`,
//! `data_subject` and `erasure`, `consent` and `requires_consent`. Checked here (every problem
//! with its position), recorded as table flags and grants, then expanded into functions and
//! triggers by [`crate::compliance`].

use std::collections::{BTreeMap, BTreeSet};

use super::lower::declared_name;
use super::read::{SchemaDecl, Sp, TableDecl};
use crate::catalog::*;
use crate::compliance::{
    self, ACTOR_FUNCTION, AUDIT_COLUMNS, AUDIT_EVENTS, AUDIT_TABLE, CALLABLE_FUNCTIONS,
    ERASE_FUNCTION, EXPORT_FUNCTION, MAINTAIN_FUNCTION, PURGE_FUNCTION,
};

/// Future partitions kept ready when `partitioning` does not say.
pub const DEFAULT_PARTITIONS_AHEAD: u32 = 3;
/// More would be a typo: a thousand monthly partitions is 83 years.
pub const MAX_PARTITIONS_AHEAD: u32 = 1000;
use crate::diagnostics::{Diagnostic, Pos, suggest};
use crate::ident::check_plain;
use crate::types::DataType;

/// Checks the declarations, records them in `catalog` and adds the generated objects.
pub fn lower(schema: &SchemaDecl, catalog: &mut Catalog, errors: &mut Vec<Diagnostic>) {
    let mut c = Checker { errors };
    let roles = c.roles(schema);
    let mut positions: std::collections::HashMap<QualifiedName, usize> =
        std::collections::HashMap::with_capacity(catalog.tables.len());
    for (i, t) in catalog.tables.iter().enumerate() {
        positions.entry(t.qualified_name()).or_insert(i);
    }
    for decl in &schema.tables {
        let name = declared_name(&decl.name.value);
        let Some(&index) = positions.get(&name) else {
            continue;
        };
        let flags = c.flags(schema, decl, &catalog.tables[index], catalog);
        let grants = c.grants(decl, &flags, &roles);
        let table = &mut catalog.tables[index];
        if let Some(p) = &flags.partitioning {
            table.partition_by = Some(PartitionBy {
                strategy: PartitionStrategy::Range,
                keys: vec![p.column.clone()],
            });
        }
        table.flags = flags;
        for (role, privileges) in grants {
            table.set_privileges(&role, &privileges, true);
        }
    }
    c.subject_tables(schema, catalog);
    let generated = c.audit_contract(schema, catalog);
    let execute = c.execute_grants(schema, &generated);
    c.unused_roles(schema, &roles, catalog, &execute);
    compliance::add_generated_objects(catalog, &|function| {
        execute.get(function).cloned().unwrap_or_default()
    });
}

struct Checker<'e> {
    errors: &'e mut Vec<Diagnostic>,
}

/// `7 years`, `30 days`, `1 month`, `2 weeks`: a positive count and a calendar unit, in the
/// canonical spelling PostgreSQL's `interval` input accepts and the flags store.
pub fn parse_period(text: &str) -> Result<String, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [count, unit] = words.as_slice() else {
        return Err(format!(
            "`{text}` is not a period: write a count and a unit, e.g. `7 years` or `30 days`"
        ));
    };
    let count: u32 = count
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{count}` is not a positive whole number"))?;
    let unit = unit.to_ascii_lowercase();
    let singular = unit.strip_suffix('s').unwrap_or(&unit);
    if !["day", "week", "month", "year"].contains(&singular) {
        return Err(format!(
            "unknown period unit `{unit}`: use days, weeks, months or years"
        ));
    }
    Ok(if count == 1 {
        format!("1 {singular}")
    } else {
        format!("{count} {singular}s")
    })
}

impl Checker<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(pos, message));
    }

    fn roles(&mut self, schema: &SchemaDecl) -> BTreeSet<String> {
        let mut roles = BTreeSet::new();
        for role in &schema.roles {
            let name = &role.name.value;
            if let Err(why) = check_plain(name) {
                self.error(role.name.pos, why);
                continue;
            }
            if name == PUBLIC || name.starts_with("pg_") {
                self.error(
                    role.name.pos,
                    format!("`{name}` is reserved by PostgreSQL; choose another role name"),
                );
                continue;
            }
            roles.insert(name.clone());
        }
        roles
    }

    fn column_of<'t>(
        &mut self,
        table: &'t Table,
        name: &Sp<String>,
        key: &str,
    ) -> Option<&'t Column> {
        let found = table.column(&name.value);
        if found.is_none() {
            let mut d = Diagnostic::new(
                name.pos,
                format!(
                    "`{key}` names column `{}`, which table `{}` does not have",
                    name.value,
                    table.display_name()
                ),
            );
            if let Some(s) = suggest(&name.value, table.columns.iter().map(|c| c.name.as_str())) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            self.errors.push(d);
        }
        found
    }

    fn flags(
        &mut self,
        schema: &SchemaDecl,
        decl: &TableDecl,
        table: &Table,
        catalog: &Catalog,
    ) -> TableFlags {
        let mut flags = table.flags.clone();
        flags.append_only = decl.append_only.as_ref().is_some_and(|f| f.value);
        if let Some(r) = &decl.retention {
            flags.retention = self.retention(r, table);
        }
        if let Some(p) = &decl.partitioning {
            flags.partitioning = self.partitioning(p, decl, table);
        }
        if let Some(column) = &decl.data_subject
            && let Some(c) = self.column_of(table, column, "data_subject")
        {
            if !c.data_type.is_text_like() {
                self.error(
                    column.pos,
                    format!(
                        "the data-subject column `{}` must be text, not {}",
                        c.name, c.data_type
                    ),
                );
            } else if !c.sensitivity.is_sensitive() {
                self.errors.push(
                    Diagnostic::new(
                        column.pos,
                        format!("the data-subject column `{}` identifies a person: mark it `pii: true` or `phi: true`", c.name),
                    ),
                );
            } else {
                flags.data_subject = Some(c.name.clone());
            }
        }
        if let Some(e) = &decl.erasure {
            match Erasure::parse(e.value.trim()) {
                Some(erasure) => flags.erasure = Some(erasure),
                None => self.error(
                    e.pos,
                    format!(
                        "unknown erasure `{}`: expected `delete` or `anonymize`",
                        e.value
                    ),
                ),
            }
        }
        if let Some(column) = &decl.consent
            && let Some(c) = self.column_of(table, column, "consent")
        {
            let granted_label = match &c.data_type {
                DataType::Enum(name) => catalog
                    .enum_named(name)
                    .is_some_and(|e| e.values.iter().any(|v| v == "granted")),
                _ => false,
            };
            if c.data_type == DataType::Boolean || granted_label {
                flags.consent = Some(c.name.clone());
            } else {
                self.errors.push(
                    Diagnostic::new(
                        column.pos,
                        format!("consent column `{}` must be boolean or an enum with the label `granted`", c.name),
                    )
                    .with_help("e.g. `enums: { consent_status: [pending, granted, withdrawn] }`"),
                );
            }
        }
        if let Some(column) = &decl.requires_consent
            && self.column_of(table, column, "requires_consent").is_some()
        {
            let fk = table
                .foreign_keys
                .iter()
                .find(|fk| fk.columns == [column.value.clone()]);
            match fk {
                None => self.error(
                    column.pos,
                    format!(
                        "`requires_consent: {}` must name a single-column foreign key",
                        column.value
                    ),
                ),
                Some(fk) => {
                    // Read the declaration, not the lowered flags: the referenced table may come
                    // later in the file.
                    let declares_consent = schema.tables.iter().any(|d| {
                        fk.ref_table == declared_name(&d.name.value) && d.consent.is_some()
                    });
                    if declares_consent {
                        flags.requires_consent = Some(column.value.clone());
                    } else {
                        self.errors.push(
                            Diagnostic::new(
                                column.pos,
                                format!(
                                    "`{}` references `{}`, which declares no `consent` column",
                                    column.value,
                                    fk.ref_table.display()
                                ),
                            )
                            .with_help(format!(
                                "add `consent: <column>` to table `{}`",
                                fk.ref_table.display()
                            )),
                        );
                    }
                }
            }
        }
        flags
    }

    fn retention(&mut self, r: &super::read::RetentionDecl, table: &Table) -> Option<Retention> {
        let Some(keep) = &r.keep else {
            self.error(r.pos, "`retention` needs `keep` (e.g. `keep: 7 years`)");
            return None;
        };
        let Some(column) = &r.column else {
            self.error(
                r.pos,
                "`retention` needs `column`: the timestamp the period counts from (e.g. `deleted_at`)",
            );
            return None;
        };
        let period = match parse_period(&keep.value) {
            Ok(p) => Some(p),
            Err(why) => {
                self.error(keep.pos, why);
                None
            }
        };
        let c = self.column_of(table, column, "retention.column")?;
        if !matches!(
            c.data_type,
            DataType::Timestamptz(_) | DataType::Timestamp(_) | DataType::Date
        ) {
            self.error(
                column.pos,
                format!(
                    "retention counts from a timestamp; `{}` is {}",
                    c.name, c.data_type
                ),
            );
            return None;
        }
        Some(Retention {
            period: period?,
            column: c.name.clone(),
        })
    }

    /// `partitioning`: a `timestamptz` column that is NOT NULL and in the primary key and every
    /// unique constraint (PostgreSQL enforces uniqueness per partition only), a period, and a
    /// partition name that fits in 63 bytes.
    fn partitioning(
        &mut self,
        p: &super::read::PartitioningDecl,
        decl: &TableDecl,
        table: &Table,
    ) -> Option<Partitioning> {
        let Some(column) = &p.column else {
            self.error(
                p.pos,
                "`partitioning` needs `column`: the timestamptz column rows are partitioned by (e.g. `column: timestamp`)",
            );
            return None;
        };
        let Some(interval) = &p.interval else {
            self.error(
                p.pos,
                "`partitioning` needs `interval`: the time one partition holds (e.g. `interval: 1 month`)",
            );
            return None;
        };
        let interval = match parse_period(&interval.value) {
            Ok(period) => Some(period),
            Err(why) => {
                self.errors.push(
                    Diagnostic::new(interval.pos, format!("partition interval: {why}")).with_help(
                        "partitions hold whole days, weeks, months or years, e.g. `1 month`",
                    ),
                );
                None
            }
        };
        let ahead = match &p.ahead {
            None => Some(DEFAULT_PARTITIONS_AHEAD),
            Some(a) => match u32::try_from(a.value) {
                Ok(n) if (1..=MAX_PARTITIONS_AHEAD).contains(&n) => Some(n),
                _ => {
                    self.error(
                        a.pos,
                        format!(
                            "`ahead` is how many future partitions to keep ready: a whole number from 1 to {MAX_PARTITIONS_AHEAD}, not {}",
                            a.value
                        ),
                    );
                    None
                }
            },
        };
        let longest = table.name.len() + compliance::PARTITION_SUFFIX_LEN;
        if longest > crate::ident::MAX_IDENTIFIER_BYTES {
            self.error(
                decl.name.pos,
                format!(
                    "partitions are named `{}_pYYYYMMDD`, {longest} bytes: PostgreSQL names hold {} bytes; shorten the table name",
                    table.name,
                    crate::ident::MAX_IDENTIFIER_BYTES
                ),
            );
        }
        let c = self.column_of(table, column, "partitioning.column")?;
        let column_decl = decl.columns.iter().find(|d| d.name.value == c.name);
        if !matches!(c.data_type, DataType::Timestamptz(_)) {
            self.error(
                column.pos,
                format!(
                    "partitions are ranges of time: `{}` is {}, not timestamptz",
                    c.name, c.data_type
                ),
            );
            return None;
        }
        if let Some(nullable) = column_decl
            .and_then(|d| d.nullable.as_ref())
            .filter(|n| n.value)
        {
            self.errors.push(
                Diagnostic::new(
                    nullable.pos,
                    format!(
                        "the partition column `{}` cannot be nullable: a row without a time has no partition",
                        c.name
                    ),
                )
                .with_help("remove `nullable: true`"),
            );
        }
        let in_key = table
            .primary_key
            .as_ref()
            .is_some_and(|pk| pk.columns.contains(&c.name));
        if !in_key {
            let pos = decl
                .primary_key
                .as_ref()
                .map(|pk| pk.pos)
                .or_else(|| {
                    decl.columns
                        .iter()
                        .find_map(|d| d.primary_key.as_ref().filter(|f| f.value).map(|f| f.pos))
                })
                .unwrap_or(column.pos);
            let key: Vec<&str> = table
                .primary_key
                .iter()
                .flat_map(|pk| pk.columns.iter().map(String::as_str))
                .collect();
            self.errors.push(
                Diagnostic::new(
                    pos,
                    format!(
                        "the primary key of a partitioned table must include the partition column `{}`",
                        c.name
                    ),
                )
                .with_help(format!(
                    "declare `primary_key: [{}]` on the table (and drop `primary_key: true` from the column)",
                    key.iter()
                        .copied()
                        .chain([c.name.as_str()])
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        // Unique constraints and unique indexes: PostgreSQL refuses them on a partitioned table
        // unless they include the partition key.
        let refuse = |errors: &mut Vec<Diagnostic>, pos: Pos, what: String| {
            errors.push(
                Diagnostic::new(
                    pos,
                    format!(
                        "{what} cannot be enforced on a table partitioned by `{}`: PostgreSQL checks uniqueness within each partition, so the partition column must be part of it",
                        c.name
                    ),
                )
                .with_help(format!("add `{}` to it, or drop `partitioning`", c.name)),
            );
        };
        for d in &decl.columns {
            if let Some(u) = d.unique.as_ref().filter(|u| u.value)
                && d.name.value != c.name
            {
                refuse(
                    self.errors,
                    u.pos,
                    format!("`unique: true` on column `{}`", d.name.value),
                );
            }
        }
        for group in &decl.unique {
            if !group.value.iter().any(|n| n.value == c.name) {
                let names: Vec<&str> = group.value.iter().map(|n| n.value.as_str()).collect();
                refuse(
                    self.errors,
                    group.pos,
                    format!("the unique constraint on ({})", names.join(", ")),
                );
            }
        }
        for ix in &decl.indexes {
            if let Some(u) = ix.unique.as_ref().filter(|u| u.value)
                && !ix.columns.iter().any(|k| {
                    k.value == c.name
                        || k.value
                            .split_whitespace()
                            .next()
                            .and_then(|first| crate::ident::parse_name(first).ok())
                            == Some(c.name.clone())
                })
            {
                refuse(self.errors, u.pos, "a unique index".to_string());
            }
        }
        Some(Partitioning {
            column: c.name.clone(),
            interval: interval?,
            ahead: ahead?,
        })
    }

    fn grants(
        &mut self,
        decl: &TableDecl,
        flags: &TableFlags,
        roles: &BTreeSet<String>,
    ) -> Vec<(String, Vec<Privilege>)> {
        let mut out = Vec::new();
        let mut seen: BTreeMap<&str, Pos> = BTreeMap::new();
        for (role, privileges) in &decl.grants {
            if let Some(first) = seen.insert(&role.value, role.pos) {
                self.errors.push(
                    Diagnostic::new(
                        role.pos,
                        format!(
                            "role `{}` is granted twice on `{}`",
                            role.value, decl.name.value
                        ),
                    )
                    .with_first("first granted", first),
                );
                continue;
            }
            if !roles.contains(&role.value) {
                let mut d = Diagnostic::new(
                    role.pos,
                    format!(
                        "unknown role `{}`: declare it under the top-level `roles`",
                        role.value
                    ),
                );
                if let Some(s) = suggest(&role.value, roles.iter().map(String::as_str)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.errors.push(d);
                continue;
            }
            let mut parsed = Vec::new();
            for p in privileges {
                match Privilege::parse(p.value.trim()) {
                    None => {
                        let names = Privilege::ALL.map(Privilege::as_str);
                        let mut d =
                            Diagnostic::new(p.pos, format!("unknown privilege `{}`", p.value));
                        d = match suggest(&p.value, names.iter().copied()) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None => d.with_help(format!("expected one of: {}", names.join(", "))),
                        };
                        self.errors.push(d);
                    }
                    Some(privilege) if parsed.contains(&privilege) => {
                        self.error(p.pos, format!("privilege `{}` is listed twice", p.value));
                    }
                    Some(
                        privilege @ (Privilege::Update | Privilege::Delete | Privilege::Truncate),
                    ) if flags.append_only => {
                        self.errors.push(
                            Diagnostic::new(
                                p.pos,
                                format!("`{}` is append-only: no role may be granted `{}`", decl.name.value, privilege.as_str()),
                            )
                            .with_help(format!("expired rows leave through `{PURGE_FUNCTION}()` only; grant `execute: [{PURGE_FUNCTION}]` to the role instead")),
                        );
                    }
                    Some(privilege) => parsed.push(privilege),
                }
            }
            out.push((role.value.clone(), parsed));
        }
        out
    }

    /// The data-subject table is unique, and every table with `erasure` reaches it through a
    /// single-column foreign key to its primary key (or is it).
    fn subject_tables(&mut self, schema: &SchemaDecl, catalog: &Catalog) {
        let declared: Vec<&TableDecl> = schema
            .tables
            .iter()
            .filter(|t| t.data_subject.is_some())
            .collect();
        for extra in declared.iter().skip(1) {
            if let Some(column) = &extra.data_subject {
                self.error(
                    column.pos,
                    format!(
                        "only one table can declare `data_subject`; `{}` already does",
                        declared[0].name.value
                    ),
                );
            }
        }
        let subject = declared
            .first()
            .and_then(|d| catalog.table_named(&declared_name(&d.name.value)))
            .filter(|t| t.flags.data_subject.is_some());
        if let Some(t) = subject {
            let single_key = t
                .primary_key
                .as_ref()
                .is_some_and(|pk| pk.columns.len() == 1);
            if !single_key && let Some(d) = declared.first().and_then(|d| d.data_subject.as_ref()) {
                self.error(
                    d.pos,
                    format!(
                        "the data-subject table `{}` needs a single-column primary key",
                        t.display_name()
                    ),
                );
            }
            if t.flags.erasure.is_none()
                && let Some(d) = declared.first().and_then(|d| d.data_subject.as_ref())
            {
                self.errors.push(
                    Diagnostic::new(d.pos, format!("the data-subject table `{}` declares no `erasure`", t.display_name()))
                        .with_help("add `erasure: anonymize` (keep the rows without personal data) or `erasure: delete`"),
                );
            }
        }
        for decl in &schema.tables {
            let Some(e) = &decl.erasure else {
                continue;
            };
            let Some(t) = catalog.table_named(&declared_name(&decl.name.value)) else {
                continue;
            };
            let Some(erasure) = t.flags.erasure else {
                continue;
            };
            let Some(s) = subject else {
                self.errors.push(
                    Diagnostic::new(e.pos, "`erasure` needs a table that declares `data_subject`")
                        .with_help("e.g. `data_subject: patient_id` on the table whose rows belong to one person"),
                );
                continue;
            };
            if !t.is(&s.qualified_name()) {
                let key = s
                    .primary_key
                    .as_ref()
                    .map(|pk| pk.columns.clone())
                    .unwrap_or_default();
                let linked = t.foreign_keys.iter().any(|fk| {
                    s.is(&fk.ref_table) && fk.columns.len() == 1 && fk.ref_columns == key
                });
                if !linked {
                    self.error(
                        e.pos,
                        format!("`{}` has `erasure` but no single-column foreign key to the data-subject table `{}`", t.display_name(), s.display_name()),
                    );
                }
            }
            if erasure == Erasure::Anonymize {
                let key = s
                    .primary_key
                    .as_ref()
                    .and_then(|pk| pk.columns.first())
                    .map(String::as_str);
                for c in t.columns.iter().filter(|c| c.sensitivity.is_sensitive()) {
                    if compliance::anonymized_value(t, c, key).is_none() {
                        self.error(
                            e.pos,
                            format!("cannot anonymize `{}.{}`: it is NOT NULL, has no default and is not text", t.display_name(), c.name),
                        );
                    }
                }
            }
        }
    }

    /// The generated functions write `audit_logs` rows: check the table can take them. Returns
    /// the callable functions that will be generated.
    fn audit_contract(&mut self, schema: &SchemaDecl, catalog: &Catalog) -> BTreeSet<&'static str> {
        let mut generated = BTreeSet::new();
        if compliance::actor_table(catalog).is_some() {
            generated.insert(ACTOR_FUNCTION);
        }
        let mut first_pos = None;
        for decl in &schema.tables {
            if decl.retention.is_none() && decl.data_subject.is_none() {
                continue;
            }
            let table = catalog.table_named(&declared_name(&decl.name.value));
            if let (Some(r), Some(t)) = (&decl.retention, table)
                && t.flags.retention.is_some()
            {
                generated.insert(PURGE_FUNCTION);
                first_pos.get_or_insert(r.pos);
            }
            if let (Some(p), Some(t)) = (&decl.partitioning, table)
                && t.flags.partitioning.is_some()
            {
                generated.insert(MAINTAIN_FUNCTION);
                first_pos.get_or_insert(p.pos);
            }
            if let (Some(d), Some(t)) = (&decl.data_subject, table)
                && t.flags.data_subject.is_some()
            {
                generated.insert(ERASE_FUNCTION);
                generated.insert(EXPORT_FUNCTION);
                first_pos.get_or_insert(d.pos);
            }
        }
        let Some(pos) = first_pos else {
            return generated;
        };
        let Some(audit) = catalog.table(AUDIT_TABLE) else {
            self.error(
                pos,
                format!("retention and erasure write their own audit rows: declare the `{AUDIT_TABLE}` table"),
            );
            return generated;
        };
        for column in AUDIT_COLUMNS {
            if audit.column(column).is_none() {
                self.error(pos, format!("`{AUDIT_TABLE}` needs a `{column}` column for the generated compliance functions"));
            }
        }
        if let Some(c) = audit.column("event_type") {
            let labels = c
                .data_type
                .enum_name()
                .and_then(|e| catalog.enum_named(e))
                .map(|e| e.values.clone())
                .unwrap_or_default();
            for event in AUDIT_EVENTS {
                if !labels.iter().any(|l| l == event) {
                    self.error(
                        pos,
                        format!(
                            "`{AUDIT_TABLE}.event_type` must be an enum with the label `{event}`"
                        ),
                    );
                }
            }
        }
        generated
    }

    /// `roles: { r: { execute: [...] } }`: function name to the roles that may call it.
    fn execute_grants(
        &mut self,
        schema: &SchemaDecl,
        generated: &BTreeSet<&'static str>,
    ) -> BTreeMap<String, Vec<String>> {
        let mut execute: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for role in &schema.roles {
            for f in &role.execute {
                if generated.contains(f.value.as_str()) {
                    execute
                        .entry(f.value.clone())
                        .or_default()
                        .push(role.name.value.clone());
                    continue;
                }
                let mut d = Diagnostic::new(
                    f.pos,
                    format!("`{}` is not a function this schema generates", f.value),
                );
                d = if CALLABLE_FUNCTIONS.contains(&f.value.as_str()) {
                    d.with_help(if f.value == PURGE_FUNCTION {
                        "it is generated when a table declares `retention`"
                    } else if f.value == ACTOR_FUNCTION {
                        "it is generated when `audit_logs.user_id` references a table by its primary key"
                    } else if f.value == MAINTAIN_FUNCTION {
                        "it is generated when a table declares `partitioning`"
                    } else {
                        "it is generated when a table declares `data_subject`"
                    })
                } else {
                    let available: Vec<&str> = generated.iter().copied().collect();
                    match suggest(&f.value, available.iter().copied()) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => {
                            d.with_help(format!("generated functions: {}", available.join(", ")))
                        }
                    }
                };
                self.errors.push(d);
            }
        }
        execute
    }

    fn unused_roles(
        &mut self,
        schema: &SchemaDecl,
        valid: &BTreeSet<String>,
        catalog: &Catalog,
        execute: &BTreeMap<String, Vec<String>>,
    ) {
        for role in schema
            .roles
            .iter()
            .filter(|r| valid.contains(&r.name.value))
        {
            let name = role.name.value.as_str();
            let used = catalog
                .tables
                .iter()
                .any(|t| !t.privileges_of(name).is_empty())
                || execute
                    .values()
                    .any(|roles| roles.iter().any(|r| r == name));
            if !used {
                self.errors.push(
                    Diagnostic::new(role.name.pos, format!("role `{name}` is granted nothing"))
                        .with_help("grant it privileges with a table's `grants`, or remove it"),
                );
            }
        }
    }
}
