-- Idempotency keys belong to an operator or to a channel (a gateway posting
-- customers' messages retries with keys too), so the owner is a tagged text,
-- `operator:<id>` or `channel:<id>`, instead of an operator id. Operators are
-- revoked, never deleted, and keys are pruned after a day, so no foreign key
-- is lost that mattered.

CREATE TABLE idempotency_keys_by_owner (
    owner        TEXT    NOT NULL,
    scope        TEXT    NOT NULL, -- method and path, e.g. `POST /tickets`
    key          TEXT    NOT NULL,
    request_hash TEXT,
    status       INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    location     TEXT,
    etag         TEXT,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (owner, scope, key)
);
INSERT INTO idempotency_keys_by_owner
    (owner, scope, key, request_hash, status, body, location, etag, created_at)
    SELECT 'operator:' || operator_id, scope, key, request_hash, status, body, location, etag,
           created_at
    FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_owner RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
