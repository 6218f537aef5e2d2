-- `GET /meta` lists every tag and channel in use. Read from the tables, that
-- is a walk through every ticket, contact and message (3–7 s at a million
-- tickets, on every start of a client). With these indexes it hops from
-- one distinct value to the next (a few hundred seeks): see `routes/meta.rs`.
CREATE INDEX IF NOT EXISTS tickets_by_channel ON tickets (channel);
-- Tags are kept as a JSON array: distinct arrays are few, their tags fewer.
CREATE INDEX IF NOT EXISTS tickets_by_tags ON tickets (tags);
CREATE INDEX IF NOT EXISTS contacts_by_channel ON contacts (channel);
CREATE INDEX IF NOT EXISTS messages_by_channel ON messages (channel);
