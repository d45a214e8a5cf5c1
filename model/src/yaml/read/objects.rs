use super::{
    EXTENSION_KEYS, ExtensionDecl, NamespaceDecl, PARTITIONING_KEYS, PartitioningDecl,
    RETENTION_KEYS, ROLE_KEYS, Reader, RetentionDecl, RoleDecl, SCHEMA_KEYS, Sp, kind, node_pos,
};
use marked_yaml::Node;
use marked_yaml::types::MarkedScalarNode;

/// How a section of names reads and what its errors say.
struct NamedSection<'a> {
    /// The section's key.
    name: &'a str,
    /// What the section is for, ending the error for a value of the wrong kind.
    purpose: &'a str,
    /// The error for settings that are not a mapping.
    settings: &'a str,
    keys: &'a [&'a str],
    key_what: &'a str,
}

impl Reader<'_> {
    /// `extensions:` as a list of names or a mapping of names to `{ schema, version }` (or
    /// nothing).
    pub(super) fn extensions(&mut self, node: &Node) -> Vec<ExtensionDecl> {
        let section = NamedSection {
            name: "extensions",
            purpose: "names the extensions the schema needs",
            settings: "an extension's settings are a mapping (`{ schema: ..., version: ... }`)",
            keys: EXTENSION_KEYS,
            key_what: "extension key",
        };
        self.named_section(
            node,
            &section,
            |r, item| r.string(item, "an extension is named by its name"),
            |r, key| r.key(key),
            |name| ExtensionDecl {
                name,
                schema: None,
                version: None,
            },
            |r, extension, key, value| match key {
                "schema" => extension.schema = r.string(value, "a schema is named by its name"),
                "version" => extension.version = r.string(value, "a version is text, e.g. \"1.6\""),
                _ => unreachable!("entries() yields only known keys"),
            },
        )
    }

    /// `schemas:` as a list of names or a mapping of names to `{ comment }` (or nothing).
    pub(super) fn namespaces(&mut self, node: &Node) -> Vec<NamespaceDecl> {
        let section = NamedSection {
            name: "schemas",
            purpose: "names the schemas besides public",
            settings: "a schema's settings are a mapping (`{ comment: ... }`)",
            keys: SCHEMA_KEYS,
            key_what: "schema key",
        };
        self.named_section(
            node,
            &section,
            |r, item| r.name(item, "a schema is named by an identifier"),
            |r, key| r.name_key(key),
            |name| NamespaceDecl {
                name,
                comment: None,
            },
            |r, schema, key, value| match key {
                "comment" => schema.comment = r.string(value, "a comment is text"),
                _ => unreachable!("entries() yields only known keys"),
            },
        )
    }

    /// A section written as a list of names, or a mapping of names to their settings (a name
    /// alone, `storage:`, has none), or nothing at all (`schemas:` alone).
    fn named_section<D>(
        &mut self,
        node: &Node,
        section: &NamedSection<'_>,
        item_name: impl Fn(&mut Self, &Node) -> Option<Sp<String>>,
        key_name: impl Fn(&mut Self, &MarkedScalarNode) -> Sp<String>,
        declared: impl Fn(Sp<String>) -> D,
        mut setting: impl FnMut(&mut Self, &mut D, &str, &Node),
    ) -> Vec<D> {
        match node {
            Node::Sequence(items) => items
                .iter()
                .filter_map(|item| item_name(self, item))
                .map(declared)
                .collect(),
            Node::Mapping(map) => {
                let mut out = Vec::new();
                for (name, settings) in map.iter() {
                    let mut decl = declared(key_name(self, name));
                    match settings {
                        Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => {}
                        _ => {
                            if let Some(map) = self.expect_mapping(settings, section.settings) {
                                for (key, value) in
                                    self.entries(map, section.keys, section.key_what)
                                {
                                    setting(self, &mut decl, key, value);
                                }
                            }
                        }
                    }
                    out.push(decl);
                }
                out
            }
            Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => Vec::new(),
            other => {
                self.error(
                    node_pos(other),
                    format!(
                        "expected a list or a mapping, found {}: `{}` {}",
                        kind(other),
                        section.name,
                        section.purpose
                    ),
                );
                Vec::new()
            }
        }
    }

    pub(super) fn role(&mut self, name: Sp<String>, node: &Node) -> RoleDecl {
        let mut role = RoleDecl {
            name,
            execute: Vec::new(),
        };
        if let Some(map) = self.expect_mapping(node, "a role is a mapping (`execute: [...]`)") {
            for (key, value) in self.entries(map, ROLE_KEYS, "role key") {
                match key {
                    "execute" => {
                        role.execute =
                            self.string_list(value, "`execute` lists generated functions")
                    }
                    _ => unreachable!("entries() yields only known keys"),
                }
            }
        }
        role
    }

    pub(super) fn retention(&mut self, node: &Node) -> Option<RetentionDecl> {
        let map = self.expect_mapping(
            node,
            "`retention` is a mapping: `{ keep: 7 years, column: timestamp }`",
        )?;
        let mut retention = RetentionDecl {
            pos: node_pos(node),
            keep: None,
            column: None,
        };
        for (key, value) in self.entries(map, RETENTION_KEYS, "retention key") {
            let what = format!("`{key}` takes a single value");
            match key {
                "keep" => retention.keep = self.string(value, &what),
                "column" => retention.column = self.name(value, &what),
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        Some(retention)
    }

    pub(super) fn partitioning(&mut self, node: &Node) -> Option<PartitioningDecl> {
        let map = self.expect_mapping(
            node,
            "`partitioning` is a mapping: `{ column: timestamp, interval: 1 month, ahead: 3 }`",
        )?;
        let mut partitioning = PartitioningDecl {
            pos: node_pos(node),
            column: None,
            interval: None,
            ahead: None,
        };
        for (key, value) in self.entries(map, PARTITIONING_KEYS, "partitioning key") {
            let what = format!("`{key}` takes a single value");
            match key {
                "column" => partitioning.column = self.name(value, &what),
                "interval" => partitioning.interval = self.string(value, &what),
                "ahead" => partitioning.ahead = self.integer(value, "ahead"),
                _ => unreachable!("entries() yields only known keys"),
            }
        }
        Some(partitioning)
    }
}
