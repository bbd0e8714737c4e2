-- Workers: what each registered, and when it was last heard from.

-- name: upsert_worker
INSERT INTO workers (
    id, name, host, queues, workflows, concurrency, transport, version, labels, started_at,
    last_seen_at, stopped_at, token_id
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, host = excluded.host, queues = excluded.queues,
    workflows = excluded.workflows, concurrency = excluded.concurrency,
    transport = excluded.transport, version = excluded.version, labels = excluded.labels,
    last_seen_at = excluded.last_seen_at, stopped_at = NULL, token_id = excluded.token_id

-- name: worker_seen
UPDATE workers SET last_seen_at = ? WHERE id = ? AND stopped_at IS NULL

-- name: worker_stopped
UPDATE workers SET stopped_at = ?, last_seen_at = ? WHERE id = ?

-- name: worker_by_id
SELECT id, name, host, queues, workflows, concurrency, transport, version, labels, started_at,
    last_seen_at, stopped_at, token_id
FROM workers WHERE id = ?

-- name: list_workers
SELECT id, name, host, queues, workflows, concurrency, transport, version, labels, started_at,
    last_seen_at, stopped_at, token_id
FROM workers ORDER BY started_at DESC, id

-- name: delete_workers_stopped_before
DELETE FROM workers WHERE stopped_at IS NOT NULL AND stopped_at < ?

-- name: held_by_worker
-- How many executions each worker holds (held rows all have a lease: ix_executions_lease).
SELECT worker_id, COUNT(*) FROM executions
WHERE lease_expires_at IS NOT NULL AND status IN {held} AND worker_id IS NOT NULL GROUP BY worker_id

-- name: oldest_waiting
-- The oldest execution of a queue in one waiting status: ix_executions_status walked in id order
-- (ids are UUIDv7, so in creation order) up to the first of that queue.
SELECT created_at FROM executions WHERE status = ? AND queue = ? ORDER BY id LIMIT 1
