//! `GET /stats` on a large database, through HTTP, timed per request:
//!
//!     cargo bench --bench stats -- --db big.db [--reps 20]
//!
//! The database is opened (and migrated) in place: bench a copy. Each
//! shape is asked `reps` times after one warm-up; p50 and max are printed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> anyhow::Result<()> {
    let Some(db) = arg("--db").map(PathBuf::from) else {
        eprintln!("usage: cargo bench --bench stats -- --db big.db [--reps 20]");
        return Ok(());
    };
    let reps: usize = arg("--reps").and_then(|r| r.parse().ok()).unwrap_or(20);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let opened = Instant::now();
        let db = deskterm_server::Db::open(&db).await?;
        println!("opened (and migrated) in {:?}", opened.elapsed());
        let (_, token) = deskterm_server::add_operator(
            &db,
            "Stats Bench",
            &format!("bench{}@example.com", std::process::id()),
        )
        .await?;
        let server = deskterm_server::spawn(db, "127.0.0.1:0".parse()?).await?;
        let client = reqwest::Client::builder().no_proxy().build()?;
        let base = format!("{}/api/v1/stats", server.url());
        for (name, query) in [
            ("last 30 days", ""),
            ("last 365 days", "?from=2025-11-25"),
            ("one category, 90 days", "?category=Billing&from=2026-08-27"),
            ("one operator, 30 days", "?operator=1"),
        ] {
            let url = format!("{base}{query}");
            let mut times: Vec<Duration> = Vec::new();
            for i in 0..=reps {
                let started = Instant::now();
                let response = client.get(&url).bearer_auth(&token).send().await?;
                let status = response.status();
                let body = response.bytes().await?;
                let took = started.elapsed();
                anyhow::ensure!(
                    status.is_success(),
                    "{name}: {status} {}",
                    String::from_utf8_lossy(&body)
                );
                if i > 0 {
                    times.push(took);
                }
            }
            times.sort();
            println!(
                "{name:<24} p50 {:>8.1} ms   max {:>8.1} ms   ({} requests)",
                times[times.len() / 2].as_secs_f64() * 1e3,
                times[times.len() - 1].as_secs_f64() * 1e3,
                times.len()
            );
        }
        server.shutdown().await;
        anyhow::Ok(())
    })
}
