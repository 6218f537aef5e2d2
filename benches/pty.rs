//! Triage at scale, measured from outside: the release `deskterm` binary in a
//! 200x60 pseudo-terminal against `deskterm serve` on a generated helpdesk,
//! with `fzf --exact` on the same tickets side by side.
//!
//! ```text
//! cargo bench --bench pty -- --tickets 100000
//! cargo bench --bench pty -- --tickets 1000000 --db /var/tmp/deskterm-bench/1m.db
//! cargo bench --bench pty -- --tickets 100000 --only search,fzf --json out.json
//! ```
//!
//! The definitions of every figure are in BENCHMARKS.md ("Triage at scale").
//! Key -> last byte is the time from writing the key to the pty until the
//! last byte of the response, the response being over after `--quiet-ms` of
//! silence; nothing is subtracted. Every wait has a timeout, and the server
//! and the clients are killed at the end, on error too.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use serde::Serialize;

const COLS: u16 = 200;
const ROWS: u16 = 60;
/// The characters typed into the search, one at a time, in both programs.
const QUERY: &str = "lote 12";

/// A key scenario: `round` is typed `--reps` times (after one round of warm-up),
/// each key measured. `None` when the client has no such feature yet.
struct Scenario {
    name: &'static str,
    what: &'static str,
    round: Option<&'static [Key]>,
}

/// A key as the operator names it, and the bytes a terminal sends for it.
type Key = (&'static str, &'static str);

const PAGE_DOWN: Key = ("PgDn", "\x1b[6~");
const PAGE_UP: Key = ("PgUp", "\x1b[5~");
const ENTER: Key = ("Enter", "\r");

/// The key scenarios: a new one is one line.
const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "move",
        what: "j/k in the list",
        round: Some(&[
            ("j", "j"),
            ("j", "j"),
            ("j", "j"),
            ("j", "j"),
            ("k", "k"),
            ("k", "k"),
            ("k", "k"),
            ("k", "k"),
        ]),
    },
    Scenario {
        name: "page",
        what: "PageDown/PageUp",
        round: Some(&[PAGE_DOWN, PAGE_DOWN, PAGE_UP, PAGE_UP]),
    },
    Scenario {
        name: "search",
        what: "/ then `lote 12` char by char, Enter, x",
        round: Some(&[
            ("/", "/"),
            ("l", "l"),
            ("o", "o"),
            ("t", "t"),
            ("e", "e"),
            ("space", " "),
            ("1", "1"),
            ("2", "2"),
            ENTER,
            ("x", "x"),
        ]),
    },
    Scenario {
        name: "sort",
        what: "s k Enter (by created), s j Enter (back to updated)",
        round: Some(&[("s", "s"), ("k", "k"), ENTER, ("s", "s"), ("j", "j"), ENTER]),
    },
    Scenario {
        name: "filter",
        what: "C space Enter (status New), x",
        round: Some(&[("C", "C"), ("space", " "), ENTER, ("x", "x")]),
    },
    Scenario {
        name: "view",
        what: "2 (Unassigned), 4 (All open), x",
        round: Some(&[("2", "2"), ("4", "4"), ("x", "x")]),
    },
];

/// Every part of the run, for `--only`.
const PARTS: &[&str] = &[
    "cold", "warm", "idle", "rss", "noop", "move", "page", "search", "sort", "filter", "view",
    "remote", "fzf",
];

#[derive(Parser, Debug)]
#[command(about = "deskterm at scale in a pty, with fzf side by side")]
struct Args {
    /// Tickets in the generated helpdesk.
    #[arg(long, default_value_t = 100_000)]
    tickets: u64,
    /// Server database to use; generated (and kept) when missing. Without it
    /// a temporary one is generated and deleted at the end. A PostgreSQL URL
    /// names an empty database, generated into on every run (the parts
    /// `search` and `fzf` read an SQLite file, and need one).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Seed of the generated helpdesk.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only these parts, comma-separated (cold, warm, idle, rss, noop, move,
    /// page, search, sort, filter, view, remote, fzf).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Measured rounds of each key scenario.
    #[arg(long, default_value_t = 20)]
    reps: usize,
    /// Silence that ends a response, in milliseconds.
    #[arg(long, default_value_t = 150)]
    quiet_ms: u64,
    /// Longest wait for the first byte of a response, in seconds.
    #[arg(long, default_value_t = 60)]
    key_timeout: u64,
    /// Longest wait for the cold sync, in seconds.
    #[arg(long, default_value_t = 300)]
    sync_timeout: u64,
    /// Seconds of no input for the idle figures.
    #[arg(long, default_value_t = 10)]
    idle_secs: u64,
    /// Seconds of remote changes at 50 a second.
    #[arg(long, default_value_t = 10)]
    remote_secs: u64,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The deskterm binary (default: the release build next to this bench).
    #[arg(long)]
    bin: Option<PathBuf>,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == part)
    }

    fn quiet(&self) -> Duration {
        Duration::from_millis(self.quiet_ms)
    }

    fn key_timeout(&self) -> Duration {
        Duration::from_secs(self.key_timeout)
    }
}

// ---------------------------------------------------------------- results

