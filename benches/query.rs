//! The query language at scale: nucleo-matcher against fuzzy-matcher's
//! SkimMatcherV2 over 100k and 1M ticket search texts with the same
//! all-words semantics, the product's word test (nucleo's acceptance rule
//! without scoring), and compiled queries over 1M rows.
//!
//! Run: `cargo bench --bench query` (add a filter, e.g. `-- fuzzy_100k`).
//! The rows are generated here, seeded: Spanish, Italian and English titles,
//! contacts and categories, as the list holds them.

use std::sync::LazyLock;

use chrono::DateTime;
use deskterm::query::lang::{Compiler, Context, FuzzyWord, compile_text};
use deskterm::store::{Indexed, Interner};
use deskterm_api::{ContactRef, MacroStatus, OperatorRef, Priority, StatusDef, Ticket};
use divan::Bencher;
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};

fn main() {
    divan::main();
}

const NOW: i64 = 1_772_366_400;
const ME: i64 = 1;
const PATTERNS: [&str; 4] = ["l", "lo", "lote", "lote 12"];

/// splitmix64: small, seeded, good enough to shape test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const TITLE_WORDS: &[&str] = &[
    // Spanish
    "pedido",
    "lote",
    "factura",
    "envío",
    "devolución",
    "garantía",
    "cámara",
    "pantalla",
    "rota",
    "sin",
    "llegó",
    "incompleto",
    "reembolso",
    "cobro",
    "doble",
    "tarjeta",
    "cuenta",
    "acceso",
    "contraseña",
    "albarán",
    "retraso",
    "dirección",
    "cambio",
    "talla",
    "dañado",
    "caja",
    "móvil",
    "batería",
    "cargador",
    "no",
    "funciona",
    "error",
    "pago",
    "presupuesto",
    "piezas",
    // Italian
    "ordine",
    "spedizione",
    "fattura",
    "rimborso",
    "consegna",
    "ritardo",
    "reso",
    "garanzia",
    "schermo",
    "rotto",
    "pacco",
    "mancante",
    "addebito",
    "carta",
    "accesso",
    "password",
    "indirizzo",
    "prodotto",
    "difettoso",
    "assistenza",
    "richiesta",
    "lotto",
    "numero",
    "bolla",
    // English
    "order",
    "refund",
    "invoice",
    "delivery",
    "late",
    "broken",
    "screen",
    "missing",
    "package",
    "charge",
    "card",
    "login",
    "account",
    "address",
    "change",
    "warranty",
    "return",
    "label",
    "damaged",
    "battery",
    "charger",
    "not",
    "working",
    "payment",
    "quote",
    "parts",
    "batch",
];
const FIRST: &[&str] = &[
    "Ana",
    "Núria",
    "Marco",
    "Giulia",
    "Luca",
    "Lucía",
    "Javier",
    "Álvaro",
    "Chiara",
    "Matteo",
    "Sofía",
    "Pablo",
    "Francesca",
    "Giorgio",
    "John",
    "Emily",
    "Michael",
    "Sarah",
    "David",
    "Laura",
    "Carmen",
    "José",
    "Alessandro",
    "Martina",
    "Sergio",
    "Elena",
    "Paolo",
    "Irene",
    "Óscar",
    "Beatriz",
    "Emma",
    "Oliver",
    "Noah",
    "Isabella",
    "Mateo",
    "Valentina",
    "Hugo",
    "Lorenzo",
    "Inés",
    "Raúl",
];
const LAST: &[&str] = &[
    "Ruiz",
    "Puig",
    "Rossi",
    "Bianchi",
    "García",
    "Fernández",
    "López",
    "Martínez",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Esposito",
    "Bruno",
    "Gallo",
    "Conti",
    "De Luca",
    "Costa",
    "Giordano",
    "Mancini",
    "Rizzo",
    "Lombardi",
    "Walker",
    "Evans",
    "Castro",
    "Ortega",
    "Rubio",
];
const CATEGORIES: &[&str] = &[
    "Billing",
    "Facturación",
    "Fatturazione",
    "Hardware",
    "Envíos",
    "Spedizioni",
    "Shipping",
    "Returns",
    "Devoluciones",
    "Resi",
    "Account",
    "Cuenta",
    "Garanzia",
    "Warranty",
    "Other",
];
const TAGS: &[&str] = &["vip", "b2b", "repeat", "press", "legal"];
const CHANNELS: &[&str] = &["web", "email", "phone", "chat", "whatsapp"];
const STATUSES: &[(&str, MacroStatus, usize)] = &[
    ("new", MacroStatus::InProgress, 10),
    ("open", MacroStatus::InProgress, 30),
    ("pending", MacroStatus::InProgress, 15),
    ("resolved", MacroStatus::Closed, 20),
    ("closed", MacroStatus::Closed, 25),
];
const OPERATORS: usize = 40;

fn operator_name(id: i64) -> String {
    format!(
        "{} {}",
        FIRST[id as usize % FIRST.len()],
        LAST[(id as usize * 7) % LAST.len()]
    )
}

struct World {
    names: Interner,
    rows: Vec<Indexed>,
    statuses: Vec<StatusDef>,
    operators: Vec<OperatorRef>,
}

