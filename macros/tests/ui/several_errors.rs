//! Every problem of the struct is reported in one compilation.
use repo_runtime::Repository;
use uuid::Uuid;

#[derive(Repository)]
struct Note {
    #[repo(primary_key)]
    id: i64,
    #[repo(soft_delete, colour = "red")]
    removed_at: chrono::DateTime<chrono::Utc>,
    #[repo(jsonb)]
    labels: String,
    author: &'static str,
    #[repo(primary_key)]
    other_id: Uuid,
}

fn main() {}
