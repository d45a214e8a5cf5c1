use repo_runtime::Repository;
use uuid::Uuid;

#[derive(Repository)]
#[repo(table = "notes")]
#[repo(table = "other_notes")]
struct Note {
    #[repo(primary_key)]
    id: Uuid,
    #[repo(phi, phi)]
    body: String,
}

fn main() {}
