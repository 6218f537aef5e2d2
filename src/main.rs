//! `deskterm`: the operator console (default), the reference server
//! (`deskterm serve`) and its administration (`deskterm operator`, `deskterm
//! token`, `deskterm channel`), and large data sets to measure with (`deskterm
//! demo generate`).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Offset;
use clap::{Parser, Subcommand};
use deskterm::config::Config;
use deskterm::sync::cache::{self, Cache};
use deskterm::tui::app::App;
use deskterm::tui::keymap::Keymap;
use deskterm::{embedded, logging, sync, tui};

#[derive(Parser)]
#[command(
    name = "deskterm",
    version,
    about = "A keyboard-driven terminal client for helpdesk operators"
)]
struct Cli {
    /// Config file (default: $DESKTERM_CONFIG, then config.toml in the platform config dir).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (database of the embedded server, logs).
    #[arg(long, env = "DESKTERM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The embedded demo server: no simulated customers writing in.
    #[arg(long, env = "DESKTERM_NO_SIMULATED_CUSTOMERS")]
    no_simulated_customers: bool,
    /// The embedded demo server: seconds between two simulated customers'
    /// messages, on average.
    #[arg(long, value_name = "SECS", env = "DESKTERM_SIMULATE_EVERY",
          default_value_t = 5.0, value_parser = simulate_every)]
    simulate_every: f64,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the reference helpdesk server.
    Serve(ServeArgs),
    /// Manage the operators of a reference server database.
    Operator {
        #[command(subcommand)]
        command: OperatorCmd,
    },
    /// Manage the operators' bearer tokens of a reference server database.
    Token {
        #[command(subcommand)]
        command: TokenCmd,
    },
    /// Manage the channels customers' messages arrive on.
    Channel {
        #[command(subcommand)]
        command: ChannelCmd,
    },
    /// Show the local caches and the changes still waiting to be sent.
    Outbox,
    /// Data sets for trying and measuring deskterm.
    Demo {
        #[command(subcommand)]
        command: DemoCmd,
    },
    /// Manage the local caches.
    Cache {
        #[command(subcommand)]
        command: CacheCmd,
    },
}

#[derive(Subcommand)]
enum CacheCmd {
    /// Delete the local caches; one holding unsent changes is kept unless --discard-unsent.
    Clear {
        /// Also delete caches whose outbox still holds changes (they are lost).
        #[arg(long)]
        discard_unsent: bool,
    },
}

#[derive(Subcommand)]
enum OperatorCmd {
    /// Create an operator and print its bearer token (only the token, on stdout).
    Add {
        /// The server's database: SQLite file or `postgres://` URL.
        #[arg(long)]
        db: PathBuf,
        /// Display name.
        #[arg(long)]
        name: String,
        /// E-mail address.
        #[arg(long)]
        email: String,
        /// What the operator may do: `agent` works tickets; `admin` also manages
        /// custom statuses and any ticket. Agent by default, so a forgotten flag
        /// never hands out admin rights.
        #[arg(long, default_value_t = deskterm_server::Role::Agent)]
        role: deskterm_server::Role,
    },
    /// List the operators: id, name, e-mail, role, active or revoked, token count (never tokens).
    List {
        /// The server's database: SQLite file or `postgres://` URL.
        #[arg(long)]
        db: PathBuf,
    },
    /// Revoke an operator: every token of theirs stops working at once.
    Revoke {
        /// The server's database: SQLite file or `postgres://` URL.
        #[arg(long)]
        db: PathBuf,
        /// The operator's id or e-mail address.
        operator: String,
    },
}

