//! A large, realistic helpdesk for measuring: `deskterm demo generate`.
//!
//! Writes N tickets with the spread of a helpdesk that has been running for
//! three years into an empty database: most old tickets resolved or closed,
//! a backlog of recent ones new, open or pending (with an SLA deadline),
//! about a dozen categories, two dozen operators (some tickets unassigned),
//! a customer for every four tickets (a few customers with many tickets),
//! titles and descriptions in Spanish, Italian and English, tags, about 5 %
//! important, and internal notes and chat messages on a small fraction.
//!
//! The same seed and the same `now` give the same database (tokens aside).
//! Rows go in as multi-row inserts in one transaction with `synchronous`
//! off; like the demo loader it records nothing in the change feed, whose
//! clients load everything on their first connection anyway.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use deskterm_api::{OperatorRef, Priority, Role};
use sqlx::AnyConnection;

use crate::db::Db;
use crate::sql::{Builder, Dialect, dialect};
use crate::text::{contact_search, fold, phone_digits};
use crate::time;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// How many tickets.
    pub tickets: u64,
    /// Seed of the pseudo-random choices: the same seed gives the same data.
    pub seed: u64,
    /// The moment the data is relative to: tickets span the three years before it.
    pub now: DateTime<Utc>,
}

/// What was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The admin operator created to sign in with.
    pub admin: OperatorRef,
    /// The admin's bearer token.
    pub token: String,
    /// Tickets written.
    pub tickets: u64,
    /// Contacts written.
    pub contacts: u64,
    /// Operators written, the admin included.
    pub operators: u64,
    /// Internal notes written.
    pub notes: u64,
    /// Chat messages written.
    pub messages: u64,
}

/// How long the generated helpdesk has been running.
const SPAN_DAYS: i64 = 3 * 365;
/// Rows per multi-row insert (well under SQLite's limit of bound values).
const BATCH: usize = 400;
/// The statuses a generated ticket can be in, by macro-status.
const IN_PROGRESS: [(&str, u32); 3] = [("new", 25), ("open", 45), ("pending", 30)];
const CLOSED: [(&str, u32); 2] = [("resolved", 30), ("closed", 70)];
const PRIORITIES: [(Priority, u32); 4] = [
    (Priority::Low, 20),
    (Priority::Normal, 55),
    (Priority::High, 18),
    (Priority::Urgent, 7),
];
const CHANNELS: [(&str, u32); 4] = [("email", 38), ("whatsapp", 34), ("phone", 16), ("web", 12)];
const TAGS: [&str; 12] = [
    "vip",
    "refund",
    "bug",
    "hardware",
    "warranty",
    "urgent-callback",
    "b2b",
    "escalated",
    "follow-up",
    "damaged",
    "invoice",
    "feedback",
];

/// The operators: the first is the admin the token is for.
const OPERATORS: [&str; 25] = [
    "Lucía Fernández",
    "Marco Bianchi",
    "Sarah O'Connor",
    "Jorge Núñez",
    "Giulia Esposito",
    "Tom Becker",
    "Carmen Ruiz",
    "Alessandro Conti",
    "Emily Clarke",
    "Pablo Serrano",
    "Francesca Ricci",
    "James Whitaker",
    "Marta Gil",
    "Luca Moretti",
    "Olivia Hughes",
    "Diego Vázquez",
    "Chiara Romano",
    "Daniel Price",
    "Elena Navarro",
    "Matteo Greco",
    "Hannah Lewis",
    "Sergio Castillo",
    "Valentina Bruno",
    "Oliver Grant",
    "Irene Molina",
];

/// A language of the generated helpdesk: customers' names, categories and texts.
struct Lang {
    /// Share of the tickets, in percent-like weights.
    weight: u32,
    first_names: &'static [&'static str],
    surnames: &'static [&'static str],
    phone: fn(&mut Rng) -> String,
    email_domain: &'static [&'static str],
    categories: &'static [&'static str],
    titles: &'static [&'static str],
    descriptions: &'static [&'static str],
    closings: &'static [&'static str],
    notes: &'static [&'static str],
    replies: &'static [&'static str],
    products: &'static [&'static str],
    cities: &'static [&'static str],
    /// Prefix of order numbers (`ES-`, `IT`, `#`).
    order_prefix: &'static str,
    currency: fn(u64) -> String,
}

