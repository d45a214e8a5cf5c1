use repo_runtime::Repository;
use uuid::Uuid;

#[derive(Repository)]
#[repo(tabel = "notes")]
struct Note {
    #[repo(primary_ky)]
    id: Uuid,
}

fn main() {}
