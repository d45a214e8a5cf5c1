use std::collections::{BTreeSet, HashMap};

use super::{KEYWORDS, NOT_RAW, RESERVED_TYPE_NAMES};
use model::{Catalog, EnumType, FkAction, Table};
use proc_macro2::{Ident, Span};

/// The Rust names of everything generated, chosen once so that they never collide.
pub(super) struct Names {
    tables: HashMap<String, String>,
    enums: HashMap<String, String>,
    /// The tables of `public` by name (index into the catalog's tables).
    pub(super) public_tables: HashMap<String, usize>,
    /// Per table of `public`, the tables of `public` with an `ON DELETE CASCADE` foreign key to
    /// it (indexes, ascending), for [`cascades`].
    pub(super) cascading_children: HashMap<String, Vec<usize>>,
}

impl Names {
    pub(super) fn new(catalog: &Catalog) -> Self {
        let mut taken: BTreeSet<String> =
            RESERVED_TYPE_NAMES.iter().map(|s| s.to_string()).collect();
        let mut enums: Vec<&EnumType> = catalog.enums.iter().collect();
        enums.sort_by_key(|e| enum_key(e));
        let mut enum_names = Vec::new();
        for e in enums {
            let name = unique(pascal(&e.name), "Enum", &mut taken);
            enum_names.push((enum_key(e), name));
        }
        // Tables of `public` first, so that a table of another schema with the same name is the
        // one that gets a suffix.
        let mut tables: Vec<&Table> = catalog.tables.iter().collect();
        tables.sort_by_key(|t| {
            (
                !t.qualified_name().is_public(),
                t.display_name().into_owned(),
            )
        });
        let mut table_names = Vec::new();
        for t in tables {
            let name = unique(pascal(&singular(&t.name)), "Row", &mut taken);
            // The companions must be free too.
            taken.insert(format!("New{name}"));
            taken.insert(format!("{name}Patch"));
            table_names.push((t.qualified_name().yaml(), name));
        }
        let mut public_tables = HashMap::new();
        let mut cascading_children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in catalog.tables.iter().enumerate() {
            if !t.qualified_name().is_public() {
                continue;
            }
            public_tables.entry(t.name.clone()).or_insert(i);
            let mut parents: Vec<&str> = t
                .foreign_keys
                .iter()
                .filter(|fk| fk.on_delete == FkAction::Cascade && fk.ref_table.is_public())
                .map(|fk| fk.ref_table.name.as_str())
                .collect();
            parents.dedup();
            for parent in parents {
                let children = cascading_children.entry(parent.to_owned()).or_default();
                if children.last() != Some(&i) {
                    children.push(i);
                }
            }
        }
        Names {
            tables: table_names.into_iter().collect(),
            enums: enum_names.into_iter().collect(),
            public_tables,
            cascading_children,
        }
    }

    pub(super) fn table_type(&self, table: &str) -> String {
        lookup(&self.tables, table)
    }

    pub(super) fn enum_type(&self, name: &str) -> String {
        lookup(&self.enums, name)
    }

    /// The module of a table: its name, prefixed with its schema outside `public`
    /// (`storage_objects`).
    pub(super) fn module(&self, table: &Table) -> String {
        let name = if table.qualified_name().is_public() {
            snake(&table.name)
        } else {
            format!("{}_{}", snake(&table.schema), snake(&table.name))
        };
        if name == "enums" || KEYWORDS.contains(&name.as_str()) || NOT_RAW.contains(&name.as_str())
        {
            format!("{name}_table")
        } else {
            name
        }
    }
}

/// How an enum is looked up among the names: `status`, `auth.factor_type`.
pub(super) fn enum_key(e: &EnumType) -> String {
    e.qualified_name().yaml()
}

pub(super) fn lookup(names: &HashMap<String, String>, key: &str) -> String {
    names.get(key).cloned().unwrap_or_else(|| pascal(key))
}

