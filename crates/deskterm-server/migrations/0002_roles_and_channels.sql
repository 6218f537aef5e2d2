-- Roles, revocation, and the channels customers write in on.
--
-- An operator is an `agent` (works tickets) or an `admin` (also manages
-- operators, channels and custom statuses). A database from before roles
-- keeps a usable admin: its first operator. Everyone else stays an agent.
ALTER TABLE operators ADD COLUMN role TEXT NOT NULL DEFAULT 'agent'
    CHECK (role IN ('agent', 'admin'));
UPDATE operators SET role = 'admin' WHERE id = (SELECT MIN(id) FROM operators);

-- A revoked operator has no tokens and can be given none; their name stays
-- on the tickets and notes they touched.
ALTER TABLE operators ADD COLUMN revoked_at TEXT;

-- A channel (WhatsApp, web form, e-mail gateway…) that posts customers'
-- messages to `/channels/{name}/inbound`.
CREATE TABLE channels (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    name_folded TEXT    NOT NULL UNIQUE,
    created_at  TEXT    NOT NULL
);

-- Only the SHA-256 of a channel token is kept, as for operators.
CREATE TABLE channel_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    hash       BLOB    NOT NULL UNIQUE,
    created_at TEXT    NOT NULL
);
CREATE INDEX channel_tokens_by_channel ON channel_tokens (channel_id);

-- Which channel token brought an inbound message (none for outbound ones
-- and for messages from before channel tokens).
ALTER TABLE messages ADD COLUMN channel_token_id INTEGER REFERENCES channel_tokens (id);
