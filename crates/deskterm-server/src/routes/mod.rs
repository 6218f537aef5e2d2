//! The HTTP API under `/api/v1`: one module per resource, all behind the
//! operator check (inbound messages behind the channel check), writes
//! checked against the role policy of [`crate::roles`], every error a
//! problem document.

mod changes;
mod contacts;
mod escalations;
mod events;
mod export;
mod history;
mod me;
mod messages;
mod meta;
mod notes;
mod stats;
mod tickets;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use deskterm_api::{BASE_PATH, REQUEST_BODY_MAX_BYTES};
use tokio::sync::watch;

use crate::auth::{require_channel, require_operator};
use crate::auth_limit::{AuthLimits, FailedAuth};
use crate::db::Db;
use crate::mail::Mailer;
use crate::problem::ApiError;
use crate::settings::Settings;

/// What every handler can reach.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    /// Turns `true` when the server stops; live streams end then.
    pub(crate) stopping: Arc<watch::Sender<bool>>,
    /// Failed sign-ins, per token and per address.
    pub(crate) failed_auth: Arc<FailedAuth>,
    /// What the configuration file sets.
    pub(crate) settings: Arc<Settings>,
    /// Wakes the mail task when an e-mail is queued.
    pub(crate) mailer: Mailer,
}

impl AppState {
    /// State for a server that is not stopping, with the default limits.
    pub(crate) fn new(db: Db) -> AppState {
        AppState::with_limits(db, AuthLimits::default())
    }

    /// State for a server that is not stopping, limiting failed sign-ins by `limits`.
    pub(crate) fn with_limits(db: Db, limits: AuthLimits) -> AppState {
        AppState::with_settings(db, limits, Settings::default())
    }

    /// State for a server that is not stopping, as the configuration file says.
    pub(crate) fn with_settings(db: Db, limits: AuthLimits, settings: Settings) -> AppState {
        AppState {
            db,
            stopping: Arc::new(watch::channel(false).0),
            failed_auth: Arc::new(FailedAuth::new(limits)),
            settings: Arc::new(settings),
            mailer: Mailer::default(),
        }
    }
}

/// Every route of the API, with its state.
pub(crate) fn build(state: AppState) -> Router {
    let api = Router::new()
        .route("/me", get(me::get).patch(me::patch))
        .route("/meta", get(meta::get))
        .route("/statuses", post(meta::add_status))
        .route("/tickets", get(tickets::list).post(tickets::create))
        .route(deskterm_api::TICKET_EXPORT_PATH, get(export::export))
        .route(
            "/tickets/{id}",
            get(tickets::get)
                .patch(tickets::patch)
                .delete(tickets::delete),
        )
        .route("/tickets/{id}/notes", get(notes::list).post(notes::add))
        .route("/tickets/{id}/history", get(history::page))
        .route("/tickets/{id}/escalations", post(escalations::add))
        .route("/contacts", get(contacts::search).post(contacts::create))
        .route("/contacts/{id}", get(contacts::get))
        .route("/contacts/{id}/tickets", get(contacts::tickets))
        .route(
            "/contacts/{id}/messages",
            get(messages::list).post(messages::send),
        )
        .route("/stats", get(stats::get))
        .route("/changes", get(changes::page))
        .route("/events", get(events::stream))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_operator,
        ))
        // Customers' messages come with their channel's token, never an operator's.
        .merge(
            Router::new()
                .route("/channels/{channel}/inbound", post(messages::inbound))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    require_channel,
                )),
        )
        // The API's description is public, as a client reads it before signing in.
        .route("/openapi.json", get(crate::openapi::serve))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest(BASE_PATH, api)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(REQUEST_BODY_MAX_BYTES))
        .layer(crate::access_log::layer())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such API path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this path does not take that method",
    )
}