#[derive(Subcommand)]
enum DemoCmd {
    /// Write a large, realistic helpdesk into a new server database and print
    /// the bearer token of its admin (only the token, on stdout).
    Generate {
        /// How many tickets.
        #[arg(long)]
        tickets: u64,
        /// SQLite database file of the server (must be new or empty).
        #[arg(long)]
        db: PathBuf,
        /// Seed of the random choices: the same seed gives the same helpdesk.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Replace every token of an operator with a new one, printed alone on stdout.
    Rotate {
        /// The server's database: SQLite file or `postgres://` URL.
        #[arg(long)]
        db: PathBuf,
        /// The operator's id or e-mail address.
        operator: String,
    },
}

#[derive(Subcommand)]
enum ChannelCmd {
    /// Add a channel and print its token (only the token, on stdout): the
    /// credential of `POST /api/v1/channels/NAME/inbound`.
    Add {
        /// The server's database: SQLite file or `postgres://` URL.
        #[arg(long)]
        db: PathBuf,
        /// Channel name, e.g. `whatsapp`.
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            let customers = (!cli.no_simulated_customers).then(|| deskterm_server::Simulation {
                every: std::time::Duration::from_secs_f64(cli.simulate_every),
                seed: None,
            });
            run_console(cli.config, cli.data_dir, customers)
        }
        Some(Cmd::Serve(args)) => run_server(args),
        Some(Cmd::Operator { command }) => manage_operators(command),
        Some(Cmd::Token {
            command: TokenCmd::Rotate { db, operator },
        }) => rotate_token(db, &operator),
        Some(Cmd::Channel {
            command: ChannelCmd::Add { db, name },
        }) => add_channel(db, &name),
        Some(Cmd::Outbox) => show_outbox(cli.config, cli.data_dir),
        Some(Cmd::Demo {
            command: DemoCmd::Generate { tickets, db, seed },
        }) => generate_demo(db, tickets, seed),
        Some(Cmd::Cache {
            command: CacheCmd::Clear { discard_unsent },
        }) => clear_caches(cli.config, cli.data_dir, discard_unsent),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("deskterm: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

/// Seconds between simulated messages: a number from 0.1 to 3600.
fn simulate_every(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if (0.1..=3600.0).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!("{secs} s is out of range (0.1 to 3600)"))
    }
}

fn run_console(
    config_path: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    customers: Option<deskterm_server::Simulation>,
) -> anyhow::Result<()> {
    let mut config = Config::load(config_path.as_deref())?;
    if data_dir.is_some() {
        config.data_dir = data_dir;
    }
    let keymap = Keymap::with_overrides(&config.keys)
        .map_err(|e| anyhow::anyhow!("key bindings in the config: {e}"))?;
    let remote = config.remote()?;
    let (kind, poll) = config.connector()?;
    let data_dir = config.data_dir()?;
    let notify = config.notify;
    let saved_views = deskterm::tui::views::from_config(&config.views)
        .map_err(|e| anyhow::anyhow!("saved views in the config: {e}"))?;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!("deskterm needs a terminal (run `deskterm serve` for the server alone)");
    }
    // The data directory is deskterm's own: its caches and log are nobody else's business.
    let data_dir_tightened = deskterm_server::private_files::own_dir(&data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory {}: {e}",
            data_dir.display()
        )
    })?;
    let log_file = config
        .log
        .file
        .clone()
        .unwrap_or_else(|| data_dir.join("deskterm.log"));
    logging::to_file(&log_file, &config.log.level)?;
    tracing::info!("deskterm {} starting", env!("CARGO_PKG_VERSION"));
    if let Some(t) = data_dir_tightened {
        tracing::warn!("{t}");
    }
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }

    runtime()?.block_on(async move {
        let (remote, server) = match remote {
            Some(remote) => (remote, None),
            None => {
                let e = embedded::start(&data_dir, customers).await?;
                tracing::info!("embedded server at {}", e.server.url());
                (e.remote, Some(e.server))
            }
        };
        let backend = deskterm::backend::connect(kind, &remote, poll)?;
        // The embedded server's port changes every run: its cache is keyed by its database instead.
        let identity = if server.is_some() {
            format!("embedded:{}", data_dir.join(embedded::DB_FILE).display())
        } else {
            remote.url.clone()
        };
        let cache_path = cache::file_for(&data_dir, &identity, &remote.token);
        let opened = Cache::open(&cache_path).await?;
        opened.cache.set_backend(&identity).await?;
        let options = sync::Options {
            closed_days: config.sync.closed_days,
        };
        let engine = sync::start_with(backend, opened.cache, options);
        let tz = chrono::Local::now().offset().fix();
        let now = chrono::Utc::now();
        let first_op = u64::try_from(now.timestamp_micros()).unwrap_or(1);
        let mut app = App::new(keymap, now, tz, first_op);
        // What is not replicated, the server searches.
        app.search_server = options.closed_days.is_some();
        app.notify = notify;
        app.views = saved_views;
        // The list as it was left: per backend and operator, like the cache.
        let state_file = cache_path.with_extension("list.json");
        if let Some(state) = deskterm::tui::views::load_state(&state_file) {
            app.restore(&state);
        }
        // The status bar holds one message: every start-up notice goes in it.
        let notices: Vec<String> = config
            .warnings
            .iter()
            .cloned()
            .chain(opened.notice)
            .collect();
        if !notices.is_empty() {
            app.update(deskterm::tui::app::Msg::Sync(
                deskterm::sync::SyncEvent::Notice(notices.join("; ")),
            ));
        }
        let ending = tui::run(app, engine, Some(state_file)).await;
        if let Some(server) = server {
            server.shutdown().await;
        }
        tracing::info!("deskterm stopping: {ending:?}");
        ending.map(drop)
    })
}

