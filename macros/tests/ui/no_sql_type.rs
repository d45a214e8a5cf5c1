//! A named type the derive cannot judge by its syntax must implement `SqlType`; the error is at
//! the field's type.
use repo_runtime::Repository;
use uuid::Uuid;

#[derive(Debug, Clone, postgres_types::ToSql, postgres_types::FromSql)]
#[postgres(name = "mood")]
enum Mood {
    #[postgres(name = "ok")]
    Ok,
}

#[derive(Repository)]
#[repo(table = "notes")]
struct Note {
    #[repo(primary_key)]
    id: Uuid,
    mood: Mood,
}

fn main() {}
