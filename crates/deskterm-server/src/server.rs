//! Serving the API on a TCP listener, and stopping: gracefully (requests
//! under way finish, live streams end) or at once (every connection cut).
//! Every connection is held to the server's [`Limits`], and the server
//! prunes what its [`Retention`] lets go.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::activity::{Activity, Watched};
use crate::auth_limit::AuthLimits;
use crate::cap::Cap;
use crate::db::Db;
use crate::limits::{BodyReadLimit, Limits};
use crate::mail::Transport;
use crate::retention::{self, Retention};
use crate::routes::{self, AppState};
use crate::settings::Settings;
use crate::simulate::{self, Simulation};
use crate::tls::Tls;

/// How a server runs: the limits it holds clients to, what it keeps, and
/// whether it speaks HTTPS.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Timeouts and the connection cap.
    pub limits: Limits,
    /// How long the change feed and idempotency answers are kept.
    pub retention: Retention,
    /// Serve HTTPS with this identity instead of plain HTTP.
    pub tls: Option<Tls>,
    /// How many failed sign-ins are tolerated before 429.
    pub auth: AuthLimits,
    /// What the configuration file sets.
    pub settings: Settings,
    /// Simulated customers writing in every few seconds (the demo).
    pub simulate: Option<Simulation>,
}

/// How long a graceful stop waits for requests under way before cutting them.
const GRACE: Duration = Duration::from_secs(5);

/// How the server should be running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Running,
    /// Stop accepting, let requests under way finish, end live streams.
    Graceful,
    /// Cut every connection now.
    Kill,
}

/// A server started by [`spawn`], serving in a background task until
/// [`RunningServer::shutdown`] or [`RunningServer::kill`]. Dropping it kills it.
#[derive(Debug)]
pub struct RunningServer {
    /// The address it listens on (with the real port when 0 was asked for).
    pub addr: SocketAddr,
    scheme: &'static str,
    control: watch::Sender<Stop>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Its base URL, e.g. `http://127.0.0.1:41234` or `https://…` (loopback
    /// when listening on every address).
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!(
            "{}://{}",
            self.scheme,
            SocketAddr::new(ip, self.addr.port())
        )
    }

    /// Stops gracefully: no new connections, requests under way finish, live
    /// streams end; returns once the server is down.
    pub async fn shutdown(mut self) {
        self.stop(Stop::Graceful).await;
    }

    /// Stops at once, cutting requests under way (as a crash would); returns
    /// once the port is free.
    pub async fn kill(mut self) {
        self.stop(Stop::Kill).await;
    }

    async fn stop(&mut self, how: Stop) {
        self.control.send_replace(how);
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!("the server task failed: {e}");
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.control.send_replace(Stop::Kill);
        }
    }
}

/// Binds `listen` (port 0 picks a free one) and serves the API on it in a
/// background task, with the default [`Options`].
pub async fn spawn(db: Db, listen: SocketAddr) -> anyhow::Result<RunningServer> {
    spawn_with(db, listen, Options::default()).await
}

/// Binds `listen` (port 0 picks a free one) and serves the API on it in a
/// background task, as `options` say.
pub async fn spawn_with(
    db: Db,
    listen: SocketAddr,
    options: Options,
) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let scheme = scheme(&options);
    let transport = mail_transport(&db, &options)?;
    retention::prune_now(&db, &options.retention).await;
    let (control, stop) = watch::channel(Stop::Running);
    let task = tokio::spawn(run(db, listener, stop, options, transport));
    tracing::info!("serving the helpdesk API on {scheme}://{addr}");
    Ok(RunningServer {
        addr,
        scheme,
        control,
        task: Some(task),
    })
}

/// Serves the API on `listener` until `shutdown` completes, then stops
/// gracefully; with the default [`Options`].
pub async fn serve(
    db: Db,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(db, listener, Options::default(), shutdown).await
}

/// Serves the API on `listener` as `options` say until `shutdown`
/// completes, then stops gracefully.
pub async fn serve_with(
    db: Db,
    listener: TcpListener,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let transport = mail_transport(&db, &options)?;
    retention::prune_now(&db, &options.retention).await;
    let (control, stop) = watch::channel(Stop::Running);
    let signal = tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        control.send_replace(Stop::Graceful);
    });
    run(db, listener, stop, options, transport).await;
    signal.abort();
    Ok(())
}

/// Where the server's e-mail goes: the SMTP server of `[mail.smtp]`, else
/// the maildir of `[mail]`, else `<database name>-mail` beside an SQLite
/// database (a PostgreSQL one has no directory: it must say).
fn mail_transport(db: &Db, options: &Options) -> anyhow::Result<Transport> {
    mail_transport_for(db.path(), &options.settings)
}

/// Checks that e-mail can leave as `settings` say for a server on the
/// database `target` (a file or a `postgres://` URL): the password and
/// certificate files are readable, the maildir can be made. Run before the
/// server starts listening.
pub fn check_mail(target: &str, settings: &Settings) -> anyhow::Result<()> {
    let file = (!crate::db::is_postgres_url(target)).then(|| std::path::Path::new(target));
    mail_transport_for(file, settings).map(drop)
}

fn mail_transport_for(
    file: Option<&std::path::Path>,
    settings: &Settings,
) -> anyhow::Result<Transport> {
    let default = file.map(|path| {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "helpdesk".to_owned());
        path.with_file_name(format!("{stem}-mail"))
    });
    Transport::prepare(&settings.mail, default.as_deref())
}

