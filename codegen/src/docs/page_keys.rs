//! The key of a table's page and diagram: a hash of everything they are rendered from, so that a
//! run can leave the files of an unchanged table as they are on disk instead of laying out and
//! drawing them again (at 1,000 tables the pages are the largest part of a one-column edit).
//!
//! A page is rendered from its table, its neighbours (the tables it references or is referenced
//! by: their keys, columns and foreign keys appear in the diagram, in table order), the overview
//! part it links to, and catalog-wide objects (enums link to their section, trigger functions
//! are described): all of those go into the key, the catalog-wide part whole, so an edit to an
//! enum or a function renders every page again. [`FORMAT`] changes when what a page is rendered
//! from changes shape; the caller's renderer identity covers every other change of the code.

use model::{Catalog, Table};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Docs;
use super::parts::Overview;

const FORMAT: u32 = 1;

type Digest32 = [u8; 32];

/// Each table's page key, by position in [`Docs::tables`].
pub struct PageKeys<'d, 'a> {
    docs: &'d Docs<'a>,
    overview: &'d Overview,
    /// Over [`FORMAT`], the renderer and the catalog without its tables.
    common: Digest32,
    /// Per table position, over the table.
    tables: Vec<Digest32>,
}

fn digest(value: &impl Serialize) -> Digest32 {
    // A catalog that cannot be encoded (it always can) gets a key of its own, never a shared one.
    let bytes = postcard::to_stdvec(value).unwrap_or_else(|_| b"unencodable".to_vec());
    Sha256::digest(bytes).into()
}

impl<'d, 'a> PageKeys<'d, 'a> {
    pub fn new(docs: &'d Docs<'a>, overview: &'d Overview, renderer: &str) -> Self {
        // Spelled out so that a new kind of catalog object cannot be left out of the key.
        let Catalog {
            schemas,
            extensions,
            enums,
            domains,
            composite_types,
            sequences,
            functions,
            tables: _,
            views,
        } = docs.catalog;
        let mut h = Sha256::new();
        h.update(FORMAT.to_le_bytes());
        h.update((renderer.len() as u64).to_le_bytes());
        h.update(renderer.as_bytes());
        h.update(digest(&(
            schemas,
            extensions,
            enums,
            domains,
            composite_types,
            sequences,
            functions,
            views,
        )));
        let tables = docs.tables.iter().map(|t: &&Table| digest(*t)).collect();
        PageKeys {
            docs,
            overview,
            common: h.finalize().into(),
            tables,
        }
    }

    /// The key of the page of the table at `position`, in hex.
    pub fn of(&self, position: usize) -> String {
        let mut h = Sha256::new();
        h.update(self.common);
        match self.overview {
            Overview::Whole => h.update([0u8]),
            Overview::Parts { parts, part_of } => {
                let name = part_of
                    .get(position)
                    .map_or("", |&p| parts[p].name.as_str());
                h.update([1u8]);
                h.update((name.len() as u64).to_le_bytes());
                h.update(name.as_bytes());
            }
        }
        // The table and its neighbours in table order (the diagram's order), the table marked.
        let neighbours = self.docs.neighbour_positions(position);
        let mut shown: Vec<usize> = neighbours.to_vec();
        shown.push(position);
        shown.sort_unstable();
        h.update((shown.len() as u64).to_le_bytes());
        for p in shown {
            h.update([u8::from(p == position)]);
            h.update(self.tables[p]);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}
