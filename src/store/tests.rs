use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use deskterm_api::{
    ContactRef, MacroStatus, Meta, OperatorRef, Priority, ServerCapabilities, Sort, SortField,
    StatusDef, Ticket,
};
use proptest::prelude::*;

use super::worker::{Engine, Everything, Predicate, Request, evaluate};
use super::*;

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap_or_default()
}

const STATUSES: [&str; 4] = ["new", "open", "pending", "closed"];
const NAMES: [&str; 5] = ["Ana", "álvaro", "Marco", "Zoë", "bruno"];

fn meta() -> Meta {
    Meta {
        statuses: STATUSES
            .iter()
            .map(|k| StatusDef {
                key: (*k).into(),
                label: k.to_uppercase(),
                macro_status: if *k == "closed" {
                    MacroStatus::Closed
                } else {
                    MacroStatus::InProgress
                },
                builtin: true,
            })
            .collect(),
        priorities: Priority::ALL.to_vec(),
        categories: vec![],
        operators: vec![],
        tags: vec![],
        channels: vec![],
        capabilities: ServerCapabilities {
            preconditions: true,
            live_events: true,
            custom_statuses: false,
            stats: false,
            history: false,
        },
        server_version: String::new(),
    }
}

/// A ticket whose fields all derive from a few small numbers, so generated
/// tickets collide on sort keys often (ties must be broken by id).
fn ticket(id: i64, v: u8) -> Ticket {
    let v = i64::from(v);
    Ticket {
        id,
        reference: format!("HD-{:06}", id % 7),
        title: format!("{} pedido {}", NAMES[(v % 5) as usize], v % 3),
        description: String::new(),
        status: STATUSES[(v % 4) as usize].into(),
        priority: Priority::ALL[(v % 4) as usize],
        category: (v % 3 != 0).then(|| NAMES[((v / 3) % 5) as usize].into()),
        tags: vec![],
        important: v % 2 == 0,
        contact: ContactRef {
            id: v % 5,
            name: NAMES[((v / 2) % 5) as usize].into(),
            phone: None,
            email: None,
        },
        operator: (v % 4 != 0).then(|| OperatorRef {
            id: v % 4,
            name: NAMES[((v / 4) % 5) as usize].into(),
        }),
        channel: "web".into(),
        sla_due_at: None,
        created_at: at(v % 6),
        updated_at: at(v % 5),
        closed_at: None,
        version: 1,
    }
}

/// Tickets whose status is one of the first two.
struct EarlyStatus(Vec<Sym>);

impl Predicate for EarlyStatus {
    fn matcher(&self) -> Box<dyn FnMut(&Row) -> bool + '_> {
        Box::new(|r| self.0.contains(&r.status))
    }
}

fn shared(store: Store) -> worker::Shared {
    Arc::new(RwLock::new(store))
}

#[derive(Debug, Clone)]
enum Change {
    Put(i64, u8),
    Remove(i64),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => (0i64..80, any::<u8>()).prop_map(|(id, v)| Change::Put(id, v)),
        1 => (0i64..80).prop_map(Change::Remove),
    ]
}

fn sort() -> impl Strategy<Value = Sort> {
    (0usize..SortField::ALL.len(), any::<bool>()).prop_map(|(i, descending)| Sort {
        field: SortField::ALL[i],
        descending,
    })
}

