//! Accepting and serving connections. `axum::serve` sets no timer, so a client that sends a
//! request line and never finishes its headers holds a connection (and a task) forever; here
//! every connection gets hyper's header-read timeout and an idle watchdog, and a graceful stop
//! lets requests in flight finish.

use crate::config::HttpConfig;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets every
/// connection finish its request in flight, and returns once all are closed.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    http: &HttpConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(http.header_read_timeout)
        .keep_alive(true);
    let idle_timeout = http.idle_timeout;
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a receiver; the sender sees them all gone when they end.
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    pause_after_accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = ServedConnection {
            builder: builder.clone(),
            idle_timeout,
            stop: stop_rx.clone(),
            _open: open_rx.clone(),
        };
        tokio::spawn(connection.serve(tcp, remote, app.clone()));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_rx);
    open_tx.closed().await;
}

/// Out of file descriptors and the like: retrying at once would spin.
async fn pause_after_accept_error(error: std::io::Error) {
    tracing::warn!(error = %error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

struct ServedConnection {
    builder: hyper::server::conn::http1::Builder,
    idle_timeout: Duration,
    stop: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
}

impl ServedConnection {
    async fn serve(mut self, tcp: TcpStream, remote: SocketAddr, app: Router) {
        // A response written in two pieces must not wait for the client's delayed ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
        let activity = Arc::new(Activity::new());
        let service = tracked(app, remote, activity.clone());
        let connection = self
            .builder
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service));
        let mut connection = pin!(connection);
        let mut closing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    // Timeouts and clients that hang up end up here; neither is the server's fault.
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %remote, "connection ended");
                    }
                    return;
                }
                () = activity.idle_for(self.idle_timeout), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = self.stop.wait_for(|stop| *stop), if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// The router as one connection's service: each request learns the peer's address and is
/// counted while the handler works on it, so the idle watchdog leaves busy connections alone.
/// A body still streaming after that (a live feed) is not counted; the watchdog's graceful
/// shutdown only ends keep-alive for it, so such a connection closes when its stream ends.
fn tracked(
    app: Router,
    remote: SocketAddr,
    activity: Arc<Activity>,
) -> impl tower::Service<
    Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send,
> + Clone
       + Send
       + 'static {
    app.map_request(move |request: Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(remote));
        request
    })
    .map_future(move |response| {
        let busy = activity.begin();
        async move {
            let response = response.await;
            drop(busy);
            response
        }
    })
}

/// When a connection last did something, and how many requests it is handling.
struct Activity {
    started: Instant,
    last_millis: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            last_millis: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.touch();
        Busy(self.clone())
    }

    fn touch(&self) {
        let millis = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(millis, Ordering::SeqCst);
    }

    /// How long nothing has been in flight; `None` while something is.
    fn quiet_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_millis.load(Ordering::SeqCst));
        Some(self.started.elapsed().saturating_sub(last))
    }

    /// Completes once the connection has been quiet for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let wait = match self.quiet_for() {
                Some(quiet) if quiet >= timeout => return,
                Some(quiet) => timeout - quiet,
                None => timeout,
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// A request in flight; dropping it marks the end of the handler's work.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}
