//! Customers that move: every few seconds a customer writes in, through the
//! same channel endpoint a real WhatsApp, web-form or e-mail gateway posts
//! to (`POST /channels/{channel}/inbound`, the channel's token, an
//! idempotency key), so what follows — a ticket opened or joined, the live
//! feed, the history, the automations — is what a real message causes.
//!
//! Most messages come from customers the helpdesk knows: a follow-up on
//! their ticket in progress, or a new problem when they have none. Some
//! come from new customers. Each writes in the language of the demo data
//! their phone or name suggests (Spanish, Italian or English).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use deskterm_api::{BASE_PATH, IDEMPOTENCY_KEY_HEADER, InboundMessage};
use tokio::sync::watch;
use tower::ServiceExt;

use crate::admin;
use crate::db::Db;

/// How the simulated customers behave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulation {
    /// The mean time between two messages; each wait is drawn between half
    /// and one and a half of it.
    pub every: Duration,
    /// Seeds the choices, for a repeatable run (a random seed when `None`).
    pub seed: Option<u64>,
}

impl Default for Simulation {
    fn default() -> Self {
        Simulation {
            every: Duration::from_secs(5),
            seed: None,
        }
    }
}

/// A language of the demo data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Es,
    It,
    En,
}

/// Messages that open a ticket: a new problem.
const PROBLEMS: &[(Lang, &str)] = &[
    (
        Lang::Es,
        "Hola, mi pedido {n} no ha llegado todavía y el seguimiento no se mueve desde hace tres días.",
    ),
    (
        Lang::Es,
        "No puedo iniciar sesión en la app desde esta mañana, me dice que la contraseña es incorrecta.",
    ),
    (
        Lang::Es,
        "Me habéis cobrado dos veces la factura {n}. ¿Podéis devolverme uno de los cargos?",
    ),
    (
        Lang::Es,
        "El producto ha llegado roto, os adjunto fotos. ¿Cómo hago la devolución?",
    ),
    (
        Lang::Es,
        "Quiero cambiar la dirección de envío del pedido {n}, me he mudado.",
    ),
    (
        Lang::It,
        "Buongiorno, l'ordine {n} risulta consegnato ma non ho ricevuto nulla.",
    ),
    (
        Lang::It,
        "Non riesco ad accedere al mio account, il codice di verifica non arriva.",
    ),
    (
        Lang::It,
        "Ho ricevuto la fattura {n} con l'importo sbagliato, potete correggerla?",
    ),
    (
        Lang::It,
        "La stampante si blocca dopo l'ultimo aggiornamento, cosa posso fare?",
    ),
    (
        Lang::It,
        "Vorrei annullare l'abbonamento, non trovo l'opzione nell'app.",
    ),
    (
        Lang::En,
        "Hi, the app crashes every time I open my invoices on Android.",
    ),
    (
        Lang::En,
        "My order {n} arrived with a missing item, can you send it separately?",
    ),
    (
        Lang::En,
        "I was charged after cancelling my subscription, please refund invoice {n}.",
    ),
    (
        Lang::En,
        "The password reset e-mail never arrives, I have checked the spam folder.",
    ),
    (
        Lang::En,
        "Can I change the delivery slot for order {n} to next week?",
    ),
];

/// Messages on a ticket in progress: a follow-up.
const FOLLOW_UPS: &[(Lang, &str)] = &[
    (Lang::Es, "¿Hay alguna novedad?"),
    (Lang::Es, "Os paso el número de pedido: {n}"),
    (Lang::Es, "Gracias, ya funciona 🙂"),
    (Lang::Es, "Sigo sin recibir respuesta, ¿me podéis llamar?"),
    (Lang::It, "Ci sono novità?"),
    (Lang::It, "Vi giro il numero d'ordine: {n}"),
    (Lang::It, "Grazie mille, risolto!"),
    (Lang::It, "Il problema si è ripresentato stamattina."),
    (Lang::En, "Any update on this?"),
    (Lang::En, "Here is the order number: {n}"),
    (Lang::En, "Thanks, that fixed it."),
    (Lang::En, "It happened again this morning, same error."),
];

/// Names for new customers.
const NAMES: &[(Lang, &str)] = &[
    (Lang::Es, "Lucía Navarro"),
    (Lang::Es, "Javier Romero"),
    (Lang::Es, "Carmen Delgado"),
    (Lang::Es, "Álvaro Gil"),
    (Lang::It, "Giorgio Conti"),
    (Lang::It, "Francesca Greco"),
    (Lang::It, "Matteo Ricci"),
    (Lang::It, "Chiara Marino"),
    (Lang::En, "Emily Clarke"),
    (Lang::En, "James Walker"),
    (Lang::En, "Olivia Hughes"),
    (Lang::En, "Daniel Wright"),
];

