//! Wire types of the deskterm helpdesk HTTP API, version 1.
//!
//! The reference server (`deskterm-server`) serves these types and the
//! native connector of the `deskterm` client reads them. Every path below is
//! relative to [`BASE_PATH`]; every request carries
//! `Authorization: Bearer <operator token>`.
//!
//! Errors are RFC 9457 `application/problem+json` bodies ([`Problem`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Prefix of every API path.
pub const BASE_PATH: &str = "/api/v1";

/// Longest ticket title the server accepts, in characters (after trimming).
pub const TITLE_MAX_CHARS: usize = 200;

/// Longest description, note or chat message body, in characters.
pub const BODY_MAX_CHARS: usize = 20_000;

/// Largest request body the server reads, in bytes.
pub const REQUEST_BODY_MAX_BYTES: usize = 256 * 1024;

/// Largest page size of the ticket list and of the change feed.
pub const PAGE_LIMIT_MAX: u32 = 1000;

/// Media type of error bodies.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Header carrying a client-chosen key that makes a create or a send safe to replay.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Identifier of a ticket, assigned by the server and never reused.
pub type TicketId = i64;
/// Identifier of an operator.
pub type OperatorId = i64;
/// Identifier of a contact (a customer).
pub type ContactId = i64;

/// Which family a status belongs to. Every status, custom ones included, has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MacroStatus {
    /// The ticket still needs work.
    InProgress,
    /// The ticket is finished.
    Closed,
}

impl MacroStatus {
    /// The wire name (`in_progress` / `closed`).
    pub fn as_str(self) -> &'static str {
        match self {
            MacroStatus::InProgress => "in_progress",
            MacroStatus::Closed => "closed",
        }
    }
}

/// Urgency of a ticket; ordered `Low < Normal < High < Urgent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Can wait.
    Low,
    /// The default.
    Normal,
    /// Should be handled before normal work.
    High,
    /// Drop everything.
    Urgent,
}

impl Priority {
    /// All priorities, lowest first.
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// Position in the order `low < normal < high < urgent`, from 0.
    pub fn rank(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown priority {s:?}"))
    }
}

/// Where a ticket or a message came from.
pub type Channel = String;

/// A ticket status as listed by [`Meta`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusDef {
    /// Stable key used on the wire (`open`, `waiting_parts`…).
    pub key: String,
    /// Label shown to operators.
    pub label: String,
    /// The macro-status this status belongs to.
    #[serde(rename = "macro")]
    pub macro_status: MacroStatus,
    /// Whether the status is built in (`new`, `open`, `pending`, `resolved`, `closed`).
    pub builtin: bool,
}

/// Body of `POST /statuses`: a custom status. `macro` is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewStatus {
    /// Key; lowercase letters, digits and `_`. Derived from the label when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Label shown to operators.
    pub label: String,
    /// Macro-status; a custom status cannot exist without one.
    #[serde(rename = "macro")]
    pub macro_status: MacroStatus,
}

/// A category a ticket can be filed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Category {
    /// Server id.
    pub id: i64,
    /// Name, unique, as first typed.
    pub name: String,
}

/// An operator as referenced from a ticket or listed in [`Meta`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorRef {
    /// Server id.
    pub id: OperatorId,
    /// Display name.
    pub name: String,
}

/// The signed-in operator (`GET /me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// Server id.
    pub id: OperatorId,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Profile option: receive an e-mail when a ticket is opened or modified.
    pub receive_ticket_emails: bool,
}

/// What an operator may do. Agents work tickets; admins also manage
/// operators, channels and custom statuses, and may edit or delete any ticket.
///
/// The rules for tickets (an agent edits, answers and deletes their own
/// tickets, edits and answers unassigned ones, and only adds notes to another
/// operator's ticket) are the server's one policy table; a refused request is
/// answered `403` with a problem document naming the action and the role it needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works tickets. The default: a forgotten flag must not hand out admin rights.
    #[default]
    Agent,
    /// Also manages operators, channels and custom statuses.
    Admin,
}

