//! Schema-qualified names.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::ident::{quote, yaml_name};

/// The schema every database has and unqualified names resolve to by default. SQL written for
/// it leaves the schema out, so a catalog without other schemas prints as it always did.
pub const DEFAULT_SCHEMA: &str = "public";

/// An object's name with its schema, as PostgreSQL identifies tables, types, sequences,
/// functions and views.
///
/// It has no `Display` on purpose: [`QualifiedName::sql`] (quoted) and
/// [`QualifiedName::display`] (for people) are different texts, and picking one by accident in
/// SQL would be a bug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// A name in [`DEFAULT_SCHEMA`].
    pub fn public(name: impl Into<String>) -> Self {
        QualifiedName::new(DEFAULT_SCHEMA, name)
    }

    pub fn is_public(&self) -> bool {
        self.schema == DEFAULT_SCHEMA
    }

    /// Whether this names `name` in `schema`.
    pub fn is(&self, schema: &str, name: &str) -> bool {
        self.name == name && self.schema == schema
    }

    /// The name as SQL: each part quoted where PostgreSQL needs it, the schema left out for
    /// `public`.
    pub fn sql(&self) -> String {
        sql_name(&self.schema, &self.name)
    }

    /// How findings, docs and messages name the object: `name` in `public`, `schema.name`
    /// elsewhere.
    pub fn display(&self) -> Cow<'_, str> {
        display_name(&self.schema, &self.name)
    }

    /// The name as `schema.yaml` writes it: `name` in `public`, `schema.name` elsewhere, each part
    /// in double quotes when it holds a dot, white space or a quote
    /// ([`crate::ident::parse_name_path`] reads it back).
    pub fn yaml(&self) -> String {
        if self.is_public() {
            yaml_name(&self.name).into_owned()
        } else {
            format!("{}.{}", yaml_name(&self.schema), yaml_name(&self.name))
        }
    }

    /// The name for a message: [`QualifiedName::yaml`] in backticks, control characters escaped.
    pub fn shown(&self) -> String {
        crate::ident::shown_path(&self.yaml())
    }
}

/// [`QualifiedName::sql`] of a schema and a name.
pub fn sql_name(schema: &str, name: &str) -> String {
    if schema == DEFAULT_SCHEMA {
        quote(name)
    } else {
        format!("{}.{}", quote(schema), quote(name))
    }
}

/// [`QualifiedName::display`] of a schema and a name.
pub fn display_name<'a>(schema: &str, name: &'a str) -> Cow<'a, str> {
    if schema == DEFAULT_SCHEMA {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("{schema}.{name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_names_print_as_before_and_others_are_qualified() {
        assert_eq!(QualifiedName::public("cases").sql(), "cases");
        assert_eq!(QualifiedName::public("user").sql(), "\"user\"");
        assert_eq!(
            QualifiedName::new("storage", "objects").sql(),
            "storage.objects"
        );
        assert_eq!(
            QualifiedName::new("My Schema", "t").sql(),
            "\"My Schema\".t"
        );
        assert_eq!(QualifiedName::public("cases").display(), "cases");
        assert_eq!(
            QualifiedName::new("storage", "objects").display(),
            "storage.objects"
        );
        assert_eq!(QualifiedName::public("User").yaml(), "User");
        assert_eq!(
            QualifiedName::new("my.schema", "a \"b\"").yaml(),
            "\"my.schema\".\"a \"\"b\"\"\""
        );
        assert_eq!(
            QualifiedName::new("auth", "t\nx").shown(),
            "`auth.\"t\\nx\"`"
        );
    }
}