/// A small, fast random generator (xorshift64*): the choices need no
/// cryptographic quality, only variety.
#[derive(Debug, Clone)]
struct Dice(u64);

impl Dice {
    fn new(seed: Option<u64>) -> Dice {
        let seed = seed.unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            // Without OS randomness the clock still varies the run.
            if getrandom::fill(&mut bytes).is_err() {
                bytes = crate::time::now()
                    .timestamp_nanos_opt()
                    .unwrap_or_default()
                    .to_le_bytes();
            }
            u64::from_le_bytes(bytes)
        });
        Dice(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, lang: Lang, from: &'a [(Lang, &'a str)]) -> &'a str {
        let of_lang: Vec<&str> = from
            .iter()
            .filter(|(l, _)| *l == lang)
            .map(|(_, s)| *s)
            .collect();
        let i = self.below(of_lang.len() as u64) as usize;
        of_lang.get(i).copied().unwrap_or_default()
    }
}

/// Who writes next.
#[derive(Debug, Clone, PartialEq)]
struct Customer {
    name: String,
    phone: Option<String>,
    email: Option<String>,
    channel: String,
    lang: Lang,
    /// Whether they have a ticket in progress (the message follows it up).
    in_progress: bool,
}

/// The language a known customer writes in: their phone's country, else a
/// guess from their name.
fn lang_of(name: &str, phone: Option<&str>) -> Lang {
    match phone {
        Some(p) if p.starts_with("+34") => return Lang::Es,
        Some(p) if p.starts_with("+39") => return Lang::It,
        Some(p) if p.starts_with("+44") || p.starts_with("+1") => return Lang::En,
        _ => {}
    }
    let lower = name.to_lowercase();
    if lower.chars().any(|c| "ñáíóú".contains(c)) {
        Lang::Es
    } else if lower.ends_with('i') || lower.ends_with('o') {
        Lang::It
    } else {
        Lang::En
    }
}

/// A contact as read: id, name, phone, e-mail, channel.
type ContactRow = (i64, String, Option<String>, Option<String>, Option<String>);

/// A customer the helpdesk knows, drawn evenly by id, with an address to
/// write from.
async fn known_customer(db: &Db, dice: &mut Dice) -> anyhow::Result<Option<Customer>> {
    let max: Option<i64> = sqlx::query_scalar(crate::sql::sql("SELECT max(id) FROM contacts"))
        .fetch_one(db.pool())
        .await?;
    let Some(max) = max.filter(|m| *m > 0) else {
        return Ok(None);
    };
    let from = i64::try_from(dice.below(max.unsigned_abs())).unwrap_or(0) + 1;
    let row: Option<ContactRow> = sqlx::query_as(crate::sql::sql(
        "SELECT id, name, phone, email, channel FROM contacts \
             WHERE id >= ? AND (phone IS NOT NULL OR email IS NOT NULL) ORDER BY id LIMIT 1",
    ))
    .bind(from)
    .fetch_optional(db.pool())
    .await?;
    let Some((id, name, phone, email, channel)) = row else {
        return Ok(None);
    };
    let in_progress: Option<i64> = sqlx::query_scalar(crate::sql::sql(
        "SELECT t.id FROM tickets t JOIN statuses s ON s.key = t.status \
         WHERE t.contact_id = ? AND s.macro = 'in_progress' LIMIT 1",
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let channel =
        channel.unwrap_or_else(|| if phone.is_some() { "whatsapp" } else { "email" }.to_owned());
    Ok(Some(Customer {
        lang: lang_of(&name, phone.as_deref()),
        name,
        phone,
        email,
        channel,
        in_progress: in_progress.is_some(),
    }))
}

/// A customer new to the helpdesk, writing from WhatsApp or by e-mail.
fn new_customer(dice: &mut Dice) -> Customer {
    let lang = match dice.below(3) {
        0 => Lang::Es,
        1 => Lang::It,
        _ => Lang::En,
    };
    let name = dice.pick(lang, NAMES).to_owned();
    let number = 600_000_000 + dice.below(99_999_999);
    let (phone, email, channel) = if dice.chance(60) {
        let prefix = match lang {
            Lang::Es => "+34",
            Lang::It => "+39",
            Lang::En => "+44",
        };
        (Some(format!("{prefix} {number}")), None, "whatsapp")
    } else {
        let user: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '.' })
            .collect();
        (
            None,
            Some(format!("{user}.{}@example.net", number % 1000)),
            "email",
        )
    };
    Customer {
        name,
        phone,
        email,
        channel: channel.to_owned(),
        lang,
        in_progress: false,
    }
}

