//! `encrypted` is for text fields only, once per field, and never where SQL must compare,
//! order or set the value; every misuse is reported together with the struct's other errors.
use repo_runtime::Repository;
use uuid::Uuid;

#[derive(Repository)]
#[repo(table = "notes")]
struct Note {
    #[repo(primary_key, encrypted)]
    id: Uuid,
    #[repo(encrypted)]
    age: i32,
    #[repo(encrypted)]
    scan: Option<Vec<u8>>,
    #[repo(encrypted, encrypted)]
    secret: String,
    #[repo(sort_key, encrypted)]
    rank: String,
    #[repo(jsonb, encrypted)]
    labels: serde_json::Value,
    #[repo(phi, colour = "red")]
    body: String,
}

fn main() {}