/// Statistics of a list of millisecond samples.
#[derive(Debug, Clone, Default, Serialize)]
struct Stats {
    n: usize,
    p50: Option<f64>,
    p99: Option<f64>,
    max: Option<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // Nearest rank.
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn stats(samples: &[f64]) -> Stats {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    Stats {
        n: sorted.len(),
        p50: percentile(&sorted, 0.50),
        p99: percentile(&sorted, 0.99),
        max: sorted.last().copied(),
    }
}

#[derive(Debug, Default, Serialize)]
struct KeyResult {
    scenario: String,
    what: String,
    /// Per key name, every sample in ms.
    samples: BTreeMap<String, Vec<f64>>,
    all: Stats,
    /// Keys that got no output within the key timeout.
    no_output: usize,
    /// Search keys whose final count never showed (measured to silence instead).
    unconfirmed: usize,
    /// Bytes written per key, mean.
    mean_bytes: f64,
    skipped: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    tickets: u64,
    db: String,
    machine: BTreeMap<String, String>,
    generate_secs: Option<f64>,
    quiet_ms: u64,
    cold_first_rows_ms: Option<f64>,
    cold_synced_ms: Option<f64>,
    cold_note: Option<String>,
    rss_after_cold_sync_kb: Option<u64>,
    warm_first_frame_ms: Option<f64>,
    warm_synced_ms: Option<f64>,
    warm_note: Option<String>,
    rss_after_warm_kb: Option<u64>,
    rss_peak_kb: Option<u64>,
    idle_bytes: Option<u64>,
    idle_cpu_ms: Option<f64>,
    idle_secs: u64,
    noop_bytes: Option<u64>,
    keys: Vec<KeyResult>,
    search_chars: Vec<(String, Stats)>,
    fzf_chars: Vec<(String, Stats)>,
    fzf_note: Option<String>,
    /// Tickets each prefix of the query matches: deskterm's rule, fzf's rule.
    query_matches: Vec<(String, u64, u64)>,
    remote: Option<RemoteResult>,
    notes: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
struct RemoteResult {
    sent: usize,
    seen: usize,
    /// Seen only through a later change of the same ticket.
    superseded: usize,
    /// Not on the screen a minute after the last change was sent.
    missing: usize,
    rate_per_s: f64,
    latency: Stats,
}

// ---------------------------------------------------------------- processes

/// A process killed when dropped.
struct Guarded(Child);

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Shared between a pty's reader thread and the harness.
struct Screen {
    parser: vt100::Parser,
    bytes: u64,
    last_byte: Option<Instant>,
    closed: bool,
    /// Remote changes waiting to show up.
    watches: Vec<Watch>,
}

/// A remote change: its marker, and when it was sent and seen.
struct Watch {
    ticket: i64,
    seq: usize,
    marker: String,
    sent: Instant,
    seen: Option<Instant>,
    superseded: bool,
}

impl Screen {
    fn check_watches(&mut self, now: Instant) {
        if self.watches.iter().all(|w| w.seen.is_some()) {
            return;
        }
        let text = self.parser.screen().contents();
        let mut newest_seen: BTreeMap<i64, usize> = BTreeMap::new();
        for w in self.watches.iter_mut() {
            if w.seen.is_none() && text.contains(&w.marker) {
                w.seen = Some(now);
            }
            if w.seen.is_some() {
                let n = newest_seen.entry(w.ticket).or_default();
                *n = (*n).max(w.seq);
            }
        }
        // A change overtaken by a later one of the same ticket counts as seen with it.
        for w in self.watches.iter_mut() {
            if w.seen.is_none() && newest_seen.get(&w.ticket).is_some_and(|n| *n > w.seq) {
                w.seen = Some(now);
                w.superseded = true;
            }
        }
    }
}

/// A program in a pseudo-terminal, its output parsed by vt100 as it arrives.
struct Pty {
    shared: Arc<(Mutex<Screen>, Condvar)>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
    started: Instant,
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many leading bytes end on a whole UTF-8 character.
fn whole_chars(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let i = bytes.len() - back;
        let b = bytes[i];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let len = match b {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        return if back < len { i } else { bytes.len() };
    }
    bytes.len()
}

impl Pty {
    fn spawn(cmd: CommandBuilder) -> anyhow::Result<Pty> {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| anyhow::anyhow!("cannot open a pty: {e}"))?;
        let started = Instant::now();
        let child = pty
            .slave
            .spawn_command(cmd)
            .map_err(|e| anyhow::anyhow!("cannot start the program in the pty: {e}"))?;
        drop(pty.slave);
        let mut reader = pty
            .master
            .try_clone_reader()
            .map_err(|e| anyhow::anyhow!("pty reader: {e}"))?;
        let writer = pty
            .master
            .take_writer()
            .map_err(|e| anyhow::anyhow!("pty writer: {e}"))?;
        let shared = Arc::new((
            Mutex::new(Screen {
                parser: vt100::Parser::new(ROWS, COLS, 0),
                bytes: 0,
                last_byte: None,
                closed: false,
                watches: Vec::new(),
            }),
            Condvar::new(),
        ));
        let for_reader = shared.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let mut pending: Vec<u8> = Vec::new();
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let now = Instant::now();
                let (lock, cond) = &*for_reader;
                let Ok(mut s) = lock.lock() else { break };
                pending.extend_from_slice(&buf[..n]);
                let whole = whole_chars(&pending);
                s.parser.process(&pending[..whole]);
                pending.drain(..whole);
                s.bytes += n as u64;
                s.last_byte = Some(now);
                s.check_watches(now);
                cond.notify_all();
            }
            let (lock, cond) = &*for_reader;
            if let Ok(mut s) = lock.lock() {
                s.closed = true;
            }
            cond.notify_all();
        });
        Ok(Pty {
            shared,
            writer,
            child,
            _master: pty.master,
            started,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Screen> {
        match self.shared.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Waits for news from the reader for at most `d`.
    fn wait<'a>(&'a self, guard: MutexGuard<'a, Screen>, d: Duration) -> MutexGuard<'a, Screen> {
        match self.shared.1.wait_timeout(guard, d) {
            Ok((g, _)) => g,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    fn text(&self) -> String {
        self.lock().parser.screen().contents()
    }

    fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    fn send(&mut self, bytes: &str) -> anyhow::Result<()> {
        self.writer
            .write_all(bytes.as_bytes())
            .context("writing to the pty")?;
        self.writer.flush().context("writing to the pty")
    }

    /// Waits until the screen satisfies `ok`; the time since start (or
    /// since `from`) of the output that made it so, or `None` on timeout or exit.
    fn wait_screen(
        &self,
        from: Instant,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> Option<Duration> {
        let deadline = Instant::now() + timeout;
        let mut s = self.lock();
        loop {
            if ok(&s.parser.screen().contents()) {
                let at = s.last_byte.unwrap_or_else(Instant::now);
                return Some(at.saturating_duration_since(from));
            }
            let now = Instant::now();
            if now >= deadline || s.closed {
                eprintln!(
                    "gave up waiting after {:.1} s; the screen:\n{}",
                    from.elapsed().as_secs_f64(),
                    s.parser.screen().contents()
                );
                return None;
            }
            s = self.wait(s, (deadline - now).min(Duration::from_millis(200)));
        }
    }

    /// Waits until nothing has been written for `quiet` (at most `timeout`).
    fn settle(&self, quiet: Duration, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut s = self.lock();
        loop {
            let now = Instant::now();
            let since = s
                .last_byte
                .map_or(quiet, |t| now.saturating_duration_since(t));
            if since >= quiet || now >= deadline || s.closed {
                return;
            }
            s = self.wait(s, quiet - since);
        }
    }

    /// Writes `key` and measures until the last byte of the response, which
    /// ends after `quiet` of silence. `None` when nothing came within `first`.
    fn measure(
        &mut self,
        key: &str,
        quiet: Duration,
        first: Duration,
    ) -> anyhow::Result<Option<(Duration, u64)>> {
        self.settle(quiet, Duration::from_secs(30));
        let before = self.bytes();
        let t0 = Instant::now();
        self.send(key)?;
        let mut s = self.lock();
        // The first byte.
        loop {
            if s.bytes > before {
                break;
            }
            let waited = t0.elapsed();
            if waited >= first || s.closed {
                return Ok(None);
            }
            s = self.wait(s, first - waited);
        }
        // Then silence; a response is never awaited for more than ten minutes.
        let cap = t0 + Duration::from_secs(600);
        loop {
            let now = Instant::now();
            let last = s.last_byte.unwrap_or(now);
            let since = now.saturating_duration_since(last);
            if since >= quiet || now >= cap || s.closed {
                return Ok(Some((last.saturating_duration_since(t0), s.bytes - before)));
            }
            s = self.wait(s, quiet - since);
        }
    }

    /// Like [`Pty::measure`], for a key whose answer is recognised on the
    /// screen: the response ends after `quiet` of silence once `done` holds
    /// (programs that search in the background draw in several steps). The
    /// bool says whether `done` held before `done_timeout`.
    fn measure_until(
        &mut self,
        key: &str,
        quiet: Duration,
        done_timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> anyhow::Result<Option<(Duration, u64, bool)>> {
        self.settle(quiet, Duration::from_secs(30));
        let before = self.bytes();
        let t0 = Instant::now();
        self.send(key)?;
        let mut s = self.lock();
        let mut confirmed = false;
        loop {
            if s.bytes > before && done(&s.parser.screen().contents()) {
                confirmed = true;
                break;
            }
            let waited = t0.elapsed();
            if waited >= done_timeout || s.closed {
                break;
            }
            s = self.wait(s, (done_timeout - waited).min(Duration::from_millis(200)));
        }
        if s.bytes == before {
            return Ok(None);
        }
        let cap = Instant::now() + Duration::from_secs(600);
        loop {
            let now = Instant::now();
            let last = s.last_byte.unwrap_or(now);
            let since = now.saturating_duration_since(last);
            if since >= quiet || now >= cap || s.closed {
                return Ok(Some((
                    last.saturating_duration_since(t0),
                    s.bytes - before,
                    confirmed,
                )));
            }
            s = self.wait(s, quiet - since);
        }
    }

    /// Bytes written in the `window` after `key`.
    fn bytes_after(&mut self, key: &str, quiet: Duration, window: Duration) -> anyhow::Result<u64> {
        self.settle(quiet, Duration::from_secs(30));
        let before = self.bytes();
        self.send(key)?;
        std::thread::sleep(window);
        Ok(self.bytes() - before)
    }

    /// Quits with `q`, then kills the process if it is still there after 10 s.
    fn quit(mut self) {
        let _ = self.send("q");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("the client did not quit within 10 s: killed");
    }
}

// ---------------------------------------------------------------- /proc

/// User plus system CPU time of a process, all threads.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces, in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ticks = u64::try_from(ticks).ok().filter(|t| *t > 0)?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / ticks as f64,
    ))
}

/// A `kB` line of /proc/PID/status (`VmRSS`, `VmHWM`).
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn machine() -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    if let Some(model) = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
    {
        m.insert("cpu".into(), model.1.trim().to_owned());
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    m.insert("cores".into(), cores.to_string());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(total) = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:")) {
        m.insert("memory".into(), total.trim().to_owned());
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        m.insert("load at start".into(), load.trim().to_owned());
    }
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        m.insert("kernel".into(), v.trim().to_owned());
    }
    m
}

// ---------------------------------------------------------------- screens

/// The references of the ticket rows shown in the list, top to bottom: a
/// row starts with the border, two flag cells and a space.
fn listed_references(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter(|l| l.starts_with('│'))
        .filter_map(|l| {
            // In characters: the flags may be wide in bytes.
            let chars: Vec<char> = l.chars().take(40).collect();
            let at = chars.windows(3).position(|w| w == ['H', 'D', '-'])?;
            let reference: String = chars[at..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '-')
                .collect();
            (at <= 6).then_some(reference)
        })
        .collect()
}

/// `view/total` of the header's `│ 12/345 tickets`.
fn header_counts(screen: &str) -> Option<(u64, u64)> {
    let first = screen.lines().next()?;
    let before = first.split(" tickets").next()?;
    let counts = before.rsplit(' ').next()?;
    let (view, total) = counts.split_once('/')?;
    Some((view.parse().ok()?, total.parse().ok()?))
}

/// fzf's info line, `  900125/1000000`, once its search is over (while it
/// runs a percentage follows the counts).
fn fzf_count(screen: &str, total: u64) -> Option<u64> {
    let total = format!("/{total}");
    let line = screen.lines().find(|l| l.contains(&total))?;
    if line.contains("%)") {
        return None;
    }
    let before = line.split(&total).next()?;
    before.trim().rsplit(' ').next()?.parse().ok()
}

/// Latin letters without their accents, as fzf compares them.
fn unaccent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        c => c,
    }
}

