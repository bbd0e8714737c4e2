"""`client.targets`, `client.target_groups` and `client.execution_groups` against the real API server.

The server's catalog has demo.count and demo.backup; the tests play the worker's part through
the store (`live.run`), so they decide when members run and end.
"""

from __future__ import annotations

import time

import pytest

from conveyor.client import (
    Client,
    ConflictError,
    ExecutionGroup,
    GroupWaitTimeout,
    InvalidParametersError,
    InvalidRequestError,
    NotFoundError,
    Target,
    TargetGroup,
)
from conveyor.client.groups import (
    group_cancel_call,
    group_dump_call,
    group_list_call,
    group_sinks_call,
    label_dict,
    label_values,
    members_call,
    target_delete_call,
    target_get_call,
    target_list_call,
    target_update_call,
)
from conveyor.core.model import Status

from .live import Live, wait_until

# --- request shapes (no server) -------------------------------------------------------------------


def test_label_filters_in_every_spelling() -> None:
    assert label_values({"role": "web", "zone": "*"}) == ["role:web", "zone:*"]
    assert label_values("role:web") == ["role:web"]
    assert label_values(["role:web", "zone"]) == ["role:web", "zone"]
    assert label_values(None) == []
    assert label_dict(["role:web", "zone", "rack:"]) == {"role": "web", "zone": "*", "rack": "*"}
    assert label_dict({"role": "web"}) == {"role": "web"}


def test_call_shapes() -> None:
    assert target_get_call("eu/web@1").path == "/targets/eu%2Fweb%401"
    listed = target_list_call({"role": "web", "note": "a,b"}, 1000, "web03")
    assert listed.path == "/targets?label=role%3Aweb&label=note%3Aa%2Cb&limit=1000&cursor=web03"
    assert target_delete_call("db1", force=True).path == "/targets/db1?force=true"
    assert target_delete_call("db1", force=False).path == "/targets/db1"
    assert target_update_call("db1", max_concurrent=None, labels={}).json == {"labels": {}}
    with pytest.raises(ValueError, match="nothing to change"):
        target_update_call("db1", max_concurrent=None, labels=None)
    remove = members_call("web", False, "web01", None)
    assert (remove.method, remove.path, remove.json) == (
        "DELETE", "/target-groups/web/members", {"targets": ["web01"], "labels": {}},
    )  # fmt: skip
    with pytest.raises(ValueError):
        members_call("web", True, [], None)
    assert group_list_call("deploy", ["web", "db"], 10, None).path == (
        "/execution-groups?workflow=deploy&target_group=web&target_group=db&limit=10"
    )
    assert group_cancel_call("g1", force=True, kill=False).json == {"force": True, "kill": False}
    with pytest.raises(ValueError):
        group_cancel_call("g1", force=True, kill=True)
    with pytest.raises(ValueError):
        group_sinks_call("g1", None, None)
    assert group_dump_call(["a", "b"]).params == {"ids": "a,b"}
    assert group_dump_call(None).params == {}


# --- targets --------------------------------------------------------------------------------------


def test_targets_round_trip(client: Client) -> None:
    t = client.targets.create("web01", labels={"role": "web"}, max_concurrent=2)
    assert isinstance(t, Target)
    assert (t.name, t.max_concurrent, t.labels) == ("web01", 2, {"role": "web"})
    assert t.created_at is not None and t.created_at.tzinfo is not None
    client.targets.create("db1", labels={"role": "db"})
    assert [x.name for x in client.targets.list()] == ["db1", "web01"]
    assert [x.name for x in client.targets.list(labels={"role": "web"})] == ["web01"]
    assert [x.name for x in client.targets.list(labels="role")] == ["db1", "web01"]
    assert t.update(max_concurrent=3).max_concurrent == 3
    assert client.targets.update("web01", labels={"tier": "1"}).labels == {"tier": "1"}
    assert t.refresh().labels == {"tier": "1"}
    with pytest.raises(ConflictError):
        client.targets.create("web01")
    with pytest.raises(InvalidRequestError):
        client.targets.create("no spaces please")
    t.delete()
    with pytest.raises(NotFoundError):
        client.targets.get("web01")


