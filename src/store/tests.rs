use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use deskterm_api::{
    ContactRef, MacroStatus, Meta, OperatorRef, Priority, ServerCapabilities, Sort, SortField,
    StatusDef, Ticket,
};
use proptest::prelude::*;

use super::worker::{Engine, Everything, Predicate, Request, Typed, TypedWord, evaluate};
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
            escalations: false,
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
        sla_due_at: (v % 5 == 1).then(|| at(v % 7 * 10)),
        pending_until: None,
        created_at: at(v % 6),
        updated_at: at(v % 5),
        closed_at: (v % 4 == 3).then(|| at(v % 9)),
        sla_state: None,
        version: 1,
    }
}

/// The order of `field`, without statuses.
fn order_by(store: &mut Store, field: SortField, descending: bool) -> Order {
    Order::new(Sort { field, descending }, store, None)
}

/// Tickets whose status is one of the first two.
struct EarlyStatus(Vec<Sym>);

impl Predicate for EarlyStatus {
    fn matcher(&self) -> Box<dyn FnMut(Listed<'_>) -> bool + '_> {
        Box::new(|r| self.0.contains(&r.status))
    }
}

/// Words whose letters must appear in order in the search text: a plain
/// stand-in for the query language's free words.
#[derive(Debug, Clone)]
struct Letters(String);

impl Letters {
    fn resume_in(&self, text: &str, from: usize, done: usize) -> Option<usize> {
        let mut at = from;
        for w in self.0.bytes().skip(done) {
            at += text.as_bytes().get(at..)?.iter().position(|&b| b == w)? + 1;
        }
        Some(at)
    }
}

impl TypedWord for Letters {
    fn resume(&self, search: Searched<'_>, from: usize, done: usize) -> Option<usize> {
        self.resume_in(search.text, from, done)
    }

