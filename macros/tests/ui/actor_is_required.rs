//! There is no way to call a repository method without an actor.
use repo_runtime::Repository;
use uuid::Uuid;

#[derive(Debug, Clone, Repository)]
#[repo(table = "notes")]
struct Note {
    #[repo(primary_key, default)]
    id: Uuid,
    body: String,
}

fn main() {
    let mut client = postgres::Client::connect("host=/nonexistent", postgres::NoTls).expect("connect");
    let new = NewNote { id: None, body: "hello".to_owned() };
    let _ = Note::insert(&mut client, &new);
}
