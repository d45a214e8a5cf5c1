//! What the reader reads besides relations: types (enums, domains, composites, others),
//! schemas, extensions, functions, and notes on what the catalog does not model.

use model::catalog::*;
use model::expr::canonical;
use model::types::DataType;

use crate::{IntrospectError, Reader, TypeRow, builtin, not_extension_member, query};

impl Reader<'_, '_> {
    /// Notes for what the catalog has no place for and a round trip through it therefore loses:
    /// collations of expression index keys, storage parameters of tables and indexes,
    /// comments on constraints, row level security and policies, privileges on schemas, default
    /// privileges, grant options and column privileges.
    pub(crate) fn unmodelled(&mut self) -> Result<(), IntrospectError> {
        const SHOWN: &str = "CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END";
        // An index is shown as `table.index`, as the other notes show it.
        const INDEX_SHOWN: &str = "CASE WHEN n.nspname = 'public' THEN t.relname::text
                                        ELSE n.nspname || '.' || t.relname END || '.' || c.relname";
        let read = format!(
            "n.nspname = ANY($1) AND {}",
            not_extension_member("pg_class", "c.oid")
        );
        let sql = format!(
            "SELECT 'index `' || {SHOWN} || '.' || ic.relname || '`: the collation `' || coll.collname
                    || '` of an expression key is not modelled (read without it)'
               FROM pg_index i
               JOIN pg_class ic ON ic.oid = i.indexrelid
               JOIN pg_class c ON c.oid = i.indrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               CROSS JOIN LATERAL unnest(i.indcollation::oid[], i.indkey::int2[]) k(coll, attnum)
               JOIN pg_collation coll ON coll.oid = k.coll
              -- 100 is the database's default collation.
              WHERE {read} AND k.attnum = 0 AND k.coll <> 0 AND k.coll <> 100
             UNION ALL
             SELECT CASE WHEN c.relkind = 'i' THEN 'index `' || {INDEX_SHOWN} || '`'
                         ELSE 'table `' || {SHOWN} || '`' END
                    || ': storage parameters (' || array_to_string(c.reloptions, ', ') || ') are not modelled'
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_index i ON i.indexrelid = c.oid
               LEFT JOIN pg_class t ON t.oid = i.indrelid
              WHERE {read} AND c.reloptions IS NOT NULL AND c.relkind IN ('r', 'p', 'm', 'i')
             UNION ALL
             SELECT 'constraint `' || {SHOWN} || '.' || con.conname || '`: its comment is not modelled'
               FROM pg_constraint con
               JOIN pg_description d ON d.objoid = con.oid AND d.classoid = 'pg_constraint'::regclass
               JOIN pg_class c ON c.oid = con.conrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE {read}
             UNION ALL
             SELECT 'table `' || {SHOWN} || '`: row level security ('
                    || CASE WHEN c.relrowsecurity AND c.relforcerowsecurity THEN 'ENABLE and FORCE'
                            WHEN c.relrowsecurity THEN 'ENABLE' ELSE 'FORCE' END
                    || ') is not modelled'
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE {read} AND (c.relrowsecurity OR c.relforcerowsecurity)
             UNION ALL
             SELECT 'policy `' || p.polname || '` on `' || {SHOWN} || '` is not modelled'
               FROM pg_policy p
               JOIN pg_class c ON c.oid = p.polrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE {read}
             UNION ALL
             SELECT 'table `' || {SHOWN} || '`: the grant option of `'
                    || CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END
                    || '` (' || string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type)
                    -- The owner's own entry has grant options only when granted them explicitly.
                    || CASE WHEN x.grantee = c.relowner
                            THEN ') is not modelled (the owner''s privileges are implicit)'
                            ELSE ') is not modelled (read as a plain grant)' END
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               CROSS JOIN LATERAL aclexplode(c.relacl) x
              WHERE {read} AND x.is_grantable
              GROUP BY n.nspname, c.relname, x.grantee, c.relowner
             UNION ALL
             SELECT 'column `' || {SHOWN} || '.' || a.attname || '`: its privileges are not modelled'
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND a.attacl IS NOT NULL
              WHERE {read} AND c.relkind IN ('r', 'p', 'v', 'm')
             UNION ALL
             SELECT 'schema `' || n.nspname || '`: its privileges (' || array_to_string(n.nspacl, ', ')
                    || ') are not modelled'
               FROM pg_namespace n
              WHERE n.nspname = ANY($1) AND n.nspacl IS NOT NULL
                AND n.nspacl IS DISTINCT FROM coalesce(
                    (SELECT ip.initprivs FROM pg_init_privs ip
                      WHERE ip.objoid = n.oid AND ip.classoid = 'pg_namespace'::regclass
                        AND ip.objsubid = 0),
                    acldefault('n', n.nspowner))
             UNION ALL
             SELECT 'default privileges of `' || pg_get_userbyid(d.defaclrole)::text || '`'
                    || coalesce(' in schema `' || n.nspname || '`', '')
                    || ' on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                                     WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types'
                                     ELSE 'schemas' END
                    || ' (' || array_to_string(d.defaclacl, ', ') || ') are not modelled'
               FROM pg_default_acl d
               LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
              WHERE d.defaclnamespace = 0 OR n.nspname = ANY($1)"
        );
        for row in self.rows("unmodelled properties", &sql)? {
            let text: String = row.get(0);
            self.note(text);
        }
        Ok(())
    }

    pub(crate) fn types(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT t.oid, n.nspname::text, t.typname::text, t.typtype::text,
                    t.typcategory::text, t.typelem, t.typbasetype,
                    coalesce(format_type(t.typbasetype, t.typtypmod), '')
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace";
        let rows = self.tx.query(sql, &[]).map_err(query("types"))?;
        for row in rows {
            self.types.insert(
                row.get(0),
                TypeRow {
                    schema: row.get(1),
                    name: row.get(2),
                    typtype: row.get(3),
                    category: row.get(4),
                    element: row.get(5),
                    base: row.get(6),
                    base_formatted: row.get(7),
                },
            );
        }
        Ok(())
    }

    /// The model type of type `oid`, spelled `formatted` by `format_type` (with the column's
    /// modifier): arrays by their element, enums, domains (with their base) and composite types
    /// (a table's row type too) by name, built-in types parsed from their spelling, anything else
    /// a named type.
    pub(crate) fn resolve(&self, oid: u32, formatted: &str) -> DataType {
        let Some(t) = self.types.get(&oid) else {
            return builtin(formatted);
        };
        if t.category == "A" && t.element != 0 {
            let element = formatted.strip_suffix("[]").unwrap_or(formatted);
            return DataType::Array(Box::new(self.resolve(t.element, element)));
        }
        let name = || QualifiedName::new(&t.schema, &t.name);
        match t.typtype.as_str() {
            "e" => DataType::Enum(name()),
            "d" => DataType::Domain {
                name: name(),
                base: Box::new(self.resolve(t.base, &t.base_formatted)),
            },
            "c" => DataType::Composite(name()),
            _ => builtin(formatted),
        }
    }

    pub(crate) fn namespaces(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT n.nspname::text, obj_description(n.oid, 'pg_namespace')
               FROM pg_namespace n
              WHERE n.nspname = ANY($1) AND n.nspname <> 'public'
              ORDER BY 1";
        for row in self.rows("schemas", sql)? {
            self.catalog.schemas.push(Schema {
                name: row.get(0),
                comment: row.get(1),
            });
        }
        Ok(())
    }

    pub(crate) fn extensions(&mut self) -> Result<(), IntrospectError> {
        let sql = "SELECT e.extname::text, n.nspname::text
               FROM pg_extension e
               JOIN pg_namespace n ON n.oid = e.extnamespace
              WHERE n.nspname = ANY($1) AND e.extname <> 'plpgsql'
              ORDER BY 1";
        for row in self.rows("extensions", sql)? {
            self.catalog.extensions.push(Extension {
                name: row.get(0),
                schema: row.get(1),
                version: None,
            });
        }
        Ok(())
    }

    pub(crate) fn enums(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT n.nspname::text, t.typname::text,
                    coalesce(array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                             FILTER (WHERE e.enumlabel IS NOT NULL), '{{}}'::text[]),
                    obj_description(t.oid, 'pg_type')
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               LEFT JOIN pg_enum e ON e.enumtypid = t.oid
              WHERE n.nspname = ANY($1) AND t.typtype = 'e' AND {}
              GROUP BY t.oid, n.nspname, t.typname
              ORDER BY 1, 2",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("enum types", &sql)? {
            self.catalog.enums.push(EnumType {
                schema: row.get(0),
                name: row.get(1),
                values: row.get(2),
                comment: row.get(3),
            });
        }
        Ok(())
    }

    pub(crate) fn domains(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT t.oid, n.nspname::text, t.typname::text, t.typnotnull,
                    pg_get_expr(t.typdefaultbin, 0), obj_description(t.oid, 'pg_type'),
                    ARRAY(SELECT c.conname::text FROM pg_constraint c
                           WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname),
                    ARRAY(SELECT pg_get_expr(c.conbin, 0) FROM pg_constraint c
                           WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname)
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = ANY($1) AND t.typtype = 'd' AND {}
              ORDER BY 2, 3",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("domains", &sql)? {
            let oid: u32 = row.get(0);
            let base = match self.types.get(&oid) {
                Some(t) => self.resolve(t.base, &t.base_formatted),
                None => DataType::Unknown,
            };
            let default: Option<String> = row.get(4);
            let names: Vec<String> = row.get(6);
            let expressions: Vec<String> = row.get(7);
            let checks = names
                .into_iter()
                .zip(expressions)
                .map(|(name, expression)| CheckConstraint {
                    name,
                    expression: canonical(&expression),
                })
                .collect();
            self.catalog.domains.push(Domain {
                schema: row.get(1),
                name: row.get(2),
                base,
                nullable: !row.get::<_, bool>(3),
                default: default.as_deref().map(canonical),
                checks,
                comment: row.get(5),
            });
        }
        Ok(())
    }

    pub(crate) fn composite_types(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT n.nspname::text, t.typname::text, obj_description(t.oid, 'pg_type'),
                    ARRAY(SELECT a.attname::text FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum),
                    ARRAY(SELECT a.atttypid FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum),
                    ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           ORDER BY a.attnum)
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
               JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
              WHERE n.nspname = ANY($1) AND t.typtype = 'c' AND {}
              ORDER BY 1, 2",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("composite types", &sql)? {
            let names: Vec<String> = row.get(3);
            let oids: Vec<u32> = row.get(4);
            let formatted: Vec<String> = row.get(5);
            let attributes = names
                .into_iter()
                .zip(oids.into_iter().zip(formatted))
                .map(|(name, (oid, formatted))| CompositeAttribute {
                    name,
                    data_type: self.resolve(oid, &formatted),
                })
                .collect();
            self.catalog.composite_types.push(CompositeType {
                schema: row.get(0),
                name: row.get(1),
                attributes,
                comment: row.get(2),
            });
        }
        Ok(())
    }

    pub(crate) fn other_types(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT n.nspname::text, t.typname::text,
                    CASE t.typtype WHEN 'r' THEN 'range type' ELSE 'base type' END
               FROM pg_type t
               JOIN pg_namespace n ON n.oid = t.typnamespace
              WHERE n.nspname = ANY($1) AND {}
                AND (t.typtype = 'r' OR (t.typtype = 'b' AND t.typcategory <> 'A'))
              ORDER BY 1, 2",
            not_extension_member("pg_type", "t.oid")
        );
        for row in self.rows("other types", &sql)? {
            let (schema, name, kind): (String, String, String) =
                (row.get(0), row.get(1), row.get(2));
            self.note(format!(
                "{kind} `{}` is not modelled; columns of it are read as a named type",
                display_name(&schema, &name)
            ));
        }
        Ok(())
    }

    pub(crate) fn functions(&mut self) -> Result<(), IntrospectError> {
        let sql = format!(
            "SELECT n.nspname::text, p.proname::text, p.prokind::text, p.proretset,
                    p.prorettype, rt.typname::text, format_type(p.prorettype, NULL),
                    l.lanname::text, p.prosrc, p.probin,
                    -- prosqlbody (BEGIN ATOMIC bodies) exists from PostgreSQL 14 on.
                    (to_jsonb(p) ->> 'prosqlbody') IS NOT NULL,
                    pg_get_function_identity_arguments(p.oid),
                    coalesce(p.proallargtypes, p.proargtypes::oid[]),
                    ARRAY(SELECT format_type(a.t, NULL)
                            FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
                                 WITH ORDINALITY AS a(t, i)
                           ORDER BY a.i),
                    coalesce(p.proargmodes::text[], '{{}}'),
                    coalesce(p.proargnames, '{{}}'),
                    ARRAY(SELECT coalesce(pg_get_function_arg_default(p.oid, i), '')
                            FROM generate_series(1, coalesce(array_length(
                                 coalesce(p.proallargtypes, p.proargtypes::oid[]), 1), 0)) AS i),
                    p.prosecdef,
                    -- Who may call it besides the owner; a NULL ACL is the default (PUBLIC).
                    ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public'
                                      ELSE pg_get_userbyid(a.grantee)::text END
                            FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                           WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
                           ORDER BY 1),
                    p.oid
               FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               JOIN pg_language l ON l.oid = p.prolang
               JOIN pg_type rt ON rt.oid = p.prorettype
              WHERE n.nspname = ANY($1) AND {}
              ORDER BY 1, 2, 12",
            not_extension_member("pg_proc", "p.oid")
        );
        for row in self.rows("functions", &sql)? {
            let schema: String = row.get(0);
            let name: String = row.get(1);
            let kind: String = row.get(2);
            let returns_set: bool = row.get(3);
            let sql_body: bool = row.get(10);
            let identity_arguments: String = row.get(11);
            let shown = display_name(&schema, &name).into_owned();
            if matches!(kind.as_str(), "a" | "w") {
                self.note(format!(
                    "function `{shown}({identity_arguments})`: aggregates and window functions are not modelled"
                ));
                continue;
            }
            let types: Vec<u32> = row.get(12);
            let formatted: Vec<String> = row.get(13);
            let modes: Vec<String> = row.get(14);
            let names: Vec<String> = row.get(15);
            let defaults: Vec<String> = row.get(16);
            let mut arguments = Vec::new();
            for (i, (oid, formatted)) in types.iter().zip(&formatted).enumerate() {
                let mode = match modes.get(i).map(String::as_str) {
                    Some("o") => ArgumentMode::Out,
                    Some("b") => ArgumentMode::InOut,
                    Some("v") => ArgumentMode::Variadic,
                    Some("t") => ArgumentMode::Table,
                    _ => ArgumentMode::In,
                };
                arguments.push(FunctionArgument {
                    name: names.get(i).cloned().unwrap_or_default(),
                    data_type: self.resolve(*oid, formatted),
                    mode,
                    default: defaults
                        .get(i)
                        .filter(|d| !d.is_empty())
                        .map(|d| canonical(d)),
                });
            }
            let return_type: u32 = row.get(4);
            let return_name: String = row.get(5);
            let return_formatted: String = row.get(6);
            let table_columns: Vec<String> = arguments
                .iter()
                .filter(|a| a.mode == ArgumentMode::Table)
                .map(|a| format!("{} {}", model::ident::quote(&a.name), a.data_type))
                .collect();
            // As the replay records it: `TABLE(...)`, pseudo-types by name, `SETOF`.
            let returns = if kind == "p" {
                String::new()
            } else if !table_columns.is_empty() {
                format!("TABLE({})", table_columns.join(", "))
            } else {
                let text = if matches!(
                    return_name.as_str(),
                    "trigger" | "void" | "record" | "event_trigger" | "internal"
                ) {
                    return_name
                } else {
                    self.resolve(return_type, &return_formatted).to_string()
                };
                if returns_set {
                    format!("SETOF {text}")
                } else {
                    text
                }
            };
            let source: String = row.get(8);
            let library: Option<String> = row.get(9);
            // A SQL-standard body is kept parsed (`prosrc` is empty): PostgreSQL prints it back.
            let source = if sql_body {
                let oid: u32 = row.get(19);
                let printed: String = self
                    .tx
                    .query_one("SELECT pg_get_function_sqlbody($1)", &[&oid])
                    .map_err(query("function bodies"))?
                    .get(0);
                model::expr::canonical_sql_body(&printed)
            } else {
                source
            };
            self.catalog.functions.push(Function {
                schema,
                name,
                arguments,
                returns,
                language: row.get(7),
                // `AS 'library', 'symbol'` is replayed as the two joined.
                body: match library {
                    Some(library) => format!("{library}, {source}"),
                    None => source,
                },
                security_definer: row.get(17),
                sql_standard_body: sql_body,
                execute: row.get(18),
            });
        }
        Ok(())
    }
}
