//! Reporters: one function per `--format`, each writing a whole [`Report`] to a string.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

/// The output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

impl Format {
    pub const NAMES: [&'static str; 4] = ["human", "json", "sarif", "github"];

    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "human" => Some(Format::Human),
            "json" => Some(Format::Json),
            "sarif" => Some(Format::Sarif),
            "github" => Some(Format::Github),
            _ => None,
        }
    }
}

/// Renders a report; `color` only matters for the human format.
pub fn render(report: &crate::Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(report, color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    }
}
