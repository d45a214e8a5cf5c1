//! How each tool runs a file: its transaction, and its up part (the rest blanked).

use super::*;
use migrate::NO_TRANSACTION_MARKER;

pub(super) fn first_line(text: &str) -> &str {
    text.trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("")
        .trim()
}

pub(super) fn codegen_transaction(text: &str) -> Transaction {
    if first_line(text) == NO_TRANSACTION_MARKER {
        Transaction::None
    } else {
        Transaction::Wrapped
    }
}

/// A first-line marker that makes the tool send the file as one query without a transaction
/// of its own; the marker line is blanked.
pub(super) fn first_line_marker(text: &str, marker: &str) -> (String, Transaction) {
    if first_line(text) != marker {
        return (text.to_string(), Transaction::Wrapped);
    }
    let mut first = true;
    let blanked = map_lines(text, |_| std::mem::take(&mut first));
    (blanked, Transaction::OneQuery)
}

/// A goose annotation (`-- +goose Up`, `--+goose StatementBegin`...): its command, upper case.
pub(super) fn goose_directive(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let command = rest.strip_prefix("+goose")?;
    if !(command.is_empty() || command.starts_with(char::is_whitespace)) {
        return None;
    }
    Some(command.trim().to_ascii_uppercase())
}

/// goose: the `Up` sections; `Down` sections and every annotation blanked.
pub(super) fn goose(text: &str) -> (String, Transaction) {
    let mut down = false;
    let mut transaction = Transaction::Wrapped;
    let blanked = map_lines(text, |line| match goose_directive(line) {
        Some(command) => {
            match command.as_str() {
                "UP" => down = false,
                "DOWN" => down = true,
                "NO TRANSACTION" => transaction = Transaction::None,
                _ => {}
            }
            true
        }
        None => down,
    });
    (blanked, transaction)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DbmateSection {
    Up,
    Down,
}

/// A dbmate section line: `-- migrate:up [options]` or `-- migrate:down [options]`.
pub(super) fn dbmate_directive(line: &str) -> Option<(DbmateSection, &str)> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let (section, options) = if let Some(o) = rest.strip_prefix("migrate:up") {
        (DbmateSection::Up, o)
    } else {
        (DbmateSection::Down, rest.strip_prefix("migrate:down")?)
    };
    (options.is_empty() || options.starts_with(char::is_whitespace))
        .then_some((section, options.trim()))
}

/// dbmate: the `-- migrate:up` section; the down section and the section lines blanked.
pub(super) fn dbmate(text: &str) -> (String, Transaction) {
    let mut down = false;
    let mut transaction = Transaction::Wrapped;
    let blanked = map_lines(text, |line| match dbmate_directive(line) {
        Some((section, options)) => {
            down = section == DbmateSection::Down;
            if section == DbmateSection::Up
                && options
                    .split_whitespace()
                    .any(|o| o.eq_ignore_ascii_case("transaction:false"))
            {
                transaction = Transaction::OneQuery;
            }
            true
        }
        None => down,
    });
    (blanked, transaction)
}

/// The text with the lines `blank` says yes to replaced by spaces, one per character, line
/// breaks kept: every line and column stays where it was.
pub(super) fn map_lines(text: &str, mut blank: impl FnMut(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if blank(line) {
            out.extend(line.chars().map(|c| match c {
                '\n' | '\r' => c,
                _ => ' ',
            }));
        } else {
            out.push_str(line);
        }
    }
    out
}
