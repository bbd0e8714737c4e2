"""Idempotency keys: the first answer given to a request, kept so a retry gets it again.

The native API (`Idempotency-Key`), batches and Jelastic's `ruk` store and replay
answers through this service; what a key is scoped by and how a request is
fingerprinted is the caller's business (api/idempotency.py).
"""

from __future__ import annotations

from conveyor.core.clock import Clock, SystemClock
from conveyor.core.model import IdempotentAnswer
from conveyor.core.ports import Store


class IdempotencyService:
    def __init__(self, store: Store, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    def get(self, key: str) -> IdempotentAnswer | None:
        return self.store.idempotency_get(key)

    def put(
        self, key: str, status_code: int, body: str, *, request_hash: str | None = None
    ) -> IdempotentAnswer:
        """Keep the first answer for `key`; when one is already kept, that one comes back instead."""
        return self.store.idempotency_put(
            key, status_code, body, request_hash=request_hash, now=self.clock.now()
        )
