//! The connection cap: a slot per connection served. At the cap the oldest
//! connection whose client never sent a byte (a half-open or silent one) is
//! closed to make room for a new one; with none such, the server stops
//! accepting until a slot frees, and the kernel's backlog holds the rest.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::activity::Activity;

/// How often the log may say that the cap was reached.
const FULL_WARNING_EVERY: Duration = Duration::from_secs(60);

/// The slots of a server's connections.
pub(crate) struct Cap {
    max: usize,
    slots: Arc<Semaphore>,
    /// Connections served, oldest first (some may have ended).
    open: VecDeque<Activity>,
    warned: Option<Instant>,
}

impl Cap {
    pub(crate) fn new(max: usize) -> Cap {
        let max = max.max(1);
        Cap {
            max,
            slots: Arc::new(Semaphore::new(max)),
            open: VecDeque::new(),
            warned: None,
        }
    }

    /// A free slot, if there is one.
    pub(crate) fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Waits for a free slot (`None` only if the cap were torn down).
    pub(crate) async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }

    /// Whether a silent connection could be closed to make room.
    pub(crate) fn can_make_room(&mut self) -> bool {
        self.open.retain(|a| !a.ended());
        self.open.iter().any(Activity::silent)
    }

    /// Closes the oldest silent connection, if any; its slot frees when it is gone.
    pub(crate) fn make_room(&mut self) {
        if let Some(at) = self.open.iter().position(Activity::silent)
            && let Some(silent) = self.open.remove(at)
        {
            tracing::debug!("closing a connection that sent nothing, to make room");
            silent.evict();
        }
    }

    /// Says (at most once a minute) that the cap is reached.
    pub(crate) fn warn_full(&mut self) {
        if self
            .warned
            .is_none_or(|at| at.elapsed() >= FULL_WARNING_EVERY)
        {
            self.warned = Some(Instant::now());
            tracing::warn!(
                "{} connections open, the most allowed; new ones wait until one closes",
                self.max
            );
        }
    }

    /// The activity record of a new connection, watched for making room.
    pub(crate) fn track(&mut self) -> Activity {
        let activity = Activity::new();
        self.open.push_back(activity.clone());
        if self.open.len() > 2 * self.max {
            self.open.retain(|a| !a.ended());
        }
        activity
    }
}
