//! The request log names method and path at `info`; the query string, which
//! holds customers' names and search terms, only at `debug`.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::Helpdesk;
use tracing_subscriber::EnvFilter;

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The server's log at `level` while it answers searches for a customer.
/// The test runtime has one thread, so a thread-local subscriber sees it all.
async fn log_of_searches(level: &str) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(level))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let h = Helpdesk::start().await;
    h.get_json("/contacts?q=Ana%20Secretname&limit=5").await;
    h.get_json("/tickets?q=ana.secretname@example.com").await;
    captured.text()
}

#[tokio::test]
async fn at_info_the_log_has_method_and_path_but_no_query() {
    let log = log_of_searches("info").await;
    assert!(
        log.contains("GET") && log.contains("/api/v1/contacts"),
        "{log}"
    );
    assert!(log.contains("/api/v1/tickets"), "{log}");
    assert!(!log.to_lowercase().contains("secretname"), "{log}");
}

#[tokio::test]
async fn at_debug_the_log_has_the_query_too() {
    let log = log_of_searches("debug").await;
    assert!(log.contains("Secretname"), "{log}");
}