static SPANISH: Lang = Lang {
    weight: 45,
    first_names: &[
        "María", "José", "Lucía", "Álvaro", "Begoña", "Íñigo", "Nuria", "Ramón", "Inés", "Andrés",
        "Pilar", "Óscar", "Raúl", "Carmen", "Javier", "Rocío", "Sergio", "Ainhoa", "Tomás",
        "Marta", "Héctor", "Elena", "Rubén", "Noelia", "Jesús", "Sofía", "Adrián", "Irene",
        "Gonzalo", "Alba",
    ],
    surnames: &[
        "Ortiz",
        "Etxeberria",
        "Muñoz",
        "Peña",
        "Castaño",
        "Ibáñez",
        "Llorente",
        "Cuadrado",
        "Gómez",
        "Sáez",
        "Domínguez",
        "Martín",
        "García",
        "López",
        "Sánchez",
        "Romero",
        "Navarro",
        "Torres",
        "Ruiz",
        "Jiménez",
        "Moreno",
        "Álvarez",
        "Gil",
        "Serrano",
        "Blanco",
        "Suárez",
        "Molina",
        "Delgado",
        "Castro",
        "Ortega",
    ],
    phone: |r| {
        format!(
            "+34 6{:02} {:03} {:03}",
            r.below(100),
            r.below(1000),
            r.below(1000)
        )
    },
    email_domain: &[
        "example.com",
        "example.org",
        "example.net",
        "correo.example",
    ],
    categories: &["Soporte", "Facturación", "Logística", "Devoluciones"],
    titles: &[
        "Pedido del lote {lot} incompleto",
        "Defecto en el lote {lot} de {product}",
        "Etiquetas del lote {lot} con la dirección mal",
        "Reclamación del lote {lot}: faltan unidades",
        "El lote {lot} llegó con cajas dañadas",
        "¿Dónde está mi pedido {order}?",
        "El {product} no enciende",
        "El {product} se calienta muchísimo",
        "Cambio de dirección de entrega para el pedido {order}",
        "Me han cobrado dos veces {amount}",
        "Factura del pedido {order} con datos incorrectos",
        "Quiero devolver el {product}",
        "¿Cómo configuro el {product} con la app?",
        "La app {version} se cierra al abrir el carrito",
        "Entrega del pedido {order} en {city} retrasada",
        "No me llega el código de verificación",
        "Garantía del {product} comprado en {city}",
    ],
    descriptions: &[
        "Hice el pedido {order} hace dos semanas y todavía no ha llegado.",
        "El {product} funcionaba bien hasta ayer, ahora no responde.",
        "En el lote {lot} vienen menos unidades de las que pone en el albarán.",
        "Vivo en {city} y el repartidor dice que no encuentra la dirección.",
        "En el extracto veo dos cargos de {amount} por el mismo pedido.",
        "He probado a reiniciarlo y a actualizar la app {version}, sin éxito.",
        "Necesito la factura a nombre de la empresa, con el CIF correcto.",
        "La caja llegó abierta y el {product} tiene un golpe en la esquina.",
        "Me gustaría saber si puedo cambiarlo por otro modelo.",
    ],
    closings: &[
        "Gracias.",
        "Un saludo.",
        "¿Me podéis ayudar?",
        "Espero respuesta pronto.",
        "Es urgente, gracias.",
    ],
    notes: &[
        "Llamado al cliente, no contesta. Vuelvo a intentar mañana.",
        "Pedido localizado en el almacén de {city}.",
        "Abono de {amount} solicitado a contabilidad.",
        "Escalado a logística: lote {lot} revisado.",
        "El cliente confirma que ya funciona.",
    ],
    replies: &[
        "Hola, ya lo estoy revisando. Te digo algo en breve.",
        "Gracias por esperar: el pedido {order} sale hoy.",
        "¿Nos puedes mandar una foto del {product}?",
        "Te hemos devuelto {amount}; lo verás en 3-5 días.",
    ],
    products: &[
        "smartphone Alba 12",
        "portátil Nebula 14",
        "altavoz Sonora Pro",
        "monitor Visione 27",
        "router Onda X",
        "reloj Pulso 3",
        "teclado Tecla K2",
    ],
    cities: &[
        "Madrid", "Sevilla", "Bilbao", "Valencia", "Zaragoza", "Málaga", "Vigo", "Murcia",
    ],
    order_prefix: "ES-",
    currency: |cents| format!("{},{:02} €", cents / 100, cents % 100),
};

