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

-- name: pg_claim
-- claim (worker.sql) in one statement with its status events: rows another claim holds are
-- passed over. Parameters: the queues, limit, worker, lease, now, now, then the event's ts,
-- level, message and data. (Queues as `IN (?, ...)`, not `= ANY(array)`: with one queue the
-- planner then walks ix_executions_pending in its order instead of sorting every pending row.)
WITH relaxed AS MATERIALIZED (
    -- This statement's commit does not wait for the disk: a claim lost in a crash of the database
    -- leaves the execution pending (claimed again) or its lease running out, as after any crash.
    SELECT set_config('synchronous_commit', 'off', true)
), picked AS (
    SELECT id FROM executions
    WHERE status = 'pending' AND queue IN ({queues}) ORDER BY priority DESC, id LIMIT ?
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE executions AS e SET
        status = 'running', worker_id = ?, lease_expires_at = ?, started_at = ?, updated_at = ?,
        attempt = e.attempt + 1
    FROM picked WHERE e.id = picked.id
    RETURNING e.*
), logged AS (
    INSERT INTO events (execution_id, ts, kind, level, message, data)
    SELECT id, ?::float8, 'status', ?, ?, ? FROM claimed
)
SELECT {execution_columns} FROM claimed, relaxed ORDER BY priority DESC, id

-- name: pg_finish_held
-- update_held (worker.sql) for many rows as column arrays, with the status events of the rows it
-- wrote, in one statement. Answers the ids written, and whether anything waits for admission.
WITH v AS (
    SELECT * FROM unnest(
        ?::text[], ?::float8[], ?::float8[], ?::float8[], ?::float8[], ?::int4[], ?::int4[],
        ?::float8[], ?::text[], ?::float8[], ?::int4[], ?::int4[], ?::text[], ?::text[], ?::text[],
        ?::text[], ?::text[], ?::text[], ?::int4[]
    ) AS v(
        status, updated_at, scheduled_for, started_at, ended_at, attempt, max_attempts, expires_at,
        worker_id, lease_expires_at, total_operations, finished_operations, result, error, state,
        id, old_status, holder, old_attempt
    )
), written AS (
    UPDATE executions AS e SET
        status = v.status, updated_at = v.updated_at, scheduled_for = v.scheduled_for,
        started_at = v.started_at, ended_at = v.ended_at, attempt = v.attempt,
        max_attempts = v.max_attempts, expires_at = v.expires_at, worker_id = v.worker_id,
        lease_expires_at = v.lease_expires_at, total_operations = v.total_operations,
        finished_operations = v.finished_operations, result = v.result, error = v.error,
        state = v.state
    FROM v
    WHERE e.id = v.id AND e.status = v.old_status AND e.worker_id = v.holder AND e.attempt = v.old_attempt
    RETURNING e.id
), logged AS (
    INSERT INTO events (execution_id, ts, kind, level, message, data)
    SELECT ev.* FROM unnest(?::text[], ?::float8[], ?::text[], ?::text[], ?::text[], ?::text[])
        AS ev(execution_id, ts, kind, level, message, data)
    WHERE ev.execution_id IN (SELECT id FROM written)
)
-- (The queued probe walks ix_executions_queued in its order, as any_queued does: a bare EXISTS
-- lets the planner scan the table when many rows are queued.)
SELECT ARRAY(SELECT id FROM written),
    (SELECT 1 FROM executions WHERE status = 'queued' ORDER BY priority DESC, id LIMIT 1) IS NOT NULL

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
