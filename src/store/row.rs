//! One ticket as the list needs it: compact, with its search and sort keys
//! computed once per version.
//!
//! Names that repeat across tickets (statuses, categories, tags, contacts,
//! operators, channels) are interned; times are Unix seconds. The description
//! is not here: it stays in the SQLite cache and is loaded when the ticket is
//! shown.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deskterm_api::{
    ContactId, ContactRef, OperatorId, OperatorRef, Priority, SlaState, Ticket, TicketId,
};

/// An interned name.
pub type Sym = u32;

/// Interned names, each with its case-folded form for searching.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    names: Vec<Box<str>>,
    folded: Vec<Box<str>>,
    ids: HashMap<Box<str>, Sym>,
}

impl Interner {
    /// The symbol of `name`, added when new.
    pub fn intern(&mut self, name: &str) -> Sym {
        if let Some(&sym) = self.ids.get(name) {
            return sym;
        }
        let sym = Sym::try_from(self.names.len()).unwrap_or(Sym::MAX);
        self.names.push(name.into());
        self.folded.push(fold(name).into());
        self.ids.insert(name.into(), sym);
        sym
    }

    /// The symbol of `name`, if it was ever interned.
    pub fn get(&self, name: &str) -> Option<Sym> {
        self.ids.get(name).copied()
    }

    /// The name behind a symbol.
    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(sym as usize).map_or("", |n| n)
    }

    /// The case-folded name behind a symbol.
    pub fn folded(&self, sym: Sym) -> &str {
        self.folded.get(sym as usize).map_or("", |n| n)
    }

    /// How many names are interned; grows only, so it doubles as a generation.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True before anything was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every symbol whose folded name satisfies `pred`.
    pub fn matching(&self, mut pred: impl FnMut(&str) -> bool) -> Vec<Sym> {
        (0..self.folded.len())
            .filter(|&i| pred(&self.folded[i]))
            .map(|i| i as Sym)
            .collect()
    }
}

/// Case folding used by every search and text sort.
pub fn fold(text: &str) -> String {
    if text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        text.to_owned()
    } else {
        text.to_lowercase()
    }
}

/// The bit of an ASCII byte in an [`accent_folds`] mask: one per letter
/// and digit, one shared by every other ASCII byte.
#[inline]
pub fn ascii_bit(b: u8) -> u64 {
    match b {
        b'a'..=b'z' => 1 << (b - b'a'),
        b'A'..=b'Z' => 1 << (b - b'A'),
        b'0'..=b'9' => 1 << (26 + b - b'0'),
        _ => 1 << 63,
    }
}

/// Which ASCII bytes ([`ascii_bit`]) some non-ASCII char of `text` turns
/// into when it is lower-cased and stripped of its accent, the way a search
/// word written without accents compares (`ó` → `o`): a word's letter
/// without a bit here is found by a plain byte search.
pub fn accent_folds(text: &str) -> u64 {
    use nucleo_matcher::chars::{normalize, to_lower_case};
    text.chars()
        .filter(|c| !c.is_ascii())
        .map(|c| to_lower_case(normalize(c)))
        .filter(char::is_ascii)
        .fold(0, |mask, c| mask | ascii_bit(c as u8))
}

/// An absent name in a row (`Option<Sym>` would take twice the room).
const NO_SYM: Sym = Sym::MAX;
/// An absent time in a row (`Option<i64>` would take twice the room); no
/// time a ticket can carry is this.
const NO_TIME: i64 = i64::MIN;
/// Nobody assigned, in a row; no server id is this.
const NO_ID: OperatorId = OperatorId::MIN;