/// For each prefix of [`QUERY`], how many tickets match it: as deskterm
/// searches (every word fuzzily over the folded reference, title, contact
/// and category, as the query language does, on `texts`) and as `fzf
/// --exact` does on `lines` (every term, any case, accents ignored).
fn expected_counts(lines: &[String], texts: &[String]) -> (Vec<u64>, Vec<u64>) {
    let prefixes: Vec<Vec<String>> = (1..=QUERY.chars().count())
        .map(|n| {
            let typed: String = QUERY.chars().take(n).collect();
            typed.split_whitespace().map(str::to_owned).collect()
        })
        .collect();
    let (mut desk, mut fzf) = (vec![0u64; prefixes.len()], vec![0u64; prefixes.len()]);
    let fuzzy: Vec<Vec<deskterm::query::lang::FuzzyWord>> = prefixes
        .iter()
        .map(|words| {
            words
                .iter()
                .map(|w| deskterm::query::lang::FuzzyWord::new(w))
                .collect()
        })
        .collect();
    for (line, text) in lines.iter().zip(texts) {
        let lower = line.to_lowercase();
        let plain: String = lower.chars().map(unaccent).collect();
        for (i, words) in prefixes.iter().enumerate() {
            if fuzzy[i].iter().all(|w| w.matches(text)) {
                desk[i] += 1;
            }
            if words.iter().all(|w| plain.contains(w.as_str())) {
                fzf[i] += 1;
            }
        }
    }
    (desk, fzf)
}

