use repo_runtime::Repository;
use uuid::Uuid;

#[derive(Repository)]
#[repo(table = "notes")]
struct Note {
    id: Uuid,
    body: String,
}

fn main() {}
