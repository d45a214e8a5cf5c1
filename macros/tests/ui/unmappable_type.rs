use repo_runtime::Repository;
use uuid::Uuid;

#[derive(Repository)]
#[repo(table = "notes")]
struct Note {
    #[repo(primary_key)]
    id: Uuid,
    views: u64,
    position: (i32, i32),
}

fn main() {}
