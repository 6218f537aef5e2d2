//! Properties of the language over generated queries and tickets: printing
//! then parsing gives the same query back and printing is idempotent; and
//! when `narrows(old, new)` says so, every ticket `new` keeps is one `old`
//! keeps. Runs 2,000 cases; `PROPTEST_CASES` overrides.

use chrono::{DateTime, NaiveDate};
use deskterm_api::{MacroStatus, Priority, Ticket};
use proptest::prelude::*;

use super::testkit::{ME, NOW, op, operators, statuses, ticket};
use super::{
    Atom, CategoryValue, Cmp, Context, OperatorValue, PriorityTest, Query, Term, TimeField,
    TimeTest, Unit, compile, narrows, parse,
};
use crate::query::Sla;
use crate::store::{Indexed, Interner};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig::with_cases(cases)
}

// ---------- any query, for printing ----------

/// Strings made of the characters that need quoting or escaping.
fn text() -> impl Strategy<Value = String> {
    let whole = prop::sample::select(vec![
        "important",
        "IMPORTANT",
        "me",
        "Me",
        "none",
        "status",
        "-",
        "\"",
        "\\",
        "a:b",
        "op<x",
        "x=y",
        "10:30",
        "a b",
        "é",
    ])
    .prop_map(String::from);
    let chars = prop::sample::select(vec![
        'a', 'b', 'z', 'I', 'm', 'e', 'é', 'Á', 'ñ', '1', ' ', '\t', ',', '"', '\\', ':', '<', '>',
        '=', '-', '_', '\u{301}', '\u{a0}', '日',
    ]);
    let built = prop::collection::vec(chars, 1..8).prop_map(|v| v.into_iter().collect());
    prop_oneof![whole, built]
}

fn list<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<T>> {
    prop::collection::vec(s, 1..4)
}

fn priority() -> impl Strategy<Value = Priority> {
    prop::sample::select(Priority::ALL.to_vec())
}

fn cmp() -> impl Strategy<Value = Cmp> {
    prop::sample::select(vec![Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge])
}

fn sla() -> impl Strategy<Value = Option<Sla>> {
    prop::sample::select(vec![
        Some(Sla::Ok),
        Some(Sla::AtRisk),
        Some(Sla::Breached),
        None,
    ])
}

fn time_test(days: std::ops::Range<i64>, max_amount: u32) -> impl Strategy<Value = TimeTest> {
    let base = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
    let unit = prop::sample::select(vec![Unit::Minute, Unit::Hour, Unit::Day, Unit::Week]);
    prop_oneof![
        (cmp(), 0..max_amount, unit).prop_map(|(cmp, amount, unit)| TimeTest::Age {
            cmp,
            amount,
            unit
        }),
        (prop::option::of(cmp()), days).prop_map(move |(cmp, d)| TimeTest::Date {
            cmp,
            date: base + chrono::Duration::days(d),
        }),
    ]
}

fn time_field() -> impl Strategy<Value = TimeField> {
    prop::sample::select(vec![TimeField::Updated, TimeField::Created])
}

fn any_atom() -> impl Strategy<Value = Atom> {
    prop_oneof![
        list(text()).prop_map(Atom::Status),
        list(prop::sample::select(vec![
            MacroStatus::InProgress,
            MacroStatus::Closed
        ]))
        .prop_map(Atom::Macro),
        list(priority()).prop_map(|l| Atom::Priority(PriorityTest::In(l))),
        (cmp(), priority()).prop_map(|(c, p)| Atom::Priority(PriorityTest::Cmp(c, p))),
        list(prop_oneof![
            Just(OperatorValue::Me),
            Just(OperatorValue::Nobody),
            text().prop_map(OperatorValue::Name)
        ])
        .prop_map(Atom::Operator),
        list(prop_oneof![
            Just(CategoryValue::Nobody),
            text().prop_map(CategoryValue::Name)
        ])
        .prop_map(Atom::Category),
        list(text()).prop_map(Atom::Tag),
        Just(Atom::Important),
        list(sla()).prop_map(Atom::Sla),
        list(text()).prop_map(Atom::Channel),
        (time_field(), time_test(-40_000..40_000, u32::MAX)).prop_map(|(f, t)| Atom::Time(f, t)),
        list(text()).prop_map(Atom::Contact),
        list(text()).prop_map(Atom::Reference),
        text().prop_map(Atom::Phrase),
        text().prop_map(Atom::Word),
    ]
}

