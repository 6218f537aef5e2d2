//! deskterm: a keyboard-driven terminal client for helpdesk operators.
//!
//! The binary's entry point is `main.rs`; this library holds the client so
//! that tests and benchmarks can drive it.

// Commands, events and messages are short-lived values passed one at a time;
// boxing their larger variants would only add noise.
#![allow(clippy::large_enum_variant)]

pub mod backend;
pub mod config;
pub mod embedded;
pub mod logging;
pub mod query;
pub mod sanitize;
pub mod store;
pub mod sync;
pub mod tui;
