//! Schema properties PostgreSQL has no syntax for, carried as a tag list at the end of a comment.
//!
//! `COMMENT ON COLUMN cases.patient_id IS 'Clinic patient identifier. [phi]'` keeps the PHI flag
//! in the database itself, so a catalog replayed from SQL migrations or introspected from a live
//! server knows which columns are sensitive: the linter and drift detection need that, and a
//! separate side file could drift. The tag list is readable in `\d+` output too.

use crate::catalog::{Erasure, Partitioning, Retention, Sensitivity, TableFlags};

const PII: &str = "pii";
const PHI: &str = "phi";
const ENCRYPTED: &str = "encrypted";
const SOFT_DELETE: &str = "soft_delete";
const APPEND_ONLY: &str = "append_only";
const RETENTION: &str = "retention";
const DATA_SUBJECT: &str = "data_subject";
const ERASURE: &str = "erasure";
const CONSENT: &str = "consent";
const REQUIRES_CONSENT: &str = "requires_consent";
const PARTITIONS: &str = "partitions";
/// Tags that stand alone (`[phi]`).
const KNOWN_TAGS: [&str; 5] = [PII, PHI, ENCRYPTED, SOFT_DELETE, APPEND_ONLY];
/// Tags that carry a value (`[erasure=delete]`).
const KNOWN_VALUED_TAGS: [&str; 6] = [
    RETENTION,
    DATA_SUBJECT,
    ERASURE,
    CONSENT,
    REQUIRES_CONSENT,
    PARTITIONS,
];
/// Separates a retention period from its column: `retention=7 years after timestamp`.
const AFTER: &str = " after ";
/// `partitions=1 month by timestamp ahead 3`.
const BY: &str = " by ";
const AHEAD: &str = " ahead ";

/// The comment text PostgreSQL stores for a column: the description plus its sensitivity tags.
pub fn column_comment(description: Option<&str>, sensitivity: Sensitivity) -> Option<String> {
    let mut tags = Vec::new();
    for (set, tag) in [
        (sensitivity.pii, PII),
        (sensitivity.phi, PHI),
        (sensitivity.encrypted, ENCRYPTED),
    ] {
        if set {
            tags.push(tag.to_string());
        }
    }
    encode(description, &tags)
}

/// Splits a stored column comment back into its description and sensitivity.
pub fn parse_column_comment(stored: &str) -> (Option<String>, Sensitivity) {
    let (description, tags) = decode(stored);
    let has = |name: &str| tags.iter().any(|t| t.name == name && t.value.is_none());
    let sensitivity = Sensitivity {
        pii: has(PII),
        phi: has(PHI),
        encrypted: has(ENCRYPTED),
    };
    (description, sensitivity)
}

/// The comment text PostgreSQL stores for a table.
pub fn table_comment(description: Option<&str>, flags: &TableFlags) -> Option<String> {
    let mut tags = Vec::new();
    if flags.soft_delete {
        tags.push(SOFT_DELETE.to_string());
    }
    if flags.append_only {
        tags.push(APPEND_ONLY.to_string());
    }
    if let Some(r) = &flags.retention {
        tags.push(format!("{RETENTION}={}{AFTER}{}", r.period, r.column));
    }
    let valued = [
        (DATA_SUBJECT, flags.data_subject.as_deref()),
        (ERASURE, flags.erasure.map(Erasure::as_str)),
        (CONSENT, flags.consent.as_deref()),
        (REQUIRES_CONSENT, flags.requires_consent.as_deref()),
    ];
    for (name, value) in valued {
        if let Some(value) = value {
            tags.push(format!("{name}={value}"));
        }
    }
    if let Some(p) = &flags.partitioning {
        tags.push(format!(
            "{PARTITIONS}={}{BY}{}{AHEAD}{}",
            p.interval, p.column, p.ahead
        ));
    }
    encode(description, &tags)
}

