//! Running without a config: the reference server in this process, on a
//! loopback port, with its database in the data directory, demo data loaded
//! the first time, signed in as the demo operator.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use deskterm_server::{Db, RunningServer, private_files};
use serde::{Deserialize, Serialize};

use crate::config::{Remote, Transport};

/// The demo server's configuration (its automations) shipped in `assets/`.
pub const DEMO_SERVER: &str = include_str!("../assets/demo-server.toml");

/// The demo data set shipped in `assets/`.
pub const DEMO_DATA: &str = include_str!("../assets/demo.json");

/// File name of the embedded server's database in the data directory.
pub const DB_FILE: &str = "helpdesk.db";
/// File name of the demo operator's credentials in the data directory.
const TOKEN_FILE: &str = "demo-operator.json";

/// The embedded server and how to reach it.
pub struct Embedded {
    /// The running server.
    pub server: RunningServer,
    /// URL and token of the demo operator.
    pub remote: Remote,
}

#[derive(Serialize, Deserialize)]
struct Credentials {
    operator_id: i64,
    token: String,
}

/// Starts the embedded server from `data_dir`, with simulated customers
/// writing in when `customers` says so.
pub async fn start(
    data_dir: &Path,
    customers: Option<deskterm_server::Simulation>,
) -> anyhow::Result<Embedded> {
    // The data directory is deskterm's own: nobody else on the host may look in.
    let tightened = private_files::own_dir(data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory {}: {e}",
            data_dir.display()
        )
    })?;
    if let Some(t) = tightened {
        tracing::warn!("{t}");
    }
    let db_path = data_dir.join(DB_FILE);
    let db = Db::open(&db_path)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e:#}", db_path.display()))?;
    let token_path = data_dir.join(TOKEN_FILE);
    let mut credentials = if deskterm_server::is_empty(&db).await? {
        let data: deskterm_server::demo::DemoData = serde_json::from_str(DEMO_DATA)
            .map_err(|e| anyhow::anyhow!("the built-in demo data is broken: {e}"))?;
        let operator = deskterm_server::demo::load(&db, &data, chrono::Utc::now()).await?;
        tracing::info!("demo data loaded into {}", db_path.display());
        let c = Credentials {
            operator_id: operator.id,
            token: deskterm_server::issue_token(&db, operator.id).await?,
        };
        save(&token_path, &c)?;
        c
    } else {
        match read(&token_path) {
            Some(c) => c,
            None => renew(&db, &token_path, 1).await?,
        }
    };
    let options = deskterm_server::Options {
        simulate: customers,
        settings: deskterm_server::Settings::from_toml(DEMO_SERVER).map_err(|e| {
            anyhow::anyhow!("the built-in demo server configuration is broken: {e}")
        })?,
        ..deskterm_server::Options::default()
    };
    let server = deskterm_server::spawn_with(
        db.clone(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        options,
    )
    .await?;
    if !token_works(&server.url(), &credentials.token).await {
        credentials = renew(&db, &token_path, credentials.operator_id).await?;
    }
    Ok(Embedded {
        remote: Remote {
            url: server.url(),
            token: credentials.token,
            transport: Transport::default(),
        },
        server,
    })
}

async fn renew(db: &Db, path: &Path, operator_id: i64) -> anyhow::Result<Credentials> {
    let token = deskterm_server::issue_token(db, operator_id).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot sign in as the demo operator ({e:#}); move {} aside to start with fresh demo data",
            path.with_file_name(DB_FILE).display()
        )
    })?;
    let c = Credentials { operator_id, token };
    save(path, &c)?;
    Ok(c)
}

async fn token_works(url: &str, token: &str) -> bool {
    let Ok(client) = reqwest::Client::builder().no_proxy().build() else {
        return false;
    };
    client
        .get(format!("{url}{}/me", deskterm_api::BASE_PATH))
        .bearer_auth(token)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

fn read(path: &Path) -> Option<Credentials> {
    use std::io::Read;
    // An older file may still be open to other users: it signs in as an operator.
    let (mut file, tightened) =
        private_files::open(path, std::fs::OpenOptions::new().read(true)).ok()?;
    if let Some(t) = tightened {
        tracing::warn!("{t}");
    }
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

fn save(path: &Path, c: &Credentials) -> anyhow::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string(c)?;
    let tmp: PathBuf = path.with_extension("tmp");
    // The token signs in as an operator: only its owner may read it (a
    // leftover temporary file loses other users' access before it is written).
    let (mut file, _) = private_files::open(
        &tmp,
        std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true),
    )
    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}
