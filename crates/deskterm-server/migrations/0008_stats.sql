-- Statistics at a million tickets.
--
-- What is open now is read from counters kept per (status, priority,
-- category, operator) by triggers on every insert, update and delete of a
-- ticket: a few thousand rows at most, whatever the number of tickets. A
-- missing category or operator is kept as 0 (ids start at 1), so each
-- combination has exactly one row.
CREATE TABLE ticket_counts (
    status       TEXT    NOT NULL,
    priority     INTEGER NOT NULL,
    category_key INTEGER NOT NULL,
    operator_key INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (status, priority, category_key, operator_key)
) WITHOUT ROWID;

INSERT INTO ticket_counts (status, priority, category_key, operator_key, count)
SELECT status, priority, coalesce(category_id, 0), coalesce(operator_id, 0), count(*)
FROM tickets
GROUP BY status, priority, coalesce(category_id, 0), coalesce(operator_id, 0);

CREATE TRIGGER ticket_counts_on_insert AFTER INSERT ON tickets
BEGIN
    INSERT INTO ticket_counts (status, priority, category_key, operator_key, count)
    VALUES (NEW.status, NEW.priority, coalesce(NEW.category_id, 0), coalesce(NEW.operator_id, 0), 1)
    ON CONFLICT (status, priority, category_key, operator_key) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER ticket_counts_on_delete AFTER DELETE ON tickets
BEGIN
    UPDATE ticket_counts SET count = count - 1
    WHERE status = OLD.status AND priority = OLD.priority
      AND category_key = coalesce(OLD.category_id, 0)
      AND operator_key = coalesce(OLD.operator_id, 0);
END;

CREATE TRIGGER ticket_counts_on_update
AFTER UPDATE OF status, priority, category_id, operator_id ON tickets
WHEN OLD.status IS NOT NEW.status OR OLD.priority IS NOT NEW.priority
  OR OLD.category_id IS NOT NEW.category_id OR OLD.operator_id IS NOT NEW.operator_id
BEGIN
    UPDATE ticket_counts SET count = count - 1
    WHERE status = OLD.status AND priority = OLD.priority
      AND category_key = coalesce(OLD.category_id, 0)
      AND operator_key = coalesce(OLD.operator_id, 0);
    INSERT INTO ticket_counts (status, priority, category_key, operator_key, count)
    VALUES (NEW.status, NEW.priority, coalesce(NEW.category_id, 0), coalesce(NEW.operator_id, 0), 1)
    ON CONFLICT (status, priority, category_key, operator_key) DO UPDATE SET count = count + 1;
END;

-- What happened in a period is a range of one of these: tickets closed in
-- it (with what the time to close needs), and each ticket's answers in the
-- chat in time order (its first one is one seek).
CREATE INDEX tickets_by_closed ON tickets (closed_at, category_id, operator_id, created_at)
    WHERE closed_at IS NOT NULL;
CREATE INDEX tickets_by_created_for_stats ON tickets (created_at, category_id, operator_id);
CREATE INDEX messages_by_ticket_direction ON messages (ticket_id, direction, created_at);
