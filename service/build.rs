//! Embeds the committed migrations' ids and checksums, so the service knows which schema it was
//! built for (as `sqlx::migrate!` embeds a migrations directory) and `/health` can tell a
//! database that is behind, or whose applied migrations were edited.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated/migrations");
    println!("cargo::rerun-if-changed={}", dir.display());
    let history = migrate::dir::read(&dir)
        .unwrap_or_else(|e| panic!("cannot read the migrations the service expects: {e}"));
    let mut out = String::from(
        "/// The migrations this service was built for: (id, checksum of the up script), in order.\npub const EXPECTED_MIGRATIONS: &[(&str, &str)] = &[\n",
    );
    for m in &history.migrations {
        let _ = writeln!(out, "    ({:?}, {:?}),", m.id, m.checksum());
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(&target, out).expect("write migrations.rs");
}
