//! How much a client may hold of the server: how long it may take to send a
//! request, how long a connection may sit still, and how many connections
//! are served at once. Without them a client that never finishes a request
//! holds its connection for minutes, and enough of them exhaust the file
//! descriptors so real requests time out.

use std::time::Duration;

/// The limits a server enforces on its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time for a request's headers to arrive, counted from when the
    /// connection is ready for a request; so it is also how long a kept-alive
    /// connection may wait idle for its next request.
    pub header_read: Duration,
    /// Time for a request's whole body to arrive once its handler reads it;
    /// past it the answer is 408 and the connection is closed.
    pub body_read: Duration,
    /// A connection on which no byte moves either way for this long is
    /// closed: a client that stops reading its answer, or stops sending a
    /// body nobody reads. Keep it above the 15 s keep-alive of live streams.
    pub idle: Duration,
    /// Connections served at once. At the cap the oldest connection whose
    /// client has not sent a byte yet is closed to make room; when every
    /// client has, the server stops accepting until one closes, and new
    /// ones wait in the kernel's backlog meanwhile.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
            idle: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// File descriptors kept for everything but client connections: the
/// listener, the database and its journal, logs, standard streams.
const RESERVED_FILES: u64 = 64;

impl Limits {
    /// Raises this process's soft limit of open files to its hard limit and
    /// lowers `max_connections` below it, so the cap is reached before the
    /// process runs out of descriptors. Returns the adjusted limits and the
    /// open-file limit now in force (`None` if it cannot be read).
    pub fn fit_open_file_limit(mut self) -> (Limits, Option<u64>) {
        let files = raise_open_file_limit();
        if let Some(files) = files {
            let room = usize::try_from(files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
            self.max_connections = self.max_connections.min(room.max(1));
        }
        (self, files)
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one; the limit now in force.
fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        tracing::warn!(
            "cannot read the open-file limit: {}",
            std::io::Error::last_os_error()
        );
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        } else {
            tracing::warn!(
                "cannot raise the open-file limit from {} to {}: {}",
                limit.rlim_cur,
                limit.rlim_max,
                std::io::Error::last_os_error()
            );
        }
    }
    Some(limit.rlim_cur)
}

/// The body read limit of a request, put in its extensions by the server
/// for the body extractor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyReadLimit(pub(crate) Duration);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_stays_below_the_open_file_limit() {
        let (limits, files) = Limits {
            max_connections: usize::MAX,
            ..Limits::default()
        }
        .fit_open_file_limit();
        let files = files.expect("the open-file limit is readable here");
        assert!((limits.max_connections as u64) < files);
        let (limits, _) = Limits {
            max_connections: 3,
            ..Limits::default()
        }
        .fit_open_file_limit();
        assert_eq!(limits.max_connections, 3, "a lower cap is kept");
    }
}
