"""Tokens, idempotency answers and the workflows workers register."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

from conveyor.core.clock import ManualClock
from conveyor.core.model import Role, Token, WorkflowInfo
from conveyor.core.ports import Store


def test_tokens_are_found_by_hash_listed_in_creation_order_and_deleted(
    store: Store, clock: ManualClock
) -> None:
    t0 = clock.now()
    b = Token("id-b", "ci", Role.OPERATOR, t0 + timedelta(seconds=1), "hash-b")
    a = Token("id-a", "admin", Role.ADMIN, t0, "hash-a")
    v = Token("id-v", "dash", Role.VIEWER, t0 + timedelta(seconds=2), "hash-v")
    for t in (b, a, v):
        store.token_add(t)
    assert store.token_count() == 3
    assert store.token_find("hash-b") == b
    assert store.token_find("nope") is None
    assert store.token_list() == [a, b, v]
    assert store.token_delete("id-b") is True
    assert store.token_delete("id-b") is False
    assert store.token_find("hash-b") is None
    assert store.token_count() == 2


def test_the_first_idempotent_answer_wins(store: Store, clock: ManualClock) -> None:
    assert store.idempotency_get("k") is None
    first = (201, '{"id": 1}', "hash-1")
    assert store.idempotency_put("k", 201, '{"id": 1}', request_hash="hash-1", now=clock.now()) == first
    assert store.idempotency_put("k", 409, '{"error": 2}', request_hash="hash-2", now=clock.now()) == first
    assert store.idempotency_get("k") == first
    assert store.idempotency_put("other", 200, "{}", now=clock.now()) == (200, "{}", None)


def test_concurrent_idempotent_answers_agree_on_one(store: Store, clock: ManualClock) -> None:
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def put(i: int) -> None:
        barrier.wait()
        got = store.idempotency_put("same", 200 + i, f"body {i}", now=clock.now())
        with lock:
            answers.append(got)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(answers) == 8
    assert len(set(answers)) == 1
    assert store.idempotency_get("same") == answers[0]


def test_workflows_registered_by_workers_round_trip_and_update(store: Store) -> None:
    a = WorkflowInfo(
        "a", {"type": "object", "properties": {"x": {"type": "integer"}}}, "does a", system=True, timeout=5.0,
        max_attempts=2, retry_backoff=3.0, queue="q", isolation="process", retention=9.0,
        allow_custom_parameters=True,
    )  # fmt: skip
    b = WorkflowInfo("b")
    store.workflow_upsert([b, a])
    assert store.workflow_list() == [a, b]
    store.workflow_upsert([replace(a, description="does a better", max_attempts=4)])
    assert store.workflow_list() == [replace(a, description="does a better", max_attempts=4), b]
    store.workflow_upsert([])
    assert len(store.workflow_list()) == 2
