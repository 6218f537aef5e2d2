//! Connector to a deskterm server (the reference backend) over its v1 HTTP API.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use deskterm_api as api;
use deskterm_api::{
    ChangesPage, ChatMessage, ContactId, Me, Meta, NewMessage, NewNote, NewTicket, Note, Problem,
    Ticket, TicketId, TicketPage, TicketPatch, TicketQuery,
};
use futures_util::StreamExt;
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde::de::DeserializeOwned;

use super::sse::{self, Frame};
use super::{Backend, BackendError, BackendResult, Capabilities, LiveEvent, LiveStream};
use crate::config::Transport;
use crate::sanitize;

/// How long an ordinary request may take, end to end.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for a TCP/TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The server sends a keep-alive comment every 15 s; silence for longer means the link is dead.
const LIVE_READ_TIMEOUT: Duration = Duration::from_secs(40);
/// An idle pooled connection is dropped before the server's own idle limit
/// (10 s for a kept-alive connection by default) closes it under a request.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// A deskterm server reached by URL with an operator token.
pub struct NativeBackend {
    base: String,
    token: String,
    http: reqwest::Client,
    live_http: reqwest::Client,
}

impl std::fmt::Debug for NativeBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is deliberately left out.
        f.debug_struct("NativeBackend")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl NativeBackend {
    /// A connector for the server at `url` (e.g. `https://helpdesk.example.com`)
    /// with the safe transport: plain `http://` only to this host, TLS
    /// checked against the system's roots.
    pub fn new(url: &str, token: &str) -> anyhow::Result<Self> {
        NativeBackend::with_transport(url, token, &Transport::default())
    }

    /// A connector for the server at `url`, the token travelling as `transport` allows.
    pub fn with_transport(url: &str, token: &str, transport: &Transport) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("the server URL {url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            anyhow::bail!("the server URL {url:?} must start with http:// or https://");
        }
        let loopback = matches!(
            parsed.host(),
            Some(url::Host::Ipv4(a)) if a.is_loopback()
        ) || matches!(parsed.host(), Some(url::Host::Ipv6(a)) if a.is_loopback())
            || parsed.host_str() == Some("localhost");
        let https = parsed.scheme() == "https";
        if !https && !loopback && !transport.allow_insecure_http {
            // Anyone on the way could read the token and sign in as this operator.
            anyhow::bail!(
                "refusing to send the operator token over plain http:// to {}: use an https:// URL, \
                 or set allow_insecure_http = true in [server] if the network to it is trusted",
                parsed.host_str().unwrap_or(url)
            );
        }
        if !https && !loopback {
            tracing::warn!(
                "the operator token travels in clear to {} (allow_insecure_http = true)",
                parsed.host_str().unwrap_or(url)
            );
        }
        let private_ca = match &transport.ca_file {
            Some(path) => ca_certificates(path)?,
            None => Vec::new(),
        };
        let builder = || {
            // reqwest's default TLS is rustls checking with rustls-platform-verifier: on
            // Linux the system's roots (as rustls-native-certs finds them, SSL_CERT_FILE
            // and SSL_CERT_DIR included); a private CA is trusted besides them.
            let b = reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                .user_agent(concat!("deskterm/", env!("CARGO_PKG_VERSION")))
                .tls_certs_merge(private_ca.clone())
                // A redirect must not carry the token from https:// down to plain http://.
                .https_only(https);
            // A proxy configured for the web must not swallow a local server.
            if loopback { b.no_proxy() } else { b }
        };
        let http = builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up HTTP: {e}"))?;
        let live_http = builder()
            .read_timeout(LIVE_READ_TIMEOUT)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot set up HTTP: {e}"))?;
        let base = format!("{}{}", url.trim_end_matches('/'), api::BASE_PATH);
        Ok(NativeBackend {
            base,
            token: token.trim().to_owned(),
            http,
            live_http,
        })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> BackendResult<T> {
        let response = req.send().await.map_err(transport_error)?;
        let response = check(response).await?;
        let bytes = response.bytes().await.map_err(transport_error)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| BackendError::Server(format!("unreadable answer: {e}")))
    }
}

/// The certificates of the private certificate authority in the PEM file `path`.
fn ca_certificates(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read the ca_file {}: {e}", path.display()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        anyhow::anyhow!(
            "the ca_file {} is not PEM certificates: {e}",
            path.display()
        )
    })?;
    if certs.is_empty() {
        anyhow::bail!(
            "the ca_file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(certs)
}

fn transport_error(e: reqwest::Error) -> BackendError {
    if e.is_timeout() {
        BackendError::Timeout
    } else if e.is_decode() || e.is_body() {
        BackendError::Server(format!("broken answer: {e}"))
    } else {
        // reqwest's Display is terse; the source chain says what actually failed.
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg = format!("{msg}: {s}");
            source = s.source();
        }
        if msg.contains("invalid peer certificate") {
            msg.push_str(
                " (the server's certificate is not trusted: if a private authority issued it, \
                 name its certificate in ca_file in [server])",
            );
        }
        BackendError::Network(msg)
    }
}

