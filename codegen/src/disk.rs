//! The binary's file I/O for `generated/`: what is on disk, what is left over, atomic writes.
//! (The library stays pure: it returns files, this writes them.)

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files under codegen's own directories ([`codegen::OWNED_DIRS`]) that carry its header but
/// that this run does not produce (`files`, or `kept` as they are), sorted. A file without the header (a note someone put
/// there) is never touched.
pub fn leftovers(out: &Path, files: &[codegen::GeneratedFile], kept: &[PathBuf]) -> Vec<PathBuf> {
    let produced: std::collections::HashSet<PathBuf> = files
        .iter()
        .map(|f| out.join(&f.path))
        .chain(kept.iter().map(|path| out.join(path)))
        .collect();
    let mut found = Vec::new();
    for dir in codegen::OWNED_DIRS {
        files_under(&out.join(dir), &mut found);
    }
    found.retain(|path| !produced.contains(path) && starts_with_generated_header(path));
    found.sort();
    found
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => files_under(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

fn starts_with_generated_header(path: &Path) -> bool {
    use std::io::Read;
    let mut start = [0u8; 512];
    let Ok(mut file) = fs::File::open(path) else {
        return false;
    };
    let n = file.read(&mut start).unwrap_or(0);
    codegen::has_generated_header(&start[..n])
}

/// Whether a generated file is on disk as it should be.
pub enum OnDisk {
    Same,
    Differs,
    Missing,
}

/// Compares the file at `path` with `contents`, reading it only when the sizes agree.
pub fn on_disk(path: &Path, contents: &str) -> OnDisk {
    match fs::metadata(path) {
        Err(_) => OnDisk::Missing,
        Ok(meta) if meta.len() != contents.len() as u64 => OnDisk::Differs,
        Ok(_) => match fs::read(path) {
            Ok(existing) if existing == contents.as_bytes() => OnDisk::Same,
            Ok(_) => OnDisk::Differs,
            Err(_) => OnDisk::Missing,
        },
    }
}

/// A file to write: where, what, and whether it must reach the disk before it replaces the old
/// one (see [`write_atomically`]).
pub struct ToWrite<'a> {
    pub path: &'a Path,
    pub contents: &'a str,
    pub durable: bool,
}

/// Writes every file as [`write_atomically`] does, renaming the durable ones into place in
/// their order (a migration before the integrity file that names it) once all of them are on
/// disk. They are flushed together, on a thread each: the file system then commits them in one
/// journal transaction, where one flush after the other waited for three on a busy disk.
pub fn write_all_atomically(files: &[ToWrite<'_>]) -> Result<(), String> {
    let mut made = std::collections::HashSet::new();
    let mut flushing = Vec::new();
    for file in files {
        let fail =
            |e: std::io::Error| format!("error: cannot write `{}`: {e}", file.path.display());
        if let Some(dir) = file.path.parent()
            && made.insert(dir)
        {
            fs::create_dir_all(dir).map_err(fail)?;
        }
        let temp = file.path.with_extension("tmp");
        let mut f = fs::File::create(&temp).map_err(fail)?;
        f.write_all(file.contents.as_bytes()).map_err(fail)?;
        if file.durable {
            flushing.push((f, temp, file.path));
        } else {
            drop(f);
            fs::rename(&temp, file.path).map_err(fail)?;
        }
    }
    let flushed: Vec<std::io::Result<()>> = std::thread::scope(|scope| {
        let threads: Vec<_> = flushing
            .iter()
            .map(|(f, _, _)| scope.spawn(move || f.sync_all()))
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for ((_, temp, path), result) in flushing.iter().zip(flushed) {
        let fail = |e: std::io::Error| format!("error: cannot write `{}`: {e}", path.display());
        result.map_err(fail)?;
        fs::rename(temp, path).map_err(fail)?;
    }
    Ok(())
}

/// Writes through a temporary file and a rename, so an interrupted run never leaves half a file;
/// `durable` flushes the file to disk before the rename, so not even a crash of the machine
/// leaves it empty.
pub fn write_atomically(path: &Path, contents: &str, durable: bool) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("error: cannot write `{}`: {e}", path.display());
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(fail)?;
    }
    let temp = path.with_extension("tmp");
    let mut f = fs::File::create(&temp).map_err(fail)?;
    f.write_all(contents.as_bytes()).map_err(fail)?;
    if durable {
        f.sync_all().map_err(fail)?;
    }
    fs::rename(&temp, path).map_err(fail)
}
