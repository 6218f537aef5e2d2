//! A reference server on a temporary database, and small HTTP helpers.

#![allow(dead_code)]

pub mod certs;
pub mod sse;

use deskterm_api::{OperatorRef, PROBLEM_CONTENT_TYPE};
use deskterm_server::{Db, RunningServer};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

/// With `DESKTERM_TEST_POSTGRES` set (the URL of a PostgreSQL server's
/// `postgres` database, as `scripts/postgres.sh start` prints it), a new
/// empty database on that server for one test; else `None` (SQLite).
pub async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let admin = std::env::var("DESKTERM_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())?;
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to DESKTERM_TEST_POSTGRES");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create the test database");
    let (base, query) = admin.split_once('?').unwrap_or((&admin, ""));
    let (server, _) = base.rsplit_once('/').expect("a database in the URL");
    Some(if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    })
}

/// A new empty database for a test, and its URL: on the PostgreSQL server
/// of `DESKTERM_TEST_POSTGRES` when set, else an SQLite file under `dir`.
pub async fn open_database(dir: &std::path::Path) -> (Db, String) {
    match postgres_database().await {
        Some(url) => (Db::open_postgres(&url).await.expect("open db"), url),
        None => {
            let path = dir.join("nested").join("helpdesk.db");
            let db = Db::open(&path).await.expect("open db");
            (db, format!("sqlite://{}", path.display()))
        }
    }
}

/// A running server with one operator signed in.
pub struct Helpdesk {
    pub dir: tempfile::TempDir,
    pub db: Db,
    /// The database's URL (`sqlite://…` or `postgres://…`), for tests that read it directly.
    pub db_url: String,
    pub server: Option<RunningServer>,
    pub operator: OperatorRef,
    pub token: String,
    pub http: reqwest::Client,
}

impl Helpdesk {
    /// A fresh helpdesk with the admin "Ana Test".
    pub async fn start() -> Helpdesk {
        Helpdesk::start_with_limits(deskterm_server::AuthLimits::default()).await
    }

    /// A fresh helpdesk with the admin "Ana Test", limiting failed sign-ins by `limits`.
    pub async fn start_with_limits(limits: deskterm_server::AuthLimits) -> Helpdesk {
        Helpdesk::start_with_options(deskterm_server::Options {
            auth: limits,
            ..Default::default()
        })
        .await
    }

    /// A fresh helpdesk with the admin "Ana Test", configured by `toml`
    /// (the text of a `deskterm serve --config` file).
    pub async fn start_configured(toml: &str) -> Helpdesk {
        let settings =
            deskterm_server::Settings::from_toml(toml).expect("the test's configuration");
        Helpdesk::start_with_options(deskterm_server::Options {
            settings,
            ..Default::default()
        })
        .await
    }

