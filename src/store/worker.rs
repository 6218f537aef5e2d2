//! Evaluates list queries off the UI thread.
//!
//! The UI sends the newest query and returns at once; the worker answers
//! with the matching slots in order, stamped with the query's id. A newer
//! query makes a pass under way stop at its next chunk, so typing never
//! queues work. The store is read a chunk at a time, so the UI thread, its
//! only writer, waits at most one chunk to apply a change; changes made
//! during a pass are caught up from the store's log before answering.
//!
//! Orders already computed are kept (and caught up), so switching back to a
//! sort, or typing a query that narrows the previous one, scans less.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;

use deskterm_api::Sort;

use super::{Order, Row, Slot, Store, View};

/// Rows read under one lock.
const CHUNK: usize = 16 * 1024;
/// Sorted orders kept for reuse.
const KEPT_ORDERS: usize = 4;
/// Threads that filter one query.
const THREADS: usize = 2;

/// A filter the worker can evaluate.
pub trait Predicate: Send + Sync {
    /// A matcher for one thread; it may own scratch space (a fuzzy matcher).
    fn matcher(&self) -> Box<dyn FnMut(&Row) -> bool + '_>;
}

/// Passes every row.
#[derive(Debug, Default, Clone, Copy)]
pub struct Everything;

impl Predicate for Everything {
    fn matcher(&self) -> Box<dyn FnMut(&Row) -> bool + '_> {
        Box::new(|_| true)
    }
}

/// The store shared between the UI thread (its only writer) and the worker.
pub type Shared = Arc<RwLock<Store>>;

/// Reads the store, also after a panic elsewhere left the lock poisoned
/// (a view can always be recomputed).
pub fn read(store: &Shared) -> RwLockReadGuard<'_, Store> {
    store.read().unwrap_or_else(|e| e.into_inner())
}

/// One query.
#[derive(Clone)]
pub struct Request {
    /// Increasing id; only the newest is answered.
    pub id: u64,
    /// Which rows.
    pub predicate: Arc<dyn Predicate>,
    /// In which order.
    pub order: Order,
    /// Every row passing `predicate` passed the previous request's, and the
    /// order is the same: the previous answer can be filtered instead of everything.
    pub narrows: bool,
}

/// The answer to a request.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The request's id.
    pub id: u64,
    /// Matching slots in order.
    pub view: View,
}

/// The UI's end of the worker.
pub struct Worker {
    requests: Option<mpsc::Sender<Request>>,
    latest: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker on its own thread; `answer` is called with each
    /// result (from that thread).
    pub fn start(
        store: Shared,
        answer: impl Fn(Answer) + Send + 'static,
    ) -> std::io::Result<Worker> {
        let (requests, rx) = mpsc::channel::<Request>();
        let latest = Arc::new(AtomicU64::new(0));
        let thread = std::thread::Builder::new()
            .name("deskterm-query".into())
            .spawn({
                let latest = latest.clone();
                move || serve(store, rx, latest, answer)
            })?;
        Ok(Worker {
            requests: Some(requests),
            latest,
            thread: Some(thread),
        })
    }

