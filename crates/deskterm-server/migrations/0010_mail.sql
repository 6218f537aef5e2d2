-- E-mail: what the server sends, kept until it is sent.
--
-- `mail_queue` holds every e-mail to send (operator notifications and
-- escalations), whole, from the moment it is decided: a server that stops
-- or an SMTP server that is down loses none. A failed attempt moves
-- `next_attempt_at` back and keeps the reason; a sent one keeps `sent_at`
-- for a week.
CREATE TABLE mail_queue (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL, -- notification | escalation
    ticket_id       INTEGER,
    recipients      TEXT    NOT NULL, -- JSON array of addresses
    reply_to        TEXT,
    subject         TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT,
    sent_at         TEXT
);
CREATE INDEX mail_queue_unsent ON mail_queue (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX mail_queue_sent ON mail_queue (sent_at) WHERE sent_at IS NOT NULL;

-- Tickets changed since their last notification, one row each: the first
-- history entry not yet told and when the notification is due (the first
-- change plus the batching window), so a ticket changed ten times in a
-- minute makes one e-mail.
CREATE TABLE mail_batches (
    ticket_id        INTEGER PRIMARY KEY,
    first_history_id INTEGER NOT NULL,
    due_at           TEXT    NOT NULL
);
CREATE INDEX mail_batches_by_due ON mail_batches (due_at);

-- How far the history has been read for notifications (one row; absent
-- until the mail task first runs, which starts it at the newest entry so
-- an existing helpdesk is not told its past).
CREATE TABLE mail_cursor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    history_id INTEGER NOT NULL
);