static ITALIAN: Lang = Lang {
    weight: 25,
    first_names: &[
        "Giulia",
        "Marco",
        "Francesca",
        "Luca",
        "Chiara",
        "Alessandro",
        "Sara",
        "Matteo",
        "Valentina",
        "Davide",
        "Elisa",
        "Simone",
        "Martina",
        "Federico",
        "Giorgia",
        "Andrea",
        "Silvia",
        "Stefano",
        "Beatrice",
        "Nicolò",
    ],
    surnames: &[
        "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
        "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
        "Lombardi", "Moretti",
    ],
    phone: |r| {
        format!(
            "+39 3{:02} {:03} {:04}",
            r.below(100),
            r.below(1000),
            r.below(10000)
        )
    },
    email_domain: &["example.it", "example.com", "posta.example"],
    categories: &["Assistenza tecnica", "Spedizioni", "Fatturazione", "Resi"],
    titles: &[
        "Ordine {order} non ancora arrivato",
        "Il {product} non si accende",
        "Come configuro {product} con l'app?",
        "Voglio restituire il {product}",
        "Mi avete addebitato due volte {amount}",
        "Consegna dell'ordine {order} solo di pomeriggio",
        "Lotto {lot} con confezioni danneggiate",
        "Fattura dell'ordine {order} da correggere",
        "L'app {version} si blocca al pagamento",
        "Garanzia del {product} acquistato a {city}",
        "Cambio indirizzo per l'ordine {order}",
        "Il corriere non trova l'indirizzo a {city}",
    ],
    descriptions: &[
        "Ho fatto l'ordine {order} dieci giorni fa e risulta ancora in lavorazione.",
        "Il {product} funzionava fino a ieri, ora resta spento.",
        "Sull'estratto conto vedo due addebiti da {amount}.",
        "Abito a {city} e lavoro la mattina, il corriere passa sempre alle 10.",
        "Ho già provato a reinstallare l'app {version}.",
        "Nel lotto {lot} mancano due pezzi rispetto alla bolla.",
        "La scatola è arrivata aperta e il {product} è graffiato.",
    ],
    closings: &[
        "Grazie.",
        "Cordiali saluti.",
        "Potete aiutarmi?",
        "Attendo risposta.",
    ],
    notes: &[
        "Cliente richiamato, richiede rimborso di {amount}.",
        "Spedizione ritrovata nel magazzino di {city}.",
        "Inoltrato al reparto tecnico.",
        "Il cliente conferma la risoluzione.",
    ],
    replies: &[
        "Buongiorno, sto verificando. Le scrivo a breve.",
        "L'ordine {order} parte oggi, grazie della pazienza.",
        "Ci può mandare una foto del {product}?",
    ],
    products: &[
        "monitor Visione 27",
        "smartphone Alba 12",
        "portatile Nebula 14",
        "tablet Brisa 10",
        "router Onda X",
        "televisore Schermo 55",
    ],
    cities: &[
        "Milano", "Roma", "Torino", "Napoli", "Bologna", "Firenze", "Genova", "Bari",
    ],
    order_prefix: "IT",
    currency: |cents| format!("{},{:02} €", cents / 100, cents % 100),
};

static ENGLISH: Lang = Lang {
    weight: 30,
    first_names: &[
        "Noah", "Olivia", "George", "Amelia", "Harry", "Isla", "Jack", "Ava", "Oscar", "Emily",
        "Charlie", "Grace", "Thomas", "Freya", "James", "Lily", "William", "Chloe", "Henry",
        "Sophie",
    ],
    surnames: &[
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
        "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
        "Wood", "O'Brien",
    ],
    phone: |r| format!("+44 7{:03} {:06}", r.below(1000), r.below(1_000_000)),
    email_domain: &["example.co.uk", "example.com", "mail.example"],
    categories: &["Technical support", "Billing", "Shipping", "Returns"],
    titles: &[
        "Order {order} hasn't arrived",
        "{product} won't turn on",
        "{product} makes a strange noise",
        "Returning order {order} within 30 days",
        "Unknown charge of {amount} on my statement",
        "Please correct the billing details on invoice {invoice}",
        "App {version} keeps logging me out",
        "Batch {lot} arrived with damaged boxes",
        "Delivery to {city} delayed again",
        "How do I pair the {product} with the app?",
        "Warranty claim for {product}",
        "Change the delivery address of order {order}",
    ],
    descriptions: &[
        "I placed order {order} two weeks ago and the tracking hasn't moved.",
        "The {product} worked fine until yesterday, now nothing happens.",
        "My bank statement shows two charges of {amount}.",
        "I live in {city} and the courier says the address doesn't exist.",
        "I already reinstalled app {version}, it still happens.",
        "Batch {lot} is two units short of the delivery note.",
        "The box arrived open and the {product} is scratched.",
    ],
    closings: &[
        "Thanks.",
        "Kind regards.",
        "Can you help?",
        "Please sort this out.",
    ],
    notes: &[
        "Called the customer, no answer. Will try again tomorrow.",
        "Parcel found at the {city} depot.",
        "Refund of {amount} requested from finance.",
        "Customer confirms it works now.",
    ],
    replies: &[
        "Hi, I'm on it. I'll get back to you shortly.",
        "Order {order} ships today, thanks for your patience.",
        "Could you send us a photo of the {product}?",
    ],
    products: &[
        "Nebula 14 laptop",
        "Alba 12 phone",
        "Sonora Pro speaker",
        "Visione 27 monitor",
        "Onda X router",
        "Pulso 3 watch",
        "Eco Buds earphones",
    ],
    cities: &[
        "London",
        "Manchester",
        "Leeds",
        "Bristol",
        "Glasgow",
        "Cardiff",
        "Belfast",
        "York",
    ],
    order_prefix: "#",
    currency: |cents| format!("£{}.{:02}", cents / 100, cents % 100),
};

