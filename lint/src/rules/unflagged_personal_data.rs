//! # unflagged-personal-data
//!
//! ## What it does
//! Checks, on the schema after each migration, that a column whose name says it holds personal
//! or health data (`email`, `phone`, `first_name`, `date_of_birth`, `patient_id`, `ssn`,
//! `address`, ...) carries the `[pii]` or `[phi]` flag in its comment.
//!
//! ## Why
//! The flags drive everything that protects the data: the audited repositories replace flagged
//! values by keyed hashes in `audit_logs`, erasure clears them, the docs list them and
//! `pii-column-dropped` guards them. A personal-data column added without its flag is silently
//! copied into the audit trail in clear, which HIPAA and GDPR forbid. The rule matches whole
//! words of the column name, so `model_name` or `filename` do not trigger it; review what it
//! finds and flag the column, or suppress the finding with the reason it holds no personal data.
//!
//! ## Example
//! ```sql
//! ALTER TABLE users ADD COLUMN phone_number text;
//! ```
//!
//! ## Use instead
//! ```sql
//! ALTER TABLE users ADD COLUMN phone_number text;
//! COMMENT ON COLUMN users.phone_number IS 'Contact number. [pii]';
//! ```

use model::{Catalog, Table};

use super::Problem;

pub const NAME: &str = "unflagged-personal-data";

/// Words of a column name that mean personal (or health) data on their own.
const WORDS: &[&str] = &[
    "email",
    "phone",
    "mobile",
    "ssn",
    "dob",
    "birth",
    "birthdate",
    "birthday",
    "patient",
    "surname",
    "address",
    "passport",
    "diagnosis",
    "insurance",
];
/// Consecutive words that do: `first_name`, `date_of_birth` is covered by `birth`.
const PAIRS: &[(&str, &str)] = &[
    ("first", "name"),
    ("last", "name"),
    ("full", "name"),
    ("given", "name"),
    ("family", "name"),
    ("maiden", "name"),
];

fn looks_personal(column: &str) -> bool {
    // Runs on every column after every statement that touches its table: no allocation.
    let mut previous = None;
    for word in column.split('_').filter(|w| !w.is_empty()) {
        if WORDS.contains(&word) || previous.is_some_and(|p| PAIRS.contains(&(p, word))) {
            return true;
        }
        previous = Some(word);
    }
    false
}

pub fn check(table: &Table, _catalog: &Catalog, out: &mut Vec<Problem>) {
    for c in &table.columns {
        if c.sensitivity.is_sensitive() || !looks_personal(&c.name) {
            continue;
        }
        out.push(Problem {
            rule: NAME,
            table: table.name.clone(),
            columns: vec![c.name.clone()],
            message: format!(
                "`{}.{}` looks like personal data but is not flagged [pii] or [phi]",
                table.name, c.name
            ),
            help: "mark it `pii: true` or `phi: true` in schema.yaml (the flag goes into the column comment), or suppress with the reason it holds none".to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::looks_personal;

    #[test]
    fn whole_words_only() {
        for personal in [
            "email",
            "phone_number",
            "first_name",
            "date_of_birth",
            "patient_id",
            "home_address",
        ] {
            assert!(looks_personal(personal), "{personal}");
        }
        for other in [
            "model_name",
            "filename",
            "username",
            "emailed_at_count_x",
            "addressee_count",
            "name",
        ] {
            assert!(!looks_personal(other), "{other}");
        }
    }
}