/// `https` when the server speaks TLS, else `http`.
fn scheme(options: &Options) -> &'static str {
    if options.tls.is_some() {
        "https"
    } else {
        "http"
    }
}

/// Resolves once the server is asked to stop (or its controller is gone).
async fn stop_requested(stop: &mut watch::Receiver<Stop>) -> Stop {
    match stop.wait_for(|s| *s != Stop::Running).await {
        Ok(how) => *how,
        Err(_) => Stop::Graceful,
    }
}

async fn run(
    db: Db,
    listener: TcpListener,
    mut stop: watch::Receiver<Stop>,
    options: Options,
    transport: Transport,
) {
    let Options {
        limits,
        retention,
        tls,
        auth,
        settings,
        simulate,
    } = options;
    let state = AppState::with_settings(db, auth, settings);
    let app = routes::build(state.clone())
        .layer(axum::middleware::map_response(close_after_timeout))
        .layer(Extension(BodyReadLimit(limits.body_read)));
    let pruning = tokio::spawn(retention::run(
        state.db.clone(),
        retention,
        state.stopping.subscribe(),
    ));
    let sla_timer = tokio::spawn(crate::sla::run(
        state.db.clone(),
        state.settings.sla.clone(),
        state.stopping.subscribe(),
    ));
    let pending = tokio::spawn(crate::pending::run(
        state.db.clone(),
        state.settings.clone(),
        state.stopping.subscribe(),
    ));
    let mail = tokio::spawn(crate::mail::run(
        state.db.clone(),
        transport,
        state.settings.mail.clone(),
        state.mailer.clone(),
        state.stopping.subscribe(),
    ));
    let customers = simulate.map(|simulation| {
        tokio::spawn(simulate::run(
            app.clone(),
            state.db.clone(),
            simulation,
            state.stopping.subscribe(),
        ))
    });
    let mut cap = Cap::new(limits.max_connections);
    let mut connections = JoinSet::new();
    let how = loop {
        let mut slot = cap.try_slot();
        if slot.is_none() && !cap.can_make_room() {
            cap.warn_full();
            tokio::select! {
                how = stop_requested(&mut stop) => break how,
                free = cap.slot() => match free {
                    Some(free) => slot = Some(free),
                    None => break Stop::Kill,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            }
        }
        tokio::select! {
            how = stop_requested(&mut stop) => break how,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let slot = match slot {
                        Some(slot) => slot,
                        None => {
                            cap.make_room();
                            tokio::select! {
                                how = stop_requested(&mut stop) => break how,
                                free = cap.slot() => match free {
                                    Some(free) => free,
                                    None => break Stop::Kill,
                                },
                            }
                        }
                    };
                    let (activity, tls) = (cap.track(), tls.clone());
                    // Each request knows its client's address, as axum's `ConnectInfo`.
                    let app = app.clone().layer(Extension(ConnectInfo(peer)));
                    connections.spawn(connection(app, stream, activity, tls, limits, stop.clone(), slot));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    };
    drop(listener);
    state.stopping.send_replace(true);
    if how == Stop::Graceful {
        let drained = tokio::time::timeout(GRACE, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("requests still under way after {GRACE:?}; cutting them");
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
    pruning.abort();
    sla_timer.abort();
    mail.abort();
    pending.abort();
    if let Some(customers) = customers {
        customers.abort();
    }
    tracing::info!("server stopped");
}

/// A 408 (a body that did not arrive in time) closes its connection: the
/// rest of that body is not worth waiting for.
async fn close_after_timeout(mut response: Response) -> Response {
    if response.status() == StatusCode::REQUEST_TIMEOUT {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Serves one connection, holding a slot of the cap until it ends (or it is
/// evicted): the TLS handshake first when the server speaks TLS (within the
/// header timeout).
async fn connection(
    app: Router,
    stream: TcpStream,
    activity: Activity,
    tls: Option<Tls>,
    limits: Limits,
    stop: watch::Receiver<Stop>,
    _slot: OwnedSemaphorePermit,
) {
    let stream = Watched::new(stream, activity.clone());
    let Some(tls) = tls else {
        return http(app, stream, activity, limits, stop).await;
    };
    let handshake = tokio::time::timeout(limits.header_read, tls.acceptor().accept(stream));
    let handshake = tokio::select! {
        done = handshake => done,
        () = activity.evicted() => return,
    };
    match handshake {
        Ok(Ok(stream)) => http(app, stream, activity, limits, stop).await,
        Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
        Err(_) => tracing::debug!(
            "TLS handshake not finished within {:?}; closing",
            limits.header_read
        ),
    }
}

/// Serves HTTP/1 on a connection; on a graceful stop it finishes the
/// request under way. A connection on which nothing moves for
/// `limits.idle` is cut.
async fn http<S>(
    app: Router,
    stream: S,
    activity: Activity,
    limits: Limits,
    mut stop: watch::Receiver<Stop>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = stop_requested(&mut stop), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = activity.stalled(limits.idle) => {
                tracing::debug!("closing a connection still for {:?}", limits.idle);
                return;
            }
            () = activity.evicted() => {
                tracing::debug!("closing a silent connection to make room for a new one");
                return;
            }
        }
    }
}
