"""Admission rules (DESIGN.md, "Admission"), on plain values: no store involved."""

from __future__ import annotations

from collections import Counter

import pytest

from conveyor.core.admission import (
    DEFAULT_MAX_CONCURRENT,
    Candidate,
    Occupancy,
    admit_in_order,
    blocked_by,
    start_decision,
)


def job(ident: str, target: str | None = "t1", *, system: bool = False, force: bool = False) -> Candidate:
    return Candidate(ident, target, system, force)


def occupancy(*running: Candidate, limits: dict[str, int] | None = None) -> Occupancy:
    occ = Occupancy(max_concurrent=dict(limits or {}))
    for c in running:
        occ.take(c)
    return occ


def ids(cs: list[Candidate]) -> list[str]:
    return [c.id for c in cs]


# --- blocked_by ------------------------------------------------------------------


def test_anything_may_start_when_nothing_runs() -> None:
    occ = occupancy()
    for c in (job("a"), job("b", None), job("s", None, system=True), job("st", "t1", system=True)):
        assert blocked_by(c, occ) is None


def test_a_target_runs_one_execution_by_default() -> None:
    assert DEFAULT_MAX_CONCURRENT == 1
    occ = occupancy(job("r", "t1"))
    reason = blocked_by(job("a", "t1"), occ)
    assert reason is not None
    assert "t1" in reason
    assert blocked_by(job("b", "t2"), occ) is None


def test_a_higher_limit_lets_that_many_run_on_the_target() -> None:
    occ = occupancy(job("r1", "t1"), job("r2", "t1"), limits={"t1": 3})
    assert occ.limit("t1") == 3
    assert occ.limit("other") == 1
    assert blocked_by(job("a", "t1"), occ) is None
    occ.take(job("a", "t1"))
    assert blocked_by(job("b", "t1"), occ) is not None


def test_targetless_executions_are_not_limited() -> None:
    occ = occupancy(*(job(f"r{i}", None) for i in range(50)), job("t", "t1"))
    assert blocked_by(job("a", None), occ) is None


def test_a_running_system_execution_blocks_everything_else() -> None:
    occ = occupancy(job("sys", None, system=True))
    for c in (job("a", "t1"), job("b", None), job("s2", None, system=True)):
        reason = blocked_by(c, occ)
        assert reason is not None
        assert "system" in reason


def test_a_system_execution_waits_for_every_running_one() -> None:
    occ = occupancy(job("r", None))
    reason = blocked_by(job("sys", None, system=True), occ)
    assert reason is not None
    assert "1 execution" in reason
    # a system execution on a target waits the same way, whatever the target's limit
    assert blocked_by(job("sys", "t9", system=True), occupancy(job("r", "t1"), limits={"t9": 5})) is not None


def test_a_system_execution_does_not_count_against_its_target() -> None:
    occ = occupancy(job("sys", "t1", system=True))
    assert occ.by_target["t1"] == 0
    assert occ.active == 1
    assert occ.system_active == 1


@pytest.mark.parametrize(
    "running",
    [[job("sys", None, system=True)], [job("r", "t1")], [job("r", None)]],
    ids=["system-running", "target-busy", "other-running"],
)
def test_force_skips_the_rules(running: list[Candidate]) -> None:
    occ = occupancy(*running)
    assert blocked_by(job("f", "t1", force=True), occ) is None
    assert blocked_by(job("fs", None, system=True, force=True), occ) is None


# --- admit_in_order ------------------------------------------------------------------


def test_queued_executions_are_admitted_in_the_given_order_up_to_each_targets_limit() -> None:
    queued = [job("a", "t1"), job("b", "t1"), job("c", "t2"), job("d", None), job("e", "t1")]
    admitted = admit_in_order(queued, occupancy())
    assert ids(admitted) == ["a", "c", "d"]


def test_admission_respects_what_already_runs_and_higher_limits() -> None:
    occ = occupancy(job("r", "t1"), limits={"t1": 3})
    admitted = admit_in_order([job("a", "t1"), job("b", "t1"), job("c", "t1")], occ)
    assert ids(admitted) == ["a", "b"]
    assert occ.by_target == Counter({"t1": 3})
    assert occ.active == 3


def test_a_waiting_system_execution_is_a_barrier() -> None:
    occ = occupancy(job("r", "t3"))
    queued = [job("a", "t1"), job("sys", None, system=True), job("b", "t2"), job("c", None)]
    # "a" is ahead of the system execution and starts; nothing behind the system one does
    assert ids(admit_in_order(queued, occ)) == ["a"]


def test_an_admitted_system_execution_runs_alone() -> None:
    queued = [job("sys", None, system=True), job("a", "t1"), job("b", None)]
    assert ids(admit_in_order(queued, occupancy())) == ["sys"]


def test_a_system_execution_is_not_admitted_next_to_one_admitted_before_it() -> None:
    queued = [job("a", "t1"), job("sys", None, system=True)]
    assert ids(admit_in_order(queued, occupancy())) == ["a"]


def test_a_forced_queued_execution_passes_a_busy_target() -> None:
    occ = occupancy(job("r", "t1"))
    assert ids(admit_in_order([job("a", "t1"), job("f", "t1", force=True)], occ)) == ["f"]


def test_nothing_queued_admits_nothing() -> None:
    assert admit_in_order([], occupancy()) == []


# --- start_decision (a newcomer) ---------------------------------------------------------


def test_a_newcomer_yields_to_a_queued_system_execution() -> None:
    reason = start_decision(job("a", "t1"), occupancy(), system_queued=True, target_queued=False)
    assert reason is not None
    assert "system" in reason
    assert start_decision(job("a", None), occupancy(), system_queued=True, target_queued=False) is not None


def test_a_newcomer_yields_to_executions_already_waiting_on_its_target() -> None:
    reason = start_decision(job("a", "t1"), occupancy(), system_queued=False, target_queued=True)
    assert reason is not None
    assert "t1" in reason


def test_a_targetless_newcomer_ignores_waiting_targets() -> None:
    assert start_decision(job("a", None), occupancy(), system_queued=False, target_queued=True) is None


def test_a_newcomer_follows_the_running_rules_otherwise() -> None:
    busy = occupancy(job("r", "t1"))
    assert start_decision(job("a", "t1"), busy, system_queued=False, target_queued=False) is not None
    assert start_decision(job("a", "t2"), busy, system_queued=False, target_queued=False) is None
    assert (
        start_decision(job("s", None, system=True), busy, system_queued=False, target_queued=False)
        is not None
    )


def test_a_forced_newcomer_starts_whatever_waits_or_runs() -> None:
    occ = occupancy(job("sys", None, system=True))
    assert start_decision(job("f", "t1", force=True), occ, system_queued=True, target_queued=True) is None
