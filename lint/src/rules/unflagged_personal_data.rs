//! # unflagged-personal-data
//!
//! ## What it does
//! Checks, on the schema after each migration, that a column whose name says it holds personal
//! or health data (`email`, `phone`, `first_name`, `date_of_birth`, `patient_id`, `ssn`,
//! `address`, ...) carries the `[pii]` or `[phi]` flag in its comment.
//!
//! A name that only contains such a word says something *about* the data when the column
//! cannot hold it: a boolean (`email_valid`, `is_email_verified`), an enum (`address_type`) or
//! a foreign-key column (`billing_address_id` referencing `addresses`, whose own columns are
//! checked where they are) is left alone. A name that is the personal-data word itself
//! (`email`, `phone`, `first_name`, ...) is flagged whatever its type.
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

use model::{Catalog, DataType, Table};

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

/// How a column name matches the personal-data words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// The name is the word (`email`) or the pair (`first_name`) itself.
    Exact,
    /// The name contains one among other words (`phone_number`, `email_valid`).
    Partial,
}

fn looks_personal(column: &str) -> Option<Match> {
    // Runs on every column after every statement that touches its table: no allocation.
    let mut previous = None;
    let mut words = 0;
    let mut found = false;
    for word in column.split('_').filter(|w| !w.is_empty()) {
        words += 1;
        if WORDS.contains(&word) {
            found = true;
        } else if previous.is_some_and(|p| PAIRS.contains(&(p, word))) {
            // The pair counts as one word.
            words -= 1;
            found = true;
        }
        previous = Some(word);
    }
    match (found, words) {
        (false, _) => None,
        (true, 1) => Some(Match::Exact),
        (true, _) => Some(Match::Partial),
    }
}

/// Whether a column's type or role says it holds a fact about personal data, not the data: a
/// boolean, an enum (or arrays of them), or a foreign-key column.
fn holds_no_value_of_its_own(table: &Table, column: &model::Column) -> bool {
    let mut t = &column.data_type;
    while let DataType::Array(inner) = t {
        t = inner;
    }
    matches!(t, DataType::Boolean | DataType::Enum(_))
        || table
            .foreign_keys
            .iter()
            .any(|fk| fk.columns.contains(&column.name))
}

pub fn check(table: &Table, _catalog: &Catalog, out: &mut Vec<Problem>) {
    for c in &table.columns {
        if c.sensitivity.is_sensitive() {
            continue;
        }
        match looks_personal(&c.name) {
            None => continue,
            Some(Match::Partial) if holds_no_value_of_its_own(table, c) => continue,
            Some(_) => {}
        }
        out.push(Problem {
            rule: NAME,
            table: table.display_name().into_owned(),
            columns: vec![c.name.clone()],
            message: format!(
                "`{}.{}` looks like personal data but is not flagged [pii] or [phi]",
                table.display_name(), c.name
            ),
            help: "mark it `pii: true` or `phi: true` in schema.yaml (the flag goes into the column comment), or suppress with the reason it holds none".to_string(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{Match, looks_personal};

    #[test]
    fn whole_words_only() {
        for exact in ["email", "phone", "ssn", "first_name", "family_name"] {
            assert_eq!(looks_personal(exact), Some(Match::Exact), "{exact}");
        }
        for partial in [
            "phone_number",
            "date_of_birth",
            "patient_id",
            "home_address",
            "email_valid",
            "billing_first_name",
        ] {
            assert_eq!(looks_personal(partial), Some(Match::Partial), "{partial}");
        }
        for other in [
            "model_name",
            "filename",
            "username",
            "emailed_at_count_x",
            "addressee_count",
            "name",
            "first",
        ] {
            assert_eq!(looks_personal(other), None, "{other}");
        }
    }
}
