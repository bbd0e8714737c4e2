"""The pure decision of a due schedule's round: misfire and overlap policies, one-shots, oninit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conveyor.core.errors import InvalidRequest
from conveyor.core.schedules import Schedule, check_policies, plan_fire
from conveyor.core.triggers import parse_trigger

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def every_minute(**kw: object) -> Schedule:
    s = Schedule(
        "wf", parse_trigger("rate", "60"), id="s1", created_at=T0, next_fire_at=T0 + timedelta(minutes=1)
    )
    return s.evolve(**kw)


def at(minutes: float, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def test_not_yet_due_does_nothing() -> None:
    plan = plan_fire(every_minute(), at(0, 59), previous_active=False)
    assert plan.fires == 0 and plan.schedule.next_fire_at == at(1)


def test_on_time_fires_once_and_advances() -> None:
    plan = plan_fire(every_minute(), at(1, 0.5), previous_active=False)
    assert plan.fires == 1
    assert plan.schedule.next_fire_at == at(2)
    assert plan.schedule.fire_count == 1 and plan.schedule.last_fired_at == at(1, 0.5)


def test_several_due_within_grace_all_fire() -> None:
    s = every_minute(trigger=parse_trigger("rate", "1"), next_fire_at=T0 + timedelta(seconds=1))
    plan = plan_fire(s, T0 + timedelta(seconds=3.5), previous_active=False)  # 1 s, 2 s, 3 s
    assert plan.fires == 3 and plan.schedule.next_fire_at == T0 + timedelta(seconds=4)


@pytest.mark.parametrize(
    ("policy", "fires"),
    [("skip", 0), ("fire_once", 1), ("fire_all", 10)],  # down from 00:01 to 00:11:00.5: ten missed
)
def test_misfire_policies_after_downtime(policy: str, fires: int) -> None:
    s = every_minute(misfire=policy, misfire_limit=50)
    plan = plan_fire(s, at(11, 0.5), previous_active=False)
    # at(11) itself is within the grace window: it fires on time whatever the policy
    assert plan.fires == fires + 1
    assert plan.schedule.next_fire_at == at(12)


def test_fire_all_is_capped_by_the_limit() -> None:
    plan = plan_fire(every_minute(misfire="fire_all", misfire_limit=3), at(600, 30), previous_active=False)
    assert plan.fires == 3  # at(600) is 30 s old: beyond the 10 s grace, so missed too
    assert plan.schedule.next_fire_at == at(601)


def test_a_week_of_missed_seconds_does_not_loop_forever() -> None:
    s = every_minute(trigger=parse_trigger("rate", "1"), next_fire_at=T0 + timedelta(seconds=1))
    plan = plan_fire(s, T0 + timedelta(days=7, seconds=0.5), previous_active=False)
    assert plan.fires == 10  # the ten seconds inside the grace window; the rest skipped
    assert plan.schedule.next_fire_at == T0 + timedelta(days=7, seconds=1)


@pytest.mark.parametrize(
    ("overlap", "fires", "cancel", "waiting"),
    [("allow", 1, False, False), ("skip", 0, False, False), ("cancel_previous", 1, True, False),
     ("queue", 0, False, True)],
)  # fmt: skip
def test_overlap_policies_while_the_previous_execution_runs(
    overlap: str, fires: int, cancel: bool, waiting: bool
) -> None:
    plan = plan_fire(every_minute(overlap=overlap), at(1), previous_active=True)
    assert (plan.fires, plan.cancel_previous, plan.schedule.waiting) == (fires, cancel, waiting)
    if waiting:
        assert plan.schedule.next_fire_at == at(1)  # still due: it fires as soon as the previous ends
    else:
        assert plan.schedule.next_fire_at == at(2)


def test_queued_fire_starts_once_when_the_previous_ends_however_late() -> None:
    held = plan_fire(every_minute(overlap="queue"), at(1), previous_active=True).schedule
    held = plan_fire(held, at(3), previous_active=True).schedule  # still running two minutes later
    assert held.waiting and held.next_fire_at == at(1)
    plan = plan_fire(held, at(5, 30), previous_active=False)
    assert plan.fires == 1  # one buffered fire, not the five missed meanwhile
    assert not plan.schedule.waiting and plan.schedule.next_fire_at == at(6)


def test_no_overlap_policy_applies_when_the_previous_one_ended() -> None:
    plan = plan_fire(every_minute(overlap="skip"), at(1), previous_active=False)
    assert plan.fires == 1


def test_one_shot_disables_itself_after_firing() -> None:
    s = Schedule(
        "wf", id="s2", trigger=parse_trigger("once_delay", "30"), created_at=T0, next_fire_at=at(0, 30)
    )
    plan = plan_fire(s, at(0, 31), previous_active=False)
    assert plan.fires == 1 and plan.schedule.enabled is False and plan.schedule.next_fire_at is None


def test_oninit_stays_enabled_after_firing_at_start_up() -> None:
    s = Schedule("wf", id="s3", trigger=parse_trigger("oninit"), created_at=T0)
    plan = plan_fire(s.evolve(next_fire_at=at(5)), at(5), previous_active=False)
    assert plan.fires == 1 and plan.schedule.enabled is True and plan.schedule.next_fire_at is None


def test_disabled_schedule_does_nothing() -> None:
    plan = plan_fire(every_minute(enabled=False), at(3), previous_active=False)
    assert plan.fires == 0 and plan.schedule.fire_count == 0


@pytest.mark.parametrize(
    ("misfire", "overlap", "limit", "grace", "field"),
    [("never", "allow", 10, 10.0, "misfire"), ("skip", "sometimes", 10, 10.0, "overlap"),
     ("skip", "allow", 0, 10.0, "misfire_limit"), ("skip", "allow", 10, -1.0, "grace")],
)  # fmt: skip
def test_bad_policies_are_refused_with_the_field_named(
    misfire: str, overlap: str, limit: int, grace: float, field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_policies(misfire, overlap, limit, grace)
    assert refused.value.details["field"] == field
