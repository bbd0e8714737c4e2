"""API tokens (stored hashed), idempotency keys, and the workflows workers announce."""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor.core.model import IdempotentAnswer, Token, WorkflowInfo
from conveyor.store import rows
from conveyor.store.db import Db


class Tokens:
    db: Db

    def token_add(self, token: Token) -> None:
        t = token
        with self.db.tx() as conn:
            self.db.run(
                conn, "insert_token", (t.id, t.name, str(t.role), t.token_hash, rows.ts(t.created_at))
            )

    def token_find(self, token_hash: str) -> Token | None:
        found = self.db.read("token_by_hash", (token_hash,))
        return rows.token_from_row(found[0]) if found else None

    def token_list(self) -> builtins.list[Token]:
        return [rows.token_from_row(r) for r in self.db.read("list_tokens")]

    def token_delete(self, token_id: str) -> bool:
        with self.db.tx() as conn:
            return bool(self.db.run(conn, "delete_token", (token_id,)).rowcount == 1)

    def token_count(self) -> int:
        return int(self.db.read("count_tokens")[0][0])

    def idempotency_get(self, key: str) -> IdempotentAnswer | None:
        found = self.db.read("idempotent_answer", (key,))
        return _answer(found[0]) if found else None

    def idempotency_put(
        self, key: str, status_code: int, body: str, *, request_hash: str | None = None, now: datetime
    ) -> IdempotentAnswer:
        with self.db.tx() as conn:
            self.db.run(
                conn, "insert_idempotent_answer", (key, status_code, body, rows.ts(now), request_hash)
            )
            return _answer(self.db.run(conn, "idempotent_answer", (key,)).fetchone())

    def workflow_upsert(self, infos: Sequence[WorkflowInfo]) -> None:
        now = time.time()
        with self.db.tx() as conn:
            values = [(i.name, rows.dumps(i.to_dict()), now) for i in infos]
            conn.executemany(self.db.sql["upsert_workflow"], values)

    def workflow_list(self) -> builtins.list[WorkflowInfo]:
        return [WorkflowInfo(**rows.loads(info)) for (info,) in self.db.read("list_workflows")]


def _answer(row: Sequence[Any]) -> IdempotentAnswer:
    return IdempotentAnswer(int(row[0]), str(row[1]), None if row[2] is None else str(row[2]))