static LANGS: [&Lang; 3] = [&SPANISH, &ITALIAN, &ENGLISH];

/// SplitMix64: small, fast and the same on every platform, which is all a
/// reproducible data set needs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        // The bias of a plain modulo is far below anything a data set shows.
        self.next() % n.max(1)
    }

    /// A number in `0.0..1.0`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        &items[i.min(items.len() - 1)]
    }

    /// One of `texts`.
    fn text(&mut self, texts: &[&'static str]) -> &'static str {
        let i = usize::try_from(self.below(texts.len() as u64)).unwrap_or(0);
        texts.get(i).copied().unwrap_or_default()
    }

    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut left = self.below(total);
        for (item, w) in items {
            if left < u64::from(*w) {
                return item;
            }
            left -= u64::from(*w);
        }
        &items[items.len() - 1].0
    }
}

/// The values a ticket's texts share, so its title and description agree.
struct Story {
    product: &'static str,
    city: &'static str,
    order: String,
    lot: u64,
    amount: String,
    invoice: String,
    version: String,
}

impl Story {
    fn new(rng: &mut Rng, lang: &'static Lang) -> Story {
        Story {
            product: rng.text(lang.products),
            city: rng.text(lang.cities),
            order: format!("{}{}", lang.order_prefix, 100_000 + rng.below(9_900_000)),
            lot: 1 + rng.below(9999),
            amount: (lang.currency)(500 + rng.below(60_000)),
            invoice: format!("F{}-{:04}", 2022 + rng.below(4), rng.below(10_000)),
            version: format!("v{}.{}.{}", 3 + rng.below(3), rng.below(10), rng.below(20)),
        }
    }

    /// `template` with its `{placeholders}` filled in.
    fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 24);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                return out;
            };
            match &after[..close] {
                "product" => out.push_str(self.product),
                "city" => out.push_str(self.city),
                "order" => out.push_str(&self.order),
                "lot" => out.push_str(&self.lot.to_string()),
                "amount" => out.push_str(&self.amount),
                "invoice" => out.push_str(&self.invoice),
                "version" => out.push_str(&self.version),
                other => {
                    out.push('{');
                    out.push_str(other);
                    out.push('}');
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// `text` in lowercase ASCII, for e-mail addresses.
fn ascii_slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        let plain = match c {
            'á' | 'à' => 'a',
            'é' | 'è' => 'e',
            'í' | 'ì' => 'i',
            'ó' | 'ò' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            ' ' => '.',
            c if c.is_ascii_alphanumeric() => c,
            _ => continue,
        };
        out.push(plain);
    }
    out
}

/// A customer.
struct ContactRow {
    name: String,
    phone: Option<String>,
    email: Option<String>,
    channel: &'static str,
    /// Index in `LANGS`.
    lang: usize,
    created_at: String,
}

fn contact(rng: &mut Rng, id: u64, start: DateTime<Utc>) -> ContactRow {
    let lang_index = *rng.weighted(&[0, 1, 2].map(|i| (i, LANGS[i].weight)));
    let lang = LANGS[lang_index];
    let first = rng.text(lang.first_names);
    let surname = rng.text(lang.surnames);
    let name = format!("{first} {surname}");
    let channel = *rng.weighted(&CHANNELS);
    let with_phone = matches!(channel, "whatsapp" | "phone") || rng.chance(0.3);
    let with_email = channel == "email" || channel == "web" || rng.chance(0.4);
    let phone = with_phone.then(|| (lang.phone)(rng));
    // The id keeps every address distinct, as real ones are.
    let email =
        with_email.then(|| format!("{}.{id}@{}", ascii_slug(&name), rng.text(lang.email_domain)));
    // Customers were there before the tickets of the period.
    let created = start - Duration::minutes(i64::try_from(rng.below(365 * 24 * 60)).unwrap_or(0));
    ContactRow {
        name,
        phone,
        email,
        channel,
        lang: lang_index,
        created_at: time::to_db(created),
    }
}

/// A ticket, ready to insert.
struct TicketRow {
    reference: String,
    title: String,
    description: String,
    status: &'static str,
    priority: Priority,
    category_id: Option<i64>,
    tags: String,
    important: bool,
    contact_id: i64,
    operator_id: Option<i64>,
    channel: &'static str,
    sla_due_at: Option<String>,
    created_at: String,
    updated_at: String,
    closed_at: Option<String>,
}

/// A note or a chat message, ready to insert.
struct Remark {
    ticket_id: i64,
    contact_id: i64,
    /// Inbound messages have no operator; notes and outbound messages do.
    operator_id: Option<i64>,
    body: String,
    channel: &'static str,
    at: DateTime<Utc>,
}

/// Everything a ticket brings: its row, its notes and its chat.
struct Drawn {
    ticket: TicketRow,
    notes: Vec<Remark>,
    messages: Vec<Remark>,
}

