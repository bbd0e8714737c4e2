-- Executions and their events: reads, the transition write, inserts, deletes and admission.
-- Slots: {execution_columns} and {execution_values} are the columns of store.rows.COLUMNS;
-- {active} and {held} the statuses of core.model.ACTIVE and HELD; {lock} the dialect's row-lock
-- clause; {executions:ix_name} the table with the dialect's hint for that index; {ids}, {keys},
-- {names} placeholders for a list; {where}, {after}, {order_by} built by store.sqlbuild.

-- name: execution_by_id
SELECT {execution_columns} FROM executions WHERE id = ?

-- name: execution_by_id_locked
SELECT {execution_columns} FROM executions WHERE id = ?{lock}

-- name: executions_by_ids_locked
SELECT {execution_columns} FROM executions WHERE id IN ({ids}){lock}

-- name: executions_by_idempotency_key
SELECT {execution_columns} FROM executions WHERE idempotency_key IN ({keys})

-- name: insert_execution
INSERT INTO executions ({execution_columns}) VALUES ({execution_values})

-- name: update_execution
-- A transition, written only while the row still has the status it was read with.
UPDATE executions SET
    status = ?, updated_at = ?, scheduled_for = ?, started_at = ?, ended_at = ?, attempt = ?,
    max_attempts = ?, expires_at = ?, worker_id = ?, lease_expires_at = ?, total_operations = ?,
    finished_operations = ?, result = ?, error = ?, state = ?
WHERE id = ? AND status = ?

-- name: list_executions
SELECT {execution_columns} FROM executions WHERE {where} AND {after} ORDER BY {order_by} LIMIT ?

-- name: count_executions
SELECT COUNT(*) FROM executions WHERE {where}

-- name: execution_counts
-- Executions per status, queue and workflow: the sum of the deltas migration 0003's triggers write.
SELECT status, queue, workflow, SUM(n) FROM execution_counts
GROUP BY status, queue, workflow HAVING SUM(n) <> 0

-- name: execution_counts_of_targets
-- The same for some targets' executions, counted from the rows (a target's are few; ix_executions_target).
SELECT status, queue, workflow, COUNT(*) FROM executions WHERE target IN ({names})
GROUP BY status, queue, workflow

-- name: finished_ids
SELECT id FROM executions
WHERE {where} AND status IN ('succeeded', 'failed', 'cancelled') ORDER BY id DESC

-- name: finished_ids_but_newest
SELECT id FROM executions
WHERE {where} AND status IN ('succeeded', 'failed', 'cancelled') ORDER BY id DESC {offset}

-- name: delete_events_of
DELETE FROM events WHERE execution_id IN ({ids})

-- name: delete_executions
DELETE FROM executions WHERE id IN ({ids})

-- name: insert_event
INSERT INTO events (execution_id, ts, kind, level, message, data) VALUES (?, ?, ?, ?, ?, ?)

-- name: list_events
SELECT seq, execution_id, ts, kind, level, message, data FROM events
WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?

-- name: occupancy
SELECT target, is_system, group_id, COUNT(*) FROM executions WHERE status IN {active}
GROUP BY target, is_system, group_id

-- name: target_limits
SELECT name, max_concurrent FROM targets WHERE name IN ({keys})

-- name: group_limits
SELECT id, concurrency FROM execution_groups WHERE id IN ({keys})

-- name: any_queued
-- In ix_executions_queued's order: a bare LIMIT 1 lets PostgreSQL scan the table for the row.
SELECT 1 FROM {executions:ix_executions_queued} WHERE status = 'queued' ORDER BY priority DESC, id LIMIT 1

-- name: any_system_queued
SELECT 1 FROM {executions:ix_executions_queued} WHERE status = 'queued' AND is_system
ORDER BY priority DESC, id LIMIT 1

-- name: queued_in_order
SELECT {execution_columns} FROM {executions:ix_executions_queued} WHERE status = 'queued'
ORDER BY priority DESC, id LIMIT 1000

-- name: still_queued_locked
SELECT {execution_columns} FROM executions WHERE id IN ({ids}) AND status = 'queued'{lock}

-- name: targets_with_queued
SELECT DISTINCT target FROM executions WHERE status = 'queued' AND target IN ({names})