/// Splits a stored table comment back into its description and flags.
pub fn parse_table_comment(stored: &str) -> (Option<String>, TableFlags) {
    let (description, tags) = decode(stored);
    let value = |name: &str| {
        tags.iter()
            .find(|t| t.name == name)
            .and_then(|t| t.value.clone())
    };
    let flags = TableFlags {
        soft_delete: tags.iter().any(|t| t.name == SOFT_DELETE),
        append_only: tags.iter().any(|t| t.name == APPEND_ONLY),
        retention: value(RETENTION).and_then(|v| {
            let (period, column) = v.split_once(AFTER)?;
            Some(Retention {
                period: period.to_string(),
                column: column.to_string(),
            })
        }),
        data_subject: value(DATA_SUBJECT),
        erasure: value(ERASURE).as_deref().and_then(Erasure::parse),
        consent: value(CONSENT),
        requires_consent: value(REQUIRES_CONSENT),
        partitioning: value(PARTITIONS).and_then(|v| {
            let (interval, rest) = v.split_once(BY)?;
            let (column, ahead) = rest.rsplit_once(AHEAD)?;
            Some(Partitioning {
                interval: interval.to_string(),
                column: column.to_string(),
                ahead: ahead.parse().ok()?,
            })
        }),
    };
    (description, flags)
}

fn encode(description: Option<&str>, tags: &[String]) -> Option<String> {
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    match (description, tags.is_empty()) {
        (None, true) => None,
        (Some(d), true) => Some(d.to_string()),
        (None, false) => Some(format!("[{}]", tags.join(", "))),
        (Some(d), false) => Some(format!("{d} [{}]", tags.join(", "))),
    }
}

#[derive(Debug)]
struct Tag {
    name: &'static str,
    value: Option<String>,
}

fn parse_tag(text: &str) -> Option<Tag> {
    let text = text.trim();
    match text.split_once('=') {
        Some((name, value)) => {
            let name = KNOWN_VALUED_TAGS
                .iter()
                .copied()
                .find(|k| *k == name.trim())?;
            let value = value.trim();
            (!value.is_empty()).then(|| Tag {
                name,
                value: Some(value.to_string()),
            })
        }
        None => KNOWN_TAGS
            .iter()
            .copied()
            .find(|k| *k == text)
            .map(|name| Tag { name, value: None }),
    }
}

/// A trailing `[...]` list counts as tags only when every entry is a known tag: a comment that
/// merely ends in brackets keeps them as text.
fn decode(stored: &str) -> (Option<String>, Vec<Tag>) {
    let text = stored.trim_end();
    let parsed = text.strip_suffix(']').and_then(|rest| {
        let open = rest.rfind('[')?;
        let tags: Option<Vec<Tag>> = rest[open + 1..].split(',').map(parse_tag).collect();
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
            encrypted: false,
        };
        for (description, sensitivity) in [
            (Some("Patient identifier."), both),
            (
                None,
                Sensitivity {
                    pii: true,
                    ..Sensitivity::default()
                },
            ),
            (
                Some("Notes."),
                Sensitivity {
                    phi: true,
                    encrypted: true,
                    ..Sensitivity::default()
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
        let flags = TableFlags {
            soft_delete: true,
            ..TableFlags::default()
        };
        let stored = table_comment(Some("Cases."), &flags);
        assert_eq!(stored.as_deref(), Some("Cases. [soft_delete]"));
        assert_eq!(
            parse_table_comment("Cases. [soft_delete]"),
            (Some("Cases.".into()), flags)
        );
        let all = TableFlags {
            soft_delete: true,
            append_only: true,
            retention: Some(Retention {
                period: "7 years".into(),
                column: "timestamp".into(),
            }),
            data_subject: Some("patient_id".into()),
            erasure: Some(Erasure::Anonymize),
            consent: Some("processing_consent".into()),
            requires_consent: Some("case_id".into()),
            partitioning: Some(Partitioning {
                column: "timestamp".into(),
                interval: "1 month".into(),
                ahead: 3,
            }),
        };
        let stored = table_comment(None, &all).expect("tags");
        assert_eq!(
            stored,
            "[soft_delete, append_only, retention=7 years after timestamp, data_subject=patient_id, erasure=anonymize, consent=processing_consent, requires_consent=case_id, partitions=1 month by timestamp ahead 3]"
        );
        assert_eq!(parse_table_comment(&stored), (None, all));
        // Unknown entries keep the whole bracket as description text.
        assert_eq!(
            parse_table_comment("Odd [erasure=delete, color=blue]")
                .0
                .as_deref(),
            Some("Odd [erasure=delete, color=blue]")
        );
    }
}
