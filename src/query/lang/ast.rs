//! What a query says, as written: names are still strings, resolved only when
//! the query is compiled against the client's statuses, operators and names.

use chrono::NaiveDate;
use deskterm_api::{MacroStatus, Priority};

use crate::query::Sla;

/// A whole query: every term must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Terms in the order the user wrote them.
    pub terms: Vec<Term>,
}

/// One term, possibly negated with a leading `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// True when the term must *not* hold.
    pub negated: bool,
    /// What the term tests.
    pub atom: Atom,
}

impl Term {
    /// A term that must hold.
    pub fn new(atom: Atom) -> Term {
        Term {
            negated: false,
            atom,
        }
    }

    /// A term that must not hold.
    pub fn not(atom: Atom) -> Term {
        Term {
            negated: true,
            atom,
        }
    }
}

/// A test on one ticket. Lists of values are alternatives: any may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    /// `status:open,pending`: status keys or labels, compared case-insensitively.
    Status(Vec<String>),
    /// `macro:closed`: the family of the ticket's status.
    Macro(Vec<MacroStatus>),
    /// `priority:high,urgent` or `priority>=high`.
    Priority(PriorityTest),
    /// `op:me`, `op:none`, `op:marco`.
    Operator(Vec<OperatorValue>),
    /// `cat:billing`, `cat:none`.
    Category(Vec<CategoryValue>),
    /// `tag:vip`.
    Tag(Vec<String>),
    /// `important`.
    Important,
    /// `sla:ok,at_risk,breached,none`; `None` is "no SLA running".
    Sla(Vec<Option<Sla>>),
    /// `channel:email`.
    Channel(Vec<String>),
    /// `updated<7d`, `created>=2026-01-01`, `updated:2026-03-02`.
    Time(TimeField, TimeTest),
    /// `contact:"Ana Ruiz"`: the contact's name, by word prefix.
    Contact(Vec<String>),
    /// `ref:HD-000123`: exact reference, case-insensitive.
    Reference(Vec<String>),
    /// `"refund"`: exact case-insensitive substring of the search text.
    Phrase(String),
    /// A bare word, matched fuzzily against the search text.
    Word(String),
}

/// The fields a term can name; [`Atom::Phrase`] and [`Atom::Word`] have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `status:`
    Status,
    /// `macro:`
    Macro,
    /// `priority:`
    Priority,
    /// `op:`
    Operator,
    /// `cat:`
    Category,
    /// `tag:`
    Tag,
    /// `important`
    Important,
    /// `sla:`
    Sla,
    /// `channel:`
    Channel,
    /// `updated`
    Updated,
    /// `created`
    Created,
    /// `contact:`
    Contact,
    /// `ref:`
    Reference,
}

impl Field {
    /// Every field, in the order help lists them.
    pub const ALL: [Field; 13] = [
        Field::Status,
        Field::Macro,
        Field::Priority,
        Field::Operator,
        Field::Category,
        Field::Tag,
        Field::Important,
        Field::Sla,
        Field::Channel,
        Field::Updated,
        Field::Created,
        Field::Contact,
        Field::Reference,
    ];

    /// The canonical name, as printed.
    pub fn name(self) -> &'static str {
        match self {
            Field::Status => "status",
            Field::Macro => "macro",
            Field::Priority => "priority",
            Field::Operator => "op",
            Field::Category => "cat",
            Field::Tag => "tag",
            Field::Important => "important",
            Field::Sla => "sla",
            Field::Channel => "channel",
            Field::Updated => "updated",
            Field::Created => "created",
            Field::Contact => "contact",
            Field::Reference => "ref",
        }
    }

    /// The field a name (canonical or alias, any case) stands for.
    pub fn from_name(name: &str) -> Option<Field> {
        let lower = name.to_ascii_lowercase();
        let field = match lower.as_str() {
            "status" => Field::Status,
            "macro" => Field::Macro,
            "priority" | "prio" => Field::Priority,
            "op" | "operator" => Field::Operator,
            "cat" | "category" => Field::Category,
            "tag" => Field::Tag,
            "important" => Field::Important,
            "sla" => Field::Sla,
            "channel" => Field::Channel,
            "updated" => Field::Updated,
            "created" => Field::Created,
            "contact" => Field::Contact,
            "ref" | "reference" => Field::Reference,
            _ => return None,
        };
        Some(field)
    }
}

