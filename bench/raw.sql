-- The raw baseline: the least a job queue does per job (insert, claim, complete) on a bare table,
-- from a plain Python loop on one connection. What Conveyor's figures are compared with.
-- {id} is the dialect's auto-increment key; `?` placeholders throughout.

-- name: create
CREATE TABLE raw_jobs (id {id}, status TEXT NOT NULL, payload TEXT, worker TEXT, created_at REAL)

-- name: index
CREATE INDEX ix_raw_pending ON raw_jobs (id) WHERE status = 'pending'

-- name: insert
INSERT INTO raw_jobs (status, payload, created_at) VALUES ('pending', ?, ?)

-- name: claim
UPDATE raw_jobs SET status = 'running', worker = ?
WHERE id IN (SELECT id FROM raw_jobs WHERE status = 'pending' ORDER BY id LIMIT ?{skip_locked})
RETURNING id, payload

-- name: complete
UPDATE raw_jobs SET status = 'done' WHERE id = ?

-- name: complete_many_pg
UPDATE raw_jobs SET status = 'done' WHERE id = ANY(?)

-- name: insert_many_pg
INSERT INTO raw_jobs (status, payload, created_at) SELECT 'pending', p, ? FROM unnest(?::text[]) AS p