fn query(atom: impl Strategy<Value = Atom>) -> impl Strategy<Value = Query> {
    prop::collection::vec((any::<bool>(), atom), 0..6).prop_map(|terms| Query {
        terms: terms
            .into_iter()
            .map(|(negated, atom)| Term { negated, atom })
            .collect(),
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn printing_then_parsing_gives_the_query_back(q in query(any_atom())) {
        let printed = q.to_string();
        let parsed = parse(&printed);
        prop_assert_eq!(parsed.as_ref(), Ok(&q), "printed as {}", printed);
        if let Ok(p) = parsed {
            prop_assert_eq!(p.to_string(), printed);
        }
    }
}

// ---------- queries over a known world, for narrowing ----------

const STATUS_NAMES: &[&str] = &["open", "Pending", "new", "esperando piezas", "closed"];
const OPERATOR_NAMES: &[&str] = &["mar", "marco", "marta", "ana", "ruiz gómez", "bianchi"];
const CATEGORIES: &[&str] = &["Billing", "facturacion", "Hardware"];
const TAGS: &[&str] = &["vip", "b2b", "VIP"];
const CHANNELS: &[&str] = &["web", "email"];
const CONTACTS: &[&str] = &["ana", "ana ruiz", "nu", "núria", "puig", "marco"];
const WORDS: &[&str] = &[
    "l", "lo", "lote", "le", "12", "lote1", "pe", "ped", "pedido", "cam", "cámara", "ro", "rf",
];
const PHRASES: &[&str] = &["lote", "lote 12", "pedido", "refund", "ámara"];
const TITLE_WORDS: &[&str] = &[
    "Lote", "12", "pedido", "refund", "Cámara", "rota", "ritardo", "consegna", "sin", "etiqueta",
];

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(pool).prop_map(String::from)
}

fn known_atom() -> impl Strategy<Value = Atom> {
    prop_oneof![
        list(pick(STATUS_NAMES)).prop_map(Atom::Status),
        list(prop::sample::select(vec![
            MacroStatus::InProgress,
            MacroStatus::Closed
        ]))
        .prop_map(Atom::Macro),
        list(priority()).prop_map(|l| Atom::Priority(PriorityTest::In(l))),
        (cmp(), priority()).prop_map(|(c, p)| Atom::Priority(PriorityTest::Cmp(c, p))),
        list(prop_oneof![
            Just(OperatorValue::Me),
            Just(OperatorValue::Nobody),
            pick(OPERATOR_NAMES).prop_map(OperatorValue::Name)
        ])
        .prop_map(Atom::Operator),
        list(prop_oneof![
            Just(CategoryValue::Nobody),
            pick(CATEGORIES).prop_map(CategoryValue::Name)
        ])
        .prop_map(Atom::Category),
        list(pick(TAGS)).prop_map(Atom::Tag),
        Just(Atom::Important),
        list(sla()).prop_map(Atom::Sla),
        list(pick(CHANNELS)).prop_map(Atom::Channel),
        (time_field(), time_test(-12..3, 40)).prop_map(|(f, t)| Atom::Time(f, t)),
        list(pick(CONTACTS)).prop_map(Atom::Contact),
        list(
            prop::sample::select(vec!["HD-000001", "hd-000002", "HD-000003"])
                .prop_map(String::from)
        )
        .prop_map(Atom::Reference),
        pick(PHRASES).prop_map(Atom::Phrase),
        pick(WORDS).prop_map(Atom::Word),
        pick(WORDS).prop_map(Atom::Word),
    ]
}

/// A change to a query; some narrow it, some do not.
#[derive(Debug, Clone)]
enum Edit {
    Add(Term),
    ExtendWord(usize, char),
    DropValue(usize, usize),
    Replace(usize, Term),
    Remove(usize),
    Negate(usize),
}

fn known_term() -> impl Strategy<Value = Term> {
    (prop::bool::weighted(0.3), known_atom()).prop_map(|(negated, atom)| Term { negated, atom })
}

fn edit() -> impl Strategy<Value = Edit> {
    let ix = any::<usize>();
    prop_oneof![
        3 => known_term().prop_map(Edit::Add),
        3 => (ix, prop::sample::select(vec!['l', 'o', 't', 'e', '1', '2', 'á', 'x']))
            .prop_map(|(i, c)| Edit::ExtendWord(i, c)),
        3 => (ix, any::<usize>()).prop_map(|(i, j)| Edit::DropValue(i, j)),
        1 => (ix, known_term()).prop_map(|(i, t)| Edit::Replace(i, t)),
        1 => ix.prop_map(Edit::Remove),
        1 => ix.prop_map(Edit::Negate),
    ]
}

fn drop_value<T>(list: &mut Vec<T>, j: usize) {
    if list.len() > 1 {
        list.remove(j % list.len());
    }
}

/// Applies `edits`; with `positive_only`, words are extended and lists
/// shortened only in terms that are not negated (which narrows).
fn apply(q: &Query, edits: &[Edit], positive_only: bool) -> Query {
    let mut q = q.clone();
    for e in edits {
        let n = q.terms.len();
        let skip = |i: usize, q: &Query| positive_only && n > 0 && q.terms[i % n].negated;
        match e.clone() {
            Edit::ExtendWord(i, _) | Edit::DropValue(i, _) if skip(i, &q) => {}
            Edit::Add(t) => q.terms.push(t),
            Edit::ExtendWord(i, c) if n > 0 => {
                if let Atom::Word(w) = &mut q.terms[i % n].atom {
                    w.push(c);
                }
            }
            Edit::DropValue(i, j) if n > 0 => match &mut q.terms[i % n].atom {
                Atom::Status(l)
                | Atom::Tag(l)
                | Atom::Channel(l)
                | Atom::Contact(l)
                | Atom::Reference(l) => drop_value(l, j),
                Atom::Macro(l) => drop_value(l, j),
                Atom::Priority(PriorityTest::In(l)) => drop_value(l, j),
                Atom::Operator(l) => drop_value(l, j),
                Atom::Category(l) => drop_value(l, j),
                Atom::Sla(l) => drop_value(l, j),
                _ => {}
            },
            Edit::Replace(i, t) if n > 0 => q.terms[i % n] = t,
            Edit::Remove(i) if n > 0 => {
                q.terms.remove(i % n);
            }
            Edit::Negate(i) if n > 0 => q.terms[i % n].negated ^= true,
            _ => {}
        }
    }
    q
}

/// Tickets drawn from the same names the queries use.
fn known_ticket() -> impl Strategy<Value = Ticket> {
    let status = prop::sample::select(statuses().into_iter().map(|s| s.key).collect::<Vec<_>>());
    let title = prop::collection::vec(prop::sample::select(TITLE_WORDS), 1..5);
    let category = prop::option::of(prop::sample::select(vec![
        "Billing",
        "Facturación",
        "hardware",
        "Other",
    ]));
    let tags = prop::collection::vec(prop::sample::select(vec!["vip", "b2b", "urgent"]), 0..3);
    let contact = prop::sample::select(vec!["Ana Ruiz", "Núria Puig", "Marco Bianchi", "Luca"]);
    let operator = prop::option::of(prop::sample::select(vec![7i64, 8, 9]));
    let times = (-15 * 86_400i64..86_400, -15 * 86_400i64..86_400);
    let sla_due = prop::option::of(-3 * 3_600i64..3 * 3_600);
    (
        (1i64..4, status, priority(), title, category, tags),
        (
            any::<bool>(),
            contact,
            operator,
            prop::sample::select(CHANNELS),
            times,
            sla_due,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (id, status, priority, title, category, tags),
                (important, contact, operator, channel, (created, updated), due, closed),
            )| {
                let at = |s: i64| DateTime::from_timestamp(NOW + s, 0).unwrap_or_default();
                let mut t = ticket(id);
                t.status = status;
                t.priority = priority;
                t.title = title.join(" ");
                t.category = category.map(String::from);
                t.tags = tags.into_iter().map(String::from).collect();
                t.important = important;
                t.contact.name = contact.into();
                t.operator = operator.and_then(op);
                t.channel = channel.into();
                t.created_at = at(created);
                t.updated_at = at(updated);
                t.sla_due_at = due.map(at);
                t.closed_at = closed.then(|| at(0));
                t
            },
        )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn narrowing_keeps_only_tickets_the_old_query_kept(
        old in query(known_atom()),
        edits in prop::collection::vec(edit(), 0..4),
        tickets in prop::collection::vec(known_ticket(), 1..24),
    ) {
        let new = apply(&old, &edits, false);
        let mut names = Interner::default();
        let rows: Vec<Indexed> = tickets.iter().map(|t| Indexed::new(t, &mut names)).collect();
        let (statuses, operators) = (statuses(), operators());
        let ctx = Context {
            names: &names,
            me: Some(ME),
            now: NOW,
            utc_offset: 3_600,
            statuses: &statuses,
            operators: &operators,
        };
        prop_assert!(narrows(&old, &old));
        if narrows(&old, &new) {
            let old_c = compile(&old, &ctx);
            let new_c = compile(&new, &ctx);
            prop_assert!(old_c.is_ok() && new_c.is_ok(), "{:?} / {:?}", old_c.err(), new_c.err());
            if let (Ok(old_c), Ok(new_c)) = (old_c, new_c) {
                for row in &rows {
                    if new_c.matches(row.listed()) {
                        prop_assert!(
                            old_c.matches(row.listed()),
                            "'{}' narrows '{}' but keeps {:?}", new, old, row.row
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn adding_terms_and_typing_words_further_narrows(
        old in query(known_atom()),
        added in prop::collection::vec(known_term(), 0..3),
        extend in prop::collection::vec((any::<usize>(), prop::sample::select(vec!['l', 'o', 'x', 'é'])), 0..3),
        drop in prop::collection::vec((any::<usize>(), any::<usize>()), 0..3),
    ) {
        let mut edits: Vec<Edit> = added.into_iter().map(Edit::Add).collect();
        edits.extend(extend.into_iter().map(|(i, c)| Edit::ExtendWord(i, c)));
        edits.extend(drop.into_iter().map(|(i, j)| Edit::DropValue(i, j)));
        let new = apply(&old, &edits, true);
        prop_assert!(narrows(&old, &new), "'{}' should narrow '{}'", new, old);
    }
}