    /// Hands over the newest query; a pass for an older one stops early.
    pub fn ask(&self, request: Request) {
        self.latest.store(request.id, AtomicOrdering::SeqCst);
        if let Some(requests) = &self.requests
            && requests.send(request).is_err()
        {
            tracing::error!("the query worker is gone");
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.requests.take();
        self.latest.store(u64::MAX, AtomicOrdering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    store: Shared,
    requests: mpsc::Receiver<Request>,
    latest: Arc<AtomicU64>,
    answer: impl Fn(Answer),
) {
    let mut engine = Engine::default();
    while let Ok(mut request) = requests.recv() {
        // Only the newest query matters.
        let mut narrows = request.narrows;
        while let Ok(newer) = requests.try_recv() {
            narrows = narrows && newer.narrows;
            request = newer;
        }
        request.narrows = narrows;
        let stale = || latest.load(AtomicOrdering::SeqCst) != request.id;
        if let Some(view) = engine.run(&store, &request, &stale) {
            answer(Answer {
                id: request.id,
                view,
            });
        }
    }
}

/// What the worker keeps between queries.
#[derive(Default)]
pub struct Engine {
    /// Every ticket, per order computed so far (least recently used first).
    orders: Vec<(Sort, Order, View)>,
    /// The last answer and its order.
    last: Option<(Order, View)>,
}

impl Engine {
    /// Evaluates a request; `None` when `stale` said a newer one is waiting.
    pub fn run(
        &mut self,
        store: &Shared,
        request: &Request,
        stale: &(dyn Fn() -> bool + Sync),
    ) -> Option<View> {
        let base = match &self.last {
            Some((order, view)) if request.narrows && *order == request.order => {
                let mut view = view.clone();
                let guard = read(store);
                if !view.catch_up(&guard, order, |_| true) {
                    drop(guard);
                    self.sorted(store, &request.order)
                } else {
                    view
                }
            }
            _ => self.sorted(store, &request.order),
        };
        let slots = filter(store, &base.slots, request.predicate.as_ref(), stale)?;
        let mut view = View {
            slots,
            generation: base.generation,
        };
        let guard = read(store);
        let mut keep = request.predicate.matcher();
        if !view.catch_up(&guard, &request.order, &mut *keep) {
            // Too much changed meanwhile: evaluate again from scratch.
            drop(keep);
            drop(guard);
            self.last = None;
            return self.run(store, request, stale);
        }
        drop(keep);
        drop(guard);
        self.last = Some((request.order.clone(), view.clone()));
        Some(view)
    }

    /// Every ticket in `order`, from the kept orders when possible.
    fn sorted(&mut self, store: &Shared, order: &Order) -> View {
        let guard = read(store);
        if let Some(at) = self
            .orders
            .iter()
            .position(|(sort, o, _)| *sort == order.sort && o == order)
        {
            let (sort, o, mut view) = self.orders.remove(at);
            if view.catch_up(&guard, &o, |_| true) {
                self.orders.push((sort, o, view.clone()));
                return view;
            }
        }
        let view = View {
            slots: order.sort_all(&guard),
            generation: guard.generation(),
        };
        if self.orders.len() == KEPT_ORDERS {
            self.orders.remove(0);
        }
        self.orders.push((order.sort, order.clone(), view.clone()));
        view
    }
}

/// The slots of `base` that pass, in the same order; read a chunk at a time
/// on [`THREADS`] threads. `None` when a newer query arrived.
///
/// When `base` holds most of the store, the rows are tested in slot order
/// (the order they lie in memory, see [`passing_slots`]) and `base` is then
/// walked against the marks: testing a million rows in another order (by
/// priority, say) reads them all over memory, several times slower.
fn filter(
    store: &Shared,
    base: &[Slot],
    predicate: &dyn Predicate,
    stale: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<Slot>> {
    let slot_count = read(store).slot_count();
    if base.len() > CHUNK && base.len() >= slot_count / 4 {
        let marks = passing_slots(store, slot_count, predicate, stale)?;
        let passes = |s: Slot| {
            marks
                .get(s as usize / 64)
                .is_some_and(|word| word & (1 << (s % 64)) != 0)
        };
        return Some(base.iter().copied().filter(|&s| passes(s)).collect());
    }
    let chunks: Vec<&[Slot]> = base.chunks(CHUNK).collect();
    let results: Vec<Mutex<Vec<Slot>>> = chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
    let next = AtomicUsize::new(0);
    let abandoned = std::sync::atomic::AtomicBool::new(false);
    let work = || {
        let mut matches = predicate.matcher();
        loop {
            let i = next.fetch_add(1, AtomicOrdering::Relaxed);
            let Some(chunk) = chunks.get(i) else { break };
            if stale() {
                abandoned.store(true, AtomicOrdering::Relaxed);
                break;
            }
            let guard = read(store);
            let found: Vec<Slot> = chunk
                .iter()
                .copied()
                .filter(|&s| guard.row(s).is_some_and(&mut *matches))
                .collect();
            drop(guard);
            if let Ok(mut place) = results[i].lock() {
                *place = found;
            }
        }
    };
    if chunks.len() > 1 {
        std::thread::scope(|scope| {
            for _ in 1..THREADS {
                scope.spawn(work);
            }
            work();
        });
    } else {
        work();
    }
    if abandoned.load(AtomicOrdering::Relaxed) {
        return None;
    }
    let mut out = Vec::new();
    for r in results {
        out.extend(r.into_inner().unwrap_or_else(|e| e.into_inner()));
    }
    Some(out)
}

/// One bit per slot below `slot_count`, set when its row passes; rows are
/// read in slot order, a chunk at a time on [`THREADS`] threads. `None`
/// when a newer query arrived.
fn passing_slots(
    store: &Shared,
    slot_count: usize,
    predicate: &dyn Predicate,
    stale: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<u64>> {
    const WORDS: usize = CHUNK / 64;
    let chunks = slot_count.div_ceil(CHUNK);
    let results: Vec<Mutex<Vec<u64>>> = (0..chunks).map(|_| Mutex::new(Vec::new())).collect();
    let next = AtomicUsize::new(0);
    let abandoned = std::sync::atomic::AtomicBool::new(false);
    let work = || {
        let mut matches = predicate.matcher();
        loop {
            let i = next.fetch_add(1, AtomicOrdering::Relaxed);
            if i >= chunks {
                break;
            }
            if stale() {
                abandoned.store(true, AtomicOrdering::Relaxed);
                break;
            }
            let mut words = vec![0u64; WORDS];
            let guard = read(store);
            for (k, word) in words.iter_mut().enumerate() {
                for bit in 0..64 {
                    let slot = i * CHUNK + k * 64 + bit;
                    if let Ok(slot) = Slot::try_from(slot)
                        && guard.row(slot).is_some_and(&mut *matches)
                    {
                        *word |= 1 << bit;
                    }
                }
            }
            drop(guard);
            if let Ok(mut place) = results[i].lock() {
                *place = words;
            }
        }
    };
    if chunks > 1 {
        std::thread::scope(|scope| {
            for _ in 1..THREADS {
                scope.spawn(work);
            }
            work();
        });
    } else {
        work();
    }
    if abandoned.load(AtomicOrdering::Relaxed) {
        return None;
    }
    let mut out = Vec::with_capacity(chunks * WORDS);
    for r in results {
        out.extend(r.into_inner().unwrap_or_else(|e| e.into_inner()));
    }
    Some(out)
}

/// Evaluates a request on the calling thread (tests, and small stores where
/// a round trip to the worker costs more than the query).
pub fn evaluate(store: &Shared, engine: &mut Engine, request: &Request) -> View {
    let never = || false;
    engine.run(store, request, &never).unwrap_or_default()
}
