use repo_runtime::Repository;
use uuid::Uuid;

/// `random_uuid` belongs on the primary key only: elsewhere it is an error at the attribute.
#[derive(Repository)]
#[repo(table = "notes")]
struct Note {
    #[repo(primary_key, random_uuid)]
    id: Uuid,
    #[repo(random_uuid)]
    author_id: Uuid,
}

fn main() {}
