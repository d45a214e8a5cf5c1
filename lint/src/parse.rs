//! Parsing migration files with PostgreSQL's parser, in parallel, and locating syntax errors
//! at the failing token.
//!
//! Parsing dominates the cost of a lint run and, unlike the replay, needs no order: files (and
//! large files cut at statement boundaries) are parsed on every core while the engine replays
//! what is already parsed. Statements come from [`model::replay::parse_script_recovering`],
//! the same splitter and parser the migration diff uses.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

use model::replay::{ParsedStatement, parse_script_recovering, quoted_near};
use pg_query::NodeEnum;

/// One parsed statement, located in its file.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Byte offset of the statement's first character in the file.
    pub offset: usize,
    /// Length of the statement's text (without the closing semicolon).
    pub len: usize,
    /// Added to a node's `location` to get a byte offset in the file.
    pub location_base: usize,
    pub node: NodeEnum,
}

/// A statement PostgreSQL's parser rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The failing statement's byte range in the file.
    pub offset: usize,
    pub len: usize,
    /// The failing token's byte range in the file (the statement start when unknown).
    pub at: (usize, usize),
    pub message: String,
}

// Nearly every item is a statement: boxing it would cost an allocation per statement.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Item {
    Statement(Statement),
    Error(SyntaxError),
}

impl Item {
    pub fn span(&self) -> (usize, usize) {
        match self {
            Item::Statement(s) => (s.offset, s.offset + s.len),
            Item::Error(e) => (e.offset, e.offset + e.len),
        }
    }
}

/// Parses one file (or one chunk of a file starting at byte `base`).
pub fn parse_text(text: &str, base: usize) -> Vec<Item> {
    let parsed = parse_script_recovering(text);
    let recovered = parsed
        .iter()
        .any(|p| matches!(p, ParsedStatement::Error { .. }));
    parsed
        .into_iter()
        .map(|p| match p {
            ParsedStatement::Statement(s) => Item::Statement(Statement {
                offset: base + s.offset,
                len: s.text.len(),
                // After a syntax error every statement was parsed on its own.
                location_base: if recovered { base + s.offset } else { base },
                node: s.node,
            }),
            ParsedStatement::Error { error, text } => {
                let (a, b) = locate_error(text, &error.message);
                let start = base + error.offset;
                Item::Error(SyntaxError {
                    offset: start,
                    len: text.len(),
                    at: (start + a, start + b),
                    message: error.message,
                })
            }
        })
        .collect()
}

/// Parses many files on `threads` threads. Results are handed to `consume` in file order, as
/// soon as each file and all files before it are parsed, so replay overlaps parsing.
pub fn parse_files_with(
    texts: &[&str],
    threads: usize,
    mut consume: impl FnMut(usize, Vec<Item>) + Send,
) {
    run(texts, threads, |i, items| {
        consume(i, items);
        None
    });
}

/// Like [`parse_files_with`], but the items are lent to `consume` and freed afterwards by the
/// thread that parsed them.
pub fn parse_files_each(
    texts: &[&str],
    threads: usize,
    mut consume: impl FnMut(usize, &[Item]) + Send,
) {
    run(texts, threads, |i, items| {
        consume(i, &items);
        Some(items)
    });
}

/// `consume` returns what is left to free. The calling thread is one of the `threads`.
fn run(
    texts: &[&str],
    threads: usize,
    mut consume: impl FnMut(usize, Vec<Item>) -> Option<Vec<Item>> + Send,
) {
    let jobs = plan_jobs(texts, threads);
    // One core: parse, consume and free each file in turn, on the calling thread. (Parsing on
    // a helper thread, in turns, kept the trees in a glibc arena of their own, but whenever
    // the scheduler put the two threads on different cores every tree crossed cores: a third
    // of the runs took 1.6 times as long. The lint binary's allocator, mimalloc, does not
    // need the separate arena.)
    if jobs.len() <= 1 || threads <= 1 {
        for (i, text) in texts.iter().enumerate() {
            drop(consume(i, parse_text(text, 0)));
        }
    } else if jobs.len() == texts.len() {
        in_turns(texts, threads, consume);
    } else {
        pipeline(texts, &jobs, threads, consume);
    }
}