/// The options of `deskterm serve`.
#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// SQLite database file (created if missing), or a PostgreSQL database
    /// as `postgres://user:password@host/name` (shareable by several servers).
    #[arg(long, default_value = "./helpdesk.db")]
    db: PathBuf,
    /// The server's configuration file (TOML; see config.server.example.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Load the demo data set when the database is empty.
    #[arg(long)]
    demo: bool,
    /// Simulated customers write in every few seconds through a channel
    /// (the demo's WhatsApp and e-mail), opening and following up tickets.
    #[arg(long)]
    simulate_customers: bool,
    /// Seconds between two simulated customers' messages, on average.
    #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = simulate_every,
          requires = "simulate_customers")]
    simulate_every: f64,
    /// Log filter for standard error (search queries are logged only at debug).
    #[arg(long, default_value = "info")]
    log: String,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key). Without
    /// it, serve plain HTTP on loopback behind a TLS proxy.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Connections served at once; more wait until one closes (kept below
    /// the open-file limit).
    #[arg(long, value_name = "N", default_value_t = default_max_connections(),
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Seconds a client has to send a request's headers (also how long an
    /// idle kept-alive connection is kept).
    #[arg(long, value_name = "SECS", default_value_t = deskterm_server::Limits::default().header_read.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, value_name = "SECS", default_value_t = deskterm_server::Limits::default().body_read.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout: u64,
    /// Seconds a connection may move no byte either way before it is closed
    /// (above the 15 s keep-alive of live streams).
    #[arg(long, value_name = "SECS", default_value_t = deskterm_server::Limits::default().idle.as_secs(),
          value_parser = clap::value_parser!(u64).range(20..=86400))]
    idle_timeout: u64,
    /// Days the change feed is kept; a client away longer reloads everything.
    #[arg(long, value_name = "DAYS", default_value_t = deskterm_server::DEFAULT_FEED_RETENTION_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=36500))]
    feed_retention_days: u32,
}

fn default_max_connections() -> u32 {
    u32::try_from(deskterm_server::Limits::default().max_connections).unwrap_or(u32::MAX)
}

impl ServeArgs {
    /// The server options these flags ask for; reads the TLS files.
    fn options(&self) -> anyhow::Result<deskterm_server::Options> {
        use std::time::Duration;
        let limits = deskterm_server::Limits {
            header_read: Duration::from_secs(self.header_timeout),
            body_read: Duration::from_secs(self.body_timeout),
            idle: Duration::from_secs(self.idle_timeout),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        };
        let (fitted, files) = limits.fit_open_file_limit();
        if fitted.max_connections < limits.max_connections {
            eprintln!(
                "deskterm: serving at most {} connections at once, below the open-file limit of {}",
                fitted.max_connections,
                files.unwrap_or_default()
            );
        }
        let limits = fitted;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(deskterm_server::Tls::from_pem_files(cert, key)?),
            _ => None,
        };
        Ok(deskterm_server::Options {
            limits,
            retention: deskterm_server::Retention {
                feed: deskterm_server::days(self.feed_retention_days),
                ..deskterm_server::Retention::default()
            },
            tls,
            auth: deskterm_server::AuthLimits::default(),
            simulate: self
                .simulate_customers
                .then(|| deskterm_server::Simulation {
                    every: Duration::from_secs_f64(self.simulate_every),
                    seed: None,
                }),
            settings: match &self.config {
                Some(path) => deskterm_server::Settings::load(path)?,
                None => deskterm_server::Settings::default(),
            },
        })
    }
}

