//! Shared pieces of the integration tests: a reference server with a small
//! helpdesk in a temporary directory, and sync-engine clients to drive.

#![allow(dead_code)]

pub mod fault_proxy;
pub mod pty;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use deskterm::backend::PollPolicy;
use deskterm::backend::native::NativeBackend;
use deskterm::sync::cache::Cache;
use deskterm::sync::{self, Command, OpId, SyncEvent, SyncHandle, Write};
use deskterm_api::{Ticket, TicketId};
use serde_json::{Value, json};

/// A reference server on a temporary database, that can be killed and restarted on the same port.
pub struct World {
    pub dir: tempfile::TempDir,
    pub db_path: PathBuf,
    pub addr: SocketAddr,
    pub token: String,
    server: Option<deskterm_server::RunningServer>,
}

/// A small helpdesk: `tickets` tickets over two contacts and two operators.
pub fn demo(tickets: usize) -> Value {
    let list: Vec<Value> = (0..tickets)
        .map(|i| {
            json!({
                "reference": null, "title": format!("Ticket {i}"), "description": "",
                "status": "open", "priority": "normal", "category": "Soporte", "tags": [],
                "important": false, "contact": i % 2, "operator": null, "channel": "web",
                "created_minutes_ago": 100 + i, "updated_minutes_ago": 50,
                "closed_minutes_ago": null, "sla_due_in_minutes": null, "notes": []
            })
        })
        .collect();
    json!({
        "operators": [
            {"name": "Ana Test", "email": "ana@example.com"},
            {"name": "Bruno Test", "email": "bruno@example.com"}
        ],
        "statuses": [],
        "contacts": [
            {"name": "Carla Cliente", "phone": "+34 600 000 001", "email": null, "channel": "whatsapp"},
            {"name": "Dario Cliente", "phone": null, "email": "dario@example.com", "channel": "email"}
        ],
        "tickets": list,
        "messages": []
    })
}

impl World {
    /// Starts a server with `tickets` tickets.
    pub async fn new(tickets: usize) -> World {
        World::with_data(demo(tickets)).await
    }

    /// Starts a server with this helpdesk (in the demo-data format).
    pub async fn with_data(data: Value) -> World {
        World::with_settings(data, deskterm_server::Settings::default()).await
    }

