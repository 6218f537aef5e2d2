//! Serving the API on a TCP listener, and stopping: gracefully (requests
//! under way finish, live streams end) or at once (every connection cut).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::auth_limit::AuthLimits;
use crate::db::Db;
use crate::routes::{self, AppState};

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
    control: watch::Sender<Stop>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// Its base URL, e.g. `http://127.0.0.1:41234` (loopback when listening on every address).
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
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

/// Binds `listen` (port 0 picks a free one) and serves the API on it in a background task.
pub async fn spawn(db: Db, listen: SocketAddr) -> anyhow::Result<RunningServer> {
    spawn_with_limits(db, listen, AuthLimits::default()).await
}

/// [`spawn`], limiting failed sign-ins by `limits` instead of the defaults.
pub async fn spawn_with_limits(
    db: Db,
    listen: SocketAddr,
    limits: AuthLimits,
) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let (control, stop) = watch::channel(Stop::Running);
    let task = tokio::spawn(run(AppState::with_limits(db, limits), listener, stop));
    tracing::info!("serving the helpdesk API on http://{addr}");
    Ok(RunningServer {
        addr,
        control,
        task: Some(task),
    })
}

/// Serves the API on `listener` until `shutdown` completes, then stops gracefully.
pub async fn serve(
    db: Db,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (control, stop) = watch::channel(Stop::Running);
    let signal = tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down");
        control.send_replace(Stop::Graceful);
    });
    run(AppState::new(db), listener, stop).await;
    signal.abort();
    Ok(())
}

/// Resolves once the server is asked to stop (or its controller is gone).
async fn stop_requested(stop: &mut watch::Receiver<Stop>) -> Stop {
    match stop.wait_for(|s| *s != Stop::Running).await {
        Ok(how) => *how,
        Err(_) => Stop::Graceful,
    }
}

async fn run(state: AppState, listener: TcpListener, mut stop: watch::Receiver<Stop>) {
    let app = routes::build(state.clone());
    let mut connections = JoinSet::new();
    let how = loop {
        tokio::select! {
            how = stop_requested(&mut stop) => break how,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(app.clone(), stream, peer, stop.clone()));
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
    tracing::info!("server stopped");
}

/// Serves one HTTP/1 connection; on a graceful stop it finishes the request under way.
async fn connection(
    app: Router,
    stream: TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<Stop>,
) {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new());
    // Each request knows its client's address, as axum's `ConnectInfo`.
    let app = app.layer(axum::Extension(ConnectInfo(peer)));
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
        }
    }
}