impl Role {
    /// Wire name: `agent` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "agent" => Ok(Role::Agent),
            "admin" => Ok(Role::Admin),
            other => Err(format!("{other:?} is not a role (agent or admin)")),
        }
    }
}

/// What `GET /me` and `PATCH /me` answer: the operator and their [`Role`].
/// The role sits beside [`Me`] (flattened on the wire) so clients that read
/// only [`Me`] keep working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeWithRole {
    /// The operator's profile.
    #[serde(flatten)]
    pub me: Me,
    /// What the operator may do; `agent` from servers without roles.
    #[serde(default)]
    pub role: Role,
}

/// Body of `PATCH /me`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MePatch {
    /// New value of the profile option, if it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_ticket_emails: Option<bool>,
}

/// What a server can do, so clients hide what it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerCapabilities {
    /// Writes take `If-Match` and answer 412 when stale.
    pub preconditions: bool,
    /// `GET /events` pushes changes.
    pub live_events: bool,
    /// `POST /statuses` exists.
    pub custom_statuses: bool,
    /// `GET /stats` exists.
    pub stats: bool,
    /// `GET /tickets/{id}/history` exists.
    pub history: bool,
    /// `POST /tickets/{id}/escalations` exists (absent from older servers).
    #[serde(default)]
    pub escalations: bool,
}

/// Everything a client needs to label and validate a ticket (`GET /meta`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Meta {
    /// Statuses in display order, built-in ones first.
    pub statuses: Vec<StatusDef>,
    /// Priorities, lowest first.
    pub priorities: Vec<Priority>,
    /// Categories, by name.
    pub categories: Vec<Category>,
    /// Operators, by name.
    pub operators: Vec<OperatorRef>,
    /// Tags in use, sorted.
    pub tags: Vec<String>,
    /// Channels in use, sorted.
    pub channels: Vec<Channel>,
    /// What the server supports.
    pub capabilities: ServerCapabilities,
    /// Server version string.
    pub server_version: String,
}

/// Where a ticket stands against its SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// More than the at-risk share of the target is left.
    Ok,
    /// Less is left.
    AtRisk,
    /// The due time has passed.
    Breached,
}

impl SlaState {
    /// Wire name: `ok`, `at_risk`, `breached`.
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Ok => "ok",
            SlaState::AtRisk => "at_risk",
            SlaState::Breached => "breached",
        }
    }
}

/// A contact as embedded in a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactRef {
    /// Server id.
    pub id: ContactId,
    /// Display name.
    pub name: String,
    /// Phone number, if known.
    pub phone: Option<String>,
    /// E-mail address, if known.
    pub email: Option<String>,
}

/// A contact (`GET /contacts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// Server id.
    pub id: ContactId,
    /// Display name.
    pub name: String,
    /// Phone number, if known.
    pub phone: Option<String>,
    /// E-mail address, if known.
    pub email: Option<String>,
    /// The channel the contact usually writes from.
    pub channel: Option<Channel>,
    /// When the contact was created.
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /contacts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewContact {
    /// Display name; required.
    pub name: String,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Usual channel.
    #[serde(default)]
    pub channel: Option<Channel>,
}

/// A ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    /// Server id, never reused.
    pub id: TicketId,
    /// Human code such as `HD-000123`; unique.
    pub reference: String,
    /// One-line title.
    pub title: String,
    /// Multi-line description of the problem.
    pub description: String,
    /// Status key (see [`Meta::statuses`]).
    pub status: String,
    /// Priority.
    pub priority: Priority,
    /// Category name, if filed.
    pub category: Option<String>,
    /// Free labels.
    pub tags: Vec<String>,
    /// Marked as important.
    pub important: bool,
    /// The customer the ticket is about.
    pub contact: ContactRef,
    /// The assigned operator, if any.
    pub operator: Option<OperatorRef>,
    /// Where it came from (`whatsapp`, `email`, `web`, `phone`…).
    pub channel: Channel,
    /// When the service-level agreement is due, if any.
    pub sla_due_at: Option<DateTime<Utc>>,
    /// Where the ticket stands against its SLA, as the server computes it
    /// (and pushes when it changes with the passage of time); `None` without
    /// a due time, or from a server that does not say.
    #[serde(default)]
    pub sla_state: Option<SlaState>,
    /// Until when the ticket waits (for the customer, a part…): when it
    /// passes, the server's `pending_elapsed` automations run and the time
    /// is cleared. `None` when it waits for nothing in particular.
    #[serde(default)]
    pub pending_until: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last modification time.
    pub updated_at: DateTime<Utc>,
    /// When it entered a closed status; `None` while in progress.
    pub closed_at: Option<DateTime<Utc>>,
    /// Incremented on every change; sent back as `ETag: "<version>"`.
    pub version: i64,
}