    /// Starts a server with this helpdesk, configured by `settings` (what
    /// `deskterm serve --config` reads).
    pub async fn with_settings(data: Value, settings: deskterm_server::Settings) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("helpdesk.db");
        let db = deskterm_server::Db::open(&db_path).await.expect("open db");
        let data: deskterm_server::demo::DemoData =
            serde_json::from_value(data).expect("demo data");
        let operator = deskterm_server::demo::load(&db, &data, chrono::Utc::now())
            .await
            .expect("load demo");
        let token = deskterm_server::issue_token(&db, operator.id)
            .await
            .expect("token");
        let options = deskterm_server::Options {
            settings,
            ..Default::default()
        };
        let server = deskterm_server::spawn_with(db, "127.0.0.1:0".parse().expect("addr"), options)
            .await
            .expect("spawn");
        World {
            addr: server.addr,
            dir,
            db_path,
            token,
            server: Some(server),
        }
    }

    /// Base URL of the server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The console in a pty, its data in `data_dir`, signed in to this
    /// server as the first operator.
    pub fn console(&self, data_dir: &std::path::Path) -> pty::Session {
        let url = self.url();
        let vars = [
            ("DESKTERM_SERVER_URL", url.as_str()),
            ("DESKTERM_TOKEN", self.token.as_str()),
        ];
        pty::Session::start(data_dir, &vars)
    }

    /// A second operator's token.
    pub async fn token_for_another_operator(&self) -> String {
        let db = deskterm_server::Db::open(&self.db_path)
            .await
            .expect("open db");
        deskterm_server::issue_token(&db, 2).await.expect("token")
    }

    /// Stops the server abruptly: requests under way are cut.
    pub async fn kill(&mut self) {
        if let Some(server) = self.server.take() {
            server.kill().await;
        }
    }

    /// Starts the server again on the same port and database.
    pub async fn restart(&mut self) {
        let db = deskterm_server::Db::open(&self.db_path)
            .await
            .expect("open db");
        let start = Instant::now();
        loop {
            match deskterm_server::spawn(db.clone(), self.addr).await {
                Ok(server) => {
                    self.server = Some(server);
                    return;
                }
                Err(e) if start.elapsed() < Duration::from_secs(10) => {
                    eprintln!("restart: {e:#}; trying again");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot restart the server: {e:#}"),
            }
        }
    }

    /// The API as the first operator.
    pub fn api(&self) -> Api {
        Api {
            url: self.url(),
            token: self.token.clone(),
        }
    }

    /// A GET on the API, as JSON.
    pub async fn get(&self, path: &str) -> Value {
        self.api().get(path).await
    }

    /// Changes a ticket's title, as another operator would.
    pub async fn set_title(&self, id: TicketId, version: i64, title: &str) -> Ticket {
        self.api().set_title(id, version, title).await
    }

    /// Every ticket on the server, by id.
    pub async fn tickets(&self) -> Vec<Ticket> {
        self.api().tickets().await
    }
}

/// The HTTP API of a server, with one operator's token.
pub struct Api {
    pub url: String,
    pub token: String,
}

impl Api {
    /// A GET on the API, as JSON.
    pub async fn get(&self, path: &str) -> Value {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .get(format!("{}/api/v1{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("JSON")
    }

    /// Changes a ticket's title, as another operator would.
    pub async fn set_title(&self, id: TicketId, version: i64, title: &str) -> Ticket {
        self.patch(id, version, &json!({ "title": title })).await
    }

    /// Applies a merge patch to a ticket at `version`.
    pub async fn patch(&self, id: TicketId, version: i64, patch: &Value) -> Ticket {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .patch(format!("{}/api/v1/tickets/{id}", self.url))
            .bearer_auth(&self.token)
            .header("If-Match", format!("\"{version}\""))
            .json(patch)
            .send()
            .await
            .expect("PATCH");
        assert!(r.status().is_success(), "PATCH: {}", r.status());
        r.json().await.expect("ticket")
    }

    /// Every ticket on the server, by id.
    pub async fn tickets(&self) -> Vec<Ticket> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/tickets?limit=1000&cursor={c}"),
                None => "/tickets?limit=1000".to_owned(),
            };
            let page = self.get(&path).await;
            let items: Vec<Ticket> =
                serde_json::from_value(page["items"].clone()).expect("tickets");
            all.extend(items);
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        all.sort_by_key(|t| t.id);
        all
    }
}

/// A sync engine with its own cache, as the console runs it.
pub struct Client {
    pub handle: SyncHandle,
    pub cache_path: PathBuf,
    /// Every event received so far.
    pub events: Vec<SyncEvent>,
    /// The server's tickets as this client knows them.
    pub known: std::collections::HashMap<TicketId, Ticket>,
    next_op: OpId,
    /// Tickets of a snapshot still arriving in batches.
    incoming: Option<Vec<Ticket>>,
}

impl Client {
    /// Starts an engine against `url` with `token`, caching in `cache_path`.
    pub async fn start(url: &str, token: &str, cache_path: PathBuf) -> Client {
        Client::start_with(url, token, cache_path, PollPolicy::default()).await
    }

    /// Starts an engine whose feed is followed as `poll` says.
    pub async fn start_with(
        url: &str,
        token: &str,
        cache_path: PathBuf,
        poll: PollPolicy,
    ) -> Client {
        let connector = NativeBackend::new(url, token).expect("backend");
        let opened = Cache::open(&cache_path).await.expect("cache");
        let handle = sync::start(deskterm::backend::backend(connector, poll), opened.cache);
        Client {
            handle,
            cache_path,
            events: Vec::new(),
            known: Default::default(),
            next_op: 1_000,
            incoming: None,
        }
    }

    fn take(&mut self, event: SyncEvent) {
        if std::env::var_os("DESKTERM_TEST_EVENTS").is_some() {
            eprintln!("{:?} {event:?}", std::time::SystemTime::now());
        }
        // A snapshot in batches is recorded as one, once complete.
        let event = match event {
            SyncEvent::SnapshotBegin { .. } => {
                self.incoming = Some(Vec::new());
                return;
            }
            SyncEvent::SnapshotBatch(batch) => {
                self.incoming.get_or_insert_default().extend(batch.tickets);
                return;
            }
            SyncEvent::SnapshotEnd => SyncEvent::Snapshot(self.incoming.take().unwrap_or_default()),
            SyncEvent::SnapshotFailed => {
                self.incoming = None;
                return;
            }
            other => other,
        };
        match &event {
            SyncEvent::Snapshot(tickets) => {
                self.known = tickets.iter().map(|t| (t.id, t.clone())).collect();
            }
            SyncEvent::TicketChanged(t) => {
                let newer = self.known.get(&t.id).is_none_or(|k| k.version <= t.version);
                if newer {
                    self.known.insert(t.id, t.clone());
                }
            }
            SyncEvent::TicketDeleted(id) => {
                self.known.remove(id);
            }
            _ => {}
        }
        self.events.push(event);
    }

    /// Receives events until `done` holds for the events so far.
    pub async fn until(
        &mut self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&[SyncEvent]) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !done(&self.events) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.handle.events.recv()).await {
                Ok(Some(event)) => self.take(event),
                Ok(None) => panic!("the engine stopped while waiting for {what}"),
                Err(_) => panic!(
                    "timed out waiting for {what}; last events: {:#?}",
                    &self.events[self.events.len().saturating_sub(8)..]
                ),
            }
        }
    }

    /// Takes whatever events are already queued.
    pub fn drain(&mut self) {
        while let Ok(event) = self.handle.events.try_recv() {
            self.take(event);
        }
    }

    /// Queues a write as the console would; returns its id.
    pub fn write(&mut self, write: Write) -> OpId {
        self.next_op += 1;
        let op = self.next_op;
        let base = write.ticket().and_then(|id| self.known.get(&id)).cloned();
        let base = match write {
            Write::Patch { .. } | Write::Delete { .. } => base,
            _ => None,
        };
        self.send(Command::Write { op, write, base });
        op
    }

    /// Sends a command.
    pub fn send(&self, command: Command) {
        self.handle.commands.send(command).expect("engine alive");
    }

    /// Stops the engine and waits for it.
    pub async fn stop(mut self) -> PathBuf {
        self.send(Command::Shutdown);
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(event) = self.handle.events.recv().await {
                if event == SyncEvent::Stopped {
                    break;
                }
            }
        })
        .await;
        self.cache_path
    }
}

/// Whether a write with this id has settled (landed or refused).
pub fn settled(events: &[SyncEvent], op: OpId) -> bool {
    events.iter().any(|e| match e {
        SyncEvent::WriteDone(o) => *o == op,
        SyncEvent::WriteFailed { op: o, .. } => *o == op,
        _ => false,
    })
}

/// Whether the first full view has arrived.
pub fn loaded(events: &[SyncEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, SyncEvent::Snapshot(t) if !t.is_empty()))
        && events.contains(&SyncEvent::Connection(sync::Connection::Connected))
}
