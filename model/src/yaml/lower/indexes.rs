//! Indexes: declared and implied ones, their keys as written, and the names PostgreSQL would
//! choose for them.

use crate::catalog::*;
use crate::diagnostics::{Diagnostic, Pos};
use crate::expr::canonical;
use crate::ident::{derived_name, is_bare, parse_name, shown, shown_path};
use crate::yaml::read::{IndexDecl, Sp, TableDecl};

use super::{Lowering, flag};

impl Lowering<'_> {
    pub(super) fn indexes(&mut self, table: &mut Table, decl: &TableDecl) {
        // Where each index came from, to point duplicate and collision errors at the declaration.
        let mut origins: Vec<Pos> = Vec::new();
        // Which indexes are named by derivation (renumbered below when the name is taken).
        let mut derived: Vec<usize> = Vec::new();
        for column in &decl.columns {
            if flag(&column.index) {
                let Some(col) = table.column(&column.name.value) else {
                    continue;
                };
                let method = if col.data_type.supports_gin() {
                    IndexMethod::Gin
                } else {
                    IndexMethod::Btree
                };
                let key = IndexKey::on(&col.name);
                derived.push(table.indexes.len());
                table
                    .indexes
                    .push(auto_index(&table.name, method, vec![key]));
                origins.push(column.index.as_ref().map_or(column.name.pos, |i| i.pos));
            }
        }
        // Partial indexes without a name are named once every other index has its name.
        let mut unnamed = Vec::new();
        for index_decl in &decl.indexes {
            if let Some(index) = self.index(table, index_decl) {
                if index.name.is_empty() {
                    unnamed.push(table.indexes.len());
                } else if index_decl.name.is_none() {
                    derived.push(table.indexes.len());
                }
                table.indexes.push(index);
                origins.push(index_decl.pos);
            }
        }
        for fk in table.foreign_keys.clone() {
            if table.has_index_leading_with(&fk.columns) {
                continue;
            }
            let opted_out = decl.columns.iter().find(|c| {
                fk.columns.len() == 1
                    && c.name.value == fk.columns[0]
                    && c.index.as_ref().is_some_and(|i| !i.value)
            });
            if let Some(column) = opted_out {
                let at = column.index.as_ref().map_or(column.name.pos, |i| i.pos);
                self.errors.push(
                    Diagnostic::new(at, format!("foreign key column `{}.{}` has `index: false` and no other index covers it", table.display_name(), fk.columns[0]))
                        .with_help("without an index, deleting or updating a referenced row scans the whole table; remove `index: false` or declare an index that starts with this column"),
                );
                continue;
            }
            let keys = fk.columns.iter().map(IndexKey::on).collect();
            derived.push(table.indexes.len());
            table
                .indexes
                .push(auto_index(&table.name, IndexMethod::Btree, keys));
            origins.push(decl.name.pos);
        }
        for column in &decl.columns {
            let Some(col) = table.column(&column.name.value) else {
                continue;
            };
            if !col.data_type.is_jsonb() || table.has_gin_index_on(&col.name) {
                continue;
            }
            if let Some(off) = column.index.as_ref().filter(|i| !i.value) {
                self.errors.push(
                    Diagnostic::new(off.pos, format!("JSONB column `{}.{}` has `index: false` and no GIN index is declared for it", table.display_name(), col.name))
                        .with_help("every JSONB column needs a GIN index for containment queries; remove `index: false`, or declare one under `indexes` with `using: gin` (e.g. with the jsonb_path_ops opclass)"),
                );
                continue;
            }
            let key = IndexKey::on(&col.name);
            derived.push(table.indexes.len());
            table
                .indexes
                .push(auto_index(&table.name, IndexMethod::Gin, vec![key]));
            origins.push(column.name.pos);
        }
        // Full indexes first, then partial ones: a partial index takes the name a full index on
        // its columns would get, numbered while that name is taken.
        for i in derived.into_iter().chain(unnamed) {
            let name = self.free_index_name(table, &table.indexes[i]);
            table.indexes[i].name = name;
        }
        // Two indexes with the same definition only slow writes down.
        let mut seen: Vec<(usize, Pos)> = Vec::new();
        let mut duplicates = Vec::new();
        for (i, (index, pos)) in table.indexes.iter().zip(&origins).enumerate() {
            let same = seen.iter().find(|(j, _)| {
                let other = &table.indexes[*j];
                other.method == index.method
                    && other.keys == index.keys
                    && other.include == index.include
                    && other.predicate == index.predicate
                    && other.unique == index.unique
            });
            match same {
                Some((_, first)) => {
                    duplicates.push(i);
                    self.errors.push(
                        Diagnostic::new(
                            *pos,
                            format!(
                                "index `{}` duplicates another index on `{}`",
                                index.name,
                                table.display_name()
                            ),
                        )
                        .with_first("the same index is declared", *first),
                    );
                }
                None => seen.push((i, *pos)),
            }
        }
        // Dropped so that the name clash they also cause is not reported a second time.
        for i in duplicates.into_iter().rev() {
            table.indexes.remove(i);
        }
    }

    pub(super) fn index(&mut self, table: &Table, decl: &IndexDecl) -> Option<Index> {
        let method = match &decl.using {
            None => IndexMethod::Btree,
            Some(using) => match IndexMethod::parse(using.value.trim()) {
                Some(m) => m,
                None => {
                    let options: Vec<&str> = IndexMethod::ALL.iter().map(|m| m.as_sql()).collect();
                    self.errors.push(
                        Diagnostic::new(
                            using.pos,
                            format!("unknown index method `{}`", using.value),
                        )
                        .with_help(format!("expected one of: {}", options.join(", "))),
                    );
                    return None;
                }
            },
        };
        if decl.columns.is_empty() {
            self.error(
                decl.pos,
                "an index needs at least one column under `columns`",
            );
            return None;
        }
        let mut keys = Vec::new();
        let mut ok = true;
        for entry in &decl.columns {
            match parse_index_key(&entry.value) {
                Ok(key) => {
                    let column = Sp {
                        value: key.column.clone(),
                        pos: entry.pos,
                    };
                    if !self.known_column(table, &column) {
                        ok = false;
                        continue;
                    }
                    if method == IndexMethod::Gin
                        && key.opclass.is_none()
                        && let Some(col) = table
                            .column(&key.column)
                            .filter(|c| !c.data_type.supports_gin())
                    {
                        self.errors.push(
                                Diagnostic::new(entry.pos, format!("GIN has no default operator class for `{}` of type `{}`", key.column, col.data_type))
                                    .with_help("GIN indexes jsonb and arrays; for other types name an operator class, e.g. `title gin_trgm_ops`"),
                            );
                        ok = false;
                    }
                    if keys.iter().any(|k: &IndexKey| k.column == key.column) {
                        self.error(
                            entry.pos,
                            format!("column `{}` is listed twice in the index", key.column),
                        );
                        ok = false;
                    }
                    keys.push(key);
                }
                Err(why) => {
                    self.error(entry.pos, why);
                    ok = false;
                }
            }
        }
        let mut include = Vec::new();
        for column in &decl.include {
            if self.known_column(table, column) {
                include.push(column.value.clone());
            } else {
                ok = false;
            }
        }
        let unique = flag(&decl.unique);
        if unique
            && method != IndexMethod::Btree
            && let Some(u) = &decl.unique
        {
            self.error(
                u.pos,
                format!("only btree indexes can be unique, not {}", method.as_sql()),
            );
            ok = false;
        }
        let predicate = match &decl.predicate {
            Some(p) if self.expression(p) => Some(canonical(&p.value)),
            Some(_) => {
                ok = false;
                None
            }
            None => None,
        };
        let name = match &decl.name {
            Some(n) => {
                self.identifier(n);
                n.value.clone()
            }
            None => {
                let mut index = auto_index(&table.name, method, keys.clone());
                if unique {
                    index.name = derived_name(
                        &index_parts(&table.name, &keys)
                            .iter()
                            .map(String::as_str)
                            .collect::<Vec<_>>(),
                        "uidx",
                    );
                }
                if predicate.is_some() {
                    // Named by `free_index_name` once the table's other indexes are known.
                    String::new()
                } else {
                    index.name
                }
            }
        };
        ok.then_some(Index {
            name,
            method,
            unique,
            keys,
            include,
            predicate,
        })
    }
}