/// Body of `POST /tickets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTicket {
    /// Title; required, trimmed, at most [`TITLE_MAX_CHARS`].
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Status key; `new` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Priority; `normal` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Category name; created when typed for the first time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Important flag.
    #[serde(default)]
    pub important: bool,
    /// The contact the ticket is about; required unless `new_contact` is
    /// given (0, or absent, names none).
    #[serde(default)]
    pub contact_id: ContactId,
    /// A contact to make for the ticket, in the ticket's own transaction:
    /// both are made or neither. Instead of `contact_id` (both, or neither,
    /// is 422 on `new_contact` / `contact_id`); checked like
    /// `POST /contacts`, its errors under `new_contact.<field>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_contact: Option<NewContact>,
    /// Assigned operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<OperatorId>,
    /// Channel; `phone` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Manual reference; generated (`HD-000123`) when absent. Must be unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// SLA due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_due_at: Option<DateTime<Utc>>,
    /// Waits until then (see [`Ticket::pending_until`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_until: Option<DateTime<Utc>>,
}

/// Body of `PATCH /tickets/{id}`: a JSON merge patch (RFC 7396).
///
/// An absent field is left alone. For nullable fields (`category`,
/// `operator_id`, `sla_due_at`, `pending_until`) an explicit `null` clears the value; this is
/// why they are `Option<Option<_>>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketPatch {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// New status key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// New priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// New category name (`null` clears); created when new.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub category: Option<Option<String>>,
    /// New tags (replaces the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// New important flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub important: Option<bool>,
    /// New operator (`null` unassigns).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub operator_id: Option<Option<OperatorId>>,
    /// New SLA due time (`null` clears).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub sla_due_at: Option<Option<DateTime<Utc>>>,
    /// Wait until then (`null`: wait for nothing in particular).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub pending_until: Option<Option<DateTime<Utc>>>,
    /// New reference: unique among tickets, at most 32 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Another customer for the ticket (an existing contact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<ContactId>,
    /// Another customer for the ticket, a contact made in the patch's own
    /// transaction and recorded in the history as a change of customer.
    /// Instead of `contact_id` (both is 422 on `new_contact`); checked like
    /// `POST /contacts`, its errors under `new_contact.<field>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_contact: Option<NewContact>,
}

impl TicketPatch {
    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == TicketPatch::default()
    }
}

/// Serde helper telling an absent field from an explicit `null`.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serializes `Some(None)` as `null` and `Some(Some(v))` as `v`.
    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    /// A present field becomes `Some(_)`, `null` included; absence is handled by `#[serde(default)]`.
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// A column the ticket list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    /// Reference code.
    Reference,
    /// Title, case-insensitively.
    Title,
    /// Status, in the order of [`Meta::statuses`].
    Status,
    /// Priority rank.
    Priority,
    /// Category name.
    Category,
    /// Operator name.
    Operator,
    /// Contact name.
    Contact,
    /// Creation time.
    Created,
    /// Last modification time.
    Updated,
}

impl SortField {
    /// Every sort field, in list-column order.
    pub const ALL: [SortField; 9] = [
        SortField::Reference,
        SortField::Title,
        SortField::Status,
        SortField::Priority,
        SortField::Category,
        SortField::Operator,
        SortField::Contact,
        SortField::Created,
        SortField::Updated,
    ];