// ---------------------------------------------------------------- the run

/// The tickets as lines for fzf, and the counts each prefix of the query finds.
struct Lines {
    path: PathBuf,
    count: u64,
    deskterm: Vec<u64>,
    fzf: Vec<u64>,
}

/// The longest a searching key waits for its final count on the screen.
const COUNT_TIMEOUT: Duration = Duration::from_secs(20);

struct Setup {
    bin: PathBuf,
    work: tempfile::TempDir,
    db: PathBuf,
    token: String,
    url: String,
    _server: Guarded,
}

fn deskterm(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_remove("DESKTERM_CONFIG")
        .env_remove("DESKTERM_SERVER_URL")
        .env_remove("DESKTERM_TOKEN")
        .env_remove("DESKTERM_DATA_DIR");
    cmd
}

fn run_out(mut cmd: Command, what: &str) -> anyhow::Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!("{what} failed: {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?.port())
}

fn setup(args: &Args, report: &mut Report) -> anyhow::Result<Setup> {
    let bin = match &args.bin {
        Some(b) => b.clone(),
        None => PathBuf::from(env!("CARGO_BIN_EXE_deskterm")),
    };
    if !bin.exists() {
        bail!(
            "no deskterm binary at {} (run `cargo build --release` first)",
            bin.display()
        );
    }
    let work = tempfile::Builder::new()
        .prefix("deskterm-bench-")
        .tempdir()
        .context("temp dir")?;
    let db = match &args.db {
        Some(db) => db.clone(),
        None => work.path().join("helpdesk.db"),
    };
    // A PostgreSQL database (`--db postgres://…`, empty) is generated into
    // on every run; its token is kept in the run's directory.
    let postgres = db.to_string_lossy().starts_with("postgres");
    let token_file = if postgres {
        work.path().join("token")
    } else {
        PathBuf::from(format!("{}.token", db.display()))
    };
    let token = if !postgres && db.exists() {
        eprintln!("reusing {}", db.display());
        match std::fs::read_to_string(&token_file) {
            Ok(t) => t.trim().to_owned(),
            Err(_) => {
                let mut cmd = deskterm(&bin);
                cmd.args(["token", "rotate", "--db"]).arg(&db).arg("1");
                let t = run_out(cmd, "deskterm token rotate")?;
                std::fs::write(&token_file, &t).context("keeping the token")?;
                t
            }
        }
    } else {
        eprintln!("generating {} tickets into {}", args.tickets, db.display());
        let started = Instant::now();
        let mut cmd = deskterm(&bin);
        cmd.args(["demo", "generate", "--tickets"])
            .arg(args.tickets.to_string())
            .arg("--seed")
            .arg(args.seed.to_string())
            .arg("--db")
            .arg(&db);
        let t = run_out(cmd, "deskterm demo generate")?;
        report.generate_secs = Some(started.elapsed().as_secs_f64());
        std::fs::write(&token_file, &t).context("keeping the token")?;
        t
    };

    let port = free_port()?;
    let listen = SocketAddr::from(([127, 0, 0, 1], port));
    let mut cmd = deskterm(&bin);
    cmd.arg("serve")
        .arg("--db")
        .arg(&db)
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--log")
        .arg("warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(work.path().join("server.log")).context("server log")?,
        ));
    if postgres {
        // A PostgreSQL database has no directory for the server's e-mail.
        let config = work.path().join("server.toml");
        std::fs::write(
            &config,
            format!("[mail]\nmaildir = {:?}\n", work.path().join("mail")),
        )
        .context("server config")?;
        cmd.arg("--config").arg(config);
    }
    let mut child = Guarded(cmd.spawn().context("cannot start deskterm serve")?);
    let stdout = child.0.stdout.take().context("server stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let listening = rx
        .recv_timeout(Duration::from_secs(60))
        .context("the server did not start within 60 s")?;
    if !listening.contains("listening") {
        bail!("unexpected first line from the server: {listening}");
    }
    Ok(Setup {
        bin,
        db,
        token,
        url: format!("http://{listen}"),
        _server: child,
        work,
    })
}