pub(super) fn index_parts(table: &str, keys: &[IndexKey]) -> Vec<String> {
    std::iter::once(table.to_string())
        .chain(keys.iter().map(|k| k.column.clone()))
        .collect()
}

/// The label of a derived index name: `idx`, `<method>_idx` for non-btree indexes, `uidx` for
/// unique ones.
pub(super) fn index_label(method: IndexMethod, unique: bool) -> String {
    match method {
        _ if unique => "uidx".to_string(),
        IndexMethod::Btree => "idx".to_string(),
        other => format!("{}_idx", other.as_sql()),
    }
}

impl Lowering<'_> {
    /// The name of an index declared without one: `<table>_<columns>_<label>`, numbered as
    /// PostgreSQL numbers the names it chooses (`_idx1`, `_idx2`, ...) while a relation of the
    /// schema has it (a table, a key, an explicitly named index, or an index named earlier: the
    /// tables in the order of the file, a table's full indexes before its partial ones).
    pub(super) fn free_index_name(&mut self, table: &Table, index: &Index) -> String {
        let parts = index_parts(&table.name, &index.keys);
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let label = index_label(index.method, index.unique);
        let mut pass = 0;
        loop {
            let numbered = if pass == 0 {
                label.clone()
            } else {
                format!("{label}{pass}")
            };
            let name = derived_name(&parts, &numbered);
            if self.relations.insert((table.schema.clone(), name.clone())) {
                return name;
            }
            pass += 1;
        }
    }
}