    /// The wire name, as used in `sort=`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Reference => "reference",
            SortField::Title => "title",
            SortField::Status => "status",
            SortField::Priority => "priority",
            SortField::Category => "category",
            SortField::Operator => "operator",
            SortField::Contact => "contact",
            SortField::Created => "created",
            SortField::Updated => "updated",
        }
    }
}

impl FromStr for SortField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SortField::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown sort field {s:?}"))
    }
}

/// A sort order: a field and a direction. On the wire `updated` is
/// ascending and `-updated` descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    /// Column.
    pub field: SortField,
    /// True for descending.
    pub descending: bool,
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.descending {
            f.write_str("-")?;
        }
        f.write_str(self.field.as_str())
    }
}

impl FromStr for Sort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        Ok(Sort {
            field: name.parse()?,
            descending,
        })
    }
}

/// Query string of `GET /tickets`. List values are comma-separated on the wire.
///
/// Example: `?status=open,pending&priority=urgent&operator=3,none&sort=-updated&limit=100`.
/// `operator=none` selects unassigned tickets. `cursor` is the opaque
/// [`TicketPage::next_cursor`] of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketQuery {
    /// Status keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Macro-status (`in_progress` or `closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_status: Option<MacroStatus>,
    /// Priorities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Operator ids, or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Category names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Contact id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactId>,
    /// Case-insensitive substring of reference or title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Sort order (`-updated` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// Page size, 1..=[`PAGE_LIMIT_MAX`]; 100 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Opaque cursor from the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One page of `GET /tickets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketPage {
    /// Tickets of this page, in the requested order.
    pub items: Vec<Ticket>,
    /// Cursor of the next page; `None` on the last one.
    pub next_cursor: Option<String>,
    /// How many tickets match the filter, over all pages. It is counted when
    /// the first page is read; the following pages of the same listing
    /// (those read with a [`TicketPage::next_cursor`]) repeat that count
    /// instead of counting again, so it does not follow tickets added or
    /// removed while the listing is paged.
    pub total: u64,
}

/// Media type of [`TICKET_EXPORT_PATH`]'s answer: one JSON document per line.
pub const NDJSON_CONTENT_TYPE: &str = "application/x-ndjson";

/// Path of the ticket export (`GET`): every ticket, as one consistent snapshot.
///
/// The answer is newline-delimited JSON ([`NDJSON_CONTENT_TYPE`]), one
/// document per line, in this order and nothing else:
///
/// 1. an [`ExportHeader`]: the change-feed cursor the snapshot is consistent
///    with, and how many tickets follow;
/// 2. exactly [`ExportHeader::total`] lines, each a [`Ticket`] as
///    `GET /tickets/{id}` answers it, the most recently updated first (ties:
///    the highest id first), so a list sorted that way fills its first
///    screen from the first lines;
/// 3. an [`ExportTrailer`] repeating the count.
///
/// A stream that ends before its trailer was cut (the connection broke, the
/// server stopped) and must not be taken as the whole set. Every operator
/// may read it, as the ticket list. After loading it, a client follows
/// `GET /changes?since=<since>` (or `GET /events`) and misses nothing.
///
/// `?closed_since=<RFC 3339 time>` leaves out the tickets closed before that
/// time (the header counts what follows): a client that replicates only what
/// was closed recently asks the list for older ones when it needs them.
pub const TICKET_EXPORT_PATH: &str = "/tickets/export";

/// The longest line a server writes in a ticket export, in bytes. A ticket
/// is far smaller (its text is limited by [`TITLE_MAX_CHARS`] and
/// [`BODY_MAX_CHARS`]); readers refuse longer lines instead of buffering them.
pub const EXPORT_LINE_MAX_BYTES: usize = 4 * 1024 * 1024;

/// First line of the ticket export ([`TICKET_EXPORT_PATH`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportHeader {
    /// The change-feed `seq` the snapshot is consistent with: it holds every
    /// change up to and including this one and none after it. Continue with
    /// `GET /changes?since=<since>`.
    pub since: i64,
    /// How many ticket lines follow.
    pub total: u64,
}