impl Atom {
    /// The field this atom tests; `None` for phrases and free words.
    pub fn field(&self) -> Option<Field> {
        Some(match self {
            Atom::Status(_) => Field::Status,
            Atom::Macro(_) => Field::Macro,
            Atom::Priority(_) => Field::Priority,
            Atom::Operator(_) => Field::Operator,
            Atom::Category(_) => Field::Category,
            Atom::Tag(_) => Field::Tag,
            Atom::Important => Field::Important,
            Atom::Sla(_) => Field::Sla,
            Atom::Channel(_) => Field::Channel,
            Atom::Time(TimeField::Updated, _) => Field::Updated,
            Atom::Time(TimeField::Created, _) => Field::Created,
            Atom::Contact(_) => Field::Contact,
            Atom::Reference(_) => Field::Reference,
            Atom::Phrase(_) | Atom::Word(_) => return None,
        })
    }
}

/// A comparison, used by priorities and times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// How a priority term selects priorities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorityTest {
    /// Any of these (`priority:high,urgent`, also written `priority=high`).
    In(Vec<Priority>),
    /// Compared in the order `low < normal < high < urgent`.
    Cmp(Cmp, Priority),
}

impl PriorityTest {
    /// The priorities selected, as a bit per [`Priority::rank`].
    pub fn mask(&self) -> u8 {
        match self {
            PriorityTest::In(list) => list.iter().fold(0, |m, p| m | 1 << p.rank()),
            PriorityTest::Cmp(cmp, p) => Priority::ALL
                .into_iter()
                .filter(|q| match cmp {
                    Cmp::Lt => q < p,
                    Cmp::Le => q <= p,
                    Cmp::Gt => q > p,
                    Cmp::Ge => q >= p,
                })
                .fold(0, |m, q| m | 1 << q.rank()),
        }
    }
}

/// A value of `op:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OperatorValue {
    /// `me`: the signed-in operator.
    Me,
    /// `none`: nobody assigned.
    Nobody,
    /// An operator named so (word prefix, case- and accent-insensitive).
    Name(String),
}

/// A value of `cat:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CategoryValue {
    /// `none`: no category.
    Nobody,
    /// A category name (case- and accent-insensitive equality).
    Name(String),
}

/// Which timestamp a time term tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeField {
    /// Last change.
    Updated,
    /// Creation.
    Created,
}

/// Units of a relative time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// `m`
    Minute,
    /// `h`
    Hour,
    /// `d`
    Day,
    /// `w`
    Week,
}

impl Unit {
    /// Seconds in one unit.
    pub fn seconds(self) -> i64 {
        match self {
            Unit::Minute => 60,
            Unit::Hour => 3_600,
            Unit::Day => 86_400,
            Unit::Week => 604_800,
        }
    }

    /// The suffix as written.
    pub fn suffix(self) -> char {
        match self {
            Unit::Minute => 'm',
            Unit::Hour => 'h',
            Unit::Day => 'd',
            Unit::Week => 'w',
        }
    }
}

/// How a time term selects times.
///
/// Relative (`updated<7d`): the comparison is on the *age*, so `<7d` is "less
/// than 7 days ago" (newer) and `>7d` "more than 7 days ago" (older).
/// Absolute (`updated<2026-01-01`): the comparison is on the *date*, a whole
/// day in the context's time zone, so `<D` is "before day D", `<=D` "on or
/// before D", `>D` "after D", `>=D` "on or after D", and `:D` "on D".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeTest {
    /// Compared with the age `amount × unit`.
    Age {
        /// `<` newer, `>` older.
        cmp: Cmp,
        /// How many units.
        amount: u32,
        /// Which unit.
        unit: Unit,
    },
    /// Compared with a calendar day.
    Date {
        /// `None` for "on that day" (`:`).
        cmp: Option<Cmp>,
        /// The day.
        date: NaiveDate,
    },
}
