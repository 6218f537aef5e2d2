//! The generated helpdesk, served: the tickets are listed through the API
//! with the generated admin's token, and their spread looks like a helpdesk.

use std::collections::{BTreeMap, BTreeSet};

use deskterm_server::generate::{Spec, generate};
use deskterm_server::{Db, RunningServer};
use serde_json::Value;

const TICKETS: u64 = 2000;

struct Served {
    _dir: tempfile::TempDir,
    server: RunningServer,
    token: String,
    http: reqwest::Client,
}

impl Served {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}/api/v1{path}", self.server.url()))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("GET");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("JSON")
    }

    async fn total(&self, query: &str) -> u64 {
        self.get(&format!("/tickets?limit=1&{query}")).await["total"]
            .as_u64()
            .expect("total")
    }

    async fn all(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut path = "/tickets?limit=1000".to_owned();
        loop {
            let page = self.get(&path).await;
            all.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/tickets?limit=1000&cursor={c}"),
                None => return all,
            }
            assert!(all.len() <= 10 * TICKETS as usize, "paging does not end");
        }
    }
}

async fn served(seed: u64) -> Served {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(&dir.path().join("big.db")).await.expect("open db");
    let spec = Spec {
        tickets: TICKETS,
        seed,
        now: chrono::Utc::now(),
    };
    let done = generate(&db, &spec).await.expect("generate");
    assert_eq!(done.tickets, TICKETS);
    let server = deskterm_server::spawn(db, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("spawn");
    Served {
        _dir: dir,
        server,
        token: done.token,
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
    }
}

#[tokio::test]
async fn generated_tickets_are_served_with_a_helpdesk_spread() {
    let s = served(42).await;
    let me = s.get("/me").await;
    assert_eq!(me["role"], "admin", "{me}");

    let tickets = s.all().await;
    assert_eq!(tickets.len() as u64, TICKETS);
    assert_eq!(s.total("").await, TICKETS);

    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let mut categories = BTreeSet::new();
    let mut operators = BTreeSet::new();
    let mut contacts = BTreeSet::new();
    let (mut unassigned, mut important, mut with_sla) = (0, 0, 0);
    for t in &tickets {
        *statuses
            .entry(t["status"].as_str().expect("status").to_owned())
            .or_default() += 1;
        if let Some(c) = t["category"].as_str() {
            categories.insert(c.to_owned());
        }
        match t["operator"]["id"].as_i64() {
            Some(id) => {
                operators.insert(id);
            }
            None => unassigned += 1,
        }
        contacts.insert(t["contact"]["id"].as_i64().expect("contact"));
        if t["important"] == true {
            important += 1;
        }
        if !t["sla_due_at"].is_null() {
            with_sla += 1;
        }
    }
    // Every built-in status is in use, and most tickets are done.
    for status in ["new", "open", "pending", "resolved", "closed"] {
        assert!(
            statuses.get(status).copied().unwrap_or(0) > 0,
            "{statuses:?}"
        );
    }
    let done = statuses["resolved"] + statuses["closed"];
    assert!(done > TICKETS * 8 / 10, "{statuses:?}");
    assert_eq!(
        with_sla,
        TICKETS - done,
        "tickets in progress, and only they, have an SLA"
    );
    assert_eq!(
        s.total("macro_status=in_progress").await,
        TICKETS - done,
        "the server's macro-status filter agrees"
    );

    assert!(categories.len() >= 10, "{categories:?}");
    assert!(operators.len() >= 20, "{} operators", operators.len());
    assert!(unassigned > 0 && unassigned < TICKETS / 4, "{unassigned}");
    assert!(
        important > TICKETS / 100 && important < TICKETS / 10,
        "{important}"
    );
    assert!(
        contacts.len() as u64 > TICKETS / 10,
        "{} contacts",
        contacts.len()
    );

    let meta = s.get("/meta").await;
    assert_eq!(meta["categories"].as_array().expect("categories").len(), 12);
    assert_eq!(meta["operators"].as_array().expect("operators").len(), 25);

    // The search the benchmarks type finds some tickets, not all.
    let lote = s.total("q=lote").await;
    assert!(lote > TICKETS / 20 && lote < TICKETS / 2, "{lote}");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_tickets() {
    let titles = |tickets: Vec<Value>| -> BTreeSet<(String, String)> {
        tickets
            .iter()
            .map(|t| {
                (
                    t["reference"].as_str().unwrap_or_default().to_owned(),
                    t["title"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let (a, b, c) = (served(7).await, served(7).await, served(8).await);
    let (a, b, c) = (
        titles(a.all().await),
        titles(b.all().await),
        titles(c.all().await),
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn a_database_in_use_is_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(&dir.path().join("used.db"))
        .await
        .expect("open db");
    deskterm_server::add_operator(&db, "Ana", "ana@example.com")
        .await
        .expect("operator");
    let spec = Spec {
        tickets: 10,
        seed: 1,
        now: chrono::Utc::now(),
    };
    let err = generate(&db, &spec).await.expect_err("refused");
    assert!(err.to_string().contains("not empty"), "{err:#}");
}