fn generate(count: usize) -> World {
    let mut rng = Rng(0x5eed_0007);
    let mut names = Interner::default();
    let mut rows = Vec::with_capacity(count);
    let statuses: Vec<StatusDef> = STATUSES
        .iter()
        .map(|(key, macro_status, _)| StatusDef {
            key: (*key).into(),
            label: key[..1].to_uppercase() + &key[1..],
            macro_status: *macro_status,
            builtin: true,
        })
        .collect();
    let operators: Vec<OperatorRef> = (1..=OPERATORS as i64)
        .map(|id| OperatorRef {
            id,
            name: operator_name(id),
        })
        .collect();
    for i in 0..count {
        let id = i as i64 + 1;
        let reference = format!("HD-{id:07}");
        let mut title = String::new();
        for w in 0..3 + rng.below(7) {
            if w > 0 {
                title.push(' ');
            }
            let word = rng.pick(TITLE_WORDS);
            if w == 0 {
                let mut c = word.chars();
                if let Some(first) = c.next() {
                    title.extend(first.to_uppercase());
                    title.push_str(c.as_str());
                }
            } else {
                title.push_str(word);
            }
            if rng.chance(8) {
                title.push(' ');
                title.push_str(&rng.below(10_000).to_string());
            }
        }
        let contact = if rng.chance(50) {
            format!("{} {} {}", rng.pick(FIRST), rng.pick(LAST), rng.pick(LAST))
        } else {
            format!("{} {}", rng.pick(FIRST), rng.pick(LAST))
        };
        let category = (!rng.chance(10)).then(|| rng.pick(CATEGORIES));
        let mut roll = rng.below(100);
        let (status, macro_status) = STATUSES
            .iter()
            .find(|(_, _, weight)| {
                let hit = roll < *weight;
                roll = roll.saturating_sub(*weight);
                hit
            })
            .map_or(("open", MacroStatus::InProgress), |(k, m, _)| (*k, *m));
        let priority = match rng.below(10) {
            0 | 1 => Priority::Low,
            2..=6 => Priority::Normal,
            7 | 8 => Priority::High,
            _ => Priority::Urgent,
        };
        let operator = (!rng.chance(15)).then(|| 1 + rng.below(OPERATORS) as i64);
        let created_at = NOW - rng.below(2 * 365 * 86_400) as i64;
        let updated_at = created_at + rng.below((NOW - created_at) as usize + 1) as i64;
        let closed = macro_status == MacroStatus::Closed;
        let tags: Vec<String> = (0..rng.below(3))
            .map(|_| rng.pick(TAGS).to_string())
            .collect();
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or_default();
        let ticket = Ticket {
            id,
            reference,
            title,
            description: String::new(),
            status: status.to_string(),
            priority,
            category: category.map(str::to_string),
            tags,
            important: rng.chance(5),
            contact: ContactRef {
                id,
                name: contact,
                phone: None,
                email: None,
            },
            operator: operator.map(|o| OperatorRef {
                id: o,
                name: operator_name(o),
            }),
            channel: rng.pick(CHANNELS).to_string(),
            sla_due_at: rng
                .chance(60)
                .then(|| at(NOW - 3 * 86_400 + rng.below(6 * 86_400) as i64)),
            pending_until: None,
            created_at: at(created_at),
            updated_at: at(updated_at),
            closed_at: closed.then(|| at(updated_at)),
            sla_state: None,
            version: 1,
        };
        rows.push(Indexed::new(&ticket, &mut names));
    }
    World {
        names,
        rows,
        statuses,
        operators,
    }
}

static WORLD: LazyLock<World> = LazyLock::new(|| generate(1_000_000));

fn haystacks(n: usize) -> &'static [Indexed] {
    &WORLD.rows[..n]
}

/// Rows whose search text matches every word, by nucleo-matcher.
fn count_nucleo(rows: &[Indexed], pattern: &str) -> usize {
    let atoms: Vec<Atom> = pattern
        .split_whitespace()
        .map(|w| {
            Atom::new(
                w,
                CaseMatching::Ignore,
                Normalization::Smart,
                AtomKind::Fuzzy,
                false,
            )
        })
        .collect();
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut chars = Vec::new();
    rows.iter()
        .filter(|r| {
            let h = if r.search.as_str().is_ascii() {
                Utf32Str::Ascii(r.search.as_str().as_bytes())
            } else {
                chars.clear();
                chars.extend(r.search.as_str().chars());
                Utf32Str::Unicode(&chars)
            };
            atoms.iter().all(|a| a.score(h, &mut matcher).is_some())
        })
        .count()
}

/// Rows whose search text matches every word, by the product's word test
/// (nucleo's acceptance rule without its scoring).
fn count_product(rows: &[Indexed], pattern: &str) -> usize {
    let words: Vec<FuzzyWord> = pattern.split_whitespace().map(FuzzyWord::new).collect();
    rows.iter()
        .filter(|r| words.iter().all(|w| w.matches(r.search.as_str())))
        .count()
}