/// Last line of the ticket export ([`TICKET_EXPORT_PATH`]): its presence
/// says the stream arrived whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportTrailer {
    /// How many ticket lines were sent; equal to [`ExportHeader::total`].
    pub count: u64,
}

/// An internal note on a ticket, visible to operators only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    /// Server id.
    pub id: i64,
    /// The ticket it belongs to.
    pub ticket_id: TicketId,
    /// Who wrote it.
    pub author: OperatorRef,
    /// Text.
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// Who made a change recorded in a ticket's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// An operator, through the API.
    Operator,
    /// A channel posting a customer's message.
    Channel,
    /// An automation rule, by its name.
    Automation,
    /// The server itself (e.g. the demo loader).
    System,
}

/// The actor of a [`HistoryEntry`]: its kind, the operator's id when an
/// operator acted, and a name (the operator's name at the time, the
/// channel's or the automation's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryActor {
    /// What acted.
    pub kind: ActorKind,
    /// The operator, when [`ActorKind::Operator`].
    pub operator_id: Option<OperatorId>,
    /// Display name.
    pub name: String,
}

/// What a [`HistoryEntry`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// The ticket was created; `new` holds its reference, title, status and priority.
    Created,
    /// One field changed, `old` → `new` (field names as in [`Ticket`]).
    FieldChanged,
    /// A note was added; `new` holds its id and body.
    NoteAdded,
    /// A chat message about the ticket was sent or received; `new` holds
    /// its id, direction and body.
    MessageAdded,
    /// The ticket was deleted; `old` holds its reference and title.
    Deleted,
    /// The ticket was e-mailed to people outside the helpdesk; `new` holds
    /// `to` (the addresses) and `note`.
    Escalated,
}

/// Body of `POST /tickets/{id}/escalations`: e-mail the ticket, its
/// customer's details and the last 100 messages to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEscalation {
    /// E-mail addresses, 1 to 20.
    pub to: Vec<String>,
    /// Why, for the people escalated to; at most 4000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An escalation as queued (`202 Accepted`): the e-mail is sent, and
/// retried, by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Escalation {
    /// The queued e-mail's id.
    pub id: i64,
    /// The ticket.
    pub ticket_id: TicketId,
    /// Who it goes to, as checked.
    pub to: Vec<String>,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
}

/// One change to a ticket, recorded in the transaction that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// Server id, increasing in the order changes were made.
    pub id: i64,
    /// The ticket.
    pub ticket_id: TicketId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: HistoryActor,
    /// What happened.
    pub kind: HistoryKind,
    /// The field, for [`HistoryKind::FieldChanged`].
    pub field: Option<String>,
    /// The value before.
    pub old: Option<serde_json::Value>,
    /// The value after.
    pub new: Option<serde_json::Value>,
}

