//! The client's tickets: one owner, compact rows, views kept in order.

pub mod row;

pub use row::{Interner, Row, Sym, fold};
