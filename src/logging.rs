//! Logs go to a file, never to the terminal the interface draws on.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Sends `tracing` output to `file` (appending), filtered by `level`.
pub fn to_file(file: &Path, level: &str) -> anyhow::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the log directory {}: {e}", dir.display())
        })?;
    }
    let writer = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|e| anyhow::anyhow!("cannot open the log file {}: {e}", file.display()))?;
    let filter = EnvFilter::try_new(level)
        .map_err(|e| anyhow::anyhow!("the log level {level:?} is not valid: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(writer))
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}

/// Sends `tracing` output to standard error (for `deskterm serve`, which has no screen to protect).
pub fn to_stderr(level: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(level)
        .map_err(|e| anyhow::anyhow!("the log level {level:?} is not valid: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))
}
