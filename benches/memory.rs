//! What the client's ticket store holds in memory: every ticket of a
//! server's export loaded into a [`Store`], with the heap counted by a
//! counting allocator and the process's resident set read from
//! `/proc/self/status`.
//!
//! ```text
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/tickets/export > 100k.ndjson
//! cargo bench --bench memory -- 100k.ndjson
//! ```
//!
//! The export's first and last lines (its header and trailer) are not
//! tickets and are skipped. Besides the store, the figures include the
//! kept sorted orders a query worker holds (four orders of every slot).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::BufRead;
use std::sync::atomic::{AtomicUsize, Ordering};

use deskterm::store::Store;
use deskterm_api::Ticket;

/// Counts the bytes and blocks live on the heap.
struct Counting;

static BYTES: AtomicUsize = AtomicUsize::new(0);
static BLOCKS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only
// counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn heap() -> (usize, usize) {
    (
        BYTES.load(Ordering::Relaxed),
        BLOCKS.load(Ordering::Relaxed),
    )
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; the file is the first other argument.
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench memory -- EXPORT.ndjson");
        return Ok(());
    };
    let file = std::fs::File::open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open the export {path}: {e}"))?;
    let (bytes0, blocks0) = heap();
    let rss0 = status_kb("VmRSS:");
    let mut store = Store::new();
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(file);
    let mut skipped = 0u64;
    while reader.read_line(&mut line)? > 0 {
        match serde_json::from_str::<Ticket>(&line) {
            Ok(t) => {
                store.put(&t);
            }
            Err(_) => skipped += 1,
        }
        line.clear();
    }
    drop(reader);
    let n = store.len().max(1);
    let (bytes1, blocks1) = heap();
    let rss1 = status_kb("VmRSS:");
    let slots = store.slot_count();
    let orders: Vec<Vec<u32>> = (0..4).map(|_| (0..slots as u32).collect()).collect();
    let (bytes2, _) = heap();
    let rss2 = status_kb("VmRSS:");
    println!(
        "{} tickets from {path} ({skipped} other lines)",
        store.len()
    );
    println!(
        "store: {:.1} MB on the heap in {} blocks ({:.0} B and {:.1} blocks a ticket); RSS +{:.1} MB",
        (bytes1 - bytes0) as f64 / 1e6,
        blocks1 - blocks0,
        (bytes1 - bytes0) as f64 / n as f64,
        (blocks1 - blocks0) as f64 / n as f64,
        (rss1.saturating_sub(rss0)) as f64 / 1e3,
    );
    println!(
        "four kept orders: {:.1} MB on the heap; RSS +{:.1} MB",
        (bytes2 - bytes1) as f64 / 1e6,
        (rss2.saturating_sub(rss1)) as f64 / 1e3,
    );
    println!(
        "process: RSS {:.1} MB, peak {:.1} MB",
        status_kb("VmRSS:") as f64 / 1e3,
        status_kb("VmHWM:") as f64 / 1e3
    );
    let names = store.names();
    let name_text: usize = (0..names.len() as u32)
        .map(|s| names.name(s).len() + names.folded(s).len())
        .sum();
    println!(
        "  rows: {} B each, {:.1} MB for {slots} slots",
        std::mem::size_of::<Option<deskterm::store::Row>>(),
        (std::mem::size_of::<Option<deskterm::store::Row>>() * slots) as f64 / 1e6,
    );
    println!(
        "  names: {} interned, {:.1} MB of text (name and folded name)",
        names.len(),
        name_text as f64 / 1e6
    );
    drop(orders);
    Ok(())
}
