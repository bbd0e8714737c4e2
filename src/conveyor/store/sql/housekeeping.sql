-- The background loop's duties: promote what is due, reap expired leases, delete what expired.

-- name: scheduled_due
SELECT {execution_columns} FROM {executions:ix_executions_scheduled}
WHERE status = 'scheduled' AND scheduled_for <= ? ORDER BY scheduled_for LIMIT ?{skip_locked}

-- name: leases_expired
SELECT {execution_columns} FROM {executions:ix_executions_lease}
WHERE lease_expires_at < ? AND status IN {held} ORDER BY lease_expires_at LIMIT ?{skip_locked}

-- name: expired_ids
SELECT id FROM {executions:ix_executions_expires} WHERE expires_at <= ? LIMIT ?{skip_locked}

-- name: delete_old_idempotency_keys
DELETE FROM idempotency_keys WHERE created_at < ?

-- name: next_scheduled_for
SELECT MIN(scheduled_for) FROM {executions:ix_executions_scheduled} WHERE status = 'scheduled'

-- name: take_count_deltas
-- Folding the counts: every delta row is taken (each exactly once, whoever else folds at the same
-- time) and their sums written back as one row per key, in one transaction.
DELETE FROM execution_counts RETURNING status, queue, workflow, n

-- name: insert_count
INSERT INTO execution_counts (status, queue, workflow, n) VALUES (?, ?, ?, ?)
