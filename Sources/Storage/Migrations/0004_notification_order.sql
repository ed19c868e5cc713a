-- Driftwatch schema, version 4: notifications of one group are delivered in order.
--
-- A firing notice that failed and waits for its retry must not be overtaken by the resolve
-- notice of the same group (the receiver would be left believing the alert fires). Delivery
-- leases a pending notification only when no older pending one of the same project, receiver
-- and group exists. Rows from before this version have group_key '' and are not ordered.
ALTER TABLE notifications ADD COLUMN group_key text NOT NULL DEFAULT '';
CREATE INDEX notifications_group_pending ON notifications (project, receiver, group_key, id)
    WHERE status = 'pending';