/// One ticket, compact.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Server id (negative for a ticket not yet created on the server).
    pub id: TicketId,
    /// Server version.
    pub version: i64,
    /// The reference and the title, one after the other in one allocation
    /// (see [`Row::reference`], [`Row::title`]). The search text is kept
    /// apart, with every other row's ([`SearchText`]).
    text: Box<str>,
    /// Where the reference ends in `text`.
    reference_end: u32,
    /// Status key.
    pub status: Sym,
    /// Priority.
    pub priority: Priority,
    /// Category name ([`NO_SYM`] for none; see [`Row::category`]).
    category: Sym,
    /// Tags.
    pub tags: Box<[Sym]>,
    /// Marked important.
    pub important: bool,
    /// Contact id.
    pub contact: ContactId,
    /// Contact name.
    pub contact_name: Sym,
    /// Assigned operator ([`NO_ID`] for nobody; see [`Row::operator`]).
    operator: OperatorId,
    /// Assigned operator's name ([`NO_SYM`] for none).
    operator_name: Sym,
    /// Channel it came from.
    pub channel: Sym,
    /// SLA due time, Unix seconds ([`NO_TIME`] for none).
    sla_due_at: i64,
    /// The SLA state the server keeps, if it keeps one.
    pub sla_state: Option<SlaState>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Last change, Unix seconds.
    pub updated_at: i64,
    /// When it was closed, Unix seconds ([`NO_TIME`] for never).
    closed_at: i64,
}

impl Row {
    /// The compact form of a ticket; new names are interned.
    pub fn new(t: &Ticket, names: &mut Interner) -> Row {
        let mut text = String::with_capacity(t.reference.len() + t.title.len());
        text.push_str(&t.reference);
        text.push_str(&t.title);
        let reference_end = u32::try_from(t.reference.len()).unwrap_or(0);
        Row {
            id: t.id,
            version: t.version,
            reference_end,
            text: text.into_boxed_str(),
            status: names.intern(&t.status),
            priority: t.priority,
            category: t.category.as_deref().map_or(NO_SYM, |c| names.intern(c)),
            tags: t.tags.iter().map(|tag| names.intern(tag)).collect(),
            important: t.important,
            contact: t.contact.id,
            contact_name: names.intern(&t.contact.name),
            operator: t.operator.as_ref().map_or(NO_ID, |o| o.id),
            operator_name: t
                .operator
                .as_ref()
                .map_or(NO_SYM, |o| names.intern(&o.name)),
            channel: names.intern(&t.channel),
            sla_due_at: t.sla_due_at.map_or(NO_TIME, secs),
            sla_state: t.sla_state,
            created_at: secs(t.created_at),
            updated_at: secs(t.updated_at),
            closed_at: t.closed_at.map_or(NO_TIME, secs),
        }
    }

    /// Category name.
    pub fn category(&self) -> Option<Sym> {
        (self.category != NO_SYM).then_some(self.category)
    }

    /// Assigned operator.
    pub fn operator(&self) -> Option<OperatorId> {
        (self.operator != NO_ID).then_some(self.operator)
    }

    /// Assigned operator's name.
    pub fn operator_name(&self) -> Option<Sym> {
        (self.operator_name != NO_SYM).then_some(self.operator_name)
    }

    /// SLA due time, Unix seconds.
    pub fn sla_due_at(&self) -> Option<i64> {
        (self.sla_due_at != NO_TIME).then_some(self.sla_due_at)
    }

    /// When it was closed, Unix seconds.
    pub fn closed_at(&self) -> Option<i64> {
        (self.closed_at != NO_TIME).then_some(self.closed_at)
    }

    /// Human code.
    pub fn reference(&self) -> &str {
        self.text.get(..self.reference_end as usize).unwrap_or("")
    }

    /// Title.
    pub fn title(&self) -> &str {
        self.text.get(self.reference_end as usize..).unwrap_or("")
    }
}

/// What free words and phrases are matched against for one ticket: its
/// reference, title, contact and category, case-folded, separated by one
/// space; the folded title is a part of it (sorting by title compares it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    text: String,
    /// Where the folded title starts and ends in `text`.
    title: (u32, u32),
}

impl SearchText {
    /// The search text of a ticket.
    pub fn new(t: &Ticket) -> SearchText {
        let reference = fold(&t.reference);
        let title = fold(&t.title);
        let contact = fold(&t.contact.name);
        let category = t.category.as_deref().map(fold);
        let mut text = String::with_capacity(
            reference.len()
                + title.len()
                + contact.len()
                + category.as_ref().map_or(0, String::len)
                + 3,
        );
        text.push_str(&reference);
        text.push(' ');
        let title_start = text.len();
        text.push_str(&title);
        let title_end = text.len();
        text.push(' ');
        text.push_str(&contact);
        if let Some(c) = &category {
            text.push(' ');
            text.push_str(c);
        }
        let at = |i: usize| u32::try_from(i).unwrap_or(0);
        SearchText {
            text,
            title: (at(title_start), at(title_end)),
        }
    }

