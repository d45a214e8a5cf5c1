use crate::catalog::{Catalog, Column, Function, Table, Trigger};
use crate::ident::derived_name;
use crate::yaml::SET_UPDATED_AT;

/// What `timestamps: true` and `soft_delete: true` generate, taken from the loader itself so the
/// two can never disagree.
pub(super) struct Reference {
    pub(super) created_at: Option<Column>,
    pub(super) updated_at: Option<Column>,
    pub(super) deleted_at: Option<Column>,
    pub(super) trigger: Option<Trigger>,
    pub(super) function: Option<Function>,
}

/// Which flags a table is written with; their columns and trigger are then left out.
#[derive(Debug, Default)]
pub(super) struct Implied {
    pub(super) timestamps: bool,
    pub(super) soft_delete: bool,
}

impl Implied {
    pub(super) fn column(&self, name: &str) -> bool {
        (self.timestamps && (name == "created_at" || name == "updated_at"))
            || (self.soft_delete && name == "deleted_at")
    }
}

impl Reference {
    pub(super) fn new() -> Reference {
        let template = "tables:\n  t:\n    timestamps: true\n    soft_delete: true\n    columns:\n      id: { type: uuid, primary_key: true }\n";
        let catalog = crate::load_schema("template.yaml", template).unwrap_or_default();
        let table = catalog.tables.first();
        let column = |name: &str| table.and_then(|t| t.column(name)).cloned();
        Reference {
            created_at: column("created_at"),
            updated_at: column("updated_at"),
            deleted_at: column("deleted_at"),
            trigger: table.and_then(|t| t.triggers.first()).cloned(),
            function: catalog.function(SET_UPDATED_AT).cloned(),
        }
    }

    pub(super) fn implied(&self, catalog: &Catalog, table: &Table) -> Implied {
        let same = |name: &str, reference: &Option<Column>| {
            reference.is_some() && table.column(name) == reference.as_ref()
        };
        let trigger_name = derived_name(&[&table.name], SET_UPDATED_AT);
        let trigger_matches = match (
            table.triggers.iter().find(|t| t.name == trigger_name),
            &self.trigger,
        ) {
            (Some(t), Some(r)) => {
                t.timing == r.timing && t.events == r.events && t.function == r.function
            }
            _ => false,
        };
        let timestamps = same("created_at", &self.created_at)
            && same("updated_at", &self.updated_at)
            && trigger_matches
            && self.function.is_some()
            && catalog.function(SET_UPDATED_AT) == self.function.as_ref();
        Implied {
            timestamps,
            soft_delete: table.flags.soft_delete && same("deleted_at", &self.deleted_at),
        }
    }
}
