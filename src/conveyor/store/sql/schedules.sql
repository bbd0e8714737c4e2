-- Schedules. {schedule_columns} and {schedule_values} are store.schedules.COLUMNS.

-- name: insert_schedule
INSERT INTO schedules ({schedule_columns}) VALUES ({schedule_values})

-- name: schedule_by_id
SELECT {schedule_columns} FROM schedules WHERE id = ?

-- name: schedule_by_id_locked
SELECT {schedule_columns} FROM schedules WHERE id = ?{lock}

-- name: list_schedules
SELECT {schedule_columns} FROM schedules WHERE {where} ORDER BY id LIMIT ?

-- name: schedules_due
SELECT {schedule_columns} FROM schedules
WHERE enabled AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?{skip_locked}

-- name: schedules_oninit
SELECT {schedule_columns} FROM schedules
WHERE enabled AND trigger_kind = 'oninit' ORDER BY id LIMIT ?{skip_locked}

-- name: update_schedule
UPDATE schedules SET
    workflow = ?, trigger_kind = ?, trigger_value = ?, timezone = ?, parameters = ?, target = ?,
    description = ?, params = ?, owner = ?, enabled = ?, suspended = ?, misfire = ?, misfire_limit = ?,
    grace = ?, overlap = ?, priority = ?, dry_run = ?, next_fire_at = ?, last_fired_at = ?,
    last_execution_id = ?, fire_count = ?, waiting = ?, last_error = ?, created_at = ?, updated_at = ?
WHERE id = ?

-- name: delete_schedules
DELETE FROM schedules WHERE id IN ({ids})

-- name: delete_schedules_of_target
DELETE FROM schedules WHERE target = ?

-- name: next_fire_at
SELECT MIN(next_fire_at) FROM schedules WHERE enabled
