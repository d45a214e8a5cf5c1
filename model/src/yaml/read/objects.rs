use super::{
    EXTENSION_KEYS, ExtensionDecl, NamespaceDecl, PARTITIONING_KEYS, PartitioningDecl,
    RETENTION_KEYS, ROLE_KEYS, Reader, RetentionDecl, RoleDecl, SCHEMA_KEYS, Sp, kind, node_pos,
};
use marked_yaml::Node;

impl Reader<'_> {
    /// `extensions:` as a list of names or a mapping of names to `{ schema, version }` (or
    /// nothing).
    pub(super) fn extensions(&mut self, node: &Node) -> Vec<ExtensionDecl> {
        match node {
            Node::Sequence(items) => items
                .iter()
                .filter_map(|item| self.string(item, "an extension is named by its name"))
                .map(|name| ExtensionDecl {
                    name,
                    schema: None,
                    version: None,
                })
                .collect(),
            Node::Mapping(map) => {
                let mut out = Vec::new();
                for (name, settings) in map.iter() {
                    let mut extension = ExtensionDecl {
                        name: self.key(name),
                        schema: None,
                        version: None,
                    };
                    match settings {
                        Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => {}
                        _ => {
                            if let Some(map) = self.expect_mapping(
                                settings,
                                "an extension's settings are a mapping (`{ schema: ..., version: ... }`)",
                            ) {
                                for (key, value) in
                                    self.entries(map, EXTENSION_KEYS, "extension key")
                                {
                                    match key {
                                        "schema" => {
                                            extension.schema =
                                                self.string(value, "a schema is named by its name")
                                        }
                                        "version" => {
                                            extension.version =
                                                self.string(value, "a version is text, e.g. \"1.6\"")
                                        }
                                        _ => unreachable!("entries() yields only known keys"),
                                    }
                                }
                            }
                        }
                    }
                    out.push(extension);
                }
                out
            }
            Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => Vec::new(),
            other => {
                self.error(
                    node_pos(other),
                    format!(
                        "expected a list or a mapping, found {}: `extensions` names the extensions the schema needs",
                        kind(other)
                    ),
                );
                Vec::new()
            }
        }
    }

    /// `schemas:` as a list of names or a mapping of names to `{ comment }` (or nothing).
    pub(super) fn namespaces(&mut self, node: &Node) -> Vec<NamespaceDecl> {
        match node {
            Node::Sequence(items) => items
                .iter()
                .filter_map(|item| self.name(item, "a schema is named by an identifier"))
                .map(|name| NamespaceDecl {
                    name,
                    comment: None,
                })
                .collect(),
            Node::Mapping(map) => {
                let mut out = Vec::new();
                for (name, settings) in map.iter() {
                    let mut schema = NamespaceDecl {
                        name: self.name_key(name),
                        comment: None,
                    };
                    match settings {
                        // `storage:` alone: no settings.
                        Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => {}
                        _ => {
                            if let Some(map) = self.expect_mapping(
                                settings,
                                "a schema's settings are a mapping (`{ comment: ... }`)",
                            ) {
                                for (key, value) in self.entries(map, SCHEMA_KEYS, "schema key") {
                                    match key {
                                        "comment" => {
                                            schema.comment = self.string(value, "a comment is text")
                                        }
                                        _ => unreachable!("entries() yields only known keys"),
                                    }
                                }
                            }
                        }
                    }
                    out.push(schema);
                }
                out
            }
            // `schemas:` alone: none.
            Node::Scalar(s) if s.as_str().is_empty() && s.may_coerce() => Vec::new(),
            other => {
                self.error(
                    node_pos(other),
                    format!(
                        "expected a list or a mapping, found {}: `schemas` names the schemas besides public",
                        kind(other)
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