fn run_server(args: ServeArgs) -> anyhow::Result<()> {
    logging::to_stderr(&args.log)?;
    let options = args.options()?;
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let (listen, db_path) = (args.listen, args.db);
    let target = db_path.to_string_lossy().into_owned();
    deskterm_server::check_mail(&target, &options.settings)?;
    runtime()?.block_on(async move {
        let db = deskterm_server::Db::open_target(&target)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot open {}: {e:#}",
                    deskterm_server::describe_target(&target)
                )
            })?;
        if args.demo && deskterm_server::is_empty(&db).await? {
            let data: deskterm_server::demo::DemoData =
                serde_json::from_str(embedded::DEMO_DATA)
                    .map_err(|e| anyhow::anyhow!("the built-in demo data is broken: {e}"))?;
            let op = deskterm_server::demo::load(&db, &data, chrono::Utc::now()).await?;
            eprintln!(
                "demo data loaded; `deskterm operator add` creates a token (demo operator: {})",
                op.name
            );
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        println!("deskterm server listening on {scheme}://{addr}");
        deskterm_server::serve_with(db, listener, options, shutdown_signal()).await
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the server still stops when the process is killed.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn data_dir_of(config_path: Option<PathBuf>, data_dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match data_dir {
        Some(dir) => Ok(dir),
        None => Config::load(config_path.as_deref())?.data_dir(),
    }
}

fn show_outbox(config_path: Option<PathBuf>, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = data_dir_of(config_path, data_dir)?;
    let files = cache::files(&dir);
    if files.is_empty() {
        println!("no local cache in {}", dir.display());
        return Ok(());
    }
    runtime()?.block_on(async {
        for file in files {
            let opened = Cache::open(&file).await?;
            let summary = opened.cache.summary().await?;
            opened.cache.close().await;
            println!("{}", summary.path.display());
            println!("  backend: {}", summary.backend);
            println!(
                "  tickets: {}, feed position: {}",
                summary.tickets,
                summary
                    .since
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "none".into())
            );
            if summary.outbox.is_empty() {
                println!("  outbox: empty");
            }
            for entry in &summary.outbox {
                let state = if entry.conflict.is_some() {
                    " — waits for a decision on a conflict".to_owned()
                } else if let Some(e) = &entry.last_error {
                    format!(" — {} failed attempt(s), last: {e}", entry.attempts)
                } else {
                    String::new()
                };
                println!(
                    "  outbox #{}: {}{state}",
                    entry.op,
                    describe_write(&entry.write)
                );
            }
        }
        Ok(())
    })
}

fn describe_write(write: &deskterm::sync::Write) -> String {
    use deskterm::sync::Write;
    match write {
        Write::Patch { ticket, patch, .. } => {
            format!(
                "change ticket {ticket}: {}",
                serde_json::to_string(patch).unwrap_or_default()
            )
        }
        Write::Delete { ticket, .. } => format!("delete ticket {ticket}"),
        Write::Create { ticket } => format!("create ticket {:?}", ticket.title),
        Write::AddNote { ticket, body } => format!("note on ticket {ticket}: {body:?}"),
        Write::SendMessage { contact, body, .. } => {
            format!("message to contact {contact}: {body:?}")
        }
        Write::Escalate { ticket, to, .. } => {
            format!("escalate ticket {ticket} to {}", to.join(", "))
        }
        Write::SetProfile {
            receive_ticket_emails,
        } => format!(
            "turn ticket e-mails {}",
            if *receive_ticket_emails { "on" } else { "off" }
        ),
    }
}

fn clear_caches(
    config_path: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    discard_unsent: bool,
) -> anyhow::Result<()> {
    let dir = data_dir_of(config_path, data_dir)?;
    runtime()?.block_on(async {
        for file in cache::files(&dir) {
            let opened = Cache::open(&file).await?;
            let unsent = opened.cache.summary().await?.outbox.len();
            opened.cache.close().await;
            if unsent > 0 && !discard_unsent {
                println!(
                    "kept {}: {unsent} change(s) not sent yet (start deskterm to send them, or use --discard-unsent)",
                    file.display()
                );
                continue;
            }
            for suffix in ["", "-wal", "-shm"] {
                let mut path = file.as_os_str().to_owned();
                path.push(suffix);
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => anyhow::bail!("cannot delete {}: {e}", PathBuf::from(path).display()),
                }
            }
            println!("deleted {}", file.display());
        }
        Ok(())
    })
}

