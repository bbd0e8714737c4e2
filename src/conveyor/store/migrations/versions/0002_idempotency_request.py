"""idempotency keys remember the request they answered

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 17:50:00

A key is scoped to the caller, and reusing it with a different request
(method, path, query or body) is refused (422 idempotency_key_reused): the
stored answer needs the request's fingerprint beside it. Rows stored before have none and
replay as they did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("request_hash")
