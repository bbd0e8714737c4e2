-- Execution groups. {group_columns} and {group_values} are store.groups.COLUMNS.

-- name: insert_execution_group
INSERT INTO execution_groups ({group_columns}) VALUES ({group_values})

-- name: execution_group_by_id
SELECT {group_columns} FROM execution_groups WHERE id = ?

-- name: list_execution_groups
SELECT {group_columns} FROM execution_groups ORDER BY id

-- name: execution_group_exists_locked
SELECT 1 FROM execution_groups WHERE id = ?{lock}

-- name: update_execution_group
-- Only the columns given (not NULL) change.
UPDATE execution_groups SET
    concurrency = COALESCE(?, concurrency),
    success_group = COALESCE(?, success_group),
    failed_group = COALESCE(?, failed_group)
WHERE id = ?

-- name: ended_members
SELECT {execution_columns} FROM executions WHERE group_id = ? AND status IN ('succeeded', 'failed')

-- name: group_sinks
SELECT id, success_group, failed_group FROM execution_groups WHERE id IN ({ids})

-- name: add_to_sink_group
-- Only into groups and for targets that still exist (either may have been deleted meanwhile).
INSERT INTO target_group_members (group_name, target) SELECT ?, ?
WHERE EXISTS (SELECT 1 FROM target_groups WHERE name = ?) AND EXISTS (SELECT 1 FROM targets WHERE name = ?)
ON CONFLICT DO NOTHING
