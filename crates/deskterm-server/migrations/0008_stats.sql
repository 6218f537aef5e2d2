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

-- What happened in a period is read from one row per day, category and
-- operator: tickets opened that day (and, of them, those answered and how
-- long the first answer took), tickets closed that day and how long they
-- took. Triggers keep the rows as tickets are opened, closed, reopened,
-- refiled, reassigned, answered and deleted; a year at a million tickets
-- is then a few hundred thousand small rows, not a million tickets.
ALTER TABLE tickets ADD COLUMN first_response_at TEXT;
UPDATE tickets SET first_response_at = (
    SELECT min(m.created_at) FROM messages m
    WHERE m.ticket_id = tickets.id AND m.direction = 'outbound');

CREATE TABLE ticket_days (
    day              TEXT    NOT NULL,
    category_key     INTEGER NOT NULL,
    operator_key     INTEGER NOT NULL,
    opened           INTEGER NOT NULL DEFAULT 0,
    answered         INTEGER NOT NULL DEFAULT 0,
    response_seconds REAL    NOT NULL DEFAULT 0,
    closed           INTEGER NOT NULL DEFAULT 0,
    close_seconds    REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (day, category_key, operator_key)
) WITHOUT ROWID;

INSERT INTO ticket_days (day, category_key, operator_key, opened, answered, response_seconds)
SELECT substr(created_at, 1, 10), coalesce(category_id, 0), coalesce(operator_id, 0), count(*),
       count(first_response_at),
       coalesce(sum((julianday(first_response_at) - julianday(created_at)) * 86400.0), 0)
FROM tickets
GROUP BY 1, 2, 3;

INSERT INTO ticket_days (day, category_key, operator_key, closed, close_seconds)
SELECT substr(closed_at, 1, 10), coalesce(category_id, 0), coalesce(operator_id, 0), count(*),
       sum((julianday(closed_at) - julianday(created_at)) * 86400.0)
FROM tickets WHERE closed_at IS NOT NULL
GROUP BY 1, 2, 3
ON CONFLICT (day, category_key, operator_key)
DO UPDATE SET closed = closed + excluded.closed, close_seconds = close_seconds + excluded.close_seconds;

-- A ticket counts in the day it was opened, and in the day it was closed.
CREATE TRIGGER ticket_days_on_insert AFTER INSERT ON tickets
BEGIN
    INSERT INTO ticket_days (day, category_key, operator_key, opened, answered, response_seconds)
    VALUES (substr(NEW.created_at, 1, 10), coalesce(NEW.category_id, 0), coalesce(NEW.operator_id, 0), 1,
            NEW.first_response_at IS NOT NULL,
            coalesce((julianday(NEW.first_response_at) - julianday(NEW.created_at)) * 86400.0, 0))
    ON CONFLICT (day, category_key, operator_key) DO UPDATE SET
        opened = opened + 1, answered = answered + excluded.answered,
        response_seconds = response_seconds + excluded.response_seconds;
    INSERT INTO ticket_days (day, category_key, operator_key, closed, close_seconds)
    SELECT substr(NEW.closed_at, 1, 10), coalesce(NEW.category_id, 0), coalesce(NEW.operator_id, 0), 1,
           (julianday(NEW.closed_at) - julianday(NEW.created_at)) * 86400.0
    WHERE NEW.closed_at IS NOT NULL
    ON CONFLICT (day, category_key, operator_key) DO UPDATE SET
        closed = closed + 1, close_seconds = close_seconds + excluded.close_seconds;
END;

CREATE TRIGGER ticket_days_on_delete AFTER DELETE ON tickets
BEGIN
    UPDATE ticket_days SET opened = opened - 1,
        answered = answered - (OLD.first_response_at IS NOT NULL),
        response_seconds = response_seconds
            - coalesce((julianday(OLD.first_response_at) - julianday(OLD.created_at)) * 86400.0, 0)
    WHERE day = substr(OLD.created_at, 1, 10) AND category_key = coalesce(OLD.category_id, 0)
      AND operator_key = coalesce(OLD.operator_id, 0);
    UPDATE ticket_days SET closed = closed - 1,
        close_seconds = close_seconds - (julianday(OLD.closed_at) - julianday(OLD.created_at)) * 86400.0
    WHERE OLD.closed_at IS NOT NULL AND day = substr(OLD.closed_at, 1, 10)
      AND category_key = coalesce(OLD.category_id, 0) AND operator_key = coalesce(OLD.operator_id, 0);
END;

CREATE TRIGGER ticket_days_on_update
AFTER UPDATE OF created_at, closed_at, category_id, operator_id, first_response_at ON tickets
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.closed_at IS NOT NEW.closed_at
  OR OLD.category_id IS NOT NEW.category_id OR OLD.operator_id IS NOT NEW.operator_id
  OR OLD.first_response_at IS NOT NEW.first_response_at
BEGIN
    UPDATE ticket_days SET opened = opened - 1,
        answered = answered - (OLD.first_response_at IS NOT NULL),
        response_seconds = response_seconds
            - coalesce((julianday(OLD.first_response_at) - julianday(OLD.created_at)) * 86400.0, 0)
    WHERE day = substr(OLD.created_at, 1, 10) AND category_key = coalesce(OLD.category_id, 0)
      AND operator_key = coalesce(OLD.operator_id, 0);
    UPDATE ticket_days SET closed = closed - 1,
        close_seconds = close_seconds - (julianday(OLD.closed_at) - julianday(OLD.created_at)) * 86400.0
    WHERE OLD.closed_at IS NOT NULL AND day = substr(OLD.closed_at, 1, 10)
      AND category_key = coalesce(OLD.category_id, 0) AND operator_key = coalesce(OLD.operator_id, 0);
    INSERT INTO ticket_days (day, category_key, operator_key, opened, answered, response_seconds)
    VALUES (substr(NEW.created_at, 1, 10), coalesce(NEW.category_id, 0), coalesce(NEW.operator_id, 0), 1,
            NEW.first_response_at IS NOT NULL,
            coalesce((julianday(NEW.first_response_at) - julianday(NEW.created_at)) * 86400.0, 0))
    ON CONFLICT (day, category_key, operator_key) DO UPDATE SET
        opened = opened + 1, answered = answered + excluded.answered,
        response_seconds = response_seconds + excluded.response_seconds;
    INSERT INTO ticket_days (day, category_key, operator_key, closed, close_seconds)
    SELECT substr(NEW.closed_at, 1, 10), coalesce(NEW.category_id, 0), coalesce(NEW.operator_id, 0), 1,
           (julianday(NEW.closed_at) - julianday(NEW.created_at)) * 86400.0
    WHERE NEW.closed_at IS NOT NULL
    ON CONFLICT (day, category_key, operator_key) DO UPDATE SET
        closed = closed + 1, close_seconds = close_seconds + excluded.close_seconds;
END;

-- A ticket's first answer: the earliest operator message about it.
CREATE TRIGGER tickets_first_response AFTER INSERT ON messages
WHEN NEW.direction = 'outbound' AND NEW.ticket_id IS NOT NULL
BEGIN
    UPDATE tickets SET first_response_at = NEW.created_at
    WHERE id = NEW.ticket_id
      AND (first_response_at IS NULL OR first_response_at > NEW.created_at);
END;