/// Rows whose search text matches every word, by SkimMatcherV2.
fn count_skim(rows: &[Indexed], pattern: &str) -> usize {
    let words: Vec<&str> = pattern.split_whitespace().collect();
    let matcher = SkimMatcherV2::default().ignore_case();
    rows.iter()
        .filter(|r| {
            words
                .iter()
                .all(|w| matcher.fuzzy_match(r.search.as_str(), w).is_some())
        })
        .count()
}

#[divan::bench(args = PATTERNS, sample_count = 20, sample_size = 1)]
fn fuzzy_100k_nucleo(bencher: Bencher, pattern: &str) {
    let rows = haystacks(100_000);
    bencher.bench_local(|| count_nucleo(rows, pattern));
}

#[divan::bench(args = PATTERNS, sample_count = 20, sample_size = 1)]
fn fuzzy_100k_skim(bencher: Bencher, pattern: &str) {
    let rows = haystacks(100_000);
    bencher.bench_local(|| count_skim(rows, pattern));
}

#[divan::bench(args = PATTERNS, sample_count = 20, sample_size = 1)]
fn fuzzy_100k_product(bencher: Bencher, pattern: &str) {
    let rows = haystacks(100_000);
    bencher.bench_local(|| count_product(rows, pattern));
}

#[divan::bench(args = PATTERNS, sample_count = 10, sample_size = 1)]
fn fuzzy_1m_product(bencher: Bencher, pattern: &str) {
    let rows = haystacks(1_000_000);
    bencher.bench_local(|| count_product(rows, pattern));
}

#[divan::bench(args = PATTERNS, sample_count = 5, sample_size = 1)]
fn fuzzy_1m_nucleo(bencher: Bencher, pattern: &str) {
    let rows = haystacks(1_000_000);
    bencher.bench_local(|| count_nucleo(rows, pattern));
}

#[divan::bench(args = PATTERNS, sample_count = 5, sample_size = 1)]
fn fuzzy_1m_skim(bencher: Bencher, pattern: &str) {
    let rows = haystacks(1_000_000);
    bencher.bench_local(|| count_skim(rows, pattern));
}

const QUERIES: [&str; 5] = [
    "status:open,pending op:me",
    "priority>=high cat:billing \"refund\"",
    "-macro:closed sla:at_risk,breached",
    "updated<7d contact:ana",
    "status:open lote 12",
];

fn context(world: &World) -> Context<'_> {
    Context {
        names: &world.names,
        me: Some(ME),
        now: NOW,
        utc_offset: 0,
        statuses: &world.statuses,
        operators: &world.operators,
    }
}

/// The product path: compile once, then test every row.
#[divan::bench(args = QUERIES, sample_count = 10, sample_size = 1)]
fn compiled_1m(bencher: Bencher, query: &str) {
    let world = &*WORLD;
    let ctx = context(world);
    let compiled = match compile_text(query, &ctx) {
        Ok((_, c)) => c,
        Err(e) => panic!("{query}: {e}"),
    };
    bencher.bench_local(|| {
        world
            .rows
            .iter()
            .filter(|r| compiled.matches(r.listed()))
            .count()
    });
}

/// What one keystroke pays before filtering: parse, resolve names.
#[divan::bench(args = QUERIES, sample_count = 20, sample_size = 1)]
fn compile_1m_names(bencher: Bencher, query: &str) {
    let world = &*WORLD;
    let ctx = context(world);
    bencher.bench_local(|| compile_text(query, &ctx).map(|(_, c)| c.names_len()));
}

/// The same after the query was compiled once by the same [`Compiler`], as
/// while the user types elsewhere in the query: resolved names are remembered.
#[divan::bench(args = QUERIES, sample_count = 20, sample_size = 1)]
fn compile_1m_names_again(bencher: Bencher, query: &str) {
    let world = &*WORLD;
    let ctx = context(world);
    let mut compiler = Compiler::default();
    let _ = compiler.compile_text(query, &ctx);
    bencher.bench_local(|| {
        compiler
            .compile_text(query, &ctx)
            .map(|(_, c)| c.names_len())
    });
}

/// Search texts laid end to end in one buffer, as a column store would hold
/// them: the same word test without a pointer chase per row.
static CONTIGUOUS: LazyLock<(String, Vec<(u32, u32)>)> = LazyLock::new(|| {
    let mut text = String::new();
    let mut spans = Vec::with_capacity(WORLD.rows.len());
    for r in &WORLD.rows {
        let start = text.len() as u32;
        text.push_str(r.search.as_str());
        spans.push((start, text.len() as u32));
    }
    (text, spans)
});

#[divan::bench(args = PATTERNS, sample_count = 10, sample_size = 1)]
fn fuzzy_1m_product_contiguous(bencher: Bencher, pattern: &str) {
    let (text, spans) = &*CONTIGUOUS;
    let words: Vec<FuzzyWord> = pattern.split_whitespace().map(FuzzyWord::new).collect();
    bencher.bench_local(|| {
        spans
            .iter()
            .filter(|&&(a, b)| {
                let h = &text[a as usize..b as usize];
                words.iter().all(|w| w.matches(h))
            })
            .count()
    });
}
