//! Connector to a deskterm server (the reference backend) over its v1 HTTP API.
//!
//! Its feed cursor and its change ids are the server's sequence numbers, its
//! versions the ticket counters sent as ETags; text is passed on as the
//! server sent it, for [`super::Sanitized`] to clean.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use deskterm_api as api;
use deskterm_api::{
    ChangesPage, ChatMessage, ContactId, HistoryPage, Me, Meta, NewMessage, NewNote, NewTicket,
    Note, Problem, Ticket, TicketId, TicketPage, TicketPatch, TicketQuery,
};
use futures_util::StreamExt;
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde::de::DeserializeOwned;

use super::ndjson::{LineReader, LineTooLong};
use super::sse::{self, Frame};
use super::{
    BackendError, BackendResult, Capabilities, ChangeId, ChangePage, ChangeStream, Connector,
    ConversationKey, Conversations, Cursor, FeedChange, FeedEvent, SnapshotItem, SnapshotScope,
    SnapshotStream, Version,
};
use crate::config::Transport;

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
    /// Ordinary requests, each limited to [`REQUEST_TIMEOUT`].
    http: reqwest::Client,
    /// Long answers (the live stream, the ticket export): no limit on the
    /// whole, only on silence ([`LIVE_READ_TIMEOUT`]).
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
    Err(match status {
        StatusCode::UNAUTHORIZED => BackendError::Unauthorized(summary),
        StatusCode::FORBIDDEN => BackendError::Forbidden(summary),
        StatusCode::NOT_FOUND => BackendError::NotFound(summary),
        StatusCode::PRECONDITION_FAILED => BackendError::Conflict {
            current: problem.and_then(|p| p.current),
        },
        s if s.is_client_error() => BackendError::Invalid {
            message: summary,
            fields: problem
                .map(|p| p.errors.into_iter().collect())
                .unwrap_or_default(),
        },
        _ => BackendError::Server(summary),
    })
}

/// The server's sequence number a cursor of this connector holds.
fn seq(cursor: &Cursor) -> BackendResult<i64> {
    cursor.as_str().parse().map_err(|_| BackendError::Invalid {
        message: format!(
            "the feed position {:?} is not a deskterm server's; reload to start over",
            cursor.as_str()
        ),
        fields: vec![],
    })
}

/// The cursor after the change numbered `seq`.
fn cursor(seq: i64) -> Cursor {
    Cursor::new(seq.to_string())
}

/// A change as the feed hands it on.
fn feed_change(change: api::Change) -> FeedChange {
    FeedChange {
        id: ChangeId::new(change.seq.to_string()),
        cursor: cursor(change.seq),
        change,
    }
}

/// The version a ticket counter is sent as.
fn if_match(version: &Version) -> BackendResult<String> {
    let counter: i64 = version
        .as_str()
        .parse()
        .map_err(|_| BackendError::Invalid {
            message: format!(
                "the ticket version {:?} is not a deskterm server's",
                version.as_str()
            ),
            fields: vec![],
        })?;
    Ok(api::etag(counter))
}

/// The contact a conversation is with: the server keys chat by contact.
fn contact(conversation: &ConversationKey) -> BackendResult<ContactId> {
    match conversation {
        ConversationKey::Contact(c) => Ok(*c),
        ConversationKey::Ticket(t) => Err(BackendError::Invalid {
            message: format!(
                "a deskterm server keeps conversations by contact, not by ticket ({t})"
            ),
            fields: vec![],
        }),
    }
}