/// The context a ticket is drawn in.
struct World<'a> {
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    contacts: &'a [ContactRow],
    /// Category ids of each language, in the order of `LANGS`.
    categories: &'a [Vec<i64>],
    /// Operator ids with how busy each one is.
    operators: &'a [(i64, u32)],
}

fn draw_ticket(rng: &mut Rng, w: &World<'_>, id: i64, n: u64) -> Drawn {
    let span = (w.now - w.start).num_seconds().max(1);
    // Tickets arrive evenly over the period, in id order.
    let offset = ((id - 1) as f64 + rng.unit()) / n as f64 * span as f64;
    let created = w.start + Duration::seconds(offset as i64);
    let age_days = (w.now - created).num_days();
    // A few customers write often: a skewed pick.
    let c = (rng.unit().powi(2) * w.contacts.len() as f64) as usize;
    let c = c.min(w.contacts.len().saturating_sub(1));
    let contact = &w.contacts[c];
    let contact_id = i64::try_from(c).unwrap_or(0) + 1;
    let lang = LANGS[contact.lang];
    let story = Story::new(rng, lang);
    let title = story.fill(rng.text(lang.titles));
    let mut description = story.fill(rng.text(lang.descriptions));
    if rng.chance(0.6) {
        description.push(' ');
        description.push_str(&story.fill(rng.text(lang.descriptions)));
    }
    description.push('\n');
    description.push_str(rng.text(lang.closings));

    // The backlog is recent; old tickets are almost all done.
    let in_progress_chance = match age_days {
        0..7 => 0.7,
        7..30 => 0.25,
        30..180 => 0.05,
        _ => 0.005,
    };
    let in_progress = rng.chance(in_progress_chance);
    let status = if in_progress {
        *rng.weighted(&IN_PROGRESS)
    } else {
        *rng.weighted(&CLOSED)
    };
    let priority = *rng.weighted(&PRIORITIES);
    let category_id = if rng.chance(0.08) {
        None
    } else {
        Some(*rng.pick(&w.categories[contact.lang]))
    };
    let unassigned = if status == "new" {
        rng.chance(0.7)
    } else {
        rng.chance(0.04)
    };
    let operator_id = (!unassigned).then(|| *rng.weighted(w.operators));
    let channel = if rng.chance(0.85) {
        contact.channel
    } else {
        *rng.weighted(&CHANNELS)
    };
    let mut tags: Vec<&str> = Vec::new();
    let tag_count = *rng.weighted(&[(0usize, 55), (1, 30), (2, 12), (3, 3)]);
    for _ in 0..tag_count {
        let tag = rng.text(&TAGS);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let tags = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".to_owned());
    let important = rng.chance(0.05);

    let (updated, closed) = if in_progress {
        let open_for = (w.now - created).num_seconds().max(1);
        let touched = created + Duration::seconds((rng.unit() * open_for as f64) as i64);
        (touched, None)
    } else {
        // Solved in minutes to a few weeks, most within two days, and
        // before now: a recent ticket was solved in the time it has had.
        let hours = (rng.unit().powi(3) * 24.0 * 21.0).max(0.1);
        let mut done = created + Duration::minutes((hours * 60.0) as i64);
        if done > w.now {
            let had = (w.now - created).num_seconds().max(0);
            done = created + Duration::seconds((rng.unit() * had as f64) as i64);
        }
        (done, Some(done))
    };
    let sla_due_at = in_progress.then(|| {
        let hours = match priority {
            Priority::Urgent => 4,
            Priority::High => 8,
            Priority::Normal => 24,
            Priority::Low => 72,
        };
        time::to_db(created + Duration::hours(hours))
    });

    let mut notes = Vec::new();
    if rng.chance(0.04) {
        for k in 0..1 + rng.below(3) {
            let at = created + Duration::minutes(30 + 90 * i64::try_from(k).unwrap_or(0));
            notes.push(Remark {
                ticket_id: id,
                contact_id,
                operator_id: Some(operator_id.unwrap_or_else(|| w.operators[0].0)),
                body: story.fill(rng.text(lang.notes)),
                channel,
                at: at.min(w.now),
            });
        }
    }
    let mut messages = Vec::new();
    if rng.chance(0.06) {
        let mut at = created;
        messages.push(Remark {
            ticket_id: id,
            contact_id,
            operator_id: None,
            body: description.clone(),
            channel,
            at,
        });
        for k in 0..1 + rng.below(3) {
            at =
                (at + Duration::minutes(5 + i64::try_from(rng.below(240)).unwrap_or(0))).min(w.now);
            let outbound = k % 2 == 0;
            messages.push(Remark {
                ticket_id: id,
                contact_id,
                operator_id: outbound.then(|| operator_id.unwrap_or_else(|| w.operators[0].0)),
                body: if outbound {
                    story.fill(rng.text(lang.replies))
                } else {
                    rng.text(lang.closings).to_string()
                },
                channel,
                at,
            });
        }
    }

    Drawn {
        ticket: TicketRow {
            reference: format!("HD-{id:06}"),
            title,
            description,
            status,
            priority,
            category_id,
            tags,
            important,
            contact_id,
            operator_id,
            channel,
            sla_due_at,
            created_at: time::to_db(created),
            updated_at: time::to_db(updated),
            closed_at: closed.map(time::to_db),
        },
        notes,
        messages,
    }
}

/// Appends `(…), (…)` to `q`: one parenthesised group of values per row,
/// each bound by `row` through [`Values::push_bind`].
fn values<T>(q: &mut Builder, rows: &[T], mut row: impl FnMut(&mut Values<'_>, &T)) {
    for (i, r) in rows.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" });
        row(&mut Values { q, first: true }, r);
        q.push(")");
    }
}

/// The values of one row of a multi-row insert, separated by commas.
struct Values<'a> {
    q: &'a mut Builder,
    first: bool,
}

