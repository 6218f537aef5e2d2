//! Reading and writing the helpdesk's records. Functions take any SQLite
//! executor, so the same code runs on the pool and inside a write transaction.

pub(crate) mod categories;
pub(crate) mod contacts;
pub(crate) mod history;
pub(crate) mod idempotency;
pub(crate) mod mail;
pub(crate) mod messages;
pub(crate) mod notes;
pub(crate) mod operators;
pub(crate) mod stats;
pub(crate) mod statuses;
pub(crate) mod tickets;
