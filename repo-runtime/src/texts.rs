//! The by-primary-key statements' texts, built once per thread and shape rather than on every
//! call: a text is a pure function of the table and the columns set, and building one (a few
//! dozen small strings) cost more client time than the rest of an insert on a `Prepared`
//! connection together.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::sql::{self, Shape};
use crate::table::TableMeta;

/// By table, which columns it returns as text, statement and the columns set (a bitmask over
/// [`TableMeta::columns`]).
type Texts =
    HashMap<(TableMeta, &'static [bool], Shape, u64), Option<Arc<str>>, foldhash::fast::FixedState>;

thread_local! {
    static TEXTS: RefCell<Texts> = RefCell::default();
}

/// Past this many texts a thread starts over: the generated methods use a few per table, and
/// patches setting ever new sets of columns must not grow the cache without end.
const LIMIT: usize = 1024;

/// The text of statement `shape` over `meta`, made afresh by [`sql`]; `None` for the
/// statements [`sql`] has none of (soft delete and restore of a table without soft delete) and
/// for listings, which are not by key.
fn build(meta: &TableMeta, as_text: &[bool], shape: Shape, columns: &[&str]) -> Option<Arc<str>> {
    match shape {
        Shape::Insert => Some(sql::insert(meta, columns, as_text).into()),
        Shape::Get => Some(sql::get(meta, as_text).into()),
        Shape::Update => Some(sql::update(meta, columns, as_text).into()),
        Shape::SoftDelete => sql::soft_delete(meta, as_text).map(Into::into),
        Shape::Restore => sql::restore(meta, as_text).map(Into::into),
        Shape::HardDelete => Some(sql::hard_delete(meta).into()),
        Shape::List => None,
    }
}

/// The columns of `meta` named in `columns`, as a bitmask, when they are `meta`'s columns in
/// `meta`'s order (as the derive lists them) and there are at most 64 of them; `None` otherwise,
/// for the caller to build the text itself: a mask forgets the order, so two orders must never
/// share one text (its parameters follow the order).
pub(crate) fn column_mask(meta: &TableMeta, columns: &[&str]) -> Option<u64> {
    let mut mask = 0u64;
    let mut next = 0;
    for column in columns {
        let offset = meta.columns[next..]
            .iter()
            .position(|c| c.name == *column)?;
        let index = next + offset;
        if index >= 64 {
            return None;
        }
        mask |= 1 << index;
        next = index + 1;
    }
    Some(mask)
}

/// The text of the statement `shape` over `meta`, `columns` being the ones an insert or update
/// sets and `as_text` the columns returned as text; `None` where [`sql`] has none (soft delete
/// and restore of a table without soft delete).
pub(crate) fn text(
    meta: &TableMeta,
    as_text: &'static [bool],
    shape: Shape,
    columns: &[&str],
) -> Option<Arc<str>> {
    let Some(mask) = column_mask(meta, columns) else {
        return build(meta, as_text, shape, columns);
    };
    let key = (*meta, as_text, shape, mask);
    if let Some(found) = TEXTS.with_borrow(|texts| texts.get(&key).cloned()) {
        return found;
    }
    let built = build(meta, as_text, shape, columns);
    TEXTS.with_borrow_mut(|texts| {
        if texts.len() >= LIMIT {
            texts.clear();
        }
        texts.insert(key, built.clone());
    });
    built
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::ColumnMeta;

    const fn column(name: &'static str) -> ColumnMeta {
        ColumnMeta {
            name,
            pii: false,
            phi: false,
            encrypted: false,
        }
    }

    const NOTES: TableMeta = TableMeta {
        table: "notes",
        columns: &[
            column("id"),
            column("title"),
            column("body"),
            column("deleted_at"),
        ],
        primary_key: "id",
        soft_delete: Some("deleted_at"),
        sort_key: None,
        cascade: &[],
    };

    /// The same columns under another table name: a different text.
    const MEMOS: TableMeta = TableMeta {
        table: "memos",
        ..NOTES
    };

    #[test]
    fn masks_follow_the_columns_in_table_order_only() {
        assert_eq!(column_mask(&NOTES, &[]), Some(0));
        assert_eq!(column_mask(&NOTES, &["title", "body"]), Some(0b0110));
        assert_eq!(column_mask(&NOTES, &["id", "deleted_at"]), Some(0b1001));
        // Out of order, repeated or unknown: no mask, so never a cached text.
        assert_eq!(column_mask(&NOTES, &["body", "title"]), None);
        assert_eq!(column_mask(&NOTES, &["title", "title"]), None);
        assert_eq!(column_mask(&NOTES, &["title", "author"]), None);
    }

    #[test]
    fn cached_texts_are_the_ones_built() {
        let no_soft_delete = TableMeta {
            soft_delete: None,
            ..NOTES
        };
        let cases: [(TableMeta, Shape, &[&str]); 12] = [
            (NOTES, Shape::Insert, &["title", "body"]),
            (NOTES, Shape::Insert, &["title"]),
            // Out of order: built every time, never cached under the in-order text's key.
            (NOTES, Shape::Insert, &["body", "title"]),
            (MEMOS, Shape::Insert, &["title"]),
            (NOTES, Shape::Update, &["title"]),
            (NOTES, Shape::Update, &["body", "title"]),
            (NOTES, Shape::Get, &[]),
            (NOTES, Shape::SoftDelete, &[]),
            (NOTES, Shape::Restore, &[]),
            (NOTES, Shape::HardDelete, &[]),
            (no_soft_delete, Shape::SoftDelete, &[]),
            (no_soft_delete, Shape::Restore, &[]),
        ];
        const PLAIN: &[bool] = &[false; 4];
        const TITLE_AS_TEXT: &[bool] = &[false, true, false, false];
        // Twice: the first round builds and caches, the second reads the cache.
        for _ in 0..2 {
            for as_text in [PLAIN, TITLE_AS_TEXT] {
                for (meta, shape, columns) in cases {
                    assert_eq!(
                        text(&meta, as_text, shape, columns),
                        build(&meta, as_text, shape, columns),
                        "{shape:?} of {columns:?} on {}",
                        meta.table
                    );
                }
            }
        }
        assert_eq!(text(&no_soft_delete, PLAIN, Shape::Restore, &[]), None);
        assert_eq!(
            text(&NOTES, PLAIN, Shape::Insert, &["title"]).as_deref(),
            Some(sql::insert(&NOTES, &["title"], PLAIN).as_str())
        );
        assert_ne!(
            text(&NOTES, PLAIN, Shape::Get, &[]),
            text(&NOTES, TITLE_AS_TEXT, Shape::Get, &[]),
            "the columns returned as text are part of the key"
        );
    }
}
