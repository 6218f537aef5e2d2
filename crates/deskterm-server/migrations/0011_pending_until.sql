-- Until when a ticket waits (for the customer, a part…): when the time
-- passes the server runs the `pending_elapsed` automations and clears it.
-- The partial index is what the server's timer reads: the next time due.
ALTER TABLE tickets ADD COLUMN pending_until TEXT;
CREATE INDEX tickets_by_pending_until ON tickets (pending_until) WHERE pending_until IS NOT NULL;
