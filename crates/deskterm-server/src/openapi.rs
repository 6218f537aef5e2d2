//! The OpenAPI document of the API, served at `/api/v1/openapi.json`: the
//! schemas are generated from the wire types of `deskterm-api` (their
//! serde attributes included), the operations are listed here beside the
//! routes they describe, and a test checks that every route is in it.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use deskterm_api as api;
use deskterm_api::{BASE_PATH, NDJSON_CONTENT_TYPE, PROBLEM_CONTENT_TYPE};
use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// An operator's bearer token.
    Operator,
    /// A channel's bearer token.
    Channel,
    /// Anyone.
    Public,
}

/// A parameter of an operation.
struct Param {
    name: &'static str,
    place: ParameterIn,
    kind: Type,
    required: bool,
    about: &'static str,
    /// Smallest and largest value taken, for numbers.
    bounds: Option<(f64, f64)>,
}

const fn path_id(about: &'static str) -> Param {
    Param {
        name: "id",
        place: ParameterIn::Path,
        kind: Type::Integer,
        required: true,
        about,
        bounds: None,
    }
}

const fn query(name: &'static str, kind: Type, about: &'static str) -> Param {
    Param {
        name,
        place: ParameterIn::Query,
        kind,
        required: false,
        about,
        bounds: None,
    }
}

const fn header_param(name: &'static str, required: bool, about: &'static str) -> Param {
    Param {
        name,
        place: ParameterIn::Header,
        kind: Type::String,
        required,
        about,
        bounds: None,
    }
}