impl Setup {
    /// The client in a 200x60 pty with its own home and data directory.
    fn client(&self, home: &Path) -> anyhow::Result<Pty> {
        let mut cmd = CommandBuilder::new(&self.bin);
        for var in ["DESKTERM_CONFIG", "NO_COLOR"] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", home);
        cmd.env("XDG_CONFIG_HOME", home.join("config"));
        cmd.env("XDG_DATA_HOME", home.join("data"));
        cmd.env("DESKTERM_DATA_DIR", home.join("deskterm"));
        cmd.env("DESKTERM_SERVER_URL", &self.url);
        cmd.env("DESKTERM_TOKEN", &self.token);
        cmd.env("TERM", "xterm-256color");
        cmd.env("TZ", "UTC");
        cmd.cwd(home);
        Pty::spawn(cmd)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A list full of rows: every row the 200x60 list has room for, or every ticket.
fn screenful(tickets: u64) -> impl Fn(&str) -> bool {
    let rows = deskterm::tui::layout::list_rows(COLS, ROWS) as u64;
    let want = usize::try_from(rows.min(tickets)).unwrap_or(usize::MAX);
    move |screen| listed_references(screen).len() >= want
}

fn all_listed(tickets: u64) -> impl Fn(&str) -> bool {
    move |screen| header_counts(screen) == Some((tickets, tickets))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut report = Report {
        tickets: args.tickets,
        machine: machine(),
        quiet_ms: args.quiet_ms,
        idle_secs: args.idle_secs,
        ..Report::default()
    };
    let result = run(&args, &mut report);
    if let Err(e) = &result {
        report.notes.push(format!("stopped early: {e:#}"));
    }
    print_report(&report);
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    result
}

fn run(args: &Args, report: &mut Report) -> anyhow::Result<()> {
    let setup = setup(args, report)?;
    report.db = setup.db.display().to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let home = setup.work.path().join("home");
    std::fs::create_dir_all(&home)?;
    let n = args.tickets;
    let lines = if args.wants("search") || args.wants("fzf") {
        eprintln!("reading the tickets as lines…");
        let path = setup.work.path().join("lines.txt");
        let (all, texts) = rt.block_on(write_lines(&setup.db, &path))?;
        let (deskterm, fzf) = expected_counts(&all, &texts);
        report.query_matches = (1..=QUERY.chars().count())
            .map(|k| QUERY.chars().take(k).collect::<String>())
            .zip(deskterm.iter().zip(&fzf))
            .map(|(q, (d, f))| (q, *d, *f))
            .collect();
        Some(Lines {
            path,
            count: all.len() as u64,
            deskterm,
            fzf,
        })
    } else {
        None
    };

    // Cold start: an empty data directory.
    let mut synced = false;
    if args.wants("cold") || args.wants("rss") {
        eprintln!("cold start…");
        let cold = setup.client(&home)?;
        let from = cold.started;
        let limit = Duration::from_secs(args.sync_timeout);
        report.cold_first_rows_ms = cold.wait_screen(from, limit, screenful(n)).map(ms);
        let left = limit.saturating_sub(from.elapsed());
        report.cold_synced_ms = cold.wait_screen(from, left, all_listed(n)).map(ms);
        synced = report.cold_synced_ms.is_some();
        if !synced {
            report.cold_note = Some(format!(
                "not done after {} s; screen header: {}",
                args.sync_timeout,
                cold.text().lines().next().unwrap_or_default()
            ));
        } else {
            cold.settle(Duration::from_secs(2), Duration::from_secs(30));
            if let Some(pid) = cold.pid() {
                report.rss_after_cold_sync_kb = status_kb(pid, "VmRSS");
            }
        }
        cold.quit();
    }

    // Warm start: the cache the cold start left.
    let needs_client = PARTS
        .iter()
        .any(|p| !matches!(*p, "cold" | "fzf") && args.wants(p));
    if needs_client {
        if !synced {
            // The figures of a synced client can still be taken: its cache is
            // filled as a finished sync fills it, straight from the database.
            eprintln!("no synced cache: filling it from the database…");
            let started = Instant::now();
            let count = rt.block_on(seed_cache(&setup, &home.join("deskterm")))?;
            report.notes.push(format!(
                "no cold sync finished, so the cache of the warm start was filled \
                 from the database through the client's cache API ({count} tickets, {:.0} s): \
                 warm start and everything after it are those of a client whose sync finished",
                started.elapsed().as_secs_f64()
            ));
        }
        {
            eprintln!("warm start…");
            let mut warm = setup.client(&home)?;
            let from = warm.started;
            let limit = Duration::from_secs(args.sync_timeout);
            report.warm_first_frame_ms = warm.wait_screen(from, limit, screenful(n)).map(ms);
            report.warm_synced_ms = warm.wait_screen(from, limit, all_listed(n)).map(ms);
            if report.warm_synced_ms.is_none() {
                report.warm_note = Some(format!("not all {n} tickets listed after {limit:?}"));
            }
            // Connected and quiet before anything is measured.
            warm.wait_screen(from, Duration::from_secs(30), |s| s.contains(" connected "));
            warm.settle(Duration::from_secs(2), Duration::from_secs(60));
            if let Some(pid) = warm.pid() {
                report.rss_after_warm_kb = status_kb(pid, "VmRSS");
            }
            interactive(args, report, &mut warm, &setup, &rt, lines.as_ref())?;
            if let Some(pid) = warm.pid() {
                report.rss_peak_kb = status_kb(pid, "VmHWM");
            }
            warm.quit();
        }
    }

    if let Some(lines) = lines.as_ref().filter(|_| args.wants("fzf")) {
        fzf(args, report, &setup, lines)?;
    }
    Ok(())
}

/// Fills the client's cache for this server and token as a finished first
/// sync leaves it: the operator, the metadata and the feed position from the
/// API, every ticket read from the database (the API would page for hours).
async fn seed_cache(setup: &Setup, data_dir: &Path) -> anyhow::Result<u64> {
    use deskterm_api::{ContactRef, OperatorRef, Priority, Ticket};
    use sqlx::Row;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let get = async |path: &str| -> anyhow::Result<serde_json::Value> {
        let r = http
            .get(format!("{}/api/v1{path}", setup.url))
            .bearer_auth(&setup.token)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("GET {path}: {}", r.status());
        }
        Ok(r.json().await?)
    };
    let me: deskterm_api::Me = serde_json::from_value(get("/me").await?)?;
    let meta: deskterm_api::Meta = serde_json::from_value(get("/meta").await?)?;
    let since = get("/changes?limit=1").await?["latest_seq"]
        .as_i64()
        .context("latest_seq")?;

    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&setup.db)
        .read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let rows = sqlx::query(
        "SELECT t.id, t.reference, t.title, t.description, t.status, t.priority, \
         c.name AS category, t.tags, t.important, ct.id AS contact_id, ct.name AS contact_name, \
         ct.phone, ct.email, o.id AS operator_id, o.name AS operator_name, t.channel, \
         t.sla_due_at, t.created_at, t.updated_at, t.closed_at, t.version \
         FROM tickets t JOIN contacts ct ON ct.id = t.contact_id \
         LEFT JOIN categories c ON c.id = t.category_id \
         LEFT JOIN operators o ON o.id = t.operator_id",
    )
    .fetch_all(&pool)
    .await?;
    let time = |v: Option<String>| -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
        v.map(|t| {
            chrono::DateTime::parse_from_rfc3339(&t)
                .map(|t| t.with_timezone(&chrono::Utc))
                .with_context(|| format!("bad time {t:?}"))
        })
        .transpose()
    };
    let mut tickets = Vec::with_capacity(rows.len());
    for row in &rows {
        let rank: i64 = row.try_get("priority")?;
        let tags: String = row.try_get("tags")?;
        let operator_id: Option<i64> = row.try_get("operator_id")?;
        tickets.push(Ticket {
            id: row.try_get("id")?,
            reference: row.try_get("reference")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            status: row.try_get("status")?,
            priority: usize::try_from(rank)
                .ok()
                .and_then(|r| Priority::ALL.get(r).copied())
                .context("bad priority")?,
            category: row.try_get("category")?,
            tags: serde_json::from_str(&tags)?,
            important: row.try_get("important")?,
            contact: ContactRef {
                id: row.try_get("contact_id")?,
                name: row.try_get("contact_name")?,
                phone: row.try_get("phone")?,
                email: row.try_get("email")?,
            },
            operator: match operator_id {
                Some(id) => Some(OperatorRef {
                    id,
                    name: row.try_get("operator_name")?,
                }),
                None => None,
            },
            channel: row.try_get("channel")?,
            sla_due_at: time(row.try_get("sla_due_at")?)?,
            pending_until: None,
            sla_state: None,
            created_at: time(Some(row.try_get("created_at")?))?.context("created_at")?,
            updated_at: time(Some(row.try_get("updated_at")?))?.context("updated_at")?,
            closed_at: time(row.try_get("closed_at")?)?,
            version: row.try_get("version")?,
        });
    }
    drop(rows);
    pool.close().await;

    // The identity and file the console uses for a remote server.
    let identity = setup.url.trim();
    let path = deskterm::sync::cache::file_for(data_dir, identity, &setup.token);
    let opened = deskterm::sync::cache::Cache::open(&path).await?;
    opened.cache.set_backend(identity).await?;
    opened
        .cache
        .replace_all(
            &me,
            &meta,
            &tickets,
            &deskterm::backend::Cursor::new(since.to_string()),
        )
        .await?;
    opened.cache.close().await;
    Ok(tickets.len() as u64)
}