/// Runs `work` on the server database at `db_path`.
fn with_server_db<T>(
    db_path: &std::path::Path,
    work: impl AsyncFnOnce(&deskterm_server::Db) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    runtime()?.block_on(async move {
        let target = db_path.to_string_lossy();
        let db = deskterm_server::Db::open_target(&target)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot open {}: {e:#}",
                    deskterm_server::describe_target(&target)
                )
            })?;
        work(&db).await
    })
}

fn manage_operators(command: OperatorCmd) -> anyhow::Result<()> {
    match command {
        OperatorCmd::Add {
            db,
            name,
            email,
            role,
        } => add_operator(db, &name, &email, role),
        OperatorCmd::List { db } => list_operators(db),
        OperatorCmd::Revoke { db, operator } => revoke_operator(db, &operator),
    }
}

fn add_operator(
    db_path: PathBuf,
    name: &str,
    email: &str,
    role: deskterm_server::Role,
) -> anyhow::Result<()> {
    let token = with_server_db(&db_path, async |db| {
        let (_, token) = deskterm_server::add_operator_as(db, name, email, role).await?;
        Ok(token)
    })?;
    println!("{token}");
    Ok(())
}

fn list_operators(db_path: PathBuf) -> anyhow::Result<()> {
    let operators = with_server_db(&db_path, async |db| {
        deskterm_server::list_operators(db).await
    })?;
    println!("id\tname\temail\trole\tstate\ttokens");
    for o in operators {
        let state = if o.revoked { "revoked" } else { "active" };
        println!(
            "{}\t{}\t{}\t{}\t{state}\t{}",
            o.id,
            deskterm::sanitize::line(&o.name),
            deskterm::sanitize::line(&o.email),
            o.role,
            o.tokens
        );
    }
    Ok(())
}

fn revoke_operator(db_path: PathBuf, operator: &str) -> anyhow::Result<()> {
    let id = with_server_db(&db_path, async |db| {
        deskterm_server::revoke_operator(db, operator).await
    })?;
    eprintln!("operator {id} revoked: their tokens no longer work");
    Ok(())
}

fn rotate_token(db_path: PathBuf, operator: &str) -> anyhow::Result<()> {
    let token = with_server_db(&db_path, async |db| {
        deskterm_server::rotate_token(db, operator).await
    })?;
    println!("{token}");
    Ok(())
}

fn generate_demo(db_path: PathBuf, tickets: u64, seed: u64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let spec = deskterm_server::generate::Spec {
        tickets,
        seed,
        now: chrono::Utc::now(),
    };
    let done = with_server_db(&db_path, async |db| {
        deskterm_server::generate::generate(db, &spec).await
    })?;
    eprintln!(
        "{} tickets, {} contacts, {} operators, {} notes, {} messages in {:.1} s",
        done.tickets,
        done.contacts,
        done.operators,
        done.notes,
        done.messages,
        started.elapsed().as_secs_f64()
    );
    println!("{}", done.token);
    Ok(())
}

fn add_channel(db_path: PathBuf, name: &str) -> anyhow::Result<()> {
    let token = with_server_db(&db_path, async |db| {
        deskterm_server::add_channel(db, name).await
    })?;
    println!("{token}");
    Ok(())
}