/// What `customer` writes.
fn message(customer: &Customer, dice: &mut Dice) -> String {
    let pool = if customer.in_progress {
        FOLLOW_UPS
    } else {
        PROBLEMS
    };
    let order = format!("{}", 100_000 + dice.below(900_000));
    dice.pick(customer.lang, pool).replace("{n}", &order)
}

/// One message through the channel endpoint; the customer is new on the
/// first one so that a ticket opens at once.
async fn send_one(
    app: &Router,
    db: &Db,
    tokens: &mut Tokens,
    dice: &mut Dice,
    first: bool,
) -> anyhow::Result<()> {
    let customer = if first || dice.chance(20) {
        new_customer(dice)
    } else {
        match known_customer(db, dice).await? {
            Some(c) => c,
            None => new_customer(dice),
        }
    };
    let body = message(&customer, dice);
    let token = tokens.of(db, &customer.channel).await?;
    let inbound = InboundMessage {
        name: customer.name.clone(),
        phone: customer.phone.clone(),
        email: customer.email.clone(),
        body,
    };
    let mut key = [0u8; 16];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let request = Request::post(format!("{BASE_PATH}/channels/{}/inbound", customer.channel))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(IDEMPOTENCY_KEY_HEADER, hex::encode(key))
        .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))))
        .body(Body::from(serde_json::to_vec(&inbound)?))?;
    let response = app.clone().oneshot(request).await?;
    if !response.status().is_success() {
        anyhow::bail!(
            "a simulated message from {} was refused: {}",
            customer.name,
            response.status()
        );
    }
    tracing::debug!(
        "simulated customer {} wrote on {}",
        customer.name,
        customer.channel
    );
    Ok(())
}

/// Channel tokens, made on first use.
#[derive(Default)]
struct Tokens(Vec<(String, String)>);

impl Tokens {
    async fn of(&mut self, db: &Db, channel: &str) -> anyhow::Result<String> {
        if let Some((_, token)) = self.0.iter().find(|(c, _)| c == channel) {
            return Ok(token.clone());
        }
        let token = admin::channel_token(db, channel).await?;
        self.0.push((channel.to_owned(), token.clone()));
        Ok(token)
    }
}

/// Sends a simulated customer's message every few seconds through `app`
/// until the server stops.
pub(crate) async fn run(
    app: Router,
    db: Db,
    simulation: Simulation,
    mut stopping: watch::Receiver<bool>,
) {
    let mut dice = Dice::new(simulation.seed);
    let mut tokens = Tokens::default();
    let mean = simulation.every.max(Duration::from_millis(50));
    let mut first = true;
    loop {
        let wait = mean / 2 + mean.mul_f64(dice.below(1000) as f64 / 1000.0);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        match send_one(&app, &db, &mut tokens, &mut dice, first).await {
            Ok(()) => first = false,
            Err(e) => tracing::warn!("simulated customers: {e:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_problems_follow_ups_and_names() {
        for lang in [Lang::Es, Lang::It, Lang::En] {
            for pool in [PROBLEMS, FOLLOW_UPS, NAMES] {
                assert!(pool.iter().any(|(l, _)| *l == lang), "{lang:?}");
            }
        }
    }

    #[test]
    fn a_customer_writes_in_the_language_of_their_phone_or_name() {
        assert_eq!(lang_of("Anyone", Some("+34 600 000 001")), Lang::Es);
        assert_eq!(lang_of("Anyone", Some("+39 333 000 001")), Lang::It);
        assert_eq!(lang_of("Begoña Muñoz", None), Lang::Es);
        assert_eq!(lang_of("Emily Clarke", None), Lang::En);
    }

    #[test]
    fn new_customers_have_an_address_and_a_problem_with_its_number_filled_in() {
        let mut dice = Dice::new(Some(7));
        for _ in 0..200 {
            let c = new_customer(&mut dice);
            assert!(c.phone.is_some() != c.email.is_some(), "{c:?}");
            assert!(!c.name.is_empty());
            let body = message(&c, &mut dice);
            assert!(!body.is_empty() && !body.contains("{n}"), "{body}");
        }
    }
}
