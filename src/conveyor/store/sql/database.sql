-- The database itself: is it there, and at which schema revision (Alembic's table).

-- name: schema_revision
SELECT version_num FROM alembic_version