/// What a successful answer holds.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// Nothing (204).
    Empty,
    /// One object of the named schema.
    One(&'static str),
    /// A list of objects of the named schema.
    List(&'static str),
    /// A stream of another type (`application/x-ndjson`, `text/event-stream`).
    Stream(&'static str),
}

/// One operation of the API.
struct Op {
    method: HttpMethod,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    auth: Auth,
    params: &'static [Param],
    request: Option<&'static str>,
    status: u16,
    answer: Body,
}

const LIMIT: Param = Param {
    bounds: Some((1.0, api::PAGE_LIMIT_MAX as f64)),
    ..query("limit", Type::Integer, "page size")
};
const IDEMPOTENCY: Param = header_param(
    api::IDEMPOTENCY_KEY_HEADER,
    false,
    "makes a retried write harmless: the same key gets the first answer",
);
const IF_MATCH: Param = header_param(
    "If-Match",
    true,
    "the ticket's ETag as last read; a stale one is answered 412 with the current ticket",
);

/// Every operation the server serves under [`BASE_PATH`].
const OPERATIONS: &[Op] = &[
    Op {
        method: HttpMethod::Get,
        path: "/openapi.json",
        id: "openapi",
        summary: "This document",
        auth: Auth::Public,
        params: &[],
        request: None,
        status: 200,
        answer: Body::Stream("application/json"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/me",
        id: "getMe",
        summary: "The signed-in operator and their role",
        auth: Auth::Operator,
        params: &[],
        request: None,
        status: 200,
        answer: Body::One("MeWithRole"),
    },
    Op {
        method: HttpMethod::Patch,
        path: "/me",
        id: "patchMe",
        summary: "Change the operator's own profile option",
        auth: Auth::Operator,
        params: &[],
        request: Some("MePatch"),
        status: 200,
        answer: Body::One("MeWithRole"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/meta",
        id: "getMeta",
        summary: "Statuses, priorities, categories, operators, tags, channels, capabilities",
        auth: Auth::Operator,
        params: &[],
        request: None,
        status: 200,
        answer: Body::One("Meta"),
    },
    Op {
        method: HttpMethod::Post,
        path: "/statuses",
        id: "addStatus",
        summary: "Add a custom status (administrators)",
        auth: Auth::Operator,
        params: &[],
        request: Some("NewStatus"),
        status: 201,
        answer: Body::One("StatusDef"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/tickets",
        id: "listTickets",
        summary: "A filtered, sorted page of tickets",
        auth: Auth::Operator,
        params: &[
            query("status", Type::String, "status keys, comma-separated"),
            query("macro_status", Type::String, "in_progress or closed"),
            query("priority", Type::String, "priorities, comma-separated"),
            query(
                "operator",
                Type::String,
                "operator ids, comma-separated, or none",
            ),
            query("category", Type::String, "category names, comma-separated"),
            query("contact", Type::Integer, "a contact's id"),
            query("q", Type::String, "words in the reference or title"),
            query("sort", Type::String, "a field, `-` first for descending"),
            LIMIT,
            query("cursor", Type::String, "from the previous page"),
        ],
        request: None,
        status: 200,
        answer: Body::One("TicketPage"),
    },
    Op {
        method: HttpMethod::Post,
        path: "/tickets",
        id: "createTicket",
        summary: "Open a ticket",
        auth: Auth::Operator,
        params: &[IDEMPOTENCY],
        request: Some("NewTicket"),
        status: 201,
        answer: Body::One("Ticket"),
    },
    Op {
        method: HttpMethod::Get,
        path: api::TICKET_EXPORT_PATH,
        id: "exportTickets",
        summary: "Every ticket as one consistent stream of JSON lines",
        auth: Auth::Operator,
        params: &[query(
            "closed_since",
            Type::String,
            "leave out tickets closed before this time (RFC 3339)",
        )],
        request: None,
        status: 200,
        answer: Body::Stream(NDJSON_CONTENT_TYPE),
    },
    Op {
        method: HttpMethod::Get,
        path: "/tickets/{id}",
        id: "getTicket",
        summary: "One ticket",
        auth: Auth::Operator,
        params: &[path_id("the ticket")],
        request: None,
        status: 200,
        answer: Body::One("Ticket"),
    },
    Op {
        method: HttpMethod::Patch,
        path: "/tickets/{id}",
        id: "patchTicket",
        summary: "Change fields of a ticket (a JSON merge patch)",
        auth: Auth::Operator,
        params: &[path_id("the ticket"), IF_MATCH],
        request: Some("TicketPatch"),
        status: 200,
        answer: Body::One("Ticket"),
    },
    Op {
        method: HttpMethod::Delete,
        path: "/tickets/{id}",
        id: "deleteTicket",
        summary: "Delete a ticket",
        auth: Auth::Operator,
        params: &[path_id("the ticket"), IF_MATCH],
        request: None,
        status: 204,
        answer: Body::Empty,
    },
    Op {
        method: HttpMethod::Get,
        path: "/tickets/{id}/notes",
        id: "listNotes",
        summary: "A ticket's internal notes, oldest first",
        auth: Auth::Operator,
        params: &[path_id("the ticket")],
        request: None,
        status: 200,
        answer: Body::List("Note"),
    },
    Op {
        method: HttpMethod::Post,
        path: "/tickets/{id}/notes",
        id: "addNote",
        summary: "Add an internal note",
        auth: Auth::Operator,
        params: &[path_id("the ticket"), IDEMPOTENCY],
        request: Some("NewNote"),
        status: 201,
        answer: Body::One("Note"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/tickets/{id}/history",
        id: "ticketHistory",
        summary: "Who changed what in a ticket, oldest first, a page at a time",
        auth: Auth::Operator,
        params: &[
            path_id("the ticket"),
            query("after", Type::String, "the previous page's next_cursor"),
            LIMIT,
        ],
        request: None,
        status: 200,
        answer: Body::One("HistoryPage"),
    },
    Op {
        method: HttpMethod::Post,
        path: "/tickets/{id}/escalations",
        id: "escalateTicket",
        summary: "E-mail the ticket, its customer and the last 100 messages to people outside \
                  the helpdesk (queued, sent and retried by the server)",
        auth: Auth::Operator,
        params: &[path_id("the ticket"), IDEMPOTENCY],
        request: Some("NewEscalation"),
        status: 202,
        answer: Body::One("Escalation"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/contacts",
        id: "searchContacts",
        summary: "Contacts whose name, phone or e-mail holds the words",
        auth: Auth::Operator,
        params: &[query("q", Type::String, "what to find"), LIMIT],
        request: None,
        status: 200,
        answer: Body::List("Contact"),
    },
    Op {
        method: HttpMethod::Post,
        path: "/contacts",
        id: "createContact",
        summary: "Add a contact",
        auth: Auth::Operator,
        params: &[],
        request: Some("NewContact"),
        status: 201,
        answer: Body::One("Contact"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/contacts/{id}",
        id: "getContact",
        summary: "One contact",
        auth: Auth::Operator,
        params: &[path_id("the contact")],
        request: None,
        status: 200,
        answer: Body::One("Contact"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/contacts/{id}/tickets",
        id: "contactTickets",
        summary: "A contact's tickets, newest first",
        auth: Auth::Operator,
        params: &[path_id("the contact"), LIMIT],
        request: None,
        status: 200,
        answer: Body::List("Ticket"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/contacts/{id}/messages",
        id: "listMessages",
        summary: "A contact's conversation, oldest first",
        auth: Auth::Operator,
        params: &[
            path_id("the contact"),
            query("after", Type::Integer, "messages after this id"),
            LIMIT,
        ],
        request: None,
        status: 200,
        answer: Body::List("ChatMessage"),
    },
    Op {
        method: HttpMethod::Post,
        path: "/contacts/{id}/messages",
        id: "sendMessage",
        summary: "Write to the customer",
        auth: Auth::Operator,
        params: &[path_id("the contact"), IDEMPOTENCY],
        request: Some("NewMessage"),
        status: 201,
        answer: Body::One("ChatMessage"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/stats",
        id: "stats",
        summary: "Open tickets per status, priority and category; time to close; first response; per day",
        auth: Auth::Operator,
        params: &[
            query(
                "from",
                Type::String,
                "first day, YYYY-MM-DD (default: 30 days ago)",
            ),
            query("to", Type::String, "last day, included (default: today)"),
            query("category", Type::String, "a category's name, or none"),
            query("operator", Type::String, "an operator's id, or none"),
        ],
        request: None,
        status: 200,
        answer: Body::One("Stats"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/changes",
        id: "changes",
        summary: "The change feed: what changed after a sequence number",
        auth: Auth::Operator,
        params: &[
            query("since", Type::Integer, "the last sequence number seen"),
            LIMIT,
        ],
        request: None,
        status: 200,
        answer: Body::One("ChangesPage"),
    },
    Op {
        method: HttpMethod::Get,
        path: "/events",
        id: "events",
        summary: "The change feed pushed as Server-Sent Events",
        auth: Auth::Operator,
        params: &[
            query("since", Type::Integer, "the last sequence number seen"),
            header_param("Last-Event-ID", false, "resumes after this event"),
        ],
        request: None,
        status: 200,
        answer: Body::Stream("text/event-stream"),
    },
    Op {
        method: HttpMethod::Post,
        path: "/channels/{channel}/inbound",
        id: "inbound",
        summary: "A customer's message, posted by their channel",
        auth: Auth::Channel,
        params: &[
            Param {
                name: "channel",
                place: ParameterIn::Path,
                kind: Type::String,
                required: true,
                about: "the channel's name, as its token says",
                bounds: None,
            },
            IDEMPOTENCY,
        ],
        request: Some("InboundMessage"),
        status: 201,
        answer: Body::One("ChatMessage"),
    },
];

fn schema_ref(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn operation(op: &Op) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new()
        .operation_id(Some(op.id))
        .summary(Some(op.summary));
    for p in op.params {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(p.name)
                .parameter_in(p.place.clone())
                .required(if p.required {
                    Required::True
                } else {
                    Required::False
                })
                .description(Some(p.about))
                .schema(Some({
                    let mut schema = ObjectBuilder::new().schema_type(p.kind.clone());
                    if let Some((min, max)) = p.bounds {
                        schema = schema.minimum(Some(min)).maximum(Some(max));
                    }
                    schema
                })),
        );
    }
    if let Some(request) = op.request {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content("application/json", Content::new(Some(schema_ref(request))))
                .build(),
        ));
    }
    let ok = match op.answer {
        Body::Empty => ResponseBuilder::new().description("done"),
        Body::One(name) => ResponseBuilder::new()
            .description("the answer")
            .content("application/json", Content::new(Some(schema_ref(name)))),
        Body::List(name) => ResponseBuilder::new().description("the answer").content(
            "application/json",
            Content::new(Some(ArrayBuilder::new().items(schema_ref(name)))),
        ),
        Body::Stream(content_type) => ResponseBuilder::new()
            .description("a stream")
            .content(content_type, Content::new(None::<RefOr<Schema>>)),
    };
    builder = builder
        .response(op.status.to_string(), ok.build())
        .response(
            "default",
            ResponseBuilder::new()
                .description("an error, as an RFC 9457 problem document")
                .content(
                    PROBLEM_CONTENT_TYPE,
                    Content::new(Some(schema_ref("Problem"))),
                )
                .build(),
        );
    builder = match op.auth {
        Auth::Operator => {
            builder.security(SecurityRequirement::new("operator", Vec::<String>::new()))
        }
        Auth::Channel => {
            builder.security(SecurityRequirement::new("channel", Vec::<String>::new()))
        }
        Auth::Public => builder,
    };
    builder.build()
}

/// Adds `T`'s schema and those it refers to.
fn schema<T: ToSchema>(all: &mut Vec<(String, RefOr<Schema>)>) {
    all.push((T::name().into_owned(), T::schema()));
    T::schemas(all);
}

/// A bearer-token scheme.
fn bearer(about: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(about))
            .build(),
    )
}

/// The document, built once.
pub(crate) fn document() -> &'static OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(build)
}

fn build() -> OpenApi {
    let mut paths = Paths::new();
    for op in OPERATIONS {
        let path = format!("{BASE_PATH}{}", op.path);
        paths.add_path_operation(path, vec![op.method.clone()], operation(op));
    }
    let mut schemas = Vec::new();
    schema::<api::MeWithRole>(&mut schemas);
    schema::<api::MePatch>(&mut schemas);
    schema::<api::Meta>(&mut schemas);
    schema::<api::NewStatus>(&mut schemas);
    schema::<api::StatusDef>(&mut schemas);
    schema::<api::TicketPage>(&mut schemas);
    schema::<api::Ticket>(&mut schemas);
    schema::<api::NewTicket>(&mut schemas);
    schema::<api::TicketPatch>(&mut schemas);
    schema::<api::Note>(&mut schemas);
    schema::<api::NewEscalation>(&mut schemas);
    schema::<api::Escalation>(&mut schemas);
    schema::<api::NewNote>(&mut schemas);
    schema::<api::HistoryPage>(&mut schemas);
    schema::<api::Contact>(&mut schemas);
    schema::<api::NewContact>(&mut schemas);
    schema::<api::ChatMessage>(&mut schemas);
    schema::<api::NewMessage>(&mut schemas);
    schema::<api::InboundMessage>(&mut schemas);
    schema::<api::ChangesPage>(&mut schemas);
    schema::<api::Stats>(&mut schemas);
    schema::<api::Problem>(&mut schemas);
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "operator",
            bearer("an operator's token (`deskterm operator add`)"),
        )
        .security_scheme(
            "channel",
            bearer("a channel's token (`deskterm channel add`)"),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("deskterm helpdesk API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The reference helpdesk server of deskterm. Errors are RFC 9457 \
                     problem documents; writes to tickets carry If-Match.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

/// `GET /api/v1/openapi.json`.
pub(crate) async fn serve() -> Response {
    match document().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => {
            crate::problem::ApiError::internal(format!("the OpenAPI document: {e}")).into_response()
        }
    }
}
