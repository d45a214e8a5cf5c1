use super::{
    ALLOWED, Preamble, Shape, all_columns, audit_insert, column_list, guard, ident, literal,
    result_columns, table_name, verdict_select,
};
use crate::table::{ColumnMeta, TableMeta};

/// The shape of a listing statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Listing<'a> {
    /// The number of key columns after which to start (`0`: from the beginning).
    pub after_arity: usize,
    /// Include soft-deleted rows.
    pub include_deleted: bool,
    /// A JSONB column the rows must contain the filter parameter in (`@>`).
    pub contains: Option<&'a str>,
    /// A column the rows must equal the parameter in (`=`): a finder by an indexed column.
    pub equals: Option<&'a str>,
    /// Newest first: the listing order reversed (`DESC`), resumed before the cursor.
    pub descending: bool,
}

/// The columns a listing of `meta` is ordered by: the sort key, if any, then the primary key.
pub fn listing_order(meta: &TableMeta) -> Vec<&'static str> {
    meta.sort_key
        .into_iter()
        .chain([meta.primary_key])
        .collect()
}

/// A page of rows in `(sort key, primary key)` order, or its reverse. Own parameters: the value
/// an equality finder compares with (if any), the cursor's key columns (if any), then the
/// containment filter (if any), then the limit. An audited listing writes one
/// `data_access` row naming the ids returned.
pub fn list(meta: &TableMeta, listing: Listing<'_>, as_text: &[bool]) -> String {
    let preamble = Preamble::of(meta, Shape::List);
    let mut next = preamble.first_own();
    let mut param = || {
        let p = format!("${next}");
        next += 1;
        p
    };
    let order = listing_order(meta);
    let direction = if listing.descending { " DESC" } else { "" };
    let ordered = |alias: Option<&str>| {
        order
            .iter()
            .map(|c| match alias {
                Some(a) => format!("{}.{}{direction}", ident(a), ident(c)),
                None => format!("{}{direction}", ident(c)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut conditions = Vec::new();
    if !listing.include_deleted
        && let Some(col) = meta.soft_delete
    {
        conditions.push(format!("{} IS NULL", ident(col)));
    }
    let mut equals = None;
    if let Some(col) = listing.equals {
        let p = param();
        conditions.push(format!("{} = {p}", ident(col)));
        equals = Some((col, p));
    }
    if listing.after_arity > 0 {
        let keys: Vec<String> = (0..listing.after_arity).map(|_| param()).collect();
        let columns = column_list(order.iter().copied().take(listing.after_arity), None);
        let comparison = if listing.descending { "<" } else { ">" };
        conditions.push(format!("({columns}) {comparison} ({})", keys.join(", ")));
    }
    let mut filter = None;
    if let Some(col) = listing.contains {
        let p = param();
        conditions.push(format!("{} @> {p}", ident(col)));
        filter = Some((col, p));
    }
    conditions.push(ALLOWED.to_owned());
    let limit = param();
    let found = format!(
        "\"found\" AS (\n    SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {limit}\n)",
        all_columns(meta, None),
        table_name(meta.table),
        conditions.join(" AND "),
        ordered(None),
    );
    let audit = if preamble.audited {
        // A value compared with a PII/PHI column is itself sensitive: name the column, not it.
        let shown = |col: &str, p: String| {
            if meta.column(col).is_none_or(ColumnMeta::is_sensitive) {
                "'\"[redacted]\"'::jsonb".to_owned()
            } else {
                p
            }
        };
        let mut action = "list";
        let mut detail = String::new();
        if let Some((col, p)) = equals {
            action = "find";
            let value = if meta.column(col).is_none_or(ColumnMeta::is_sensitive) {
                shown(col, p)
            } else {
                format!("to_jsonb({p})")
            };
            detail.push_str(&format!(", 'column', {}, 'equals', {value}", literal(col)));
        }
        if let Some((col, p)) = filter {
            action = "find";
            detail.push_str(&format!(
                ", 'column', {}, 'contains', {}",
                literal(col),
                shown(col, p)
            ));
        }
        if listing.descending {
            detail.push_str(", 'order', 'descending'");
        }
        let details = format!(
            "jsonb_build_object('count', count(*), 'ids', COALESCE(jsonb_agg(\"found\".{pk} ORDER BY {order_found}), '[]'::jsonb){detail})",
            pk = ident(meta.primary_key),
            order_found = ordered(Some("found")),
        );
        format!(
            ", \"audit\" AS (\n    {}\n)",
            audit_insert(
                "data_access",
                meta.table,
                None,
                action,
                &[("details", &details)],
                // One row of counts even for an empty page, none when refused.
                &format!("\"found\" HAVING {ALLOWED}"),
            )
        )
    } else {
        String::new()
    };
    format!(
        "WITH {guard}, {found}{audit}\n{result} ORDER BY {order_result}",
        guard = guard(preamble),
        result = verdict_select(&result_columns(meta, as_text, "found"), "\"found\""),
        order_result = ordered(Some("found")),
    )
}
