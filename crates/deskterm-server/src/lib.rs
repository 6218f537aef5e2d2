//! The reference helpdesk backend of deskterm: the v1 HTTP API of
//! [`deskterm_api`] served by axum over a SQLite database.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let db = deskterm_server::Db::open(std::path::Path::new("helpdesk.db")).await?;
//! let (_operator, token) = deskterm_server::add_operator(&db, "Ana", "ana@example.com").await?;
//! let server = deskterm_server::spawn(db, "127.0.0.1:0".parse()?).await?;
//! tracing::info!("serving on {} (token {} chars)", server.url(), token.len());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod access_log;
mod activity;
mod admin;
mod auth;
mod auth_limit;
mod automations;
mod cap;
mod db;
pub mod demo;
mod editing;
mod extract;
mod feed;
pub mod generate;
mod limits;
mod listing;
mod mail;
mod openapi;
mod pending;
pub mod private_files;
mod problem;
mod retention;
mod roles;
mod routes;
mod rules;
mod server;
mod settings;
mod simulate;
mod sla;
mod sql;
mod store;
mod text;
mod time;
mod tls;

pub use admin::{OperatorSummary, add_channel, list_operators, revoke_operator, rotate_token};
pub use auth::{add_operator, add_operator_as, issue_token};
pub use auth_limit::AuthLimits;
pub use automations::{Automation, Trigger};
pub use db::{Db, describe_target, is_empty, is_postgres_url};
pub use deskterm_api::Role;
pub use limits::Limits;
pub use mail::{MailSettings, Security, SmtpSettings};
pub use retention::{DEFAULT_FEED_RETENTION_DAYS, Retention, days};
pub use server::{Options, RunningServer, check_mail, serve, serve_with, spawn, spawn_with};
pub use settings::Settings;
pub use simulate::Simulation;
pub use sla::{SlaSettings, Span, Targets, parse_span};
pub use sql::Dialect;
pub use tls::Tls;

/// Every route of the API under `/api/v1`, with `db` as its state. Live
/// streams of this router end only when their clients leave; [`spawn`] and
/// [`serve`] also end them on shutdown.
pub fn router(db: Db) -> axum::Router {
    routes::build(routes::AppState::new(db))
}