/// One page of `GET /tickets/{id}/history?after=<cursor>&limit=<n>`, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPage {
    /// Entries of this page, oldest first.
    pub items: Vec<HistoryEntry>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /stats?from=&to=&category=&operator=`: the helpdesk in numbers.
///
/// What is open is counted now; what was opened, closed and answered is
/// counted within the period `[from, to)` (whole days, UTC). The category
/// and operator filters apply to every number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    /// First day of the period.
    pub from: NaiveDate,
    /// The day after the period's last.
    pub to: NaiveDate,
    /// Tickets in progress now.
    pub open: u64,
    /// Tickets in progress now, per status (in the order of the statuses).
    pub open_by_status: Vec<StatusCount>,
    /// Tickets in progress now, per priority, lowest first.
    pub open_by_priority: Vec<PriorityCount>,
    /// Tickets in progress now, per category, most first; `share` of [`Stats::open`].
    pub open_by_category: Vec<CategoryShare>,
    /// Tickets closed in the period, per category, with their mean time
    /// from opening to closing.
    pub time_to_close: Vec<CategoryTime>,
    /// Tickets opened in the period that an operator answered in the chat,
    /// and the mean time to that first answer.
    pub first_response: ResponseTime,
    /// Tickets opened and closed on each day of the period, oldest first.
    pub days: Vec<DayCount>,
}

/// Tickets in one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCount {
    /// Status key.
    pub status: String,
    /// Its label.
    pub label: String,
    /// How many.
    pub count: u64,
}

/// Tickets of one priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriorityCount {
    /// Priority.
    pub priority: Priority,
    /// How many.
    pub count: u64,
}

/// Tickets of one category, and their share of the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryShare {
    /// Category name; `None` for tickets without one.
    pub category: Option<String>,
    /// How many.
    pub count: u64,
    /// Share of all, 0 to 1.
    pub share: f64,
}

/// Tickets of one category closed in the period, and how long they took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryTime {
    /// Category name; `None` for tickets without one.
    pub category: Option<String>,
    /// How many were closed.
    pub closed: u64,
    /// Mean seconds from opening to closing.
    pub mean_seconds: f64,
}

/// How fast tickets got their first answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponseTime {
    /// Tickets opened in the period.
    pub opened: u64,
    /// Of them, those an operator answered.
    pub answered: u64,
    /// Mean seconds from opening to the first answer; `None` when none was answered.
    pub mean_seconds: Option<f64>,
}

/// One day of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayCount {
    /// The day (UTC).
    pub day: NaiveDate,
    /// Tickets opened that day.
    pub opened: u64,
    /// Tickets closed that day.
    pub closed: u64,
}

/// Body of `POST /tickets/{id}/notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewNote {
    /// Text; required, at most [`BODY_MAX_CHARS`].
    pub body: String,
}

/// Which way a chat message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer.
    Inbound,
    /// From an operator to the customer.
    Outbound,
}

/// A chat message between a contact and the operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    /// Server id; increasing in arrival order.
    pub id: i64,
    /// The contact of the conversation.
    pub contact_id: ContactId,
    /// The ticket the message was attached to, if any.
    pub ticket_id: Option<TicketId>,
    /// Inbound (customer) or outbound (operator).
    pub direction: Direction,
    /// The operator who sent an outbound message.
    pub operator: Option<OperatorRef>,
    /// Text.
    pub body: String,
    /// Channel it travelled on.
    pub channel: Channel,
    /// When it was sent or received.
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /contacts/{id}/messages` (send takes an `Idempotency-Key` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewMessage {
    /// Text; required, at most [`BODY_MAX_CHARS`].
    pub body: String,
    /// The ticket the reply is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketId>,
}

/// Body of `POST /channels/{channel}/inbound`: a customer message arriving.
///
/// The request carries the channel's own token (`deskterm channel add NAME`),
/// never an operator's; name, phone, e-mail and text follow the same limits
/// as contacts and messages (422 otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundMessage {
    /// Sender's name.
    pub name: String,
    /// Sender's phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Sender's e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Text.
    pub body: String,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// Monotonic sequence number; the feed cursor.
    pub seq: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What changed, with the full object.
    #[serde(flatten)]
    pub kind: ChangeKind,
}

/// What a change is about. Serialized as `{"kind": "...", "data": {...}}`.
// Changes are short-lived values read one at a time; boxing the ticket would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum ChangeKind {
    /// A ticket was created or modified (the full ticket after the change).
    TicketUpserted(Ticket),
    /// A ticket was deleted.
    TicketDeleted {
        /// Its id.
        id: TicketId,
    },
    /// A note was added.
    NoteAdded(Note),
    /// A chat message was sent or received.
    MessageAdded(ChatMessage),
    /// Statuses, categories or operators changed: refetch `GET /meta`.
    MetaChanged,
}

/// A page of `GET /changes?since=<seq>&limit=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangesPage {
    /// Changes with `seq > since`, oldest first.
    pub changes: Vec<Change>,
    /// Highest `seq` known to the server; pass it as `since` next time.
    pub latest_seq: i64,
    /// True when `since` is older than what the server keeps or unknown to it:
    /// the client must reload everything and continue from `latest_seq`.
    pub resync: bool,
}