/// Filter and sort from scratch: the reference the incremental view must equal.
fn from_scratch(store: &Store, order: &Order, keep: &dyn Predicate) -> Vec<Slot> {
    let mut m = keep.matcher();
    let mut slots: Vec<Slot> = store.iter().filter(|(_, r)| m(r)).map(|(s, _)| s).collect();
    slots.sort_by(|&a, &b| order.cmp_slots(store, a, b));
    slots
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    /// After any sequence of inserts, updates and deletes, a view caught up
    /// change by change (or in one batch) equals filter+sort from scratch.
    #[test]
    fn the_incremental_view_equals_a_fresh_one(
        first in proptest::collection::vec(change(), 0..40),
        later in proptest::collection::vec(change(), 0..120),
        sort in sort(),
        batch in prop_oneof![1usize..8, 33usize..61],
    ) {
        let mut store = Store::new();
        let order = Order::new(sort, &mut store, Some(&meta()));
        let early = EarlyStatus(vec![store.intern("new"), store.intern("open")]);
        for c in &first {
            apply(&mut store, c);
        }
        let mut view = View {
            slots: from_scratch(&store, &order, &early),
            generation: store.generation(),
        };
        for group in later.chunks(batch) {
            for c in group {
                apply(&mut store, c);
            }
            let mut keep = early.matcher();
            prop_assert!(view.catch_up(&store, &order, &mut *keep));
            drop(keep);
            prop_assert_eq!(&view.slots, &from_scratch(&store, &order, &early));
        }
    }

    /// The worker's answer equals filter+sort from scratch, also when it
    /// reuses an order it kept and narrows the previous answer.
    #[test]
    fn the_worker_answers_like_a_fresh_sort(
        first in proptest::collection::vec(change(), 0..60),
        later in proptest::collection::vec(change(), 0..20),
        sort in sort(),
    ) {
        let mut store = Store::new();
        let order = Order::new(sort, &mut store, Some(&meta()));
        let early: Arc<dyn Predicate> =
            Arc::new(EarlyStatus(vec![store.intern("new"), store.intern("open")]));
        for c in &first {
            apply(&mut store, c);
        }
        let store = shared(store);
        let mut engine = Engine::default();
        let all = Request { id: 1, predicate: Arc::new(Everything), order: order.clone(), narrows: false };
        let view = evaluate(&store, &mut engine, &all);
        {
            let guard = worker::read(&store);
            prop_assert_eq!(&view.slots, &from_scratch(&guard, &order, &Everything));
        }
        if let Ok(mut guard) = store.write() {
            for c in &later {
                apply(&mut guard, c);
            }
        }
        let narrower = Request { id: 2, predicate: early.clone(), order: order.clone(), narrows: true };
        let view = evaluate(&store, &mut engine, &narrower);
        let guard = worker::read(&store);
        prop_assert_eq!(&view.slots, &from_scratch(&guard, &order, early.as_ref()));
        prop_assert_eq!(view.generation, guard.generation());
    }
}

fn apply(store: &mut Store, c: &Change) {
    match c {
        Change::Put(id, v) => {
            store.put(&ticket(*id, *v));
        }
        Change::Remove(id) => {
            store.remove(*id);
        }
    }
}

#[test]
fn a_view_older_than_the_log_asks_for_a_recompute() {
    let mut store = Store::new();
    let order = Order::new(
        Sort {
            field: SortField::Updated,
            descending: true,
        },
        &mut store,
        None,
    );
    let mut view = View {
        slots: vec![],
        generation: store.generation(),
    };
    for i in 0..(LOG_LIMIT as i64 + 10) {
        store.put(&ticket(i % 50, (i % 200) as u8));
    }
    assert!(!view.catch_up(&store, &order, |_| true));
    store.clear();
    let mut fresh = View {
        slots: vec![],
        generation: store.generation(),
    };
    store.put(&ticket(1, 1));
    assert!(fresh.catch_up(&store, &order, |_| true));
    assert_eq!(fresh.slots.len(), 1);
}

#[test]
fn rows_keep_folded_keys_and_slots_are_reused() {
    let mut store = Store::new();
    let mut t = ticket(9, 1);
    t.title = "ÁRBOL Caído".into();
    let slot = store.put(&t);
    let row = store
        .get(9)
        .map(|r| (r.folded_title().to_owned(), r.haystack.to_string()));
    assert_eq!(
        row,
        Some((
            "árbol caído".to_owned(),
            "hd-000002 árbol caído ana ana".to_owned()
        ))
    );
    assert_eq!(store.remove(9), Some(slot));
    assert_eq!(store.put(&ticket(10, 2)), slot, "a freed slot is reused");
    assert_eq!(store.len(), 1);
}

#[test]
fn the_worker_thread_answers_the_newest_query() {
    let mut store = Store::new();
    for i in 0..5_000 {
        store.put(&ticket(i, (i % 251) as u8));
    }
    let order = Order::new(
        Sort {
            field: SortField::Title,
            descending: false,
        },
        &mut store,
        Some(&meta()),
    );
    let early: Arc<dyn Predicate> = Arc::new(EarlyStatus(vec![store.intern("new")]));
    let store = shared(store);
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = worker::Worker::start(store.clone(), move |a| {
        let _ = tx.send(a);
    })
    .expect("thread starts");
    for id in 1..=20 {
        worker.ask(Request {
            id,
            predicate: early.clone(),
            order: order.clone(),
            narrows: false,
        });
    }
    // Older queries may or may not be answered before the newest arrives;
    // the newest always is, and it is right.
    let newest = loop {
        let answer = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("an answer");
        if answer.id == 20 {
            break answer;
        }
    };
    let guard = worker::read(&store);
    assert_eq!(
        newest.view.slots,
        from_scratch(&guard, &order, early.as_ref())
    );
}
