-- A ticket's history: every change to it (creation, each changed field,
-- notes, chat messages, deletion), written in the transaction that made
-- the change, and read a page at a time by `GET /tickets/{id}/history`.
--
-- `ticket_id` has no foreign key: the history outlives a deleted ticket.
-- The actor is a kind (`operator`, `channel`, `automation`, `system`), the
-- operator's id when an operator acted, and a name as it was at the time
-- (an operator's name, a channel's, `demo`…). `old_value` and `new_value`
-- are JSON; `at` is in the same RFC 3339 text as every other time.
-- Tickets written by `deskterm demo generate` (bulk SQL) have no history.

CREATE TABLE ticket_history (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id         INTEGER NOT NULL,
    at                TEXT    NOT NULL,
    actor_kind        TEXT    NOT NULL,
    actor_operator_id INTEGER REFERENCES operators (id),
    actor_name        TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    field             TEXT,
    old_value         TEXT,
    new_value         TEXT
);
CREATE INDEX ticket_history_by_ticket ON ticket_history (ticket_id, id);
