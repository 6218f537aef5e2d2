//! The list's view at scale: sorting every ticket, filtering in a kept
//! order, typing a search, and catching a view up with one change or a
//! load's batch, over 100k and 1M compact rows.
//!
//! Run: `cargo bench --bench view` (add a filter, e.g. `-- catch_up`).

use std::sync::{Arc, LazyLock, RwLock};

use chrono::DateTime;
use deskterm::query::lang::{Context, FuzzyWord, compile_text, typed_word};
use deskterm::store::worker::{
    Engine, Everything, Predicate, Request, Shared, Typed, TypedWord, evaluate, read,
};
use deskterm::store::{Listed, Order, Store, View};
use deskterm_api::{ContactRef, OperatorRef, Priority, Sort, SortField, Ticket};
use divan::Bencher;

fn main() {
    divan::main();
}

const SIZES: [usize; 2] = [100_000, 1_000_000];
const STATUSES: [&str; 5] = ["new", "open", "pending", "resolved", "closed"];
const WORDS: [&str; 12] = [
    "pedido", "lote", "factura", "envío", "ordine", "fattura", "consegna", "refund", "invoice",
    "delivery", "pantalla", "rotto",
];

/// A ticket from a number: fields spread like a helpdesk's, deterministic.
fn ticket(id: i64) -> Ticket {
    let h = (id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let pick = |shift: u32, n: u64| ((h >> shift) % n) as usize;
    let at = |s: i64| DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default();
    Ticket {
        id,
        reference: format!("HD-{id:07}"),
        title: format!("{} {} {}", WORDS[pick(3, 12)], WORDS[pick(9, 12)], id % 997),
        description: String::new(),
        status: STATUSES[pick(15, 5)].into(),
        priority: Priority::ALL[pick(19, 4)],
        category: Some(format!("cat {}", pick(23, 12))),
        tags: vec![],
        important: pick(27, 20) == 0,
        contact: ContactRef {
            id: id / 4,
            name: format!("Contact {}", id / 4),
            phone: None,
            email: None,
        },
        operator: (pick(31, 6) != 0).then(|| OperatorRef {
            id: pick(35, 25) as i64,
            name: format!("Operator {}", pick(35, 25)),
        }),
        channel: "email".into(),
        sla_due_at: None,
        pending_until: None,
        created_at: at(id * 30),
        updated_at: at(id * 30 + (h % 86_400) as i64),
        closed_at: None,
        sla_state: None,
        version: 1,
    }
}

fn store(n: usize) -> Shared {
    let mut store = Store::new();
    for id in 0..n as i64 {
        store.put(&ticket(id));
    }
    Arc::new(RwLock::new(store))
}

static STORES: LazyLock<[Shared; 2]> = LazyLock::new(|| [store(SIZES[0]), store(SIZES[1])]);

fn shared(n: usize) -> &'static Shared {
    &STORES[usize::from(n != SIZES[0])]
}

fn order(store: &Shared, field: SortField) -> Order {
    let mut guard = store.write().unwrap_or_else(|e| e.into_inner());
    Order::new(
        Sort {
            field,
            descending: true,
        },
        &mut guard,
        None,
    )
}

/// Tickets in one status.
struct InStatus(u32);

