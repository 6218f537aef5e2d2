-- An idempotency key answers a retry of the same request only: the request
-- it was first used for (method, path and body) is kept as a SHA-256, and a
-- reuse with another request is refused. Keys and change-feed entries are
-- pruned by age, so both get an index on it.

ALTER TABLE idempotency_keys ADD COLUMN request_hash TEXT;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
CREATE INDEX changes_by_age ON changes (at);