/// Everything measured on a running, synced client.
fn interactive(
    args: &Args,
    report: &mut Report,
    pty: &mut Pty,
    setup: &Setup,
    rt: &tokio::runtime::Runtime,
    lines: Option<&Lines>,
) -> anyhow::Result<()> {
    let quiet = args.quiet();
    let n = args.tickets;
    if args.wants("idle") {
        eprintln!("idle {} s…", args.idle_secs);
        let pid = pty.pid().context("client pid")?;
        let (b0, c0) = (pty.bytes(), cpu_time(pid));
        std::thread::sleep(Duration::from_secs(args.idle_secs));
        let (b1, c1) = (pty.bytes(), cpu_time(pid));
        report.idle_bytes = Some(b1 - b0);
        report.idle_cpu_ms = c0.zip(c1).map(|(a, b)| ms(b.saturating_sub(a)));
    }
    if args.wants("noop") {
        eprintln!("no-op key…");
        pty.measure("G", quiet, args.key_timeout())?;
        report.noop_bytes = Some(pty.bytes_after("G", quiet, Duration::from_secs(1))?);
        pty.measure("g", quiet, args.key_timeout())?;
    }
    for scenario in SCENARIOS {
        if !args.wants(scenario.name) {
            continue;
        }
        let mut result = KeyResult {
            scenario: scenario.name.into(),
            what: scenario.what.into(),
            ..KeyResult::default()
        };
        let Some(round) = scenario.round else {
            result.skipped = Some("n/a: the client has no such key yet".into());
            report.keys.push(result);
            continue;
        };
        eprintln!("{}: {} rounds…", scenario.name, args.reps);
        let (mut all, mut bytes) = (Vec::new(), 0u64);
        for rep in 0..=args.reps {
            for (step, (name, key)) in round.iter().enumerate() {
                // The typed characters of the search end when the list shows their count.
                let expected = match (scenario.name, lines) {
                    ("search", Some(l)) if step >= 1 => l.deskterm.get(step - 1).copied(),
                    _ => None,
                };
                let got = match expected {
                    Some(want) => pty
                        .measure_until(key, quiet, COUNT_TIMEOUT, |screen| {
                            header_counts(screen) == Some((want, n))
                        })?
                        .map(|(d, b, confirmed)| {
                            if !confirmed && rep > 0 {
                                result.unconfirmed += 1;
                            }
                            (d, b)
                        }),
                    None => pty.measure(key, quiet, args.key_timeout())?,
                };
                if rep == 0 {
                    continue; // warm-up
                }
                match got {
                    Some((d, b)) => {
                        all.push(ms(d));
                        bytes += b;
                        result
                            .samples
                            .entry((*name).to_owned())
                            .or_default()
                            .push(ms(d));
                    }
                    None => result.no_output += 1,
                }
            }
        }
        result.mean_bytes = bytes as f64 / all.len().max(1) as f64;
        result.all = stats(&all);
        if scenario.name == "search" {
            for c in QUERY.chars() {
                let name = if c == ' ' {
                    "space".to_owned()
                } else {
                    c.to_string()
                };
                let samples = result.samples.get(&name).cloned().unwrap_or_default();
                report.search_chars.push((name, stats(&samples)));
            }
        }
        report.keys.push(result);
    }
    if args.wants("remote") {
        remote(args, report, pty, setup, rt)?;
    }
    Ok(())
}