/// Turns an error status into a [`BackendError`], reading the problem document when there is one.
async fn check(response: Response) -> BackendResult<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.bytes().await.unwrap_or_default();
    let problem: Option<Problem> = serde_json::from_slice(&body).ok();
    let summary = problem
        .as_ref()
        .map(|p| p.detail.clone().unwrap_or_else(|| p.title.clone()))
        .unwrap_or_else(|| status.to_string());
    let summary = sanitize::line(&summary);
    Err(match status {
        StatusCode::UNAUTHORIZED => BackendError::Unauthorized(summary),
        StatusCode::FORBIDDEN => BackendError::Forbidden(summary),
        StatusCode::NOT_FOUND => BackendError::NotFound(summary),
        StatusCode::PRECONDITION_FAILED => BackendError::Conflict {
            current: problem.and_then(|p| p.current).map(|mut t| {
                sanitize::ticket(&mut t);
                t
            }),
        },
        s if s.is_client_error() => BackendError::Invalid {
            message: summary,
            fields: problem
                .map(|p| {
                    p.errors
                        .into_iter()
                        .map(|(k, v)| (sanitize::line(&k), sanitize::line(&v)))
                        .collect()
                })
                .unwrap_or_default(),
        },
        _ => BackendError::Server(summary),
    })
}

