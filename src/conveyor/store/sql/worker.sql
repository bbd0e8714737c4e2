-- The worker side: claims, leases, progress, finishing. {queues} and {ids} are placeholder lists.

-- name: claim
-- The core's states.Claim written in SQL, so that a claim is one statement whatever its size:
-- pending -> running, held by the worker until its lease, started now, one more attempt
-- (tests/store/test_claim.py holds it to the transition). The caller writes the status events.
-- PostgreSQL runs pg_claim, which also writes the events and skips rows other claims hold.
UPDATE executions SET
    status = 'running', worker_id = ?, lease_expires_at = ?, started_at = ?, updated_at = ?,
    attempt = attempt + 1
WHERE id IN (
    SELECT id FROM {executions:ix_executions_pending}
    WHERE status = 'pending' AND queue IN ({queues}) ORDER BY priority DESC, id LIMIT ?
)
RETURNING {execution_columns}

-- name: update_held
-- A worker's final write from its own copy of an execution: applied only while nobody else
-- changed the row since, i.e. it still has the copy's status, holder and attempt.
UPDATE executions SET
    status = ?, updated_at = ?, scheduled_for = ?, started_at = ?, ended_at = ?, attempt = ?,
    max_attempts = ?, expires_at = ?, worker_id = ?, lease_expires_at = ?, total_operations = ?,
    finished_operations = ?, result = ?, error = ?, state = ?
WHERE id = ? AND status = ? AND worker_id = ? AND attempt = ?

-- name: any_pending
SELECT 1 FROM executions WHERE status = 'pending' AND queue IN ({queues}) LIMIT 1

-- name: holders
SELECT id, status, worker_id FROM executions WHERE id IN ({ids})

-- name: heartbeat
UPDATE executions SET lease_expires_at = ?
WHERE worker_id = ? AND id IN ({ids}) AND status IN {held}
RETURNING id, status

-- name: set_progress
UPDATE executions SET
    finished_operations = COALESCE(?, finished_operations),
    total_operations = COALESCE(?, total_operations),
    state = COALESCE(?, state)
WHERE id = ? AND worker_id = ? AND status IN {held}
