-- The ticket list at a million tickets: every sort order walks an index and
-- every page starts with a seek, so a page costs the same at ticket 1 and at
-- ticket 1,000,000.
--
-- Four sort keys live in other tables (a status's position, a category's,
-- an operator's and a contact's folded name); an index can only order a
-- table by its own columns, so each ticket carries a copy of them. They are
-- set with every insert and update of a ticket, and the triggers below keep
-- them right for any other writer and when a name or position changes.

ALTER TABLE tickets ADD COLUMN status_position INTEGER;
ALTER TABLE tickets ADD COLUMN category_folded TEXT;
ALTER TABLE tickets ADD COLUMN operator_folded TEXT;
ALTER TABLE tickets ADD COLUMN contact_folded TEXT;

UPDATE tickets SET
    status_position = (SELECT position FROM statuses WHERE key = tickets.status),
    category_folded = (SELECT folded FROM categories WHERE id = tickets.category_id),
    operator_folded = (SELECT name_folded FROM operators WHERE id = tickets.operator_id),
    contact_folded  = (SELECT name_folded FROM contacts WHERE id = tickets.contact_id);

-- A page of `sort=<field>` is a range of one of these: the key, the ticket
-- id breaking ties, then the columns the common filters test (status,
-- priority, operator), so a filtered walk skips the tickets it does not
-- want without reading them from the table.
DROP INDEX tickets_by_updated;
DROP INDEX tickets_by_created;
DROP INDEX tickets_by_title;
DROP INDEX tickets_by_status;
DROP INDEX tickets_by_priority;
DROP INDEX tickets_by_operator;
DROP INDEX tickets_by_category;
CREATE INDEX tickets_by_reference ON tickets (reference_folded, id, status_position, priority, operator_id);
CREATE INDEX tickets_by_title     ON tickets (title_folded, id, status_position, priority, operator_id);
CREATE INDEX tickets_by_status    ON tickets (status_position, id, priority, operator_id);
CREATE INDEX tickets_by_priority  ON tickets (priority, id, status_position, operator_id);
CREATE INDEX tickets_by_category  ON tickets (category_folded, id, status_position, priority, operator_id);
CREATE INDEX tickets_by_operator  ON tickets (operator_folded, id, status_position, priority, operator_id);
CREATE INDEX tickets_by_contact_name ON tickets (contact_folded, id, status_position, priority, operator_id);
CREATE INDEX tickets_by_created   ON tickets (created_at, id, status_position, priority, operator_id);
CREATE INDEX tickets_by_updated   ON tickets (updated_at, id, status_position, priority, operator_id);
-- A filter matching few tickets reads them through its own index instead.
CREATE INDEX tickets_by_operator_id ON tickets (operator_id, id, status_position, priority);

CREATE TRIGGER tickets_sort_keys_on_insert AFTER INSERT ON tickets
WHEN NEW.status_position IS NOT (SELECT position FROM statuses WHERE key = NEW.status)
  OR NEW.category_folded IS NOT (SELECT folded FROM categories WHERE id = NEW.category_id)
  OR NEW.operator_folded IS NOT (SELECT name_folded FROM operators WHERE id = NEW.operator_id)
  OR NEW.contact_folded  IS NOT (SELECT name_folded FROM contacts WHERE id = NEW.contact_id)
BEGIN
    UPDATE tickets SET
        status_position = (SELECT position FROM statuses WHERE key = NEW.status),
        category_folded = (SELECT folded FROM categories WHERE id = NEW.category_id),
        operator_folded = (SELECT name_folded FROM operators WHERE id = NEW.operator_id),
        contact_folded  = (SELECT name_folded FROM contacts WHERE id = NEW.contact_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER tickets_sort_keys_on_update
AFTER UPDATE OF status, category_id, operator_id, contact_id,
                status_position, category_folded, operator_folded, contact_folded ON tickets
WHEN NEW.status_position IS NOT (SELECT position FROM statuses WHERE key = NEW.status)
  OR NEW.category_folded IS NOT (SELECT folded FROM categories WHERE id = NEW.category_id)
  OR NEW.operator_folded IS NOT (SELECT name_folded FROM operators WHERE id = NEW.operator_id)
  OR NEW.contact_folded  IS NOT (SELECT name_folded FROM contacts WHERE id = NEW.contact_id)
BEGIN
    UPDATE tickets SET
        status_position = (SELECT position FROM statuses WHERE key = NEW.status),
        category_folded = (SELECT folded FROM categories WHERE id = NEW.category_id),
        operator_folded = (SELECT name_folded FROM operators WHERE id = NEW.operator_id),
        contact_folded  = (SELECT name_folded FROM contacts WHERE id = NEW.contact_id)
    WHERE id = NEW.id;
END;

CREATE TRIGGER tickets_follow_status_position AFTER UPDATE OF position ON statuses
BEGIN
    UPDATE tickets SET status_position = NEW.position WHERE status = NEW.key;
END;

CREATE TRIGGER tickets_follow_category_name AFTER UPDATE OF folded ON categories
BEGIN
    UPDATE tickets SET category_folded = NEW.folded WHERE category_id = NEW.id;
END;

CREATE TRIGGER tickets_follow_operator_name AFTER UPDATE OF name_folded ON operators
BEGIN
    UPDATE tickets SET operator_folded = NEW.name_folded WHERE operator_id = NEW.id;
END;

CREATE TRIGGER tickets_follow_contact_name AFTER UPDATE OF name_folded ON contacts
BEGIN
    UPDATE tickets SET contact_folded = NEW.name_folded WHERE contact_id = NEW.id;
END;