impl Predicate for InStatus {
    fn matcher(&self) -> Box<dyn FnMut(Listed<'_>) -> bool + '_> {
        Box::new(|r| r.status == self.0)
    }
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn sort_all_by_updated(bencher: Bencher, n: usize) {
    let store = shared(n);
    let order = order(store, SortField::Updated);
    bencher.bench(|| order.sort_all(&read(store)).len());
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn sort_all_by_title(bencher: Bencher, n: usize) {
    let store = shared(n);
    let order = order(store, SortField::Title);
    bencher.bench(|| order.sort_all(&read(store)).len());
}

/// A status filter in an order the worker already keeps (switching filters).
#[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
fn filter_in_a_kept_order(bencher: Bencher, n: usize) {
    let store = shared(n);
    let order = order(store, SortField::Updated);
    let open = store
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .intern("open");
    let mut engine = Engine::default();
    let warm = Request {
        id: 1,
        predicate: Arc::new(Everything),
        order: order.clone(),
        narrows: false,
        typed: None,
        key: None,
    };
    evaluate(store, &mut engine, &warm);
    let request = Request {
        id: 2,
        predicate: Arc::new(InStatus(open)),
        order,
        narrows: false,
        typed: None,
        key: None,
    };
    bencher.bench_local(|| evaluate(store, &mut engine, &request).slots.len());
}

/// The search box's queries while `lote 12` is typed, compiled.
fn typing_lote_12(
    store: &Shared,
) -> Vec<(
    deskterm::query::lang::Query,
    deskterm::query::lang::Compiled,
)> {
    ["l", "lo", "lot", "lote", "lote 1", "lote 12"]
        .into_iter()
        .filter_map(|text| {
            let guard = read(store);
            let ctx = Context::new(guard.names(), None, None, 0);
            compile_text(text, &ctx).ok()
        })
        .collect()
}

/// Every ticket, in `order`: the list before anything is typed.
fn everything(order: &Order) -> Request {
    Request {
        id: 1,
        predicate: Arc::new(Everything),
        order: order.clone(),
        narrows: false,
        typed: None,
        key: None,
    }
}

/// Typing `lote 12` in the search box, a character at a time, each answered
/// before the next (by updated time, as the list starts); the time of the
/// six answers. With `resume`,
/// each request says which word was typed further, as the console does, so
/// only the new letters are tested; without, each character filters the
/// previous answer with the whole query.
#[divan::bench(args = SIZES, consts = [false, true], sample_count = 5, sample_size = 1)]
fn type_lote_12<const RESUME: bool>(bencher: Bencher, n: usize) {
    let store = shared(n);
    let order = order(store, SortField::Updated);
    let mut requests = Vec::new();
    let mut before = deskterm::query::lang::Query::default();
    for (id, (query, compiled)) in (2..).zip(typing_lote_12(store)) {
        let typed = typed_word(&before, &query)
            .filter(|_| RESUME)
            .map(|(term, word)| Typed {
                term,
                word: Arc::new(FuzzyWord::new(word)) as Arc<dyn TypedWord>,
            });
        requests.push(Request {
            id,
            predicate: Arc::new(compiled),
            order: order.clone(),
            narrows: true,
            typed,
            key: None,
        });
        before = query;
    }
    let everything = everything(&order);
    bencher
        .with_inputs(|| {
            let mut engine = Engine::default();
            evaluate(store, &mut engine, &everything);
            engine
        })
        .bench_local_values(|mut engine| {
            requests
                .iter()
                .map(|r| evaluate(store, &mut engine, r).slots.len())
                .sum::<usize>()
        });
}

/// Erasing `lote 12` a character at a time after typing it, each answer
/// before the next: the time of the six answers while erasing. With `KEEP`,
/// requests carry a key, as the console's do, and the worker gives back
/// the answers it kept while the query was typed; without, each erased
/// character is a whole pass over every ticket.
#[divan::bench(args = SIZES, consts = [false, true], sample_count = 5, sample_size = 1)]
fn erase_lote_12<const KEEP: bool>(bencher: Bencher, n: usize) {
    let store = shared(n);
    let order = order(store, SortField::Updated);
    let typing: Vec<Request> = (2..)
        .zip(typing_lote_12(store))
        .map(|(id, (_, compiled))| Request {
            id,
            key: KEEP.then(|| format!("{compiled:?}")),
            predicate: Arc::new(compiled),
            order: order.clone(),
            narrows: true,
            typed: None,
        })
        .collect();
    let everything = everything(&order);
    let erasing: Vec<Request> = typing
        .iter()
        .rev()
        .skip(1)
        .map(|r| Request {
            narrows: false,
            ..r.clone()
        })
        .chain(std::iter::once(everything.clone()))
        .collect();
    bencher
        .with_inputs(|| {
            let mut engine = Engine::default();
            evaluate(store, &mut engine, &everything);
            for r in &typing {
                evaluate(store, &mut engine, r);
            }
            engine
        })
        .bench_local_values(|mut engine| {
            erasing
                .iter()
                .map(|r| evaluate(store, &mut engine, r).slots.len())
                .sum::<usize>()
        });
}

/// One remote change: the ticket moves within a view of every ticket.
#[divan::bench(args = SIZES, sample_count = 20, sample_size = 1)]
fn catch_up_one_change(bencher: Bencher, n: usize) {
    let store = store(n);
    let order = order(&store, SortField::Updated);
    let mut view = View {
        slots: order.sort_all(&read(&store)).into(),
        generation: read(&store).generation(),
    };
    let mut version = 1;
    bencher.bench_local(|| {
        version += 1;
        let mut t = ticket(n as i64 / 2);
        t.version = version;
        t.updated_at = DateTime::from_timestamp(1_900_000_000 + version, 0).unwrap_or_default();
        store.write().unwrap_or_else(|e| e.into_inner()).put(&t);
        view.catch_up(&read(&store), &order, |_| true)
    });
}

/// A batch of 2,000 tickets of a load joining a view of every ticket.
#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn catch_up_a_load_batch(bencher: Bencher, n: usize) {
    bencher
        .with_inputs(|| {
            let store = store(n);
            let order = order(&store, SortField::Updated);
            let view = View {
                slots: order.sort_all(&read(&store)).into(),
                generation: read(&store).generation(),
            };
            {
                let mut guard = store.write().unwrap_or_else(|e| e.into_inner());
                for id in 0..2_000 {
                    guard.put(&ticket(n as i64 + id));
                }
            }
            (store, order, view)
        })
        .bench_local_values(|(store, order, mut view)| {
            view.catch_up(&read(&store), &order, |_| true)
        });
}
