-- API tokens, idempotency keys and the workflows workers announce.

-- name: insert_token
INSERT INTO tokens (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)

-- name: token_by_hash
SELECT id, name, role, token_hash, created_at FROM tokens WHERE token_hash = ?

-- name: list_tokens
SELECT id, name, role, token_hash, created_at FROM tokens ORDER BY created_at

-- name: delete_token
DELETE FROM tokens WHERE id = ?

-- name: count_tokens
SELECT COUNT(*) FROM tokens

-- name: idempotent_answer
SELECT status_code, body, request_hash FROM idempotency_keys WHERE key = ?

-- name: insert_idempotent_answer
INSERT INTO idempotency_keys (key, status_code, body, created_at, request_hash) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (key) DO NOTHING

-- name: upsert_workflow
INSERT INTO workflows (name, info, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET info = excluded.info, updated_at = excluded.updated_at

-- name: list_workflows
SELECT info FROM workflows ORDER BY name
