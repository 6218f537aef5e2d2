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
//! sort, or typing a query that narrows the previous one, scans less. While
//! one free word is typed further, the worker remembers where in each listed
//! ticket's text the word matched so far and tests only the new letters from
//! there: a typed letter costs one short scan per listed ticket, not the
//! whole query over every ticket.

use std::any::Any;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;

use deskterm_api::Sort;

use super::{Listed, Order, Searched, Slot, Store, View};

/// Rows read under one lock.
const CHUNK: usize = 16 * 1024;
/// Sorted orders kept for reuse.
const KEPT_ORDERS: usize = 4;
/// Recent answers are kept up to this many slots in all (4 bytes each),
/// and up to four times the store's slots.
const KEPT_ANSWER_SLOTS: usize = 2 << 20;
/// Recent answers kept at most.
const KEPT_ANSWERS: usize = 16;
/// Threads that filter one query.
const THREADS: usize = 2;

/// A filter the worker can evaluate.
pub trait Predicate: Send + Sync {
    /// A matcher for one thread; it may own scratch space (a fuzzy matcher).
    fn matcher(&self) -> Box<dyn FnMut(Listed<'_>) -> bool + '_>;
    /// Whether every row passes (nothing to test).
    fn is_everything(&self) -> bool {
        false
    }
}

/// A free word of a query, tested on its own while it is typed further.
pub trait TypedWord: Send + Sync {
    /// Where the word's chars from the `done`-th on are found in order in
    /// a ticket's search text, looking from byte `from`: the byte after the
    /// last one, or `None` when they are not there.
    fn resume(&self, search: Searched<'_>, from: usize, done: usize) -> Option<usize>;
    /// How many chars of this word `shorter` already tested, when this word
    /// is `shorter` typed further (so a position it reached can be resumed).
    fn extends(&self, shorter: &dyn TypedWord) -> Option<usize>;
    /// For [`TypedWord::extends`] between words of one type.
    fn as_any(&self) -> &dyn Any;
}

/// The free word a request typed further.
#[derive(Clone)]
pub struct Typed {
    /// Which term of the query it is.
    pub term: usize,
    /// The word as it is now.
    pub word: Arc<dyn TypedWord>,
}

/// Passes every row.
#[derive(Debug, Default, Clone, Copy)]
pub struct Everything;

impl Predicate for Everything {
    fn matcher(&self) -> Box<dyn FnMut(Listed<'_>) -> bool + '_> {
        Box::new(|_| true)
    }

    fn is_everything(&self) -> bool {
        true
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
    /// With `narrows`: the query is the previous one with this free word
    /// typed further or added, nothing else changed. Rows of the previous
    /// answer then pass exactly when they hold this word.
    pub typed: Option<Typed>,
    /// Names the question: a request with the same key and order asks the
    /// same thing, so a recent answer to it can be caught up and given again
    /// (erasing a letter typed in the search box). `None`: never reused.
    pub key: Option<String>,
}

impl Request {
    /// This request, taken after `earlier` ones that were not answered: it
    /// narrows the last answer only when each of them did, and types one
    /// word further only when they all typed that same word.
    pub(super) fn after(mut self, earlier: &Request) -> Request {
        self.narrows &= earlier.narrows;
        let same_word = matches!(
            (&earlier.typed, &self.typed),
            (Some(a), Some(b)) if a.term == b.term
        );
        if !same_word {
            self.typed = None;
        }
        self
    }
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
    // The newest request not answered (its pass stopped for a newer one).
    let mut unanswered: Option<Request> = None;
    while let Ok(next) = requests.recv() {
        // Only the newest query matters; how it relates to the last answer
        // depends on every request since.
        let mut request = match unanswered.take() {
            Some(earlier) => next.after(&earlier),
            None => next,
        };
        while let Ok(newer) = requests.try_recv() {
            request = newer.after(&request);
        }
        let stale = || latest.load(AtomicOrdering::SeqCst) != request.id;
        match engine.run(&store, &request, &stale) {
            Some(view) => answer(Answer {
                id: request.id,
                view,
            }),
            None => unanswered = Some(request),
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
    /// When the last answer came from typing a word: where it matched.
    track: Option<Track>,
    /// Recent answers by request key, newest first.
    answers: std::collections::VecDeque<(String, Order, View)>,
}

/// Where a typed word matched in each ticket of the last answer.
struct Track {
    /// Its term in the query.
    term: usize,
    /// The word.
    word: Arc<dyn TypedWord>,
    /// Per slot, the byte after the word's match in the row's search text;
    /// [`UNLISTED`] for slots not in the last answer.
    ends: Vec<u32>,
    /// The store generation the ends hold for.
    generation: u64,
}

/// A slot outside the last answer, in [`Track::ends`].
const UNLISTED: u32 = u32::MAX;

impl Engine {
    /// Evaluates a request; `None` when `stale` said a newer one is waiting.
    pub fn run(
        &mut self,
        store: &Shared,
        request: &Request,
        stale: &(dyn Fn() -> bool + Sync),
    ) -> Option<View> {
        if let Some(view) = self.recall(store, request) {
            return Some(view);
        }
        let view = self.answer(store, request, stale)?;
        if let Some(key) = &request.key {
            self.answers
                .push_front((key.clone(), request.order.clone(), view.clone()));
            let budget = KEPT_ANSWER_SLOTS.min(4 * read(store).slot_count().max(CHUNK));
            let mut kept = 0;
            let mut count = 0;
            self.answers.retain(|(_, _, v)| {
                kept += v.slots.len();
                count += 1;
                kept <= budget && count <= KEPT_ANSWERS
            });
        }
        Some(view)
    }

    /// A recent answer to the same question, caught up with the changes
    /// since; it becomes the last answer.
    fn recall(&mut self, store: &Shared, request: &Request) -> Option<View> {
        let key = request.key.as_deref()?;
        let at = self
            .answers
            .iter()
            .position(|(k, order, _)| k == key && *order == request.order)?;
        let (key, order, mut view) = self.answers.remove(at)?;
        let guard = read(store);
        let mut keep = request.predicate.matcher();
        if !view.catch_up(&guard, &order, &mut *keep) {
            return None;
        }
        drop(keep);
        drop(guard);
        self.track = None;
        self.last = Some((order.clone(), view.clone()));
        self.answers.push_front((key, order, view.clone()));
        Some(view)
    }

    /// Works a request out.
    fn answer(
        &mut self,
        store: &Shared,
        request: &Request,
        stale: &(dyn Fn() -> bool + Sync),
    ) -> Option<View> {
        if request.narrows
            && let Some(typed) = &request.typed
        {
            match self.typed_pass(store, request, typed, stale) {
                Pass::Done(view) => return Some(view),
                Pass::Stale => return None,
                Pass::Unfit => {}
            }
        }
        self.track = None;
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
        let slots = if request.predicate.is_everything() {
            base.slots
        } else {
            Arc::new(filter(
                store,
                &base.slots,
                request.predicate.as_ref(),
                stale,
            )?)
        };
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
            return self.answer(store, request, stale);
        }
        drop(keep);
        drop(guard);
        self.last = Some((request.order.clone(), view.clone()));
        Some(view)
    }

    /// The last answer's tickets that hold the typed word, tested from where
    /// the word's shorter form matched in each when that is known.
    fn typed_pass(
        &mut self,
        store: &Shared,
        request: &Request,
        typed: &Typed,
        stale: &(dyn Fn() -> bool + Sync),
    ) -> Pass {
        let Some((order, last)) = &self.last else {
            return Pass::Unfit;
        };
        let (slot_count, generation) = {
            let guard = read(store);
            (guard.slot_count(), guard.generation())
        };
        if *order != request.order || last.generation != generation {
            return Pass::Unfit;
        }
        let resumed = self.track.take().and_then(|t| {
            let fits =
                t.term == typed.term && t.generation == generation && t.ends.len() == slot_count;
            let done = typed.word.extends(t.word.as_ref()).filter(|_| fits)?;
            Some((t.ends, done))
        });
        let (mut ends, done) = resumed.unwrap_or_else(|| {
            let mut ends = vec![UNLISTED; slot_count];
            for &s in last.slots.iter() {
                if let Some(end) = ends.get_mut(s as usize) {
                    *end = 0;
                }
            }
            (ends, 0)
        });
        if !advance(store, &mut ends, typed.word.as_ref(), done, stale) {
            return Pass::Stale;
        }
        // A bit per slot (an eighth of a megabyte per million tickets) is
        // looked up faster in the answer's order than the ends themselves.
        let mut listed = vec![0u64; slot_count.div_ceil(64)];
        for (s, &end) in ends.iter().enumerate() {
            if end != UNLISTED
                && let Some(word) = listed.get_mut(s / 64)
            {
                *word |= 1 << (s % 64);
            }
        }
        let mut slots = Vec::with_capacity(listed.iter().map(|w| w.count_ones() as usize).sum());
        slots.extend(last.slots.iter().copied().filter(|&s| {
            listed
                .get(s as usize / 64)
                .is_some_and(|word| word & (1 << (s % 64)) != 0)
        }));
        let mut view = View {
            slots: slots.into(),
            generation,
        };
        let guard = read(store);
        let mut keep = request.predicate.matcher();
        let caught_up = view.catch_up(&guard, &request.order, &mut *keep);
        drop(keep);
        drop(guard);
        if !caught_up {
            return Pass::Unfit;
        }
        self.last = Some((request.order.clone(), view.clone()));
        // Tickets changed during the pass are caught up in the view but not
        // in the ends: those then hold for the generation before.
        self.track = Some(Track {
            term: typed.term,
            word: typed.word.clone(),
            ends,
            generation,
        });
        Pass::Done(view)
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
            slots: order.sort_all(&guard).into(),
            generation: guard.generation(),
        };
        if self.orders.len() == KEPT_ORDERS {
            self.orders.remove(0);
        }
        self.orders.push((order.sort, order.clone(), view.clone()));
        view
    }
}

/// What a typed-word pass came to.
enum Pass {
    Done(View),
    /// A newer query arrived.
    Stale,
    /// The last answer is no base for it: evaluate the whole query.
    Unfit,
}

/// Moves each listed slot's end past the word's chars from the `done`-th
/// on, or unlists it; rows are read in slot order, a chunk at a time on
/// [`THREADS`] threads. False when a newer query arrived (the ends are then
/// partly moved).
fn advance(
    store: &Shared,
    ends: &mut [u32],
    word: &dyn TypedWord,
    done: usize,
    stale: &(dyn Fn() -> bool + Sync),
) -> bool {
    let chunks: Vec<Mutex<(usize, &mut [u32])>> = ends
        .chunks_mut(CHUNK)
        .enumerate()
        .map(|(i, c)| Mutex::new((i * CHUNK, c)))
        .collect();
    in_chunks(
        chunks.len(),
        stale,
        || (),
        |(), i| {
            let Some(chunk) = chunks.get(i) else { return };
            let mut chunk = chunk.lock().unwrap_or_else(|e| e.into_inner());
            let (first, ends) = &mut *chunk;
            let guard = read(store);
            for (k, end) in ends.iter_mut().enumerate() {
                if *end == UNLISTED {
                    continue;
                }
                let search = Slot::try_from(*first + k)
                    .ok()
                    .and_then(|s| guard.searched(s));
                *end = search
                    .and_then(|search| word.resume(search, *end as usize, done))
                    .and_then(|e| u32::try_from(e).ok())
                    .unwrap_or(UNLISTED);
            }
        },
    )
}

/// Runs `work` once per chunk index below `chunks`, the chunks taken in
/// turn by [`THREADS`] threads (one when there is a single chunk), each
/// thread with its own state made by `init` (a matcher and its scratch
/// space). False when `stale` said a newer query arrived before every chunk
/// was done.
fn in_chunks<S>(
    chunks: usize,
    stale: &(dyn Fn() -> bool + Sync),
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) + Sync,
) -> bool {
    let next = AtomicUsize::new(0);
    let abandoned = std::sync::atomic::AtomicBool::new(false);
    let run = || {
        let mut state = init();
        loop {
            let i = next.fetch_add(1, AtomicOrdering::Relaxed);
            if i >= chunks {
                break;
            }
            if stale() {
                abandoned.store(true, AtomicOrdering::Relaxed);
                break;
            }
            work(&mut state, i);
        }
    };
    if chunks > 1 {
        std::thread::scope(|scope| {
            for _ in 1..THREADS {
                scope.spawn(run);
            }
            run();
        });
    } else {
        run();
    }
    !abandoned.load(AtomicOrdering::Relaxed)
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
        // At most as many as pass in the whole store: a view is kept, so
        // it is not left with up to twice the room it needs.
        let passing = marks.iter().map(|w| w.count_ones() as usize).sum();
        let mut out = Vec::with_capacity(passing);
        out.extend(base.iter().copied().filter(|&s| passes(s)));
        return Some(out);
    }
    let chunks: Vec<&[Slot]> = base.chunks(CHUNK).collect();
    let results: Vec<Mutex<Vec<Slot>>> = chunks.iter().map(|_| Mutex::new(Vec::new())).collect();
    let done = in_chunks(
        chunks.len(),
        stale,
        || predicate.matcher(),
        |matches, i| {
            let Some(chunk) = chunks.get(i) else { return };
            let guard = read(store);
            let found: Vec<Slot> = chunk
                .iter()
                .copied()
                .filter(|&s| guard.listed(s).is_some_and(&mut **matches))
                .collect();
            drop(guard);
            if let Some(Ok(mut place)) = results.get(i).map(Mutex::lock) {
                *place = found;
            }
        },
    );
    if !done {
        return None;
    }
    let found: Vec<Vec<Slot>> = results
        .into_iter()
        .map(|r| r.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    let mut out = Vec::with_capacity(found.iter().map(Vec::len).sum());
    for part in found {
        out.extend(part);
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
    let done = in_chunks(
        chunks,
        stale,
        || predicate.matcher(),
        |matches, i| {
            let mut words = vec![0u64; WORDS];
            let guard = read(store);
            for (k, word) in words.iter_mut().enumerate() {
                for bit in 0..64 {
                    let slot = i * CHUNK + k * 64 + bit;
                    if let Ok(slot) = Slot::try_from(slot)
                        && guard.listed(slot).is_some_and(&mut **matches)
                    {
                        *word |= 1 << bit;
                    }
                }
            }
            drop(guard);
            if let Some(Ok(mut place)) = results.get(i).map(Mutex::lock) {
                *place = words;
            }
        },
    );
    if !done {
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
