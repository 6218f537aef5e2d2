//! Saved views: a named query and sort from the config, switched with the
//! number keys or a picker; and the list's state (view, sort, query) kept
//! across restarts.

use std::path::Path;

use deskterm_api::Sort;
use serde::{Deserialize, Serialize};

use super::app::{App, Level};
use crate::config::ViewConfig;
use crate::query::lang::{self, Query};

/// A saved view, ready to use.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedView {
    /// Its name, as the header and the picker show it.
    pub name: String,
    /// Which tickets.
    pub query: Query,
    /// In which order.
    pub sort: Sort,
}

/// The views every operator starts with, when the config names none.
pub fn defaults() -> Vec<ViewConfig> {
    let view = |name: &str, query: &str, sort: &str| ViewConfig {
        name: name.into(),
        query: query.into(),
        sort: Some(sort.into()),
    };
    vec![
        view("Mine", "op:me -macro:closed", "-updated"),
        view("Unassigned", "op:none -macro:closed", "-priority"),
        view("SLA at risk", "sla:at_risk,breached", "-priority"),
        view("All open", "-macro:closed", "-updated"),
    ]
}

/// Parses the configured views; a view that does not parse is an error
/// naming it (the config is the operator's to fix).
pub fn from_config(views: &[ViewConfig]) -> Result<Vec<SavedView>, String> {
    let source = if views.is_empty() {
        defaults()
    } else {
        views.to_vec()
    };
    source
        .iter()
        .map(|v| {
            let query = lang::parse(&v.query).map_err(|e| {
                format!(
                    "view {:?}: query {:?}: {} (at column {})",
                    v.name,
                    v.query,
                    e.message,
                    e.span.start + 1
                )
            })?;
            let sort = match &v.sort {
                Some(s) => s
                    .parse::<Sort>()
                    .map_err(|e| format!("view {:?}: sort {s:?}: {e}", v.name))?,
                None => crate::query::DEFAULT_SORT,
            };
            Ok(SavedView {
                name: v.name.clone(),
                query,
                sort,
            })
        })
        .collect()
}

/// What the list looked like when the console was last left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListState {
    /// The view last switched to, if the list was still showing it.
    pub view: Option<String>,
    /// The query, as text.
    pub query: String,
    /// The sort, as `-updated`.
    pub sort: String,
}

/// Reads the saved list state; a missing or unreadable file is no state
/// (the reason goes to the log).
pub fn load_state(path: &Path) -> Option<ListState> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!("list state {} not read: {e}", path.display());
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(state) => Some(state),
        Err(e) => {
            tracing::warn!("list state {} not understood: {e}", path.display());
            None
        }
    }
}

/// Writes the list state next to the caches: a temporary file renamed over
/// the old one, readable by the operator alone.
pub fn save_state(path: &Path, state: &ListState) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(state).map_err(std::io::Error::other)?;
    let partial = path.with_extension("json.partial");
    let (mut file, _) = deskterm_server::private_files::open(
        &partial,
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
    )?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&partial, path)
}

impl App {
    /// The list's state, as it would be saved.
    pub fn list_state(&self) -> ListState {
        ListState {
            view: self.current_view.clone(),
            query: self.list.query.to_string(),
            sort: self.list.sort.to_string(),
        }
    }

    /// Puts the list back as it was left; parts that no longer make sense
    /// (a view since removed, a query the language no longer reads) are dropped.
    pub fn restore(&mut self, state: &ListState) {
        if let Ok(query) = lang::parse(&state.query) {
            self.list.query = query;
        }
        if let Ok(sort) = state.sort.parse::<Sort>() {
            self.list.sort = sort;
        }
        self.current_view = state
            .view
            .clone()
            .filter(|name| self.views.iter().any(|v| &v.name == name));
        self.refresh_view();
    }

    /// Switches to the view at `index` (0-based).
    pub(super) fn switch_view(&mut self, index: usize) {
        let Some(view) = self.views.get(index).cloned() else {
            self.say(Level::Error, format!("there is no view {}", index + 1));
            return;
        };
        self.list.query = view.query;
        self.list.sort = view.sort;
        self.list.query_error = None;
        self.current_view = Some(view.name.clone());
        self.refresh_view();
        self.say(Level::Info, format!("view: {}", view.name));
    }

    /// The name of the view on screen, while its query and sort are untouched.
    pub fn view_name(&self) -> Option<&str> {
        let name = self.current_view.as_deref()?;
        let view = self.views.iter().find(|v| v.name == name)?;
        (view.query == self.list.query && view.sort == self.list.sort).then_some(name)
    }
}