    fn extends(&self, shorter: &dyn TypedWord) -> Option<usize> {
        let shorter = shorter.as_any().downcast_ref::<Letters>()?;
        self.0.starts_with(&shorter.0).then_some(shorter.0.len())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Every word's letters, in order.
struct AllWords(Vec<Letters>);

impl Predicate for AllWords {
    fn matcher(&self) -> Box<dyn FnMut(Listed<'_>) -> bool + '_> {
        Box::new(|r| {
            self.0
                .iter()
                .all(|w| w.resume_in(r.haystack(), 0, 0).is_some())
        })
    }
}

fn words_of(text: &str) -> Vec<Letters> {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| Letters(w.into()))
        .collect()
}

/// What the list asks after `old` when the operator's query becomes `new`:
/// narrowing, and the word typed further, the way the console tells them.
fn request_for(id: u64, old: &str, new: &str, order: &Order) -> Request {
    let (o, n) = (words_of(old), words_of(new));
    let same_before = |k: usize| (0..k).all(|i| o.get(i).map(|w| &w.0) == n.get(i).map(|w| &w.0));
    let typed = match (o.len(), n.len()) {
        (a, b) if b == a + 1 && same_before(a) => Some(a),
        (a, b) if a == b && a > 0 && same_before(a - 1) && n[a - 1].0.starts_with(&o[a - 1].0) => {
            Some(a - 1)
        }
        _ => None,
    };
    let typed = typed.filter(|&k| n[k].0 != o.get(k).map_or(String::new(), |w| w.0.clone()));
    Request {
        id,
        predicate: Arc::new(AllWords(n.clone())),
        order: order.clone(),
        narrows: typed.is_some(),
        typed: typed.map(|k| Typed {
            term: k,
            word: Arc::new(n[k].clone()),
        }),
        key: Some(new.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

#[derive(Debug, Clone)]
enum Key {
    Type(char),
    Erase,
    Store(Change),
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        6 => prop::sample::select(vec!['h', 'd', '0', '1', '2', 'a', 'n', 'p', 'e', 'o', ' ']).prop_map(Key::Type),
        1 => Just(Key::Erase),
        1 => change().prop_map(Key::Store),
    ]
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
    let mut slots: Vec<Slot> = store
        .iter()
        .filter(|&(s, _)| store.listed(s).is_some_and(&mut *m))
        .map(|(s, _)| s)
        .collect();
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
            slots: from_scratch(&store, &order, &early).into(),
            generation: store.generation(),
        };
        for group in later.chunks(batch) {
            for c in group {
                apply(&mut store, c);
            }
            let mut keep = early.matcher();
            prop_assert!(view.catch_up(&store, &order, &mut *keep));
            drop(keep);
            prop_assert_eq!(&*view.slots, &from_scratch(&store, &order, &early));
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
        let all = Request { id: 1, predicate: Arc::new(Everything), order: order.clone(), narrows: false, typed: None, key: None };
        let view = evaluate(&store, &mut engine, &all);
        {
            let guard = worker::read(&store);
            prop_assert_eq!(&*view.slots, &from_scratch(&guard, &order, &Everything));
        }
        if let Ok(mut guard) = store.write() {
            for c in &later {
                apply(&mut guard, c);
            }
        }
        let narrower = Request { id: 2, predicate: early.clone(), order: order.clone(), narrows: true, typed: None, key: None };
        let view = evaluate(&store, &mut engine, &narrower);
        let guard = worker::read(&store);
        prop_assert_eq!(&*view.slots, &from_scratch(&guard, &order, early.as_ref()));
        prop_assert_eq!(view.generation, guard.generation());
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    /// Typing, erasing and tickets changing between keys, with some passes
    /// stopped by the next key: every answer equals filter+sort from scratch.
    #[test]
    fn typing_a_query_answers_like_a_fresh_filter(
        first in proptest::collection::vec(change(), 0..60),
        keys in proptest::collection::vec((key(), any::<bool>()), 1..40),
        sort in sort(),
    ) {
        let mut store = Store::new();
        let order = Order::new(sort, &mut store, Some(&meta()));
        for c in &first {
            apply(&mut store, c);
        }
        let store = shared(store);
        let mut engine = Engine::default();
        let mut text = String::new();
        let mut asked = String::new();
        let mut unanswered: Option<Request> = None;
        for (id, (key, skipped)) in (1u64..).zip(&keys) {
            match key {
                Key::Type(c) => text.push(*c),
                Key::Erase => {
                    text.pop();
                }
                Key::Store(c) => {
                    if let Ok(mut guard) = store.write() {
                        apply(&mut guard, c);
                    }
                    continue;
                }
            }
            let mut request = request_for(id, &asked, &text, &order);
            asked = text.clone();
            if let Some(earlier) = unanswered.take() {
                request = request.after(&earlier);
            }
            let stale = || *skipped;
            match engine.run(&store, &request, &stale) {
                None => unanswered = Some(request),
                Some(view) => {
                    let guard = worker::read(&store);
                    let expected = from_scratch(&guard, &order, &AllWords(words_of(&text)));
                    prop_assert_eq!(&*view.slots, &expected, "query {:?}", text);
                }
            }
        }
    }
}

#[test]
fn an_erase_whose_pass_stopped_is_not_taken_for_typing() {
    let mut store = Store::new();
    let order = order_by(&mut store, SortField::Reference, false);
    store.put(&ticket(1, 0)); // hd-000001 ana pedido 0 ana
    store.put(&ticket(2, 4)); // hd-000002 bruno pedido 1 marco álvaro
    let store = shared(store);
    let mut engine = Engine::default();
    let mut ids = |r: &Request| -> Vec<i64> {
        let view = evaluate(&store, &mut engine, r);
        let guard = worker::read(&store);
        view.slots
            .iter()
            .filter_map(|&s| guard.row(s).map(|r| r.id))
            .collect()
    };
    assert_eq!(ids(&request_for(1, "", "ana", &order)), [1]);
    // Erased (that pass stopped for the next key), then "b" typed: "b" is
    // not "ana" narrowed.
    let erase = request_for(2, "ana", "", &order);
    let typed = request_for(3, "", "b", &order);
    assert!(typed.narrows && typed.typed.is_some());
    let typed = typed.after(&erase);
    assert!(!typed.narrows && typed.typed.is_none());
    assert_eq!(ids(&typed), [2]);
    assert_eq!(ids(&request_for(4, "b", "br", &order)), [2]);
    assert_eq!(ids(&request_for(5, "br", "brx", &order)), [] as [i64; 0]);
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
    let order = order_by(&mut store, SortField::Updated, true);
    let mut view = View {
        slots: Default::default(),
        generation: store.generation(),
    };
    for i in 0..(LOG_LIMIT as i64 + 10) {
        store.put(&ticket(i % 50, (i % 200) as u8));
    }
    assert!(!view.catch_up(&store, &order, |_| true));
    store.clear();
    let mut fresh = View {
        slots: Default::default(),
        generation: store.generation(),
    };
    store.put(&ticket(1, 1));
    assert!(fresh.catch_up(&store, &order, |_| true));
    assert_eq!(fresh.slots.len(), 1);
}

#[test]
fn ties_go_by_id_also_for_ids_beyond_32_bits() {
    for ids in [[7, 3, -2, 5], [5_000_000_000, 3, -2, 4_000_000_000]] {
        let mut store = Store::new();
        let order = order_by(&mut store, SortField::Created, true);
        for id in ids {
            store.put(&ticket(id, 6));
        }
        let mut newer = ticket(100, 6);
        newer.created_at += chrono::Duration::days(1);
        store.put(&newer);
        let sorted: Vec<i64> = order
            .sort_all(&store)
            .iter()
            .filter_map(|&s| store.row(s).map(|r| r.id))
            .collect();
        let mut by_id = ids.to_vec();
        by_id.sort_unstable();
        assert_eq!(sorted[0], 100);
        assert_eq!(sorted[1..], by_id[..], "{ids:?}");
        let mut slots = order.sort_all(&store);
        slots.reverse();
        slots.sort_by(|&a, &b| order.cmp_slots(&store, a, b));
        assert_eq!(
            slots,
            order.sort_all(&store),
            "the same order as one by one"
        );
    }
}

#[test]
fn a_shared_view_is_copied_only_by_the_one_that_changes() {
    let mut store = Store::new();
    let order = order_by(&mut store, SortField::Updated, true);
    for i in 1..=5 {
        store.put(&ticket(i, i as u8));
    }
    let kept = View {
        slots: order.sort_all(&store).into(),
        generation: store.generation(),
    };
    let mut shown = kept.clone();
    assert!(shown.catch_up(&store, &order, |_| true));
    assert!(
        Arc::ptr_eq(&shown.slots, &kept.slots),
        "nothing changed, nothing copied"
    );

    let mut t = ticket(2, 2);
    t.updated_at += chrono::Duration::days(1);
    store.put(&t);
    assert!(shown.catch_up(&store, &order, |_| true));
    assert!(!Arc::ptr_eq(&shown.slots, &kept.slots));
    assert_eq!(*shown.slots, order.sort_all(&store));
    assert_eq!(kept.slots.len(), 5);
    assert_ne!(*kept.slots, *shown.slots, "the kept view is as it was");
}

#[test]
fn rows_keep_folded_keys_and_slots_are_reused() {
    let mut store = Store::new();
    let mut t = ticket(9, 1);
    t.title = "ÁRBOL Caído".into();
    let slot = store.put(&t);
    let row = store
        .listed(slot)
        .map(|r| (store.folded_title(slot).to_owned(), r.haystack().to_owned()));
    assert_eq!(
        row,
        Some((
            "árbol caído".to_owned(),
            "hd-000002 árbol caído ana ana".to_owned()
        ))
    );
    assert_eq!(
        store.listed(slot).map(|r| r.accent_folds()),
        Some(ascii_bit(b'a') | ascii_bit(b'i'))
    );
    assert_eq!(store.remove(9), Some(slot));
    assert_eq!(store.put(&ticket(10, 2)), slot, "a freed slot is reused");
    assert_eq!(store.len(), 1);
}

#[test]
fn the_same_ticket_again_changes_nothing() {
    let mut store = Store::new();
    let slot = store.put(&ticket(1, 1));
    let generation = store.generation();
    assert_eq!(store.put(&ticket(1, 1)), slot);
    assert_eq!(
        store.generation(),
        generation,
        "a resync of an unchanged ticket"
    );
    assert_eq!(store.put(&ticket(1, 2)), slot);
    assert_eq!(store.generation(), generation + 1);
    assert_eq!(store.changed_since(generation), Some(vec![slot]));
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
            typed: None,
            key: None,
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
        *newest.view.slots,
        from_scratch(&guard, &order, early.as_ref())
    );
}

/// Ids as a server and a client make them: small and dense, negative for
/// tickets being created, and now and then far beyond the rest.
fn any_id() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => 0i64..300,
        1 => -20i64..0,
        1 => (1i64 << 21)..(1i64 << 21) + 5,
        1 => (1i64 << 40)..(1i64 << 40) + 5,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever the ids, the store finds each ticket as a map would.
    #[test]
    fn tickets_are_found_by_id_like_in_a_map(
        changes in proptest::collection::vec(
            (any_id(), any::<u8>(), any::<bool>()),
            0..400,
        ),
    ) {
        let mut store = Store::new();
        let mut model = std::collections::HashMap::new();
        for (id, v, put) in &changes {
            if *put {
                let slot = store.put(&ticket(*id, *v));
                let back = store.get(*id).map(|r| store.ticket(r));
                prop_assert_eq!(back, Some(ticket(*id, *v)), "the row gives the ticket back");
                if let Some(&before) = model.get(id) {
                    prop_assert_eq!(slot, before, "a ticket keeps its slot");
                }
                model.insert(*id, slot);
            } else {
                prop_assert_eq!(store.remove(*id), model.remove(id));
            }
        }
        prop_assert_eq!(store.len(), model.len());
        for (id, _, _) in &changes {
            prop_assert_eq!(store.slot(*id), model.get(id).copied());
            prop_assert_eq!(store.get(*id).map(|r| r.id), model.get(id).map(|_| *id));
        }
        let mut listed: Vec<i64> = store.iter().map(|(_, r)| r.id).collect();
        let mut expected: Vec<i64> = model.keys().copied().collect();
        listed.sort_unstable();
        expected.sort_unstable();
        prop_assert_eq!(listed, expected);
    }

    /// A compact row gives back the texts it was made from, and searches
    /// and sorts on their folded forms.
    #[test]
    fn a_row_keeps_its_texts(
        reference in "\\PC{0,12}",
        title in "\\PC{0,40}",
        contact in "\\PC{0,20}",
        category in proptest::option::of("\\PC{0,12}"),
    ) {
        let mut t = ticket(3, 1);
        t.reference = reference.clone();
        t.title = title.clone();
        t.contact.name = contact.clone();
        t.category = category.clone();
        let mut store = Store::new();
        let slot = store.put(&t);
        let row = store.get(3).cloned().unwrap_or_else(|| panic!("ticket 3 is stored"));
        prop_assert_eq!(row.reference(), reference.as_str());
        prop_assert_eq!(row.title(), title.as_str());
        prop_assert_eq!(store.folded_title(slot), fold(&title));
        let mut haystack = format!("{} {} {}", fold(&reference), fold(&title), fold(&contact));
        if let Some(c) = &category {
            haystack.push(' ');
            haystack.push_str(&fold(c));
        }
        prop_assert_eq!(store.listed(slot).map(|r| r.haystack()), Some(haystack.as_str()));
        let back = store.ticket(&row);
        prop_assert_eq!((back.reference, back.title), (reference, title));
        prop_assert_eq!((back.contact.name, back.category), (contact, category));
    }

    /// Each distinct name has one symbol, which gives back the name and its
    /// folded form.
    #[test]
    fn names_are_interned_once(names in proptest::collection::vec("\\PC{0,10}", 0..60)) {
        let mut interner = Interner::default();
        let syms: Vec<Sym> = names.iter().map(|n| interner.intern(n)).collect();
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        prop_assert_eq!(interner.len(), distinct.len());
        for (name, sym) in names.iter().zip(&syms) {
            prop_assert_eq!(interner.intern(name), *sym);
            prop_assert_eq!(interner.get(name), Some(*sym));
            prop_assert_eq!(interner.name(*sym), name.as_str());
            prop_assert_eq!(interner.folded(*sym), fold(name));
        }
        prop_assert_eq!(interner.get("never interned \u{1}"), None);
        let folded: Vec<Sym> = interner.matching(|f| f.is_empty());
        let empty = names.iter().zip(&syms).filter(|(n, _)| fold(n).is_empty());
        let mut expected: Vec<Sym> = empty.map(|(_, s)| *s).collect();
        expected.sort_unstable();
        expected.dedup();
        prop_assert_eq!(folded, expected);
    }
}

/// Past a few chunks of tickets, a query over everything tests the rows in
/// slot order and then walks the kept order: the answer is the same as
/// filtering in that order, in every order, with freed and reused slots.
#[test]
fn a_query_over_many_tickets_answers_like_a_fresh_sort() {
    let mut store = Store::new();
    let n = 3 * 16 * 1024 + 77;
    // Loaded newest first, as a cold start does, then some deleted.
    for id in (0..n).rev() {
        store.put(&ticket(
            id,
            id.wrapping_mul(2_654_435_761).rem_euclid(251) as u8,
        ));
    }
    for id in (0..n).step_by(13) {
        store.remove(id);
    }
    let early: Arc<dyn Predicate> =
        Arc::new(EarlyStatus(vec![store.intern("new"), store.intern("open")]));
    let orders: Vec<Order> = SortField::ALL
        .iter()
        .map(|&field| {
            let sort = Sort {
                field,
                descending: field == SortField::Priority,
            };
            Order::new(sort, &mut store, Some(&meta()))
        })
        .collect();
    let store = shared(store);
    let mut engine = Engine::default();
    for (i, order) in orders.iter().enumerate() {
        let request = Request {
            id: i as u64 + 1,
            predicate: early.clone(),
            order: order.clone(),
            narrows: false,
            typed: None,
            key: None,
        };
        let view = evaluate(&store, &mut engine, &request);
        let guard = worker::read(&store);
        assert!(!view.slots.is_empty());
        assert_eq!(
            *view.slots,
            from_scratch(&guard, order, early.as_ref()),
            "{:?}",
            order.sort
        );
    }
}
