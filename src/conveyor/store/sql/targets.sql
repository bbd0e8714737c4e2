-- Targets and target groups.

-- name: target_exists
SELECT 1 FROM targets WHERE name = ?

-- name: target_exists_locked
SELECT 1 FROM targets WHERE name = ?{lock}

-- name: insert_target
INSERT INTO targets (name, max_concurrent, labels, created_at) VALUES (?, ?, ?, ?)

-- name: ensure_target
INSERT INTO targets (name, max_concurrent, labels, created_at) VALUES (?, 1, NULL, ?)
ON CONFLICT (name) DO NOTHING

-- name: target_by_name
SELECT name, max_concurrent, labels, created_at FROM targets WHERE name = ?

-- name: list_targets
SELECT name, max_concurrent, labels, created_at FROM targets ORDER BY name

-- name: known_targets
SELECT name FROM targets WHERE name IN ({names})

-- name: update_target
UPDATE targets SET max_concurrent = COALESCE(?, max_concurrent), labels = COALESCE(?, labels)
WHERE name = ?

-- name: active_on_target
SELECT COUNT(*) FROM executions WHERE target = ? AND status IN {active}

-- name: delete_target_memberships
DELETE FROM target_group_members WHERE target = ?

-- name: delete_target
DELETE FROM targets WHERE name = ?

-- name: target_group_exists
SELECT 1 FROM target_groups WHERE name = ?

-- name: insert_target_group
INSERT INTO target_groups (name, description, created_at) VALUES (?, ?, ?)

-- name: target_group_by_name
SELECT name, description, created_at FROM target_groups WHERE name = ?

-- name: list_target_groups
SELECT name, description, created_at FROM target_groups ORDER BY name

-- name: target_group_members
SELECT group_name, target FROM target_group_members WHERE group_name IN ({names}) ORDER BY target

-- name: add_target_group_member
INSERT INTO target_group_members (group_name, target) VALUES (?, ?) ON CONFLICT DO NOTHING

-- name: remove_target_group_members
DELETE FROM target_group_members WHERE group_name = ? AND target IN ({names})

-- name: delete_target_group_members
DELETE FROM target_group_members WHERE group_name = ?

-- name: delete_target_group
DELETE FROM target_groups WHERE name = ?