/// Many files: every thread parses the next file nobody has taken, waits for its turn, consumes
/// it and frees it, then takes another. Consuming stays in file order, one file at a time; each
/// parse tree is made, read and freed by one thread, in its own cache and its own allocator
/// arena. (Handing trees from parsing threads to one consuming thread cost more in moving
/// memory between cores than the parsing it spread.)
fn in_turns(
    texts: &[&str],
    threads: usize,
    consume: impl FnMut(usize, Vec<Item>) -> Option<Vec<Item>> + Send,
) {
    struct Turn<F> {
        /// The file whose turn it is.
        next: usize,
        /// A thread panicked: nobody waits for its file.
        failed: bool,
        consume: F,
    }
    let claimed = AtomicUsize::new(0);
    let turn = Mutex::new(Turn {
        next: 0,
        failed: false,
        consume,
    });
    let turned = Condvar::new();
    let fail = |payload| -> ! {
        if let Ok(mut t) = turn.lock() {
            t.failed = true;
        }
        turned.notify_all();
        std::panic::resume_unwind(payload)
    };
    let work = || {
        loop {
            let file = claimed.fetch_add(1, Ordering::Relaxed);
            if file >= texts.len() {
                return;
            }
            let items = std::panic::catch_unwind(|| parse_text(texts[file], 0))
                .unwrap_or_else(|payload| fail(payload));
            let Ok(mut guard) = turn.lock() else { return };
            while guard.next != file && !guard.failed {
                guard = match turned.wait(guard) {
                    Ok(guard) => guard,
                    Err(_) => return,
                };
            }
            if guard.failed {
                return;
            }
            let t = &mut *guard;
            let left = std::panic::catch_unwind(AssertUnwindSafe(|| (t.consume)(file, items)));
            match left {
                Ok(left) => {
                    guard.next += 1;
                    drop(guard);
                    turned.notify_all();
                    // Outside the lock: the next file's turn has begun.
                    drop(left);
                }
                Err(payload) => {
                    guard.failed = true;
                    drop(guard);
                    turned.notify_all();
                    std::panic::resume_unwind(payload);
                }
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
}

/// Few files cut into chunks: the calling thread consumes in order and, while the next file is
/// not parsed yet, parses the next chunk itself; the other threads parse ahead and free what the
/// consumer is done with.
fn pipeline(
    texts: &[&str],
    jobs: &[Job],
    threads: usize,
    mut consume: impl FnMut(usize, Vec<Item>) -> Option<Vec<Item>>,
) {
    let next = AtomicUsize::new(0);
    let parse_job = |j: usize| {
        let job = &jobs[j];
        parse_text(&texts[job.file][job.start..job.end], job.start)
    };
    let (tx, rx) = mpsc::channel::<(usize, Vec<Item>)>();
    let (trash, trash_rx) = mpsc::channel::<Vec<Item>>();
    let trash_rx = Mutex::new(trash_rx);
    std::thread::scope(|scope| {
        // Moved in, so that it closes (and the helpers finish) even if `consume` panics.
        let trash = trash;
        for _ in 1..threads {
            let tx = tx.clone();
            let (jobs, next, parse_job, trash_rx) = (&jobs, &next, &parse_job, &trash_rx);
            scope.spawn(move || {
                loop {
                    free(trash_rx, false);
                    let j = next.fetch_add(1, Ordering::Relaxed);
                    if j >= jobs.len() || tx.send((j, parse_job(j))).is_err() {
                        break;
                    }
                }
                free(trash_rx, true);
            });
        }
        drop(tx);
        // Reassemble in job order; jobs of one file are contiguous.
        let mut done: Vec<Option<Vec<Item>>> = vec![None; jobs.len()];
        let mut emit = 0;
        let mut current: Vec<Item> = Vec::new();
        while emit < jobs.len() {
            let Some(items) = done[emit].take() else {
                while let Ok((j, items)) = rx.try_recv() {
                    done[j] = Some(items);
                }
                if done[emit].is_some() {
                    continue;
                }
                let j = next.fetch_add(1, Ordering::Relaxed);
                if j < jobs.len() {
                    done[j] = Some(parse_job(j));
                } else {
                    match rx.recv() {
                        Ok((j, items)) => done[j] = Some(items),
                        // A helper died (it panicked): the scope reports it.
                        Err(_) => break,
                    }
                }
                continue;
            };
            let job = &jobs[emit];
            current.extend(items);
            let last_of_file = jobs.get(emit + 1).is_none_or(|n| n.file != job.file);
            emit += 1;
            if last_of_file {
                let mut items = std::mem::take(&mut current);
                // A file cut into chunks: a chunk boundary that broke a statement shows as
                // a syntax error; parse the file whole in that case.
                if job.start > 0 && items.iter().any(|i| matches!(i, Item::Error(_))) {
                    let _ = trash.send(items);
                    items = parse_text(texts[job.file], 0);
                }
                if let Some(left) = consume(job.file, items) {
                    let _ = trash.send(left);
                }
            }
        }
    });
}

/// Frees what the consumer is done with: what is queued, or (`wait`) everything until the
/// consumer is finished.
fn free(trash: &Mutex<mpsc::Receiver<Vec<Item>>>, wait: bool) {
    let Ok(trash) = trash.lock() else { return };
    if wait {
        trash.iter().for_each(drop);
    } else {
        while let Ok(items) = trash.try_recv() {
            drop(items);
        }
    }
}

/// Parses every file, in parallel; results in file order.
pub fn parse_files(texts: &[&str], threads: usize) -> Vec<Vec<Item>> {
    let mut out = vec![Vec::new(); texts.len()];
    parse_files_with(texts, threads, |i, items| out[i] = items);
    out
}

#[derive(Debug, Clone, Copy)]
struct Job {
    file: usize,
    start: usize,
    end: usize,
}

/// Files become jobs; a large file is cut at statement boundaries into chunks of about
/// `CHUNK` bytes so that one big migration still uses every core.
fn plan_jobs(texts: &[&str], threads: usize) -> Vec<Job> {
    const CHUNK: usize = 256 * 1024;
    let mut jobs = Vec::new();
    for (file, text) in texts.iter().enumerate() {
        let mut start = 0;
        if threads > 1 && text.len() > 2 * CHUNK {
            for cut in statement_boundaries(text, CHUNK) {
                jobs.push(Job {
                    file,
                    start,
                    end: cut,
                });
                start = cut;
            }
        }
        jobs.push(Job {
            file,
            start,
            end: text.len(),
        });
    }
    jobs
}

/// Byte offsets just after a top-level `;`, at least `every` bytes apart. A small lexer skips
/// quotes, dollar quotes and comments; where it is wrong (a `BEGIN ATOMIC` body), the chunk
/// fails to parse and the file is parsed whole.
pub fn statement_boundaries(text: &str, every: usize) -> Vec<usize> {
    let b = text.as_bytes();
    let mut cuts = Vec::new();
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                let escapes = i > 0 && (b[i - 1] == b'e' || b[i - 1] == b'E');
                i += 1;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while i < b.len() && depth > 0 {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 1;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 1;
                    }
                    i += 1;
                }
                continue;
            }
            b'$' if i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') => {
                let tag_end = b[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                    .map(|p| i + 1 + p);
                if let Some(end) = tag_end {
                    let first_is_digit = b.get(i + 1).is_some_and(u8::is_ascii_digit);
                    if b[end] == b'$' && !first_is_digit {
                        let tag = &text[i..=end];
                        match text[end + 1..].find(tag) {
                            Some(close) => i = end + 1 + close + tag.len() - 1,
                            None => return cuts,
                        }
                    }
                }
            }
            b';' if i + 1 - last >= every => {
                cuts.push(i + 1);
                last = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    cuts.retain(|&c| c < text.len());
    cuts
}

/// The failing token of a statement PostgreSQL rejects, as a byte range within `text`.
///
/// pg_query's error carries no position. PostgreSQL's parser is LALR(1), so it stops at the
/// first token that cannot continue a valid prefix: the shortest failing prefix of the
/// statement's tokens ends at that token, and a binary search over prefixes finds it with a
/// few parses of one statement. When the scanner itself fails (an unterminated quote), the
/// text the message quotes is searched; then a bisection over prefixes finds where the scanner
/// stops. (sqlparser used to be asked last; its backtracking took 12 minutes on a 484-byte
/// statement the fuzzer found.)
pub fn locate_error(text: &str, message: &str) -> (usize, usize) {
    if text.is_empty() {
        return (0, 0);
    }
    if message.contains("at end of input") {
        let end = text.trim_end().len();
        let last = text[..end].char_indices().last().map_or(0, |(i, _)| i);
        return (last, end);
    }
    if let Some(spans) = token_spans(text) {
        let fails_within = |k: usize| -> bool {
            let end = spans[k - 1].1;
            match pg_query::parse(&text[..end], 0) {
                Ok(_) => false,
                Err(e) => !e.to_string().contains("at end of input"),
            }
        };
        if !spans.is_empty() && fails_within(spans.len()) {
            let (mut lo, mut hi) = (1, spans.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if fails_within(mid) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return spans[lo - 1];
        }
    }
    // An unfinished token is quoted to the end of the script, trailing blanks the statement's
    // text does not have included.
    if let Some(near) = quoted_near(message).map(str::trim_end)
        && !near.is_empty()
        && let Some(at) = text.find(near)
    {
        let len = near.lines().next().map_or(near.len(), str::len).max(1);
        return (at, (at + len).min(text.len()));
    }
    if let Some(at) = scanner_stop(text) {
        let end = text[at..]
            .find(|c: char| c.is_whitespace())
            .map_or(text.len(), |n| at + n.max(1));
        return (at, end);
    }
    let first_line = text.find('\n').unwrap_or(text.len());
    (0, first_line)
}

/// Where PostgreSQL's scanner stops on `text`, as a byte offset: the end of a prefix it scans
/// whose next character it cannot (an unterminated quote or comment begins there). `None` when
/// all of it scans. A bisection over character boundaries, so a few scans whatever the text;
/// with one unterminated token that is where it starts (with several quotes before it, a place
/// where scanning breaks: this is the last resort, after the message's quoted text).
fn scanner_stop(text: &str) -> Option<usize> {
    if token_spans(text).is_some() {
        return None;
    }
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    // The empty prefix scans; the whole text does not.
    let (mut lo, mut hi) = (0, boundaries.len() - 1);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if token_spans(&text[..boundaries[mid]]).is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let stop = boundaries[lo];
    // A token that ends where the scanner stops, with nothing between, is the start of the
    // broken one (`/` of `/*`, `x` of `x'...`).
    match token_spans(&text[..stop])?.last() {
        Some(&(start, end)) if end == stop && start < stop => Some(start),
        _ => Some(stop),
    }
}

/// The byte ranges of `text`'s tokens by PostgreSQL's scanner; `None` when it fails (an
/// unterminated quote or comment). The scanner is given `text` followed by a line break and a
/// `;`, which closes a line comment and is itself a token: pg_query's scan of a text without
/// any token (empty, white space, a comment) reads a null buffer (undefined behaviour, found by
/// the fuzzer).
fn token_spans(text: &str) -> Option<Vec<(usize, usize)>> {
    let tokens = pg_query::scan_tokens(&format!("{text}\n;")).ok()?;
    Some(
        tokens
            .iter()
            .filter_map(|t| Some((usize::try_from(t.start).ok()?, usize::try_from(t.end).ok()?)))
            .filter(|(a, b)| a < b && *b <= text.len())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str, message: &str) -> String {
        let (a, b) = locate_error(text, message);
        text[a..b].to_string()
    }

    #[test]
    fn failing_token_is_found_by_bisection() {
        let sql = "CREATE TABLE t (\n  id uuid PRIMARY KEY,\n  name text NOT NULL DEFALT 'x'\n)";
        let message = pg_query::parse(sql, 0).expect_err("broken").to_string();
        assert_eq!(token(sql, &message), "DEFALT");
        let sql = "SELEC 1";
        let message = pg_query::parse(sql, 0).expect_err("broken").to_string();
        assert_eq!(token(sql, &message), "SELEC");
        let sql = "CREATE TABLE t (id int,";
        let message = pg_query::parse(sql, 0).expect_err("broken").to_string();
        assert_eq!(token(sql, &message), ",");
    }

    #[test]
    fn where_the_scanner_stops_is_found_by_bisection() {
        assert_eq!(scanner_stop("SELECT 1"), None);
        assert_eq!(scanner_stop("SELECT 'é"), Some(7));
        assert_eq!(scanner_stop("'"), Some(0));
        // Prefixes without a token (white space, a comment) are scanned safely.
        assert_eq!(scanner_stop("\u{b}\u{b}\n -- c\n'x"), Some(9));
        assert_eq!(token_spans(""), Some(vec![]));
        assert_eq!(scanner_stop("SELECT 1 /* open"), Some(9));
        assert_eq!(scanner_stop("SELECT x'0f"), Some(7));
        // Without a quoted text in the message, the bisection points at the opening quote.
        assert_eq!(token("SELECT 'abc", "syntax error"), "'abc");
    }

    #[test]
    fn scanner_errors_use_the_quoted_text() {
        let sql = "SELECT 'abc";
        let message = pg_query::parse(sql, 0).expect_err("broken").to_string();
        assert_eq!(token(sql, &message), "'abc");
    }

    #[test]
    fn boundaries_skip_quotes_comments_and_dollar_bodies() {
        let sql = "SELECT ';';\n-- a;b\nSELECT $x$ ; $x$; /* ; /* ; */ ; */ SELECT E'\\';'; SELECT \"a;\"; SELECT $1;";
        let cuts = statement_boundaries(sql, 1);
        let ends: Vec<&str> = cuts
            .iter()
            .map(|&c| &sql[..c])
            .map(|s| &s[s.len() - 4..])
            .collect();
        assert_eq!(ends, vec!["';';", "$x$;", "';';", "a;\";"]);
    }

    #[test]
    fn chunked_parallel_parse_equals_serial_parse() {
        let mut sql = String::new();
        for i in 0..4000 {
            sql.push_str(&format!(
                "CREATE TABLE t{i} (id uuid PRIMARY KEY, body text DEFAULT 'a;b');\nCREATE FUNCTION f{i}() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"
            ));
        }
        let serial = parse_text(&sql, 0);
        let parallel = parse_files(&[sql.as_str(), "SELECT 1;"], 2);
        assert_eq!(parallel[1].len(), 1);
        assert_eq!(parallel[0].len(), serial.len());
        for (a, b) in parallel[0].iter().zip(&serial) {
            assert_eq!(a.span(), b.span());
            if let (Item::Statement(a), Item::Statement(b)) = (a, b) {
                // Node locations are relative to the parsed chunk; the text must be the same.
                assert_eq!(
                    a.node.deparse(Default::default()).ok(),
                    b.node.deparse(Default::default()).ok()
                );
            }
        }
    }
}
