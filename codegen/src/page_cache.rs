//! The table pages of the last run (`.codegen-cache/pages.bin`): per file, the key it was
//! rendered from ([`codegen::docs::TablePage::key`]) and its size and modification time once
//! written. A page whose key is unchanged and whose files are on disk with that size and time is
//! not rendered again; a hand-edited file has another time (or size) and is rendered and
//! rewritten. A file's time has the kernel's clock tick as its resolution, so one written just
//! before the cache was saved could be edited within the same tick without its time changing:
//! such a file is not trusted (as git treats a "racily clean" file). Anything unreadable is a
//! miss, which only costs the rendering. `--check` never uses it: it renders and compares
//! every file.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use codegen::docs::TablePage;
use serde::{Deserialize, Serialize};

const FORMAT: u32 = 1;
const FILE: &str = "pages.bin";
/// How much older than the cache a file's modification time must be to be trusted: well
/// above the coarsest clock tick of file times (10 ms at 100 Hz).
const RACY_NS: u128 = 100_000_000;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Stamp {
    key: String,
    len: u64,
    modified_ns: u128,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PageCache {
    format: u32,
    /// When the stamps were taken.
    saved_ns: u128,
    files: HashMap<PathBuf, Stamp>,
}

fn nanos(time: std::time::SystemTime) -> Option<u128> {
    Some(time.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos())
}

fn stamp_of(path: &Path) -> Option<(u64, u128)> {
    let meta = fs::metadata(path).ok()?;
    Some((meta.len(), nanos(meta.modified().ok()?)?))
}

impl PageCache {
    /// The last run's stamps, or none when the file is missing or unreadable.
    pub fn load(cache_dir: &Path) -> PageCache {
        fs::read(cache_dir.join(FILE))
            .ok()
            .and_then(|bytes| postcard::from_bytes::<PageCache>(&bytes).ok())
            .filter(|cache| cache.format == FORMAT)
            .unwrap_or_default()
    }

    /// Whether both files of `page` are on disk as the run that rendered them from the same key
    /// left them.
    pub fn reusable(&self, out: &Path, page: &TablePage) -> bool {
        page.files.iter().all(|file| {
            self.files.get(file).is_some_and(|stamp| {
                stamp.key == page.key
                    && stamp.modified_ns.saturating_add(RACY_NS) < self.saved_ns
                    && stamp_of(&out.join(file)) == Some((stamp.len, stamp.modified_ns))
            })
        })
    }

    /// Records the pages as they are now on disk, for the next run. A cache that cannot be
    /// written only costs time.
    pub fn save(cache_dir: &Path, out: &Path, pages: &[TablePage]) {
        let Some(saved_ns) = nanos(std::time::SystemTime::now()) else {
            return;
        };
        let mut cache = PageCache {
            format: FORMAT,
            saved_ns,
            files: HashMap::with_capacity(2 * pages.len()),
        };
        for page in pages {
            for file in &page.files {
                if let Some((len, modified_ns)) = stamp_of(&out.join(file)) {
                    let key = page.key.clone();
                    cache.files.insert(
                        file.clone(),
                        Stamp {
                            key,
                            len,
                            modified_ns,
                        },
                    );
                }
            }
        }
        let Ok(bytes) = postcard::to_stdvec(&cache) else {
            return;
        };
        if fs::create_dir_all(cache_dir).is_err() {
            return;
        }
        let _ = fs::write(cache_dir.join(".gitignore"), "*\n");
        let temp = cache_dir.join(format!("{FILE}.{}.tmp", std::process::id()));
        if fs::write(&temp, bytes).is_ok() && fs::rename(&temp, cache_dir.join(FILE)).is_err() {
            let _ = fs::remove_file(&temp);
        }
    }
}
