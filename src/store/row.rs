//! One ticket as the list needs it: compact, with its search and sort keys
//! computed once per version.
//!
//! Names that repeat across tickets (statuses, categories, tags, contacts,
//! operators, channels) are interned; times are Unix seconds. The description
//! is not here: it stays in the SQLite cache and is loaded when the ticket is
//! shown.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deskterm_api::{ContactId, OperatorId, Priority, Ticket, TicketId};

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

/// One ticket, compact.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Server id (negative for a ticket not yet created on the server).
    pub id: TicketId,
    /// Server version.
    pub version: i64,
    /// Human code.
    pub reference: Box<str>,
    /// Title.
    pub title: Box<str>,
    /// Status key.
    pub status: Sym,
    /// Priority.
    pub priority: Priority,
    /// Category name.
    pub category: Option<Sym>,
    /// Tags.
    pub tags: Box<[Sym]>,
    /// Marked important.
    pub important: bool,
    /// Contact id.
    pub contact: ContactId,
    /// Contact name.
    pub contact_name: Sym,
    /// Assigned operator.
    pub operator: Option<OperatorId>,
    /// Assigned operator's name.
    pub operator_name: Option<Sym>,
    /// Channel it came from.
    pub channel: Sym,
    /// SLA due time, Unix seconds.
    pub sla_due_at: Option<i64>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Last change, Unix seconds.
    pub updated_at: i64,
    /// When it was closed, Unix seconds.
    pub closed_at: Option<i64>,
    /// Case-folded `reference title contact category`, separated by one space:
    /// what free words are matched against.
    pub haystack: Box<str>,
}

impl Row {
    /// The compact form of a ticket; new names are interned.
    pub fn new(t: &Ticket, names: &mut Interner) -> Row {
        let mut haystack = String::with_capacity(
            t.reference.len()
                + t.title.len()
                + t.contact.name.len()
                + t.category.as_deref().map_or(0, str::len)
                + 3,
        );
        haystack.push_str(&t.reference);
        haystack.push(' ');
        haystack.push_str(&t.title);
        haystack.push(' ');
        haystack.push_str(&t.contact.name);
        if let Some(c) = &t.category {
            haystack.push(' ');
            haystack.push_str(c);
        }
        Row {
            id: t.id,
            version: t.version,
            reference: t.reference.as_str().into(),
            title: t.title.as_str().into(),
            status: names.intern(&t.status),
            priority: t.priority,
            category: t.category.as_deref().map(|c| names.intern(c)),
            tags: t.tags.iter().map(|tag| names.intern(tag)).collect(),
            important: t.important,
            contact: t.contact.id,
            contact_name: names.intern(&t.contact.name),
            operator: t.operator.as_ref().map(|o| o.id),
            operator_name: t.operator.as_ref().map(|o| names.intern(&o.name)),
            channel: names.intern(&t.channel),
            sla_due_at: t.sla_due_at.map(secs),
            created_at: secs(t.created_at),
            updated_at: secs(t.updated_at),
            closed_at: t.closed_at.map(secs),
            haystack: fold(&haystack).into(),
        }
    }
}

fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}