impl Values<'_> {
    fn push_bind<T>(&mut self, value: T) -> &mut Self
    where
        T: sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
    {
        if !self.first {
            self.q.push(", ");
        }
        self.first = false;
        self.q.push_bind(value);
        self
    }
}

async fn insert_contacts(
    conn: &mut AnyConnection,
    contacts: &[ContactRow],
) -> Result<(), sqlx::Error> {
    for chunk in contacts.chunks(BATCH) {
        let mut q = Builder::new(
            "INSERT INTO contacts (name, name_folded, phone, phone_digits, email, email_folded, \
             channel, search, created_at) VALUES ",
        );
        values(&mut q, chunk, |b, c| {
            b.push_bind(c.name.clone())
                .push_bind(fold(&c.name))
                .push_bind(c.phone.clone())
                .push_bind(c.phone.as_deref().map(phone_digits))
                .push_bind(c.email.clone())
                .push_bind(c.email.as_deref().map(fold))
                .push_bind(c.channel)
                .push_bind(contact_search(
                    &c.name,
                    c.phone.as_deref(),
                    c.email.as_deref(),
                ))
                .push_bind(c.created_at.clone());
        });
        q.build()?.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_tickets(
    conn: &mut AnyConnection,
    tickets: &[TicketRow],
) -> Result<(), sqlx::Error> {
    let mut q = Builder::new(
        "INSERT INTO tickets (reference, reference_folded, title, title_folded, description, \
         status, priority, category_id, tags, important, contact_id, operator_id, channel, \
         sla_due_at, created_at, updated_at, closed_at, version) VALUES ",
    );
    values(&mut q, tickets, |b, t| {
        b.push_bind(t.reference.clone())
            .push_bind(fold(&t.reference))
            .push_bind(t.title.clone())
            .push_bind(fold(&t.title))
            .push_bind(t.description.clone())
            .push_bind(t.status)
            .push_bind(i64::from(t.priority.rank()))
            .push_bind(t.category_id)
            .push_bind(t.tags.clone())
            .push_bind(t.important)
            .push_bind(t.contact_id)
            .push_bind(t.operator_id)
            .push_bind(t.channel)
            .push_bind(t.sla_due_at.clone())
            .push_bind(t.created_at.clone())
            .push_bind(t.updated_at.clone())
            .push_bind(t.closed_at.clone())
            .push_bind(1i64);
    });
    q.build()?.execute(conn).await?;
    Ok(())
}

async fn insert_notes(conn: &mut AnyConnection, notes: &[Remark]) -> Result<(), sqlx::Error> {
    for chunk in notes.chunks(BATCH) {
        let mut q =
            Builder::new("INSERT INTO notes (ticket_id, operator_id, body, created_at) VALUES ");
        values(&mut q, chunk, |b, n| {
            b.push_bind(n.ticket_id)
                .push_bind(n.operator_id)
                .push_bind(n.body.clone())
                .push_bind(time::to_db(n.at));
        });
        q.build()?.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_messages(conn: &mut AnyConnection, messages: &[Remark]) -> Result<(), sqlx::Error> {
    for chunk in messages.chunks(BATCH) {
        let mut q = Builder::new(
            "INSERT INTO messages (contact_id, ticket_id, direction, operator_id, body, channel, \
             created_at) VALUES ",
        );
        values(&mut q, chunk, |b, m| {
            let direction = if m.operator_id.is_some() {
                "outbound"
            } else {
                "inbound"
            };
            b.push_bind(m.contact_id)
                .push_bind(m.ticket_id)
                .push_bind(direction)
                .push_bind(m.operator_id)
                .push_bind(m.body.clone())
                .push_bind(m.channel)
                .push_bind(time::to_db(m.at));
        });
        q.build()?.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Fills the empty database `db` as `spec` says, creating an admin operator
/// to sign in with, and returns what it wrote with the admin's token.
/// Refuses a database that already holds tickets or operators.
pub async fn generate(db: &Db, spec: &Spec) -> anyhow::Result<Generated> {
    if !crate::is_empty(db).await? {
        anyhow::bail!("the database is not empty: generate into a new file");
    }
    let now = spec.now.trunc_subsecs(3);
    let start = now - Duration::days(SPAN_DAYS);
    let mut rng = Rng::new(spec.seed);

    let admin_name = OPERATORS[0];
    let (admin, token) = crate::add_operator_as(
        db,
        admin_name,
        &format!("{}@example.com", ascii_slug(admin_name)),
        Role::Admin,
    )
    .await?;

    let mut conn = db.pool().acquire().await?;
    let sqlite = dialect() == Dialect::Sqlite;
    if sqlite {
        // Nothing is worth keeping if generating fails half-way: no fsync until the end.
        sqlx::query("PRAGMA synchronous = OFF")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA cache_size = -1048576")
            .execute(&mut *conn)
            .await?;
    }
    let written = fill(&mut conn, spec, &mut rng, now, start, admin.id).await;
    if sqlite {
        // The connection goes back to the pool as the server opens them.
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *conn)
            .await?;
        sqlx::query("PRAGMA cache_size = -2000")
            .execute(&mut *conn)
            .await?;
    }
    let (contacts, operators, notes, messages) = written?;
    if sqlite {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *conn)
            .await?;
    } else {
        // Fresh statistics for the planner, as after any bulk load.
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
    }
    tracing::info!(
        "generated {} tickets, {contacts} contacts, {operators} operators, {notes} notes, \
         {messages} messages",
        spec.tickets
    );
    Ok(Generated {
        admin,
        token,
        tickets: spec.tickets,
        contacts,
        operators,
        notes,
        messages,
    })
}

/// Writes everything but the admin in one transaction; returns how many
/// contacts, operators, notes and messages.
async fn fill(
    conn: &mut AnyConnection,
    spec: &Spec,
    rng: &mut Rng,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    admin_id: i64,
) -> anyhow::Result<(u64, u64, u64, u64)> {
    use sqlx::Connection;
    let mut tx = conn.begin().await?;

    let mut operators: Vec<(i64, u32)> = vec![(admin_id, 6)];
    let created_at = time::to_db(start);
    for (i, name) in OPERATORS.iter().enumerate().skip(1) {
        let email = format!("{}@example.com", ascii_slug(name));
        let id = sqlx::query_scalar::<_, i64>(crate::sql::sql(
            "INSERT INTO operators (name, name_folded, email, email_folded, role, created_at) \
             VALUES (?, ?, ?, ?, 'agent', ?) RETURNING id",
        ))
        .bind(*name)
        .bind(fold(name))
        .bind(&email)
        .bind(fold(&email))
        .bind(&created_at)
        .fetch_one(&mut *tx)
        .await?;
        // Some operators carry much more of the load than others.
        let busy = u32::try_from(3 + (i * 7) % 11).unwrap_or(5);
        operators.push((id, busy));
    }

    let mut categories: Vec<Vec<i64>> = Vec::new();
    for lang in LANGS {
        let mut ids = Vec::new();
        for name in lang.categories {
            let id = sqlx::query_scalar::<_, i64>(crate::sql::sql(
                "INSERT INTO categories (name, folded) VALUES (?, ?) RETURNING id",
            ))
            .bind(*name)
            .bind(fold(name))
            .fetch_one(&mut *tx)
            .await?;
            ids.push(id);
        }
        categories.push(ids);
    }

    // Indexes are built once at the end, from the rows in place, instead of
    // row by row: the same definitions, read from the schema.
    // (Indexes that back a constraint, a key or a unique column, stay.)
    let indexes: Vec<(String, String)> = sqlx::query_as(crate::sql::pick(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND tbl_name IN ('contacts', 'tickets', 'notes', 'messages')",
        "SELECT indexname::text, indexdef FROM pg_indexes \
         WHERE schemaname = current_schema() \
           AND tablename IN ('contacts', 'tickets', 'notes', 'messages') \
           AND indexname NOT IN (SELECT conname FROM pg_constraint)",
    ))
    .fetch_all(&mut *tx)
    .await?;
    for (name, _) in &indexes {
        // The names and definitions come from the schema itself.
        let drop = format!("DROP INDEX \"{}\"", name.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(crate::sql::sql_owned(drop)))
            .execute(&mut *tx)
            .await?;
    }

    let contact_count = (spec.tickets / 4).max(1);
    let contacts: Vec<ContactRow> = (1..=contact_count)
        .map(|id| contact(rng, id, start))
        .collect();
    insert_contacts(&mut tx, &contacts).await?;

    let world = World {
        now,
        start,
        contacts: &contacts,
        categories: &categories,
        operators: &operators,
    };
    let (mut notes, mut messages) = (Vec::new(), Vec::new());
    let mut batch = Vec::with_capacity(BATCH);
    for id in 1..=spec.tickets {
        let id = i64::try_from(id)?;
        let drawn = draw_ticket(rng, &world, id, spec.tickets);
        batch.push(drawn.ticket);
        notes.extend(drawn.notes);
        messages.extend(drawn.messages);
        if batch.len() == BATCH {
            insert_tickets(&mut tx, &batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        insert_tickets(&mut tx, &batch).await?;
    }
    // Row ids follow time, as when they are written one by one.
    notes.sort_by_key(|n| n.at);
    messages.sort_by_key(|m| m.at);
    insert_notes(&mut tx, &notes).await?;
    insert_messages(&mut tx, &messages).await?;
    for (_, sql) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(crate::sql::sql_owned(sql.as_str())))
            .execute(&mut *tx)
            .await?;
    }
    // New tickets continue after the generated references.
    sqlx::query(crate::sql::sql(
        "UPDATE reference_counter SET value = ? WHERE id = 1",
    ))
    .bind(i64::try_from(spec.tickets)?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((
        contact_count,
        operators.len() as u64,
        notes.len() as u64,
        messages.len() as u64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn stories_fill_every_placeholder_they_know() {
        let mut rng = Rng::new(7);
        let story = Story::new(&mut rng, &SPANISH);
        let text = story.fill("lote {lot}, pedido {order}, {amount} {unknown}");
        assert!(text.starts_with(&format!("lote {}, pedido ES-", story.lot)));
        assert!(text.ends_with(" {unknown}"), "{text}");
        assert!(text.contains('€'));
    }

    #[test]
    fn every_template_names_only_known_placeholders() {
        let mut rng = Rng::new(1);
        for lang in LANGS {
            let story = Story::new(&mut rng, lang);
            for t in lang
                .titles
                .iter()
                .chain(lang.descriptions)
                .chain(lang.notes)
                .chain(lang.replies)
            {
                let filled = story.fill(t);
                assert!(!filled.contains('{'), "{t:?} -> {filled:?}");
            }
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_tickets() {
        let contacts: Vec<ContactRow> = {
            let mut rng = Rng::new(3);
            (1..=50)
                .map(|i| contact(&mut rng, i, at("2024-01-01T00:00:00Z")))
                .collect()
        };
        let categories = vec![vec![1, 2], vec![3], vec![4]];
        let operators = vec![(1, 5), (2, 3)];
        let world = World {
            now: at("2026-01-01T00:00:00Z"),
            start: at("2023-01-01T00:00:00Z"),
            contacts: &contacts,
            categories: &categories,
            operators: &operators,
        };
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (1..=200)
                .map(|id| {
                    let t = draw_ticket(&mut rng, &world, id, 200).ticket;
                    (t.title, t.status, t.created_at, t.contact_id)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(9), draw(9));
        assert_ne!(draw(9), draw(10));
    }

    #[test]
    fn old_tickets_are_done_and_recent_ones_wait() {
        let contacts: Vec<ContactRow> = {
            let mut rng = Rng::new(3);
            (1..=100)
                .map(|i| contact(&mut rng, i, at("2023-01-01T00:00:00Z")))
                .collect()
        };
        let categories = vec![vec![1], vec![2], vec![3]];
        let operators = vec![(1, 1)];
        let world = World {
            now: at("2026-01-01T00:00:00Z"),
            start: at("2023-01-01T00:00:00Z"),
            contacts: &contacts,
            categories: &categories,
            operators: &operators,
        };
        let mut rng = Rng::new(5);
        let n = 5000;
        let tickets: Vec<TicketRow> = (1..=n)
            .map(|id| draw_ticket(&mut rng, &world, id, n as u64).ticket)
            .collect();
        let open = |t: &TicketRow| matches!(t.status, "new" | "open" | "pending");
        let (old, recent) = tickets.split_at(tickets.len() / 2);
        let old_open = old.iter().filter(|t| open(t)).count();
        let recent_open = recent.iter().filter(|t| open(t)).count();
        assert!(old_open < recent_open, "{old_open} vs {recent_open}");
        // Only waiting tickets have a deadline, and closed ones a closing time.
        for t in &tickets {
            assert_eq!(t.sla_due_at.is_some(), open(t), "{}", t.reference);
            assert_eq!(t.closed_at.is_some(), !open(t), "{}", t.reference);
            assert!(t.updated_at >= t.created_at, "{}", t.reference);
        }
        assert!(
            tickets
                .windows(2)
                .all(|w| w[0].created_at <= w[1].created_at)
        );
    }

    #[test]
    fn slugs_are_plain_ascii() {
        assert_eq!(ascii_slug("Íñigo Etxeberria"), "inigo.etxeberria");
        assert_eq!(ascii_slug("Sarah O'Connor"), "sarah.oconnor");
    }
}