def test_targets_list_walks_every_page(client: Client, live: Live) -> None:
    for i in range(1003):
        live.store.target_ensure([f"t{i:04d}"], now=live.service.clock.now())
    found = client.targets.list()
    assert len(found) == 1003 and found[-1].name == "t1002"
    assert live.log.count("GET", "/api/v1/targets") == 2


def test_delete_a_busy_target_needs_force(client: Client, live: Live) -> None:
    client.targets.create("db1")
    ex = client.executions.start("demo.count", target="db1")
    live.claim(ex.id)
    with pytest.raises(ConflictError, match="active"):
        client.targets.delete("db1")
    client.targets.delete("db1", force=True)
    live.succeed(ex.id)


# --- target groups --------------------------------------------------------------------------------


def test_target_groups(client: Client) -> None:
    for i in range(4):
        client.targets.create(f"web{i}", labels={"zone": "a" if i % 2 else "b"})
    g = client.target_groups.create("web", description="all web", labels={"zone": "*"})
    assert isinstance(g, TargetGroup)
    assert (g.name, g.description, g.members, g.member_count) == (
        "web",
        "all web",
        ["web0", "web1", "web2", "web3"],
        4,
    )
    assert g.remove(labels={"zone": "a"}).members == ["web0", "web2"]
    assert g.add("web1").members == ["web0", "web1", "web2"]
    assert client.target_groups.remove("web", ["web0", "web9"]).members == ["web1", "web2"]
    client.target_groups.create("b", members=["web0"])
    listed = client.target_groups.list()
    assert [(x.name, x.member_count, x.members) for x in listed] == [("b", 1, None), ("web", 2, None)]
    assert listed[0].refresh().members == ["web0"]
    with pytest.raises(NotFoundError, match="ghost"):
        client.target_groups.create("c", members=["ghost"])
    g.delete()
    with pytest.raises(NotFoundError):
        client.target_groups.get("web")


# --- execution groups -----------------------------------------------------------------------------


@pytest.fixture
def web(client: Client) -> list[str]:
    names = [f"web{i}" for i in range(5)]
    for name in names:
        client.targets.create(name, labels={"role": "web"})
    client.target_groups.create("web", labels={"role": "web"})
    return names


def run_members(live: Live, group: ExecutionGroup, *, failing: frozenset[str] = frozenset()) -> None:
    """In the background: run each member once admitted, failing those on `failing` targets."""
    targets = {m.id: m.target for m in group.members()}

    def worker() -> None:
        done: set[str] = set()
        end = time.monotonic() + 15
        while len(done) < len(targets) and time.monotonic() < end:
            for eid, target in targets.items():
                current = live.store.execution_get(eid)
                if (
                    eid not in done
                    and current is not None
                    and current.status in (Status.PENDING, Status.RUNNING)
                ):
                    live.run(eid, fail=target in failing)
                    done.add(eid)
            time.sleep(0.01)

    live.in_background(worker)


def test_start_and_read_a_group(client: Client, web: list[str]) -> None:
    g = client.execution_groups.start(
        "web", "demo.count", default_parameters={"n": 1}, parameters={"web2": {"n": 7}}, concurrency=2
    )
    assert isinstance(g, ExecutionGroup)
    assert (g.workflow, g.target_group, g.concurrency, g.force, g.created_by) == (
        "demo.count",
        "web",
        2,
        False,
        "anonymous",
    )
    assert (g.status, g.total, g.ended, g.counts, g.is_done) == (
        "pending",
        5,
        0,
        {"pending": 2, "queued": 3},
        False,
    )
    assert g.default_parameters == {"n": 1} and g.parameters == {"web2": {"n": 7}}
    members = g.members()
    assert [m.target for m in members] == web and [m.id for m in members] == g.execution_ids
    assert {m.target: m.parameters["n"] for m in members} == {
        "web0": 1,
        "web1": 1,
        "web2": 7,
        "web3": 1,
        "web4": 1,
    }
    assert client.execution_groups.get(g.id) == g
    assert [x.id for x in client.execution_groups.list()] == [g.id]
    assert client.execution_groups.list(workflow="demo.backup") == []
    first = g.members(include="target")[0]
    assert first.raw == {"id": g.execution_ids[0], "target": "web0"}


