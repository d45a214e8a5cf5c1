//! Schema properties PostgreSQL has no syntax for, carried as a tag list at the end of a comment.
//!
//! `COMMENT ON COLUMN cases.patient_id IS 'Clinic patient identifier. [phi]'` keeps the PHI flag
//! in the database itself, so a catalog replayed from SQL migrations or introspected from a live
//! server knows which columns are sensitive: the linter and drift detection need that, and a
//! separate side file could drift. The tag list is readable in `\d+` output too.

use crate::catalog::{Sensitivity, TableFlags};

const PII: &str = "pii";
const PHI: &str = "phi";
const SOFT_DELETE: &str = "soft_delete";
const KNOWN_TAGS: [&str; 3] = [PII, PHI, SOFT_DELETE];

/// The comment text PostgreSQL stores for a column: the description plus its sensitivity tags.
pub fn column_comment(description: Option<&str>, sensitivity: Sensitivity) -> Option<String> {
    let mut tags = Vec::new();
    if sensitivity.pii {
        tags.push(PII);
    }
    if sensitivity.phi {
        tags.push(PHI);
    }
    encode(description, &tags)
}

/// Splits a stored column comment back into its description and sensitivity.
pub fn parse_column_comment(stored: &str) -> (Option<String>, Sensitivity) {
    let (description, tags) = decode(stored);
    let sensitivity = Sensitivity {
        pii: tags.contains(&PII),
        phi: tags.contains(&PHI),
    };
    (description, sensitivity)
}

/// The comment text PostgreSQL stores for a table.
pub fn table_comment(description: Option<&str>, flags: TableFlags) -> Option<String> {
    let tags: &[&str] = if flags.soft_delete {
        &[SOFT_DELETE]
    } else {
        &[]
    };
    encode(description, tags)
}

/// Splits a stored table comment back into its description and flags.
pub fn parse_table_comment(stored: &str) -> (Option<String>, TableFlags) {
    let (description, tags) = decode(stored);
    (
        description,
        TableFlags {
            soft_delete: tags.contains(&SOFT_DELETE),
        },
    )
}

fn encode(description: Option<&str>, tags: &[&str]) -> Option<String> {
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    match (description, tags.is_empty()) {
        (None, true) => None,
        (Some(d), true) => Some(d.to_string()),
        (None, false) => Some(format!("[{}]", tags.join(", "))),
        (Some(d), false) => Some(format!("{d} [{}]", tags.join(", "))),
    }
}

fn decode(stored: &str) -> (Option<String>, Vec<&'static str>) {
    let text = stored.trim_end();
    let parsed = text.strip_suffix(']').and_then(|rest| {
        let open = rest.rfind('[')?;
        let tags: Option<Vec<&'static str>> = rest[open + 1..]
            .split(',')
            .map(|t| KNOWN_TAGS.iter().copied().find(|k| *k == t.trim()))
            .collect();
        Some((rest[..open].trim_end(), tags?))
    });
    match parsed {
        Some((description, tags)) => {
            let description = (!description.is_empty()).then(|| description.to_string());
            (description, tags)
        }
        None => ((!text.is_empty()).then(|| text.to_string()), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let both = Sensitivity {
            pii: true,
            phi: true,
        };
        for (description, sensitivity) in [
            (Some("Patient identifier."), both),
            (
                None,
                Sensitivity {
                    pii: true,
                    phi: false,
                },
            ),
            (Some("Plain [not a tag]"), Sensitivity::default()),
            (Some("Plain"), Sensitivity::default()),
        ] {
            let stored = column_comment(description, sensitivity);
            let back = stored
                .as_deref()
                .map(parse_column_comment)
                .unwrap_or_default();
            assert_eq!(
                back,
                (description.map(String::from), sensitivity),
                "{stored:?}"
            );
        }
        assert_eq!(
            column_comment(Some("Id."), both).as_deref(),
            Some("Id. [pii, phi]")
        );
        let flags = TableFlags { soft_delete: true };
        let stored = table_comment(Some("Cases."), flags);
        assert_eq!(stored.as_deref(), Some("Cases. [soft_delete]"));
        assert_eq!(
            parse_table_comment("Cases. [soft_delete]"),
            (Some("Cases.".into()), flags)
        );
    }
}
