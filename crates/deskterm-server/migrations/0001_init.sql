-- The reference helpdesk: operators and their tokens, statuses, categories,
-- contacts, tickets with notes, chat messages, the change feed and the
-- idempotency store.
--
-- Times are TEXT in RFC 3339 with fixed millisecond precision and `Z`
-- (`2026-01-02T03:04:05.678Z`), so text order is time order.
-- `*_folded` columns hold Unicode-lowercased text (folded in Rust, since
-- SQLite's LOWER only folds ASCII) for case-insensitive sorting, search and
-- uniqueness.

CREATE TABLE operators (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT    NOT NULL,
    name_folded           TEXT    NOT NULL,
    email                 TEXT    NOT NULL,
    email_folded          TEXT    NOT NULL UNIQUE,
    receive_ticket_emails INTEGER NOT NULL DEFAULT 1,
    created_at            TEXT    NOT NULL
);
CREATE INDEX operators_by_name ON operators (name_folded, id);

-- Only the SHA-256 of a bearer token is kept; an operator may hold several.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id INTEGER NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    hash        BLOB    NOT NULL UNIQUE,
    created_at  TEXT    NOT NULL
);
CREATE INDEX tokens_by_operator ON tokens (operator_id);

-- `position` is the display order: built-in statuses first, custom ones as created.
CREATE TABLE statuses (
    key      TEXT    PRIMARY KEY,
    label    TEXT    NOT NULL,
    macro    TEXT    NOT NULL CHECK (macro IN ('in_progress', 'closed')),
    builtin  INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL UNIQUE
);
INSERT INTO statuses (key, label, macro, builtin, position) VALUES
    ('new',         'New',         'in_progress', 1, 0),
    ('open',        'Open',        'in_progress', 1, 1),
    ('pending',     'Pending',     'in_progress', 1, 2),
    ('resolved',    'Resolved',    'closed',      1, 3),
    ('closed',      'Closed',      'closed',      1, 4);

CREATE TABLE categories (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name   TEXT    NOT NULL,
    folded TEXT    NOT NULL UNIQUE
);

CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    name_folded  TEXT    NOT NULL,
    phone        TEXT,
    -- The phone's digits only, to recognise "+34 600 000 001" as "+34600000001".
    phone_digits TEXT,
    email        TEXT,
    email_folded TEXT,
    channel      TEXT,
    -- Folded name, e-mail and phone, for the contact picker's search.
    search       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL
);
CREATE INDEX contacts_by_name  ON contacts (name_folded, id);
CREATE INDEX contacts_by_phone ON contacts (phone_digits);
CREATE INDEX contacts_by_email ON contacts (email_folded);

CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused
    reference        TEXT    NOT NULL,
    reference_folded TEXT    NOT NULL UNIQUE,
    title            TEXT    NOT NULL,
    title_folded     TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    status           TEXT    NOT NULL REFERENCES statuses (key),
    priority         INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3), -- Priority::rank
    category_id      INTEGER REFERENCES categories (id),
    tags             TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    important        INTEGER NOT NULL DEFAULT 0,
    contact_id       INTEGER NOT NULL REFERENCES contacts (id),
    operator_id      INTEGER REFERENCES operators (id),
    channel          TEXT    NOT NULL,
    sla_due_at       TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    closed_at        TEXT,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tickets_by_updated  ON tickets (updated_at, id);
CREATE INDEX tickets_by_created  ON tickets (created_at, id);
CREATE INDEX tickets_by_status   ON tickets (status, id);
CREATE INDEX tickets_by_priority ON tickets (priority, id);
CREATE INDEX tickets_by_operator ON tickets (operator_id, id);
CREATE INDEX tickets_by_category ON tickets (category_id, id);
CREATE INDEX tickets_by_contact  ON tickets (contact_id, updated_at);
CREATE INDEX tickets_by_title    ON tickets (title_folded, id);

-- The last number used for a generated reference (`HD-000123`).
CREATE TABLE reference_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO reference_counter (id, value) VALUES (1, 0);

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    operator_id INTEGER NOT NULL REFERENCES operators (id),
    body        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);
CREATE INDEX notes_by_ticket ON notes (ticket_id, id);

-- A deleted ticket leaves its conversation in place, detached.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id  INTEGER NOT NULL REFERENCES contacts (id),
    ticket_id   INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
    direction   TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    operator_id INTEGER REFERENCES operators (id),
    body        TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);
CREATE INDEX messages_by_contact ON messages (contact_id, id);
CREATE INDEX messages_by_ticket  ON messages (ticket_id);

-- The change feed. `seq` is the rowid (its own index); AUTOINCREMENT keeps it
-- monotonic even if the newest rows are ever pruned.
CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT    NOT NULL,
    payload TEXT    NOT NULL, -- the serialized deskterm_api::ChangeKind
    at      TEXT    NOT NULL
);

-- Responses to creates and sends made with an Idempotency-Key, replayed on a retry.
CREATE TABLE idempotency_keys (
    operator_id INTEGER NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL, -- method and path, e.g. `POST /tickets`
    key         TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    location    TEXT,
    etag        TEXT,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (operator_id, scope, key)
);