/// SSE event name of a change; its `id:` is the `seq` and its data a [`Change`].
pub const SSE_EVENT_CHANGE: &str = "change";
/// SSE event name telling the client its cursor is unusable; data is `{"latest_seq": N}`.
pub const SSE_EVENT_RESYNC: &str = "resync";

/// Data of the [`SSE_EVENT_RESYNC`] event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resync {
    /// Where to continue after a full reload.
    pub latest_seq: i64,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type; `about:blank` when there is nothing more to say.
    #[serde(rename = "type", default = "about_blank")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Validation errors, by field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
    /// The current ticket, on a 412 precondition failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<Ticket>>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.title, self.status)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        for (field, message) in &self.errors {
            write!(f, "; {field}: {message}")?;
        }
        Ok(())
    }
}

/// Formats a ticket version as an entity tag (`"7"`).
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Reads a version out of an `ETag` / `If-Match` value (`"7"`, `W/"7"` or `7`).
pub fn parse_etag(value: &str) -> Option<i64> {
    let v = value.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    let v = v.trim_matches('"');
    v.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_without_a_new_customer_read_and_are_written_as_before() {
        // As an older client sends them, or an outbox keeps them.
        let ticket: NewTicket =
            serde_json::from_str(r#"{"title": "t", "contact_id": 3}"#).expect("a new ticket");
        assert_eq!((ticket.contact_id, ticket.new_contact.as_ref()), (3, None));
        let patch: TicketPatch = serde_json::from_str(r#"{"contact_id": 3}"#).expect("a patch");
        assert_eq!(patch.new_contact, None);
        for json in [
            serde_json::to_string(&ticket).expect("JSON"),
            serde_json::to_string(&patch).expect("JSON"),
        ] {
            assert!(!json.contains("new_contact"), "{json}");
        }
        // And one with a new customer round-trips whole.
        let with_new = TicketPatch {
            new_contact: Some(NewContact {
                name: "Eva".into(),
                phone: Some("+34 600".into()),
                email: None,
                channel: None,
            }),
            ..TicketPatch::default()
        };
        let json = serde_json::to_string(&with_new).expect("JSON");
        assert_eq!(
            serde_json::from_str::<TicketPatch>(&json).expect("back"),
            with_new
        );
    }

    #[test]
    fn sort_round_trips() {
        for field in SortField::ALL {
            for descending in [false, true] {
                let sort = Sort { field, descending };
                assert_eq!(sort.to_string().parse::<Sort>(), Ok(sort));
            }
        }
        assert!("-nope".parse::<Sort>().is_err());
    }

    #[test]
    fn patch_tells_null_from_absent() {
        let p: TicketPatch = serde_json::from_str(r#"{"operator_id":null}"#).unwrap();
        assert_eq!(p.operator_id, Some(None));
        assert_eq!(p.category, None);
        let p: TicketPatch = serde_json::from_str(r#"{"operator_id":4}"#).unwrap();
        assert_eq!(p.operator_id, Some(Some(4)));
        let back = serde_json::to_string(&TicketPatch {
            category: Some(None),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(back, r#"{"category":null}"#);
    }

    #[test]
    fn etags_parse() {
        assert_eq!(parse_etag(&etag(12)), Some(12));
        assert_eq!(parse_etag("W/\"3\""), Some(3));
        assert_eq!(parse_etag("\"x\""), None);
    }

    #[test]
    fn priorities_are_ordered() {
        assert!(Priority::Low < Priority::Normal);
        assert!(Priority::High < Priority::Urgent);
        assert_eq!("urgent".parse::<Priority>(), Ok(Priority::Urgent));
    }

    #[test]
    fn change_wire_shape() {
        let c = Change {
            seq: 5,
            at: DateTime::from_timestamp(0, 0).unwrap(),
            kind: ChangeKind::TicketDeleted { id: 9 },
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["kind"], "ticket_deleted");
        assert_eq!(v["data"]["id"], 9);
        let back: Change = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }
}