/// An index with its derived name: `<table>_<columns>_idx`, or `_<method>_idx` for non-btree ones.
pub(super) fn auto_index(table: &str, method: IndexMethod, keys: Vec<IndexKey>) -> Index {
    let parts = index_parts(table, &keys);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let suffix = index_label(method, false);
    Index {
        name: derived_name(&parts, &suffix),
        method,
        unique: false,
        keys,
        include: Vec::new(),
        predicate: None,
    }
}

/// `column`, `column DESC`, `column jsonb_path_ops`, `column opclass DESC`, `column COLLATE "C"`
/// (before the operator class, as in SQL); a column whose name holds white space or a quote is
/// written in double quotes (`"my column" DESC`), and so is a collation that is not a plain
/// lower-case name.
pub(super) fn parse_index_key(text: &str) -> Result<IndexKey, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("an index column cannot be empty".to_string());
    }
    // The column name ends at the first white space, or after its closing quote.
    let end = if text.starts_with('"') {
        let mut quotes = 0;
        text.char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    quotes += 1;
                }
                // An even count of quotes is a closed name (`""` inside counts twice), once the
                // next character is not a quote.
                quotes % 2 == 0 && quotes > 0 && c != '"'
            })
            .map_or(text.len(), |(i, _)| i)
    } else {
        text.find(char::is_whitespace).unwrap_or(text.len())
    };
    let column =
        parse_name(&text[..end]).map_err(|why| format!("cannot read index column: {why}"))?;
    if !text[end..].starts_with(char::is_whitespace) && end < text.len() {
        return Err(format!(
            "cannot read index column {}: expected white space after the quoted name",
            shown_path(text)
        ));
    }
    let words: Vec<&str> = text[end..].split_whitespace().collect();
    let rest = words.as_slice();
    let (direction, rest) = match rest.split_last() {
        Some((last, init)) if last.eq_ignore_ascii_case("desc") => (true, init),
        Some((last, init)) if last.eq_ignore_ascii_case("asc") => (false, init),
        _ => (false, rest),
    };
    let (collation, rest) = match rest {
        [keyword, name, rest @ ..] if keyword.eq_ignore_ascii_case("collate") => {
            let collation = parse_name(name)
                .ok()
                .filter(|c| !c.is_empty() && (name.starts_with('"') || is_bare(c)))
                .ok_or_else(|| {
                    format!(
                        "bad collation {}: expected a lower-case name or one in double quotes such as `\"C\"`",
                        shown_path(name)
                    )
                })?;
            (Some(collation), rest)
        }
        [keyword] if keyword.eq_ignore_ascii_case("collate") => {
            return Err(format!(
                "cannot read index column {}: `COLLATE` needs a collation name",
                shown_path(text)
            ));
        }
        _ => (None, rest),
    };
    let opclass = match rest {
        [] => None,
        [opclass] if is_bare(opclass) => Some(opclass.to_string()),
        [opclass] => {
            return Err(format!(
                "bad operator class {}: expected a lower-case name such as `jsonb_path_ops`",
                shown(opclass)
            ));
        }
        _ => {
            return Err(format!(
                "cannot read index column {}: expected `column [COLLATE collation] [opclass] [ASC|DESC]`, with the column in double quotes when its name holds white space or a quote",
                shown_path(text)
            ));
        }
    };
    Ok(IndexKey {
        opclass,
        collation,
        descending: direction,
        ..IndexKey::on(column)
    })
}