/// Remote changes at 50 a second to the tickets on screen, each with a
/// unique marker in its title; the time until the marker is on the screen.
fn remote(
    args: &Args,
    report: &mut Report,
    pty: &mut Pty,
    setup: &Setup,
    rt: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    eprintln!("remote changes for {} s…", args.remote_secs);
    let quiet = args.quiet();
    // The top of the list, sorted by last update: changed tickets stay on screen.
    pty.measure("x", quiet, args.key_timeout())?;
    pty.measure("g", quiet, args.key_timeout())?;
    pty.settle(quiet, Duration::from_secs(30));
    let ids: Vec<i64> = listed_references(&pty.text())
        .iter()
        .take(10)
        .filter_map(|r| r.strip_prefix("HD-")?.parse().ok())
        .collect();
    if ids.is_empty() {
        bail!("no ticket rows on screen to change");
    }
    let http = reqwest::Client::builder().no_proxy().build()?;
    let api = format!("{}/api/v1", setup.url);
    let token = setup.token.clone();
    let shared = pty.shared.clone();
    let secs = args.remote_secs;
    let outcome = rt.block_on(async move {
        let mut originals: BTreeMap<i64, String> = BTreeMap::new();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let started = Instant::now();
        let mut sent = 0usize;
        while started.elapsed() < Duration::from_secs(secs) {
            tick.tick().await;
            let id = ids[sent % ids.len()];
            let r = http
                .get(format!("{api}/tickets/{id}"))
                .bearer_auth(&token)
                .send()
                .await?;
            let etag = r
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .context("no ETag on a ticket")?;
            let ticket: serde_json::Value = r.json().await?;
            let title = ticket["title"].as_str().unwrap_or_default().to_owned();
            let base = match title.split_once(' ') {
                Some((m, rest)) if m.starts_with("ZQ") => rest.to_owned(),
                _ => title.clone(),
            };
            originals.entry(id).or_insert_with(|| base.clone());
            let marker = format!("ZQ{sent:05}");
            let sent_at = Instant::now();
            {
                let (lock, _) = &*shared;
                let mut s = lock.lock().map_err(|_| anyhow::anyhow!("screen lock"))?;
                s.watches.push(Watch {
                    ticket: id,
                    seq: sent,
                    marker: marker.clone(),
                    sent: sent_at,
                    seen: None,
                    superseded: false,
                });
            }
            let r = http
                .patch(format!("{api}/tickets/{id}"))
                .bearer_auth(&token)
                .header("If-Match", etag)
                .json(&serde_json::json!({ "title": format!("{marker} {base}") }))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("PATCH ticket {id}: {}", r.status());
            }
            sent += 1;
        }
        let rate = sent as f64 / started.elapsed().as_secs_f64();
        // Stragglers get up to a minute.
        let waiting = Instant::now();
        while waiting.elapsed() < Duration::from_secs(60) {
            let (lock, _) = &*shared;
            let all_seen = lock
                .lock()
                .map_err(|_| anyhow::anyhow!("screen lock"))?
                .watches
                .iter()
                .all(|w| w.seen.is_some());
            if all_seen {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Put the titles back.
        for (id, title) in &originals {
            let r = http
                .get(format!("{api}/tickets/{id}"))
                .bearer_auth(&token)
                .send()
                .await?;
            let etag = r
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_default();
            http.patch(format!("{api}/tickets/{id}"))
                .bearer_auth(&token)
                .header("If-Match", etag)
                .json(&serde_json::json!({ "title": title }))
                .send()
                .await?;
        }
        anyhow::Ok((sent, rate))
    })?;
    let (sent, rate) = outcome;
    let s = pty.lock();
    let latencies: Vec<f64> = s
        .watches
        .iter()
        .filter_map(|w| w.seen.map(|t| ms(t.saturating_duration_since(w.sent))))
        .collect();
    report.remote = Some(RemoteResult {
        sent,
        seen: latencies.len(),
        superseded: s.watches.iter().filter(|w| w.superseded).count(),
        missing: s.watches.iter().filter(|w| w.seen.is_none()).count(),
        rate_per_s: rate,
        latency: stats(&latencies),
    });
    Ok(())
}

/// fzf --exact on the same tickets (reference, title, contact), typing the
/// same query one character at a time.
fn fzf(args: &Args, report: &mut Report, setup: &Setup, lines: &Lines) -> anyhow::Result<()> {
    let Ok(found) = Command::new("sh").args(["-c", "command -v fzf"]).output() else {
        report.fzf_note = Some("cannot look for fzf".into());
        return Ok(());
    };
    if !found.status.success() {
        let note = "fzf is not installed: `apt-get install -y fzf` (Debian's 0.38) to compare";
        eprintln!("{note}");
        report.fzf_note = Some(note.into());
        return Ok(());
    }
    let count = lines.count;
    let mut cmd = CommandBuilder::new("sh");
    cmd.arg("-c");
    cmd.arg(format!(
        "exec fzf --exact < '{}'",
        lines.path.display().to_string().replace('\'', "'\\''")
    ));
    let home = setup.work.path().join("fzf-home");
    std::fs::create_dir_all(&home)?;
    cmd.env("HOME", &home);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("FZF_DEFAULT_OPTS");
    cmd.env_remove("FZF_DEFAULT_COMMAND");
    cmd.cwd(&home);
    let mut pty = Pty::spawn(cmd)?;
    let loaded = format!("{count}/{count}");
    if pty
        .wait_screen(pty.started, Duration::from_secs(300), |s| {
            s.contains(&loaded)
        })
        .is_none()
    {
        bail!("fzf did not show {loaded} within 300 s");
    }
    let quiet = args.quiet();
    let mut per_char: Vec<(String, Vec<f64>)> = QUERY
        .chars()
        .map(|c| {
            let name = if c == ' ' {
                "space".to_owned()
            } else {
                c.to_string()
            };
            (name, Vec::new())
        })
        .collect();
    eprintln!("fzf: {} rounds…", args.reps);
    let mut fzf_unconfirmed = 0;
    for rep in 0..=args.reps {
        for (i, c) in QUERY.chars().enumerate() {
            let want = lines.fzf.get(i).copied();
            let got = pty.measure_until(&c.to_string(), quiet, COUNT_TIMEOUT, |screen| {
                want.is_some() && fzf_count(screen, count) == want
            })?;
            if rep > 0
                && let Some((d, _, confirmed)) = got
            {
                per_char[i].1.push(ms(d));
                if !confirmed {
                    fzf_unconfirmed += 1;
                }
            }
        }
        // ctrl-u clears the query.
        pty.measure("\x15", quiet, args.key_timeout())?;
    }
    report.fzf_chars = per_char
        .into_iter()
        .map(|(name, samples)| (name, stats(&samples)))
        .collect();
    if fzf_unconfirmed > 0 {
        report.fzf_note = Some(format!(
            "{fzf_unconfirmed} characters never showed their final count (measured to silence)"
        ));
    }
    // ctrl-c leaves fzf.
    let _ = pty.send("\x03");
    Ok(())
}

/// Writes `reference title contact` per ticket; returns the lines.
/// Writes the tickets as lines for fzf (`reference title contact`); returns
/// those lines and deskterm's folded search text of each ticket.
async fn write_lines(db: &Path, out: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    use sqlx::Row;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    let rows = sqlx::query(
        "SELECT t.reference, t.title, c.name, k.name FROM tickets t \
         JOIN contacts c ON c.id = t.contact_id LEFT JOIN categories k ON k.id = t.category_id \
         ORDER BY t.id",
    )
    .fetch_all(&pool)
    .await?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut lines = Vec::with_capacity(rows.len());
    let mut texts = Vec::with_capacity(rows.len());
    for row in &rows {
        let (r, t, c): (String, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let category: Option<String> = row.try_get(3)?;
        let line = format!("{r} {t} {c}");
        writeln!(file, "{line}")?;
        let fold = deskterm::store::fold;
        let mut text = format!("{} {} {}", fold(&r), fold(&t), fold(&c));
        if let Some(k) = category {
            text.push(' ');
            text.push_str(&fold(&k));
        }
        texts.push(text);
        lines.push(line);
    }
    file.flush()?;
    pool.close().await;
    Ok((lines, texts))
}

// ---------------------------------------------------------------- output

fn fmt_ms(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 10_000.0 => format!("{:.1} s", v / 1000.0),
        Some(v) => format!("{v:.1} ms"),
        None => "—".into(),
    }
}

fn print_report(r: &Report) {
    println!();
    println!("deskterm at scale: {} tickets ({})", r.tickets, r.db);
    for (k, v) in &r.machine {
        println!("  {k}: {v}");
    }
    if let Some(g) = r.generate_secs {
        println!("  generated in {g:.1} s");
    }
    println!("  a response ends after {} ms of silence", r.quiet_ms);
    println!();
    println!("{:<34} {:>12}", "start", "time");
    let or_note = |v: Option<f64>, note: &Option<String>| match (v, note) {
        (Some(v), _) => fmt_ms(Some(v)),
        (None, Some(n)) => n.clone(),
        (None, None) => "—".into(),
    };
    println!(
        "{:<34} {:>12}",
        "cold -> first screenful of rows",
        or_note(r.cold_first_rows_ms, &r.cold_note)
    );
    println!(
        "{:<34} {:>12}",
        "cold -> sync complete (all listed)",
        or_note(r.cold_synced_ms, &r.cold_note)
    );
    println!(
        "{:<34} {:>12}",
        "warm -> first full frame",
        or_note(r.warm_first_frame_ms, &r.warm_note)
    );
    println!(
        "{:<34} {:>12}",
        "warm -> all listed",
        or_note(r.warm_synced_ms, &r.warm_note)
    );
    println!();
    let kb =
        |v: Option<u64>| v.map_or("—".to_owned(), |v| format!("{:.1} MB", v as f64 / 1024.0));
    println!("RSS after cold sync: {}", kb(r.rss_after_cold_sync_kb));
    println!("RSS after warm start: {}", kb(r.rss_after_warm_kb));
    println!("RSS peak (VmHWM) of the warm client: {}", kb(r.rss_peak_kb));
    if let Some(b) = r.idle_bytes {
        let cpu = r.idle_cpu_ms.unwrap_or_default();
        println!(
            "idle {} s: {b} bytes written, {:.0} ms CPU ({:.2} %)",
            r.idle_secs,
            cpu,
            cpu / (r.idle_secs as f64 * 10.0)
        );
    }
    if let Some(b) = r.noop_bytes {
        println!("no-op key (G at the bottom): {b} bytes written");
    }
    if !r.keys.is_empty() {
        println!();
        println!(
            "{:<8} {:>5} {:>11} {:>11} {:>11} {:>9}  keys",
            "key", "n", "p50", "p99", "max", "bytes"
        );
        for k in &r.keys {
            if let Some(s) = &k.skipped {
                println!("{:<8} {s}", k.scenario);
                continue;
            }
            println!(
                "{:<8} {:>5} {:>11} {:>11} {:>11} {:>9.0}  {}{}",
                k.scenario,
                k.all.n,
                fmt_ms(k.all.p50),
                fmt_ms(k.all.p99),
                fmt_ms(k.all.max),
                k.mean_bytes,
                k.what,
                if k.no_output + k.unconfirmed > 0 {
                    format!(
                        " ({} without output, {} without their count)",
                        k.no_output, k.unconfirmed
                    )
                } else {
                    String::new()
                }
            );
            for (name, samples) in &k.samples {
                let s = stats(samples);
                println!(
                    "  {:<6} {:>5} {:>11} {:>11} {:>11}",
                    name,
                    s.n,
                    fmt_ms(s.p50),
                    fmt_ms(s.p99),
                    fmt_ms(s.max)
                );
            }
        }
    }
    if !r.search_chars.is_empty() || !r.fzf_chars.is_empty() {
        println!();
        println!("search typing `{QUERY}`, key -> last byte per character");
        println!(
            "{:<6} {:>12} {:>12} {:>12} {:>12} {:>8}",
            "char", "deskterm p50", "deskterm p99", "fzf p50", "fzf p99", "ratio"
        );
        let chars = r.search_chars.len().max(r.fzf_chars.len());
        for i in 0..chars {
            let d = r.search_chars.get(i);
            let f = r.fzf_chars.get(i);
            let name = d.or(f).map(|(n, _)| n.as_str()).unwrap_or("?");
            let ratio = match (d.and_then(|d| d.1.p50), f.and_then(|f| f.1.p50)) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                _ => "—".into(),
            };
            println!(
                "{:<6} {:>12} {:>12} {:>12} {:>12} {:>8}",
                name,
                fmt_ms(d.and_then(|d| d.1.p50)),
                fmt_ms(d.and_then(|d| d.1.p99)),
                fmt_ms(f.and_then(|f| f.1.p50)),
                fmt_ms(f.and_then(|f| f.1.p99)),
                ratio
            );
        }
    }
    if !r.query_matches.is_empty() {
        let matches: Vec<String> = r
            .query_matches
            .iter()
            .map(|(q, d, f)| format!("`{q}` {d} ({f} for fzf)"))
            .collect();
        println!("tickets found: {}", matches.join(", "));
    }
    if let Some(n) = &r.fzf_note {
        println!("fzf: {n}");
    }
    if let Some(rm) = &r.remote {
        println!();
        println!(
            "remote change -> screen: {} sent at {:.1}/s, {} seen ({} through a later change), {} never; p50 {}, p99 {}, max {}",
            rm.sent,
            rm.rate_per_s,
            rm.seen,
            rm.superseded,
            rm.missing,
            fmt_ms(rm.latency.p50),
            fmt_ms(rm.latency.p99),
            fmt_ms(rm.latency.max)
        );
    }
    for n in &r.notes {
        println!("note: {n}");
    }
}