#[async_trait]
impl Backend for NativeBackend {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            preconditions: true,
            live_push: true,
            custom_statuses: true,
        }
    }

    fn describe(&self) -> String {
        self.base.trim_end_matches(api::BASE_PATH).to_owned()
    }

    async fn me(&self) -> BackendResult<Me> {
        let mut me: Me = self.send(self.request(Method::GET, "/me")).await?;
        sanitize::me(&mut me);
        Ok(me)
    }

    async fn meta(&self) -> BackendResult<Meta> {
        let mut meta: Meta = self.send(self.request(Method::GET, "/meta")).await?;
        sanitize::meta(&mut meta);
        Ok(meta)
    }

    async fn tickets(&self, query: &TicketQuery) -> BackendResult<TicketPage> {
        let mut page: TicketPage = self
            .send(self.request(Method::GET, "/tickets").query(query))
            .await?;
        page.items.iter_mut().for_each(sanitize::ticket);
        Ok(page)
    }

    async fn ticket(&self, id: TicketId) -> BackendResult<Ticket> {
        let mut t: Ticket = self
            .send(self.request(Method::GET, &format!("/tickets/{id}")))
            .await?;
        sanitize::ticket(&mut t);
        Ok(t)
    }

    async fn create_ticket(
        &self,
        ticket: &NewTicket,
        idempotency_key: &str,
    ) -> BackendResult<Ticket> {
        let mut t: Ticket = self
            .send(
                self.request(Method::POST, "/tickets")
                    .header(api::IDEMPOTENCY_KEY_HEADER, idempotency_key)
                    .json(ticket),
            )
            .await?;
        sanitize::ticket(&mut t);
        Ok(t)
    }

    async fn patch_ticket(
        &self,
        id: TicketId,
        version: i64,
        patch: &TicketPatch,
    ) -> BackendResult<Ticket> {
        let mut t: Ticket = self
            .send(
                self.request(Method::PATCH, &format!("/tickets/{id}"))
                    .header(header::IF_MATCH, api::etag(version))
                    .json(patch),
            )
            .await?;
        sanitize::ticket(&mut t);
        Ok(t)
    }

    async fn delete_ticket(&self, id: TicketId, version: i64) -> BackendResult<()> {
        let response = self
            .request(Method::DELETE, &format!("/tickets/{id}"))
            .header(header::IF_MATCH, api::etag(version))
            .send()
            .await
            .map_err(transport_error)?;
        check(response).await.map(drop)
    }

    async fn notes(&self, id: TicketId) -> BackendResult<Vec<Note>> {
        let mut notes: Vec<Note> = self
            .send(self.request(Method::GET, &format!("/tickets/{id}/notes")))
            .await?;
        notes.iter_mut().for_each(sanitize::note);
        Ok(notes)
    }

    async fn add_note(
        &self,
        id: TicketId,
        note: &NewNote,
        idempotency_key: &str,
    ) -> BackendResult<Note> {
        let mut n: Note = self
            .send(
                self.request(Method::POST, &format!("/tickets/{id}/notes"))
                    .header(api::IDEMPOTENCY_KEY_HEADER, idempotency_key)
                    .json(note),
            )
            .await?;
        sanitize::note(&mut n);
        Ok(n)
    }

    async fn messages(&self, contact: ContactId) -> BackendResult<Vec<ChatMessage>> {
        let mut all: Vec<ChatMessage> = Vec::new();
        // Page through with `after` so long conversations arrive whole.
        loop {
            let after = all.last().map(|m| m.id).unwrap_or(0);
            let mut page: Vec<ChatMessage> = self
                .send(
                    self.request(Method::GET, &format!("/contacts/{contact}/messages"))
                        .query(&[("after", after), ("limit", 500)]),
                )
                .await?;
            let full = page.len() >= 500;
            page.iter_mut().for_each(sanitize::message);
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    async fn send_message(
        &self,
        contact: ContactId,
        message: &NewMessage,
        idempotency_key: &str,
    ) -> BackendResult<ChatMessage> {
        let mut m: ChatMessage = self
            .send(
                self.request(Method::POST, &format!("/contacts/{contact}/messages"))
                    .header(api::IDEMPOTENCY_KEY_HEADER, idempotency_key)
                    .json(message),
            )
            .await?;
        sanitize::message(&mut m);
        Ok(m)
    }

    async fn changes(&self, since: i64, limit: u32) -> BackendResult<ChangesPage> {
        let mut page: ChangesPage = self
            .send(
                self.request(Method::GET, "/changes")
                    .query(&[("since", since), ("limit", i64::from(limit))]),
            )
            .await?;
        page.changes.iter_mut().for_each(sanitize::change);
        Ok(page)
    }

    async fn live(&self, since: i64) -> BackendResult<LiveStream> {
        let response = self
            .live_http
            .get(format!("{}/events", self.base))
            .bearer_auth(&self.token)
            .header(header::ACCEPT, "text/event-stream")
            .header("Last-Event-ID", since.to_string())
            .send()
            .await
            .map_err(transport_error)?;
        let response = check(response).await?;
        Ok(Box::pin(live_events(response.bytes_stream())))
    }
}

/// The most bytes handed to the SSE parser at once, so the frames waiting to
/// be read never take much more memory than the bytes they came from.
const FEED_SLICE: usize = 16 * 1024;

/// Reads the live stream's bytes into [`LiveEvent`]s. It ends after the first
/// error: a broken connection, or an event larger than [`sse::MAX_EVENT_BYTES`]
/// (the connection is then dropped rather than read any further).
fn live_events<S, B, E>(
    bytes: S,
) -> impl futures_util::Stream<Item = BackendResult<LiveEvent>> + Send
where
    S: futures_util::Stream<Item = Result<B, E>> + Send + Unpin,
    B: AsRef<[u8]> + Send,
    E: std::fmt::Display,
{
    struct Reading<S, B> {
        /// The connection; `None` once it is dropped.
        bytes: Option<S>,
        parser: sse::Parser,
        /// A chunk not yet given to the parser entirely, and how much of it was.
        pending: Option<(B, usize)>,
        frames: std::collections::VecDeque<Frame>,
        /// The error to report once the frames read before it are out.
        error: Option<BackendError>,
    }
    let start: Reading<S, B> = Reading {
        bytes: Some(bytes),
        parser: sse::Parser::new(),
        pending: None,
        frames: std::collections::VecDeque::new(),
        error: None,
    };
    futures_util::stream::unfold(start, |mut r| async move {
        loop {
            if let Some(frame) = r.frames.pop_front() {
                let event = match frame {
                    Frame::Comment => Ok(Some(LiveEvent::KeepAlive)),
                    Frame::Event(e) => parse_live_event(&e.event, &e.data),
                };
                match event.transpose() {
                    Some(item) => return Some((item, r)),
                    None => continue,
                }
            }
            if let Some(error) = r.error.take() {
                return Some((Err(error), r));
            }
            if let Some((chunk, done)) = r.pending.take() {
                let rest = &chunk.as_ref()[done..];
                let take = rest.len().min(FEED_SLICE);
                if let Err(e) = r.parser.feed(&rest[..take], &mut r.frames) {
                    tracing::warn!("live stream dropped: {e}");
                    // Close the connection now instead of reading on.
                    r.bytes = None;
                    r.error = Some(BackendError::Server(e.to_string()));
                } else if take < rest.len() {
                    r.pending = Some((chunk, done + take));
                }
                continue;
            }
            match r.bytes.as_mut()?.next().await {
                Some(Ok(chunk)) => r.pending = Some((chunk, 0)),
                Some(Err(e)) => {
                    r.bytes = None;
                    let error = BackendError::Network(format!("live stream broke: {e}"));
                    return Some((Err(error), r));
                }
                None => return None,
            }
        }
    })
}

/// Maps one SSE event to a [`LiveEvent`]; unknown event names are skipped so
/// a newer server does not break an older client.
fn parse_live_event(name: &str, data: &str) -> BackendResult<Option<LiveEvent>> {
    match name {
        api::SSE_EVENT_CHANGE => {
            let mut change: api::Change = serde_json::from_str(data)
                .map_err(|e| BackendError::Server(format!("unreadable live change: {e}")))?;
            sanitize::change(&mut change);
            Ok(Some(LiveEvent::Change(change)))
        }
        api::SSE_EVENT_RESYNC => {
            let resync: api::Resync = serde_json::from_str(data)
                .map_err(|e| BackendError::Server(format!("unreadable resync: {e}")))?;
            Ok(Some(LiveEvent::Resync {
                latest_seq: resync.latest_seq,
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_urls_that_are_not_http() {
        assert!(NativeBackend::new("ftp://x", "t").is_err());
        assert!(NativeBackend::new("not a url", "t").is_err());
        assert!(NativeBackend::new("http://127.0.0.1:9", "t").is_ok());
    }

    #[test]
    fn the_token_travels_in_clear_only_to_this_host() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.0.0.2",
            "http://[::1]:8080",
            "http://localhost:8080/",
            "https://example.com",
        ] {
            assert!(NativeBackend::new(url, "t").is_ok(), "{url}");
        }
        for url in [
            "http://example.com",
            "http://10.0.0.5:8080",
            "http://[2001:db8::1]",
        ] {
            let err = NativeBackend::new(url, "t").unwrap_err().to_string();
            assert!(err.contains("allow_insecure_http = true"), "{url}: {err}");
        }
        let allowed = Transport {
            allow_insecure_http: true,
            ca_file: None,
        };
        assert!(NativeBackend::with_transport("http://example.com", "t", &allowed).is_ok());
    }

    #[test]
    fn a_ca_file_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        let with_ca = Transport {
            allow_insecure_http: false,
            ca_file: Some(file.clone()),
        };
        let err = NativeBackend::with_transport("https://h", "t", &with_ca).unwrap_err();
        assert!(err.to_string().contains("cannot read the ca_file"), "{err}");
        std::fs::write(&file, "not a certificate\n").unwrap();
        let err = NativeBackend::with_transport("https://h", "t", &with_ca).unwrap_err();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let b = NativeBackend::new("http://127.0.0.1:9", "dkt_secret").unwrap();
        assert!(!format!("{b:?}").contains("dkt_secret"));
    }

    #[test]
    fn live_events_are_parsed_and_sanitized() {
        let data = r#"{"seq":3,"at":"2026-01-01T00:00:00Z","kind":"message_added","data":{"id":1,"contact_id":2,"ticket_id":null,"direction":"inbound","operator":null,"body":"hi\u001b[2J","channel":"web","created_at":"2026-01-01T00:00:00Z"}}"#;
        let Ok(Some(LiveEvent::Change(c))) = parse_live_event("change", data) else {
            panic!("not parsed");
        };
        let api::ChangeKind::MessageAdded(m) = c.kind else {
            panic!("wrong kind");
        };
        assert_eq!(m.body, "hi");
        assert_eq!(
            parse_live_event("resync", r#"{"latest_seq":9}"#),
            Ok(Some(LiveEvent::Resync { latest_seq: 9 }))
        );
        assert_eq!(parse_live_event("future", "{}"), Ok(None));
        assert!(parse_live_event("change", "{").is_err());
    }

    #[tokio::test]
    async fn live_events_keep_what_came_before_an_oversized_event_then_end() {
        let mut chunk = b":\n\nevent: resync\ndata: {\"latest_seq\":4}\n\ndata: ".to_vec();
        chunk.resize(chunk.len() + sse::MAX_EVENT_BYTES, b'x');
        let chunks: Vec<Result<Vec<u8>, String>> = vec![Ok(chunk), Ok(b"\n\n".to_vec())];
        let items: Vec<_> = live_events(futures_util::stream::iter(chunks))
            .collect()
            .await;
        assert_eq!(
            items,
            vec![
                Ok(LiveEvent::KeepAlive),
                Ok(LiveEvent::Resync { latest_seq: 4 }),
                Err(BackendError::Server(
                    "the live stream sent an event larger than 1 MiB".into()
                )),
            ]
        );
    }

    #[tokio::test]
    async fn live_events_end_when_the_connection_breaks() {
        let chunks: Vec<Result<&[u8], &str>> = vec![
            Ok(b"event: resync\ndata: {\"latest_seq\":4}\n"),
            Ok(b"\n"),
            Err("connection reset"),
            Ok(b"event: resync\ndata: {\"latest_seq\":5}\n\n"),
        ];
        let items: Vec<_> = live_events(futures_util::stream::iter(chunks))
            .collect()
            .await;
        assert_eq!(
            items,
            vec![
                Ok(LiveEvent::Resync { latest_seq: 4 }),
                Err(BackendError::Network(
                    "live stream broke: connection reset".into()
                )),
            ]
        );
    }
}