def test_start_refusals(client: Client, web: list[str]) -> None:
    with pytest.raises(NotFoundError):
        client.execution_groups.start("nope", "demo.count")
    with pytest.raises(NotFoundError, match="not registered"):
        client.execution_groups.start("web", "nope")
    with pytest.raises(InvalidParametersError):
        client.execution_groups.start("web", "demo.count", default_parameters={"n": -1})
    with pytest.raises(InvalidRequestError, match="outside target group"):
        client.execution_groups.start("web", "demo.count", parameters={"db1": {"n": 1}})
    with pytest.raises(InvalidRequestError):
        client.execution_groups.start("web", "demo.count", concurrency=0)


def test_wait_follows_the_group_to_its_end(client: Client, live: Live, web: list[str]) -> None:
    client.target_groups.create("ok")
    client.target_groups.create("bad")
    g = client.execution_groups.start("web", "demo.count", concurrency=2)
    g.set_target_group(success_group="ok", failed_group="bad")
    assert (g.success_group, g.failed_group) == ("ok", "bad")
    seen: list[tuple[str, int]] = []
    run_members(live, g, failing=frozenset({"web3"}))

    assert g.wait(timeout=15, poll_interval=0.05, on_update=lambda x: seen.append((x.status, x.ended))) is g
    assert (g.status, g.counts, g.ended, g.is_done) == ("failed", {"failed": 1, "succeeded": 4}, 5, True)
    assert seen[-1] == ("failed", 5) and [e for _, e in seen] == sorted(e for _, e in seen)
    assert client.target_groups.get("ok").members == ["web0", "web1", "web2", "web4"]
    assert client.target_groups.get("bad").members == ["web3"]


def test_wait_times_out_without_touching_the_group(client: Client, web: list[str]) -> None:
    g = client.execution_groups.start("web", "demo.count")
    with pytest.raises(GroupWaitTimeout, match=r"still pending \(0 of 5 members ended\)") as timed_out:
        g.wait(timeout=0.2, poll_interval=0.05)
    assert timed_out.value.group is g and timed_out.value.timeout == 0.2
    assert g.refresh().status == "pending"
    with pytest.raises(ValueError):
        g.wait(poll_interval=0)


def test_concurrency_and_cancel(client: Client, live: Live, web: list[str]) -> None:
    g = client.execution_groups.start("web", "demo.count", concurrency=1)
    assert g.set_concurrency(3).counts == {"pending": 3, "queued": 2}
    assert client.execution_groups.set_concurrency(g.id, 4).concurrency == 4
    live.claim(g.execution_ids[0])  # a worker takes the four admitted members
    assert g.cancel().counts == {"cancelled": 1, "cancelling": 4}
    assert g.cancel(force=True).status == "cancelled"
    with pytest.raises(ValueError):
        g.cancel(force=True, kill=True)
    with pytest.raises(NotFoundError):
        client.execution_groups.cancel("nope")


def test_dump(client: Client, web: list[str]) -> None:
    a = client.execution_groups.start("web", "demo.count")
    b = client.execution_groups.start("web", "demo.backup")
    dumped = list(client.execution_groups.dump())
    assert [d["id"] for d in dumped] == [a.id, b.id]
    assert dumped[0]["execution_ids"] == a.execution_ids and dumped[0]["workflow_id"] == "demo.count"
    assert [d["id"] for d in client.execution_groups.dump([b.id])] == [b.id]


def test_a_group_waits_for_the_targets_own_limit(client: Client, live: Live, web: list[str]) -> None:
    busy = client.executions.start("demo.count", target="web0")
    g = client.execution_groups.start("web", "demo.count", concurrency=5)
    assert g.counts == {"pending": 4, "queued": 1}
    live.run(busy.id)  # claims the admitted members too; web0's member is admitted once busy ends
    wait_until(lambda: "queued" not in g.refresh().counts, what="web0's member to be admitted")
    assert g.counts == {"pending": 1, "running": 4}