/// `name`, or `name` + `suffix` (+ a number) when taken; then marks it taken.
pub(super) fn unique(name: String, suffix: &str, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 1;
    while taken.contains(&candidate) || candidate.starts_with(|c: char| c.is_ascii_digit()) {
        candidate = if n == 1 {
            format!("{name}{suffix}")
        } else {
            format!("{name}{suffix}{n}")
        };
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// The words of a name, lower case and ASCII, for the Rust names made from it: split at
/// anything that is not a letter or digit and where camel case starts a word (`userId`,
/// `HTTPServer`, `First Name` are `user id`, `http server`, `first name`). Latin letters with
/// accents lose them (`naïve` is `naive`); any other letter or digit is a word of its own,
/// `u` and its code point (`名` is `u540d`), so that different names stay different.
pub(super) fn words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let chars: Vec<char> = name.chars().collect();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let starts_word = c.is_ascii_uppercase()
                && prev.is_some_and(|p| {
                    p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
                });
            if starts_word {
                flush(&mut word, &mut words);
            }
            word.push(c.to_ascii_lowercase());
        } else if let Some(folded) = c.to_lowercase().next().and_then(fold_latin) {
            word.push_str(folded);
        } else if c.is_alphanumeric() {
            flush(&mut word, &mut words);
            words.push(format!("u{:x}", u32::from(c)));
        } else {
            flush(&mut word, &mut words);
        }
    }
    flush(&mut word, &mut words);
    words
}

/// A lower-case Latin letter with a diacritic (or a ligature) as ASCII letters.
pub(super) fn fold_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ł' | 'ľ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

/// `in_progress` -> `InProgress`, `userId` -> `UserId`; `V` first when it would start with a
/// digit or be empty.
pub(super) fn pascal(name: &str) -> String {
    let mut out = String::new();
    for word in words(name) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `userId` -> `user_id`, `First Name` -> `first_name`; `_` first when it would start with a
/// digit, `unnamed` when the name has no letter or digit at all.
pub(super) fn snake(name: &str) -> String {
    let out = words(name).join("_");
    if out.is_empty() {
        "unnamed".to_owned()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{out}")
    } else {
        out
    }
}

/// A table name's singular, for its row type: `cases` -> `case`, `categories` -> `category`.
pub(super) fn singular(name: &str) -> String {
    for (plural, single) in [
        ("ies", "y"),
        ("sses", "ss"),
        ("xes", "x"),
        ("ches", "ch"),
        ("shes", "sh"),
    ] {
        if let Some(stem) = name.strip_suffix(plural)
            && !stem.is_empty()
        {
            return format!("{stem}{single}");
        }
    }
    if let Some(stem) = name.strip_suffix('s')
        && !stem.is_empty()
        && !name.ends_with("ss")
        && !name.ends_with("us")
        && !name.ends_with("is")
    {
        return stem.to_owned();
    }
    name.to_owned()
}

pub(super) fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// A field name for a column (snake case, a raw identifier for a Rust keyword), and whether it
/// needs `column = "..."` because it differs from the column's name.
pub(super) fn field_ident(column: &str) -> (Ident, bool) {
    let name = snake(column);
    if NOT_RAW.contains(&name.as_str()) {
        return (ident(&format!("{name}_column")), true);
    }
    let renamed = name != column;
    if KEYWORDS.contains(&name.as_str()) {
        return (Ident::new_raw(&name, Span::call_site()), renamed);
    }
    (ident(&name), renamed)
}

/// The Rust field of each column, or why two columns would share one.
pub(super) fn field_names(table: &Table) -> Result<Vec<(Ident, bool)>, String> {
    let mut fields: Vec<(Ident, bool)> = Vec::new();
    for (i, column) in table.columns.iter().enumerate() {
        let (field, renamed) = field_ident(&column.name);
        if let Some(j) = fields.iter().position(|(f, _)| *f == field) {
            return Err(format!(
                "columns `{}` and `{}` both become the Rust field `{field}`; rename one of them",
                model::ident::yaml_name(&table.columns[j].name),
                model::ident::yaml_name(&column.name),
            ));
        }
        debug_assert_eq!(fields.len(), i);
        fields.push((field, renamed));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(singular("cases"), "case");
        assert_eq!(singular("audit_logs"), "audit_log");
        assert_eq!(singular("categories"), "category");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(pascal("in_progress"), "InProgress");
        assert_eq!(pascal("3d"), "V3d");
        assert_eq!(pascal("a-b c"), "ABC");
        let mut taken = BTreeSet::from(["Result".to_owned()]);
        assert_eq!(unique("Result".into(), "Row", &mut taken), "ResultRow");
        assert_eq!(unique("Result".into(), "Row", &mut taken), "ResultRow2");
        assert_eq!(field_ident("type").0.to_string(), "r#type");
        assert_eq!(field_ident("self"), (ident("self_column"), true));
    }
}