#[async_trait]
impl Connector for NativeBackend {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            preconditions: true,
            live_push: true,
            custom_statuses: true,
            history: true,
            statistics: true,
            chat: true,
            email: true,
            new_contacts: true,
            conversations: Conversations::ByContact,
        }
    }

    fn describe(&self) -> String {
        self.base.trim_end_matches(api::BASE_PATH).to_owned()
    }

    async fn me(&self) -> BackendResult<Me> {
        self.send(self.request(Method::GET, "/me")).await
    }

    async fn meta(&self) -> BackendResult<Meta> {
        self.send(self.request(Method::GET, "/meta")).await
    }

    async fn tickets(&self, query: &TicketQuery) -> BackendResult<TicketPage> {
        self.send(self.request(Method::GET, "/tickets").query(query))
            .await
    }

    async fn ticket(&self, id: TicketId) -> BackendResult<Ticket> {
        self.send(self.request(Method::GET, &format!("/tickets/{id}")))
            .await
    }

    async fn create_ticket(
        &self,
        ticket: &NewTicket,
        idempotency_key: &str,
    ) -> BackendResult<Ticket> {
        self.send(
            self.request(Method::POST, "/tickets")
                .header(api::IDEMPOTENCY_KEY_HEADER, idempotency_key)
                .json(ticket),
        )
        .await
    }

    async fn patch_ticket(
        &self,
        id: TicketId,
        version: &Version,
        patch: &TicketPatch,
    ) -> BackendResult<Ticket> {
        self.send(
            self.request(Method::PATCH, &format!("/tickets/{id}"))
                .header(header::IF_MATCH, if_match(version)?)
                .json(patch),
        )
        .await
    }

    async fn delete_ticket(&self, id: TicketId, version: &Version) -> BackendResult<()> {
        let response = self
            .request(Method::DELETE, &format!("/tickets/{id}"))
            .header(header::IF_MATCH, if_match(version)?)
            .send()
            .await
            .map_err(transport_error)?;
        check(response).await.map(drop)
    }

    async fn notes(&self, id: TicketId) -> BackendResult<Vec<Note>> {
        self.send(self.request(Method::GET, &format!("/tickets/{id}/notes")))
            .await
    }

    async fn add_note(
        &self,
        id: TicketId,
        note: &NewNote,
        idempotency_key: &str,
    ) -> BackendResult<Note> {
        self.send(
            self.request(Method::POST, &format!("/tickets/{id}/notes"))
                .header(api::IDEMPOTENCY_KEY_HEADER, idempotency_key)
                .json(note),
        )
        .await
    }

    async fn messages(&self, conversation: &ConversationKey) -> BackendResult<Vec<ChatMessage>> {
        let contact = contact(conversation)?;
        let mut all: Vec<ChatMessage> = Vec::new();
        // Page through with `after` so long conversations arrive whole.
        loop {
            let after = all.last().map(|m| m.id).unwrap_or(0);
            let page: Vec<ChatMessage> = self
                .send(
                    self.request(Method::GET, &format!("/contacts/{contact}/messages"))
                        .query(&[("after", after), ("limit", 500)]),
                )
                .await?;
            let full = page.len() >= 500;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    async fn stats(&self, query: &super::StatsQuery) -> BackendResult<api::Stats> {
        self.send(self.request(Method::GET, "/stats").query(query))
            .await
    }

    async fn add_status(&self, status: &api::NewStatus) -> BackendResult<api::StatusDef> {
        self.send(self.request(Method::POST, "/statuses").json(status))
            .await
    }

    async fn set_profile(&self, patch: &api::MePatch) -> BackendResult<Me> {
        let me: api::MeWithRole = self
            .send(self.request(Method::PATCH, "/me").json(patch))
            .await?;
        Ok(me.me)
    }

    async fn escalate(
        &self,
        id: TicketId,
        escalation: &api::NewEscalation,
        idempotency_key: &str,
    ) -> BackendResult<api::Escalation> {
        self.send(
            self.request(Method::POST, &format!("/tickets/{id}/escalations"))
                .header(api::IDEMPOTENCY_KEY_HEADER, idempotency_key)
                .json(escalation),
        )
        .await
    }

    async fn history(&self, id: TicketId) -> BackendResult<Vec<api::HistoryEntry>> {
        let mut all: std::collections::VecDeque<api::HistoryEntry> = Default::default();
        let mut after: Option<String> = None;
        // Oldest first, a page at a time; a ticket with more than HISTORY_MAX
        // entries keeps its newest ones.
        loop {
            let mut request = self
                .request(Method::GET, &format!("/tickets/{id}/history"))
                .query(&[("limit", api::PAGE_LIMIT_MAX)]);
            if let Some(cursor) = &after {
                request = request.query(&[("after", cursor)]);
            }
            let page: HistoryPage = self.send(request).await?;
            all.extend(page.items);
            while all.len() > super::HISTORY_MAX {
                all.pop_front();
            }
            match page.next_cursor {
                Some(next) if after.as_ref() != Some(&next) => after = Some(next),
                _ => return Ok(all.into()),
            }
        }
    }

    async fn send_message(
        &self,
        conversation: &ConversationKey,
        message: &NewMessage,
        idempotency_key: &str,
    ) -> BackendResult<ChatMessage> {
        let contact = contact(conversation)?;
        self.send(
            self.request(Method::POST, &format!("/contacts/{contact}/messages"))
                .header(api::IDEMPOTENCY_KEY_HEADER, idempotency_key)
                .json(message),
        )
        .await
    }

    async fn latest(&self) -> BackendResult<Cursor> {
        let page: ChangesPage = self
            .send(
                self.request(Method::GET, "/changes")
                    .query(&[("since", 0), ("limit", 1)]),
            )
            .await?;
        Ok(cursor(page.latest_seq))
    }

    async fn changes(&self, since: &Cursor, limit: u32) -> BackendResult<ChangePage> {
        let since = seq(since)?;
        let page: ChangesPage = self
            .send(
                self.request(Method::GET, "/changes")
                    .query(&[("since", since), ("limit", i64::from(limit))]),
            )
            .await?;
        let more = page.changes.len() >= limit as usize;
        let last = page.changes.iter().map(|c| c.seq).fold(since, i64::max);
        Ok(ChangePage {
            // A change at or before the cursor is one the client has.
            changes: page
                .changes
                .into_iter()
                .filter(|c| c.seq > since)
                .map(feed_change)
                .collect(),
            next: cursor(last),
            more,
            resync: page.resync,
        })
    }

    async fn live(&self, since: &Cursor) -> BackendResult<ChangeStream<'static>> {
        let since = seq(since)?;
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
        // The server numbers its changes: one at or before the last one
        // delivered is a replay and is dropped.
        let mut last = since;
        Ok(Box::pin(live_events(response.bytes_stream()).filter_map(
            move |item| {
                let item = match item {
                    Ok(LiveEvent::Change(change)) if change.seq <= last => None,
                    Ok(LiveEvent::Change(change)) => {
                        last = change.seq;
                        Some(Ok(FeedEvent::Change(feed_change(change))))
                    }
                    Ok(LiveEvent::Resync { .. }) => Some(Ok(FeedEvent::Resync)),
                    Ok(LiveEvent::KeepAlive) => Some(Ok(FeedEvent::KeepAlive)),
                    Err(e) => Some(Err(e)),
                };
                std::future::ready(item)
            },
        )))
    }

    async fn snapshot(&self, scope: &SnapshotScope) -> BackendResult<SnapshotStream<'_>> {
        let mut url = format!("{}{}", self.base, api::TICKET_EXPORT_PATH);
        if let Some(since) = scope.closed_since {
            // Older servers ignore the parameter: the engine narrows then.
            url.push_str(&format!(
                "?closed_since={}",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        let response = self
            .live_http
            .get(url)
            .bearer_auth(&self.token)
            .header(header::ACCEPT, api::NDJSON_CONTENT_TYPE)
            .send()
            .await
            .map_err(transport_error)?;
        match check(response).await {
            Ok(response) => Ok(Box::pin(export_items(response.bytes_stream()))),
            // A server from before the export: page through the list instead.
            Err(BackendError::NotFound(_)) => {
                tracing::info!("the server has no ticket export; reading the ticket list");
                super::paged_snapshot(self).await
            }
            Err(e) => Err(e),
        }
    }
}

/// The most bytes handed to the line reader at once, so the items waiting
/// to be taken never hold much more memory than the bytes they came from.
const EXPORT_SLICE: usize = 64 * 1024;

/// Where the reading of an export is.
#[derive(Debug, Default)]
struct Export {
    /// The header, once read.
    header: Option<api::ExportHeader>,
    /// Tickets read so far.
    count: u64,
    /// The trailer was read.
    ended: bool,
}

impl From<LineTooLong> for BackendError {
    fn from(e: LineTooLong) -> BackendError {
        BackendError::Server(format!("the ticket export is unreadable: {e}"))
    }
}

impl Export {
    /// The item a line of the export stands for, by its place: the header,
    /// `total` tickets, the trailer. Blank lines, and lines after the
    /// trailer, are skipped.
    fn line(&mut self, line: &[u8]) -> BackendResult<Option<SnapshotItem>> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let unreadable = |what: &str, e: serde_json::Error| {
            BackendError::Server(format!("the ticket export has an unreadable {what}: {e}"))
        };
        if self.ended {
            // The snapshot is whole; whatever follows is not read.
            return Ok(None);
        }
        let Some(header) = self.header else {
            let header: api::ExportHeader =
                serde_json::from_slice(line).map_err(|e| unreadable("header", e))?;
            self.header = Some(header);
            return Ok(Some(SnapshotItem::Start {
                since: cursor(header.since),
                total: header.total,
            }));
        };
        if self.count < header.total {
            let ticket: Ticket =
                serde_json::from_slice(line).map_err(|e| unreadable("ticket", e))?;
            self.count += 1;
            return Ok(Some(SnapshotItem::Ticket(ticket)));
        }
        let trailer: api::ExportTrailer =
            serde_json::from_slice(line).map_err(|e| unreadable("end", e))?;
        if trailer.count != self.count {
            return Err(BackendError::Server(format!(
                "the ticket export ends counting {} tickets but sent {}",
                trailer.count, self.count
            )));
        }
        self.ended = true;
        Ok(Some(SnapshotItem::End { count: self.count }))
    }

    /// Why a stream that stopped here is incomplete; `None` after the trailer.
    fn broken_off(&self) -> Option<BackendError> {
        if self.ended {
            return None;
        }
        Some(BackendError::Network(match self.header {
            None => "the ticket export broke off before its start".to_owned(),
            Some(h) => format!(
                "the ticket export broke off after {} of {} tickets",
                self.count, h.total
            ),
        }))
    }
}

/// Reads the export's bytes into [`SnapshotItem`]s, lines held to
/// [`api::EXPORT_LINE_MAX_BYTES`]. It ends after the trailer, or after the
/// first error: a broken connection, a stream cut before its trailer, a line
/// too long or unreadable (the connection is then dropped rather than read
/// any further).
fn export_items<S, B, E>(
    bytes: S,
) -> impl futures_util::Stream<Item = BackendResult<SnapshotItem>> + Send
where
    S: futures_util::Stream<Item = Result<B, E>> + Send + Unpin,
    B: AsRef<[u8]> + Send,
    E: std::fmt::Display,
{
    struct Reading<S, B> {
        /// The connection; `None` once it is dropped.
        bytes: Option<S>,
        lines: LineReader,
        export: Export,
        /// A chunk not yet given to the reader entirely, and how much of it was.
        pending: Option<(B, usize)>,
        items: std::collections::VecDeque<SnapshotItem>,
        /// The error to report once the items read before it are out.
        error: Option<BackendError>,
        /// Nothing more will come (an error was reported, or the stream ended).
        over: bool,
    }
    let start: Reading<S, B> = Reading {
        bytes: Some(bytes),
        lines: LineReader::new(api::EXPORT_LINE_MAX_BYTES),
        export: Export::default(),
        pending: None,
        items: std::collections::VecDeque::new(),
        error: None,
        over: false,
    };
    futures_util::stream::unfold(start, |mut r| async move {
        loop {
            if let Some(item) = r.items.pop_front() {
                return Some((Ok(item), r));
            }
            if let Some(error) = r.error.take() {
                r.over = true;
                return Some((Err(error), r));
            }
            if r.over || r.export.ended {
                // Done; returning drops the connection (after the trailer
                // the rest of it is not needed).
                return None;
            }
            if let Some((chunk, done)) = r.pending.take() {
                let rest = &chunk.as_ref()[done..];
                let take = rest.len().min(EXPORT_SLICE);
                let (export, items) = (&mut r.export, &mut r.items);
                let fed = r.lines.feed(&rest[..take], |line| {
                    if let Some(item) = export.line(line)? {
                        items.push_back(item);
                    }
                    Ok::<(), BackendError>(())
                });
                if let Err(e) = fed {
                    tracing::warn!("ticket export dropped: {e}");
                    // Close the connection now instead of reading on.
                    r.bytes = None;
                    r.error = Some(e);
                } else if take < rest.len() {
                    r.pending = Some((chunk, done + take));
                }
                continue;
            }
            match r.bytes.as_mut()?.next().await {
                Some(Ok(chunk)) => r.pending = Some((chunk, 0)),
                Some(Err(e)) => {
                    r.bytes = None;
                    r.error = Some(BackendError::Network(format!(
                        "the ticket export broke off: {e}"
                    )));
                }
                None => {
                    r.bytes = None;
                    r.over = true;
                    let error = r.export.broken_off()?;
                    return Some((Err(error), r));
                }
            }
        }
    })
}

/// The most bytes handed to the SSE parser at once, so the frames waiting to
/// be read never take much more memory than the bytes they came from.
const FEED_SLICE: usize = 16 * 1024;

/// One event of the server's live stream.
#[derive(Debug, Clone, PartialEq)]
enum LiveEvent {
    /// A change, in feed order.
    Change(api::Change),
    /// The cursor is unusable: reload everything, then continue from `latest_seq`.
    Resync {
        /// Where the feed continues.
        latest_seq: i64,
    },
    /// The server said it is still there and has nothing new.
    KeepAlive,
}

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
            let change: api::Change = serde_json::from_str(data)
                .map_err(|e| BackendError::Server(format!("unreadable live change: {e}")))?;
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
    fn live_events_are_parsed_as_sent() {
        let data = r#"{"seq":3,"at":"2026-01-01T00:00:00Z","kind":"message_added","data":{"id":1,"contact_id":2,"ticket_id":null,"direction":"inbound","operator":null,"body":"hi\u001b[2J","channel":"web","created_at":"2026-01-01T00:00:00Z"}}"#;
        let Ok(Some(LiveEvent::Change(c))) = parse_live_event("change", data) else {
            panic!("not parsed");
        };
        let api::ChangeKind::MessageAdded(m) = c.kind else {
            panic!("wrong kind");
        };
        assert_eq!(m.body, "hi\u{1b}[2J", "cleaning is the wrapper's");
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

    fn ticket(id: i64, title: &str) -> Ticket {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        Ticket {
            id,
            reference: format!("HD-{id:06}"),
            title: title.to_owned(),
            description: "line one\nline two".to_owned(),
            status: "open".to_owned(),
            priority: api::Priority::High,
            category: None,
            tags: vec!["vip".to_owned()],
            important: false,
            contact: api::ContactRef {
                id: 1,
                name: "Ana".to_owned(),
                phone: None,
                email: None,
            },
            operator: None,
            channel: "web".to_owned(),
            sla_due_at: None,
            pending_until: None,
            created_at: at,
            updated_at: at,
            closed_at: None,
            sla_state: None,
            version: 3,
        }
    }

    /// An export of `tickets` as a server writes it, its trailer counting `count`.
    fn export(since: i64, tickets: &[Ticket], count: Option<u64>) -> Vec<u8> {
        let mut out = Vec::new();
        let total = tickets.len() as u64;
        serde_json::to_writer(&mut out, &api::ExportHeader { since, total }).unwrap();
        out.push(b'\n');
        for t in tickets {
            serde_json::to_writer(&mut out, t).unwrap();
            out.push(b'\n');
        }
        if let Some(count) = count {
            serde_json::to_writer(&mut out, &api::ExportTrailer { count }).unwrap();
            out.push(b'\n');
        }
        out
    }

    async fn read_export(body: &[u8], chunk: usize) -> Vec<BackendResult<SnapshotItem>> {
        let chunks: Vec<Result<Vec<u8>, String>> =
            body.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
        export_items(futures_util::stream::iter(chunks))
            .collect()
            .await
    }

    #[tokio::test]
    async fn an_export_reads_the_same_whatever_the_chunking() {
        let tickets: Vec<Ticket> = (1..=3).map(|i| ticket(i, &format!("T{i}"))).collect();
        let body = export(42, &tickets, Some(3));
        let mut expected = vec![Ok(SnapshotItem::Start {
            since: cursor(42),
            total: 3,
        })];
        expected.extend(tickets.iter().cloned().map(|t| Ok(SnapshotItem::Ticket(t))));
        expected.push(Ok(SnapshotItem::End { count: 3 }));
        for chunk in [1, 2, 7, 100, body.len()] {
            assert_eq!(
                read_export(&body, chunk).await,
                expected,
                "chunks of {chunk}"
            );
        }
        let empty = export(0, &[], Some(0));
        assert_eq!(
            read_export(&empty, 5).await,
            vec![
                Ok(SnapshotItem::Start {
                    since: cursor(0),
                    total: 0
                }),
                Ok(SnapshotItem::End { count: 0 })
            ]
        );
    }

    #[tokio::test]
    async fn an_export_cut_short_is_an_error_after_what_came() {
        let tickets: Vec<Ticket> = (1..=3).map(|i| ticket(i, "T")).collect();
        let whole = export(1, &tickets, Some(3));
        let without_trailer = export(1, &tickets, None);
        // No trailer; in the middle of a ticket; before the header ended.
        for (body, tickets_read) in [
            (without_trailer.clone(), 3),
            (whole[..without_trailer.len() - 20].to_vec(), 2),
            (whole[..10].to_vec(), 0),
        ] {
            let items = read_export(&body, 16).await;
            let (last, before) = items.split_last().unwrap();
            let Err(BackendError::Network(why)) = last else {
                panic!("not an error: {last:?}");
            };
            assert!(why.contains("broke off"), "{why}");
            let read = before
                .iter()
                .filter(|i| matches!(i, Ok(SnapshotItem::Ticket(_))))
                .count();
            assert_eq!(read, tickets_read);
            assert!(before.iter().all(Result::is_ok));
        }
        // The connection breaking is an error too.
        let chunks: Vec<Result<Vec<u8>, String>> =
            vec![Ok(whole[..40].to_vec()), Err("connection reset".into())];
        let items: Vec<_> = export_items(futures_util::stream::iter(chunks))
            .collect()
            .await;
        assert!(matches!(items.last(), Some(Err(BackendError::Network(_)))));
    }

    #[tokio::test]
    async fn an_export_that_miscounts_or_is_unreadable_is_refused() {
        let tickets = [ticket(1, "T")];
        let items = read_export(&export(1, &tickets, Some(2)), 64).await;
        assert!(
            matches!(items.last(), Some(Err(BackendError::Server(m))) if m.contains("counting 2")),
            "{items:?}"
        );
        let mut body = export(1, &[], None);
        body.extend_from_slice(b"{\"id\": \"not a ticket\"}\n");
        let body = String::from_utf8(body)
            .unwrap()
            .replace("\"total\":0", "\"total\":1");
        let items = read_export(body.as_bytes(), 64).await;
        assert!(
            matches!(items.last(), Some(Err(BackendError::Server(m))) if m.contains("unreadable ticket")),
            "{items:?}"
        );
        assert_eq!(items.len(), 2, "nothing after the error: {items:?}");
    }

    #[tokio::test]
    async fn an_export_line_past_the_limit_ends_the_reading() {
        let mut body = export(1, &[], None);
        body = String::from_utf8(body)
            .unwrap()
            .replace("\"total\":0", "\"total\":1")
            .into_bytes();
        body.resize(body.len() + api::EXPORT_LINE_MAX_BYTES + 1, b'x');
        body.extend_from_slice(b"\n{\"count\":1}\n");
        let items = read_export(&body, 64 * 1024).await;
        assert_eq!(items.len(), 2, "{:?}", items.last());
        assert!(matches!(items[0], Ok(SnapshotItem::Start { total: 1, .. })));
        let Err(BackendError::Server(why)) = &items[1] else {
            panic!("not refused: {:?}", items[1]);
        };
        assert!(why.contains("longer than 4194304 bytes"), "{why}");
    }

    #[tokio::test]
    async fn exported_tickets_are_read_and_the_rest_after_the_end_is_ignored() {
        let mut body = export(1, &[ticket(1, "Hola\u{1b}[2J mundo")], Some(1));
        body.extend_from_slice(b"not json at all\n");
        let items = read_export(&body, 8).await;
        assert_eq!(items.len(), 3, "{items:?}");
        let Ok(SnapshotItem::Ticket(t)) = &items[1] else {
            panic!("no ticket: {:?}", items[1]);
        };
        assert_eq!(t.title, "Hola\u{1b}[2J mundo", "cleaning is the wrapper's");
        assert_eq!(items[2], Ok(SnapshotItem::End { count: 1 }));
    }
}