    /// The whole text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Where the folded title starts and ends in it.
    pub fn title_span(&self) -> (u32, u32) {
        self.title
    }

    /// `row` with this text, as filters see it.
    pub fn listed<'a>(&'a self, row: &'a Row) -> Listed<'a> {
        Listed {
            row,
            text: &self.text,
            folds: accent_folds(&self.text),
        }
    }
}

/// A search text with its [`accent_folds`].
#[derive(Debug, Clone, Copy)]
pub struct Searched<'a> {
    /// Case-folded `reference title contact category`, separated by one space.
    pub text: &'a str,
    /// Which ASCII letters some accented char of `text` folds to.
    pub folds: u64,
}

/// A row with its search text, as filters see it; derefs to the row.
#[derive(Debug, Clone, Copy)]
pub struct Listed<'a> {
    row: &'a Row,
    text: &'a str,
    folds: u64,
}

impl<'a> Listed<'a> {
    /// A row with its search text and that text's [`accent_folds`].
    pub fn new(row: &'a Row, text: &'a str, folds: u64) -> Listed<'a> {
        Listed { row, text, folds }
    }

    /// The row.
    pub fn row(&self) -> &'a Row {
        self.row
    }

    /// Case-folded `reference title contact category`, separated by one
    /// space: what free words are matched against.
    pub fn haystack(&self) -> &'a str {
        self.text
    }

    /// Which ASCII letters some accented char of the search text folds to
    /// ([`accent_folds`]).
    pub fn accent_folds(&self) -> u64 {
        self.folds
    }

    /// The search text alone.
    pub fn searched(&self) -> Searched<'a> {
        Searched {
            text: self.text,
            folds: self.folds,
        }
    }
}

impl std::ops::Deref for Listed<'_> {
    type Target = Row;

    fn deref(&self) -> &Row {
        self.row
    }
}

/// A row that owns its search text, outside a store (tests, benchmarks).
#[derive(Debug, Clone)]
pub struct Indexed {
    /// The row.
    pub row: Row,
    /// Its search text.
    pub search: SearchText,
}

impl Indexed {
    /// The compact form of a ticket with its search text.
    pub fn new(t: &Ticket, names: &mut Interner) -> Indexed {
        Indexed {
            row: Row::new(t, names),
            search: SearchText::new(t),
        }
    }

    /// As filters see it.
    pub fn listed(&self) -> Listed<'_> {
        self.search.listed(&self.row)
    }
}

impl Row {
    /// The ticket back from its compact form. What the row does not keep
    /// (the description, the contact's phone and e-mail) is left empty: the
    /// whole ticket is in the cache, for the one on screen.
    pub fn to_ticket(&self, names: &Interner) -> Ticket {
        let time = |s: i64| DateTime::from_timestamp(s, 0).unwrap_or_default();
        Ticket {
            id: self.id,
            reference: self.reference().to_owned(),
            title: self.title().to_owned(),
            description: String::new(),
            status: names.name(self.status).to_owned(),
            priority: self.priority,
            category: self.category().map(|c| names.name(c).to_owned()),
            tags: self
                .tags
                .iter()
                .map(|t| names.name(*t).to_owned())
                .collect(),
            important: self.important,
            contact: ContactRef {
                id: self.contact,
                name: names.name(self.contact_name).to_owned(),
                phone: None,
                email: None,
            },
            operator: self.operator().map(|id| OperatorRef {
                id,
                name: self
                    .operator_name()
                    .map(|n| names.name(n).to_owned())
                    .unwrap_or_default(),
            }),
            channel: names.name(self.channel).to_owned(),
            sla_due_at: self.sla_due_at().map(time),
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
            closed_at: self.closed_at().map(time),
            sla_state: self.sla_state,
            pending_until: None,
            version: self.version,
        }
    }
}

fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}
