-- SLA: where each ticket stands against its due time, kept by the server.
--
-- `sla_state` is ok, at_risk or breached (NULL without a due time);
-- `sla_target_seconds` is the target the due time was set from (the
-- at-risk window is a share of it); a paused clock (a pending ticket)
-- keeps when it paused and how long it has been paused in all;
-- `sla_next_at` is when the state changes next by the passage of time
-- alone, so the server's timer reads only the tickets whose state is due.
ALTER TABLE tickets ADD COLUMN sla_state TEXT;
ALTER TABLE tickets ADD COLUMN sla_target_seconds INTEGER;
ALTER TABLE tickets ADD COLUMN sla_paused_since TEXT;
ALTER TABLE tickets ADD COLUMN sla_paused_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_next_at TEXT;
-- Tickets with a due time get their state from the timer's first pass.
UPDATE tickets SET sla_next_at = '0000-01-01T00:00:00.000Z'
WHERE sla_due_at IS NOT NULL AND closed_at IS NULL;
CREATE INDEX tickets_by_sla_next ON tickets (sla_next_at) WHERE sla_next_at IS NOT NULL;

-- A ticket written with a due time (the demo loader, the generator, an
-- older server) gets its state from the timer's next pass.
CREATE TRIGGER tickets_sla_state_due AFTER INSERT ON tickets
WHEN NEW.sla_due_at IS NOT NULL AND NEW.sla_next_at IS NULL AND NEW.closed_at IS NULL
BEGIN
    UPDATE tickets SET sla_next_at = '0000-01-01T00:00:00.000Z' WHERE id = NEW.id;
END;
