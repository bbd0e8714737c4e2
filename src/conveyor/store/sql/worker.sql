-- The worker side: claims, leases, progress. {skip_locked} is the dialect's "lock the rows
-- and pass over those another transaction holds"; {queues} and {ids} are placeholder lists.

-- name: claim_pending
SELECT {execution_columns} FROM {executions:ix_executions_pending}
WHERE status = 'pending' AND queue IN ({queues}) ORDER BY priority DESC, id LIMIT ?{skip_locked}

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