    /// A fresh helpdesk with the admin "Ana Test", served as `options` say.
    pub async fn start_with_options(mut options: deskterm_server::Options) -> Helpdesk {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, db_url) = open_database(dir.path()).await;
        if db.path().is_none() {
            // A PostgreSQL database has no directory for the default maildir.
            let mail = &mut options.settings.mail;
            if mail.smtp.is_none() && mail.maildir.is_none() {
                mail.maildir = Some(dir.path().join("mail"));
            }
        }
        let (operator, token) = deskterm_server::add_operator_as(
            &db,
            "Ana Test",
            "ana@example.com",
            deskterm_server::Role::Admin,
        )
        .await
        .expect("operator");
        let server =
            deskterm_server::spawn_with(db.clone(), "127.0.0.1:0".parse().expect("addr"), options)
                .await
                .expect("spawn");
        Helpdesk {
            dir,
            db,
            db_url,
            server: Some(server),
            operator,
            token,
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
        }
    }

    /// `options` as this helpdesk's server is given them: with a
    /// PostgreSQL database, a maildir is named (it has no directory of its own).
    pub fn options(&self, mut options: deskterm_server::Options) -> deskterm_server::Options {
        let mail = &mut options.settings.mail;
        if self.db.path().is_none() && mail.smtp.is_none() && mail.maildir.is_none() {
            mail.maildir = Some(self.dir.path().join("mail"));
        }
        options
    }

    /// A connection pool to the server's database, to read it directly.
    /// Queries number their parameters (`$1`), which both databases read.
    pub async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.db_url)
            .await
            .expect("open the server's database")
    }

    pub fn base(&self) -> String {
        self.server.as_ref().expect("server running").url()
    }

    /// The full URL of an API path.
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base())
    }

    /// A request with the operator's token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    /// A request to `path` signed as that path needs: a channel's inbound
    /// path with the channel's token, anything else with the operator's.
    pub async fn request_for(&self, method: Method, path: &str) -> RequestBuilder {
        let channel = path
            .strip_prefix("/channels/")
            .and_then(|rest| rest.strip_suffix("/inbound"));
        match channel {
            Some(channel) => {
                let token = self.channel_token(channel).await;
                self.http.request(method, self.url(path)).bearer_auth(token)
            }
            None => self.request(method, path),
        }
    }

    /// A customer's message posted to `/channels/{channel}/inbound` with the
    /// channel's token (the channel is added the first time).
    pub async fn inbound(&self, channel: &str, body: &Value) -> Response {
        let token = self.channel_token(channel).await;
        self.http
            .post(self.url(&format!("/channels/{channel}/inbound")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST inbound")
    }

    /// The token of `channel`, added when new (kept in the temp dir, by name).
    pub async fn channel_token(&self, channel: &str) -> String {
        let file = self.dir.path().join(format!("channel-{channel}.token"));
        if let Ok(token) = std::fs::read_to_string(&file) {
            return token;
        }
        let token = deskterm_server::add_channel(&self.db, channel)
            .await
            .expect("channel");
        std::fs::write(&file, &token).expect("keep channel token");
        token
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("GET")
    }

    /// A GET that must answer 200 with JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.expect("JSON")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// A PATCH with `If-Match: "<version>"` when given.
    pub async fn patch(&self, path: &str, version: Option<i64>, body: &Value) -> Response {
        let mut req = self.request(Method::PATCH, path).json(body);
        if let Some(v) = version {
            req = req.header("If-Match", deskterm_api::etag(v));
        }
        req.send().await.expect("PATCH")
    }

    pub async fn delete(&self, path: &str, version: Option<i64>) -> Response {
        let mut req = self.request(Method::DELETE, path);
        if let Some(v) = version {
            req = req.header("If-Match", deskterm_api::etag(v));
        }
        req.send().await.expect("DELETE")
    }

    /// Creates a contact and returns its id.
    pub async fn contact(&self, name: &str, phone: Option<&str>, email: Option<&str>) -> i64 {
        let r = self
            .post(
                "/contacts",
                &json!({"name": name, "phone": phone, "email": email, "channel": "whatsapp"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let c: Value = r.json().await.expect("contact");
        c["id"].as_i64().expect("contact id")
    }

    /// Creates a ticket that must succeed; returns it.
    pub async fn ticket(&self, body: Value) -> Value {
        let r = self.post("/tickets", &body).await;
        let status = r.status();
        let text = r.text().await.expect("body");
        assert_eq!(status, StatusCode::CREATED, "create {body}: {text}");
        serde_json::from_str(&text).expect("ticket")
    }

    /// How many tickets the server holds.
    pub async fn ticket_count(&self) -> u64 {
        self.get_json("/tickets?limit=1").await["total"]
            .as_u64()
            .expect("total")
    }

    /// The newest change's seq.
    pub async fn latest_seq(&self) -> i64 {
        self.get_json("/changes?limit=1").await["latest_seq"]
            .as_i64()
            .expect("latest_seq")
    }

    /// Every ticket, in the order of `sort`, paged by `page` (following cursors).
    pub async fn all_tickets(&self, sort: &str, page: u32) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/tickets?sort={sort}&limit={page}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let body = self.get_json(&path).await;
            all.extend(body["items"].as_array().expect("items").iter().cloned());
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return all,
            }
            assert!(all.len() < 100_000, "paging does not end");
        }
    }
}

/// Asserts a problem document with `status`; returns it.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, PROBLEM_CONTENT_TYPE);
    let body: Value = response.json().await.expect("problem JSON");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string(), "{body}");
    body
}
