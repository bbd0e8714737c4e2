-- PostgreSQL only: batches as column arrays, advisory locks for admission, and the wake-up channel.
-- Many rows travel as column arrays: one statement whatever the batch size, where executemany
-- sends and runs one statement per row. (One JSON document instead was measured slower.)

-- name: pg_update_executions
-- update_execution for many rows: the mutable columns, then id and the status they were read with.
UPDATE executions AS e SET
    status = v.status, updated_at = v.updated_at, scheduled_for = v.scheduled_for,
    started_at = v.started_at, ended_at = v.ended_at, attempt = v.attempt, max_attempts = v.max_attempts,
    expires_at = v.expires_at, worker_id = v.worker_id, lease_expires_at = v.lease_expires_at,
    total_operations = v.total_operations, finished_operations = v.finished_operations,
    result = v.result, error = v.error, state = v.state
FROM unnest(
    ?::text[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::int4[], ?::int4[], ?::float8[],
    ?::text[], ?::float8[], ?::int4[], ?::int4[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]
) AS v(
    status, updated_at, scheduled_for, started_at, ended_at, attempt, max_attempts, expires_at,
    worker_id, lease_expires_at, total_operations, finished_operations, result, error, state,
    id, old_status
)
WHERE e.id = v.id AND e.status = v.old_status

-- name: pg_insert_events
INSERT INTO events (execution_id, ts, kind, level, message, data)
SELECT * FROM unnest(?::text[], ?::float8[], ?::text[], ?::text[], ?::text[], ?::text[])
    AS v(execution_id, ts, kind, level, message, data)

-- name: pg_lock_admission
SELECT pg_advisory_xact_lock(?)

-- name: pg_lock_admission_shared
SELECT pg_advisory_xact_lock_shared(?)

-- name: pg_lock_target
SELECT pg_advisory_xact_lock(?, hashtext(?))

-- name: pg_notify_work
NOTIFY conveyor_work

-- name: pg_listen_work
LISTEN conveyor_work
