"""The Cloudify dialect end to end: the real, unmodified `cloudify_rest_client.CloudifyClient`
(cloudify-common 7.0.5) against a live Conveyor on a real socket, a real SQLite store, a real
in-process Worker running the workflows, and the background loop.

Deployments and deployment groups are created first as targets and target groups
through TargetService; every other step goes through the Cloudify client.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cloudify_rest_client import CloudifyClient  # type: ignore[import-untyped]
from cloudify_rest_client.exceptions import (  # type: ignore[import-untyped]
    CloudifyClientError,
    ForbiddenError,
    IllegalExecutionParametersError,
    InvalidExecutionUpdateStatus,
    NoSuchIncludeFieldError,
    UserUnauthorizedError,
)

from conveyor.api.app import create_app
from conveyor.api.auth import create_token
from conveyor.core.executions import ExecutionService, ServiceSettings
from conveyor.core.groups import ExecutionGroupService
from conveyor.core.model import Role
from conveyor.core.targets import TargetService
from conveyor.scheduler.loop import BackgroundLoop
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.runner import Worker, WorkerSettings
from tests.acceptance.dialects.cloudify_workflows import app as workflows
from tests.databases import sqlite_copy
from tests.helpers import wait_until

END = ("terminated", "failed", "cancelled")


@dataclass
class Env:
    port: int
    tmp: Path
    service: ExecutionService
    targets: TargetService
    groups: ExecutionGroupService
    secrets: dict[Role, str]

    def client(self, role: Role = Role.OPERATOR, *, basic: bool = False, **kwargs: Any) -> CloudifyClient:
        """The real client, as a Cloudify user builds it: a token, or a user and password."""
        secret = self.secrets[role]
        creds: dict[str, Any] = {"username": "admin", "password": secret} if basic else {"token": secret}
        return CloudifyClient(host="127.0.0.1", port=self.port, protocol="http", tenant="default_tenant",
                              **{**creds, **kwargs})  # fmt: skip

    def deployments(self, *names: str, max_concurrent: int = 1, labels: dict[str, str] | None = None) -> None:
        for name in names:
            self.targets.create(name, max_concurrent=max_concurrent, labels=labels)

    def log(self, name: str) -> str:
        return str(self.tmp / f"{name}.log")

    def lines(self, name: str) -> list[list[str]]:
        path = self.tmp / f"{name}.log"
        return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = SQLiteStore(sqlite_copy(tmp_path / "cloudify.db"))
    service = ExecutionService(store, workflows, settings=ServiceSettings(implicit_targets=False))
    targets = TargetService(store, service.clock)
    groups = ExecutionGroupService(service, targets)
    api = create_app(service, auth_mode="required")
    secrets = {role: create_token(service, f"cfy-{role}", role)[1] for role in Role}
    worker = Worker.on_store(
        store, workflows, WorkerSettings(concurrency=8, lease_seconds=5, poll_interval=0.02)
    )
    loop = BackgroundLoop(service, interval=0.05)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    worker.start()
    loop.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=10, what="uvicorn to start")
        assert server.started
        yield Env(port, tmp_path, service, targets, groups, secrets)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        loop.stop()
        worker.stop(grace=1)
        store.close()


def ended(client: CloudifyClient, execution_id: str, timeout: float = 20) -> Any:
    """Wait for an end state the way a Cloudify caller does: poll `get` until END_STATES."""
    return wait_until(
        lambda: (ex := client.executions.get(execution_id)).status in END and ex,
        timeout=timeout,
        interval=0.05,
        what=f"execution {execution_id} to end",
    )


def status_is(client: CloudifyClient, execution_id: str, *wanted: str, timeout: float = 20) -> None:
    wait_until(
        lambda: client.executions.get(execution_id).status in wanted,
        timeout=timeout,
        interval=0.02,
        what=f"execution {execution_id} to be {'/'.join(wanted)}",
    )


# --- starting, reading, listing ----------------------------------------------------------


def test_start_runs_the_workflow_to_terminated(env: Env) -> None:
    env.deployments("web-1", labels={"blueprint_id": "web"})
    client = env.client()
    started = client.executions.start("web-1", "cfy.count", parameters={"log": env.log("runs")})
    assert started.deployment_id == "web-1" and started.workflow_id == "cfy.count"
    assert started.status in ("pending", "started", "terminated")
    assert started.blueprint_id == "web"
    assert started.created_by == "cfy-operator"
    done = ended(client, started.id)
    assert done.status == "terminated" and done.status_display == "completed"
    assert done.error == ""
    assert done.parameters == {"log": env.log("runs")}
    assert done.created_at.endswith("Z") and done.started_at and done.ended_at
    assert [w[1] for w in env.lines("runs")] == [started.id]
    assert set(done) >= {"is_system_workflow", "is_dry_run", "scheduled_for", "tenant_name", "visibility"}
    only = client.executions.get(started.id, _include=["id", "status"])
    assert dict(only) == {"id": started.id, "status": "terminated"}


def test_basic_auth_password_is_the_token_and_no_token_is_refused(env: Env) -> None:
    env.deployments("d1")
    ex = env.client(basic=True).executions.start("d1", "cfy.count")
    assert ended(env.client(basic=True), ex.id).status == "terminated"
    anonymous = CloudifyClient(host="127.0.0.1", port=env.port, protocol="http")
    with pytest.raises(UserUnauthorizedError) as err:
        anonymous.executions.list()
    assert err.value.status_code == 401 and "Authentication-Token" in str(err.value)
    wrong = CloudifyClient(host="127.0.0.1", port=env.port, protocol="http", username="admin", password="no")
    with pytest.raises(UserUnauthorizedError):
        wrong.executions.list()
    with pytest.raises(ForbiddenError) as forbidden:
        env.client(Role.VIEWER).executions.start("d1", "cfy.count")
    assert forbidden.value.status_code == 403
    assert env.client(Role.VIEWER).executions.get(ex.id).id == ex.id


def test_list_pages_sorts_filters_and_projects(env: Env) -> None:
    env.deployments("a", "b", max_concurrent=50)
    client = env.client()
    ids = [client.executions.start("a" if i % 3 else "b", "cfy.count", queue=True).id for i in range(25)]
    for i in ids:
        ended(client, i)
    first = client.executions.list(_size=10, _offset=0)
    assert first.metadata.pagination.total == 25
    assert first.metadata.pagination.size == 10 and first.metadata.pagination.offset == 0
    pages = [client.executions.list(_size=10, _offset=o) for o in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    seen = [e.id for p in pages for e in p]
    assert seen == ids  # default sort: created_at ascending, no item twice
    newest = client.executions.list(sort="created_at", is_descending=True, _size=3)
    assert [e.id for e in newest] == ids[::-1][:3]
    on_b = client.executions.list(deployment_id="b")
    assert {e.deployment_id for e in on_b} == {"b"} and on_b.metadata.pagination.total == 9
    assert client.executions.list(status="terminated", _size=0).metadata.pagination.total == 25
    assert len(client.executions.list(status=["queued", "started"])) == 0
    assert len(client.executions.list(id=[ids[0], ids[5]])) == 2
    projected = client.executions.list(_include=["id", "status_display"], _size=2)
    assert [set(e) for e in projected] == [{"id", "status_display"}] * 2
    with pytest.raises(NoSuchIncludeFieldError) as bad_field:
        client.executions.list(_include=["id", "nope"])
    assert bad_field.value.status_code == 400 and "nope" in str(bad_field.value)
    with pytest.raises(CloudifyClientError) as bad_filter:
        client.executions.list(colour="blue")
    assert bad_filter.value.status_code == 400 and bad_filter.value.error_code == "bad_parameters_error"
    with pytest.raises(CloudifyClientError) as bad_sort:
        client.executions.list(sort="colour")
    assert bad_sort.value.error_code == "bad_parameters_error"
    with pytest.raises(CloudifyClientError) as bad_size:
        client.executions.list(_size=-1)
    assert bad_size.value.status_code == 400


def test_system_executions_are_listed_only_when_asked(env: Env) -> None:
    client = env.client()
    system = client.executions.start("", "cfy.system_task")
    assert system.deployment_id is None and system.is_system_workflow is True
    ended(client, system.id)
    assert [e.id for e in client.executions.list()] == []
    assert [e.id for e in client.executions.list(include_system_workflows=True)] == [system.id]


# --- admission: refused, queued, forced; should-start -----------------------------------------


def test_busy_deployment_refuses_queues_or_forces(env: Env) -> None:
    env.deployments("db")
    client = env.client()
    first = client.executions.start("db", "cfy.hold", parameters={"seconds": 30})
    status_is(client, first.id, "started")
    with pytest.raises(CloudifyClientError) as busy:
        client.executions.start("db", "cfy.count")
    assert busy.value.status_code == 400 and busy.value.error_code == "existing_running_execution_error"
    assert "queue" in str(busy.value)
    queued = client.executions.start("db", "cfy.count", queue=True)
    assert queued.status == "queued"
    assert client.executions.should_start(queued.id) is False
    assert client.executions.should_start(first.id) is True
    forced = client.executions.start("db", "cfy.count", force=True)
    assert ended(client, forced.id).status == "terminated"
    client.executions.cancel(first.id)
    assert ended(client, first.id).status == "cancelled"
    assert ended(client, queued.id).status == "terminated"  # dequeued when the deployment was free
    assert client.executions.should_start(queued.id) is False  # ended: nothing to start


def test_should_start_answers_the_admission_decision(env: Env) -> None:
    env.deployments("free", "busy")
    client = env.client(Role.ADMIN)
    hold = client.executions.start("busy", "cfy.hold", parameters={"seconds": 30})
    status_is(client, hold.id, "started")
    waiting_free = client.executions.create("free", "cfy.count", force_status="pending")
    waiting_busy = client.executions.create("busy", "cfy.count", force_status="pending")
    assert client.executions.should_start(waiting_free.id) is True
    assert client.executions.should_start(waiting_busy.id) is False
    client.executions.cancel(hold.id, force=True)
    assert client.executions.should_start(waiting_busy.id) is True
    with pytest.raises(CloudifyClientError) as missing:
        client.executions.should_start("no-such-execution")
    assert missing.value.status_code == 404


def test_dry_run_and_scheduled_time(env: Env) -> None:
    env.deployments("d")
    client = env.client()
    dry = client.executions.start("d", "cfy.count", dry_run=True)
    assert dry.is_dry_run is True and ended(client, dry.id).status == "terminated"
    later = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    with pytest.warns(DeprecationWarning):
        scheduled = client.executions.start("d", "cfy.count", schedule=later)
    assert scheduled.status == "scheduled" and scheduled.scheduled_for is not None
    assert ended(client, scheduled.id).status == "terminated"
    with pytest.raises(CloudifyClientError) as past, pytest.warns(DeprecationWarning):
        client.executions.start("d", "cfy.count", schedule="2001-01-01T00:00:00+00:00")
    assert past.value.status_code == 400 and "future" in str(past.value)


# --- cancel, force-cancel, kill, resume, requeue -------------------------------------------------


def test_cancel_stops_at_a_checkpoint_and_force_cancel_at_once(env: Env) -> None:
    env.deployments("d1", "d2")
    client = env.client()
    one = client.executions.start("d1", "cfy.hold", parameters={"seconds": 60, "log": env.log("hold")})
    status_is(client, one.id, "started")
    assert client.executions.cancel(one.id).status == "cancelling"
    assert ended(client, one.id).status == "cancelled"
    two = client.executions.start("d2", "cfy.hold", parameters={"seconds": 60})
    status_is(client, two.id, "started")
    answer = client.executions.cancel(two.id, force=True)
    assert answer.status == "cancelled" and answer.ended_at is not None
    with pytest.raises(CloudifyClientError) as again:
        client.executions.cancel(two.id)
    assert again.value.status_code == 400 and again.value.error_code == "illegal_action_error"


def test_kill_stops_an_endless_workflow_process(env: Env) -> None:
    env.deployments("stuck")
    client = env.client()
    pidfile = env.tmp / "endless.pid"
    ex = client.executions.start("stuck", "cfy.endless", parameters={"pidfile": str(pidfile)})
    pid = int(wait_until(lambda: pidfile.exists() and pidfile.read_text(), timeout=20, what="the process"))
    killing = client.executions.cancel(ex.id, kill=True)
    assert killing.status in ("kill_cancelling", "cancelled")
    assert ended(client, ex.id).status == "cancelled"

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(gone, timeout=15, what=f"process {pid} to be gone")


def test_resume_and_force_resume_run_a_failed_execution_again(env: Env) -> None:
    env.deployments("d1", "d2")
    client = env.client()
    for deployment, force in (("d1", False), ("d2", True)):
        marker = env.tmp / f"{deployment}.marker"
        ex = client.executions.start(deployment, "cfy.flaky", parameters={"marker": str(marker)})
        failed = ended(client, ex.id)
        assert failed.status == "failed" and "the first attempt fails" in failed.error
        resumed = client.executions.resume(ex.id, force=force)
        assert resumed.status in ("queued", "pending", "started", "terminated")
        assert ended(client, ex.id).status == "terminated"
    with pytest.raises(CloudifyClientError) as conflict:
        client.executions.resume(ex.id)
    assert conflict.value.status_code == 409 and conflict.value.error_code == "conflict_error"


def test_requeue_puts_an_ended_execution_back_in_the_queue(env: Env) -> None:
    env.deployments("d")
    client = env.client()
    ex = client.executions.start("d", "cfy.count", parameters={"log": env.log("runs")})
    ended(client, ex.id)
    again = client.executions.requeue(ex.id)
    assert again.status in ("queued", "pending", "started", "terminated")  # not the manager's cancel
    wait_until(lambda: len(env.lines("runs")) == 2, timeout=20, what="the second run")
    assert ended(client, ex.id).status == "terminated"
    with pytest.raises(CloudifyClientError) as unknown:
        client.executions.api.post(f"/executions/{ex.id}", data={"action": "explode"})
    assert unknown.value.status_code == 400 and "explode" in str(unknown.value)


# --- update (PATCH) and create with force_status ------------------------------------------------


def test_update_guard_and_state_machine(env: Env) -> None:
    env.deployments("d")
    admin = env.client(Role.ADMIN)
    done = admin.executions.start("d", "cfy.count")
    ended(admin, done.id)
    with pytest.raises(InvalidExecutionUpdateStatus) as from_end:
        admin.executions.update(done.id, "started")
    assert from_end.value.status_code == 400 and "terminated" in str(from_end.value)
    assert admin.executions.update(done.id, "terminated").status == "terminated"  # same status: allowed

    # An externally run execution (a restored `started` one) moves through PATCH like the mgmtworker does.
    ext = admin.executions.create("d", "cfy.count", force_status="started")
    assert ext.status == "started"
    assert admin.executions.update(ext.id, "cancelling").status == "cancelling"
    with pytest.raises(InvalidExecutionUpdateStatus):
        admin.executions.update(ext.id, "terminated")  # the manager's guard: cancelling cannot succeed
    assert admin.executions.update(ext.id, "cancelled").status == "cancelled"

    other = admin.executions.create("d", "cfy.count", force_status="started")
    failed = admin.executions.update(other.id, "failed", error="disk full")
    assert failed.status == "failed" and failed.error == "disk full"

    queued = admin.executions.create("d", "cfy.count", force_status="pending")
    with pytest.raises(InvalidExecutionUpdateStatus) as illegal:
        admin.executions.update(queued.id, "terminated")  # allowed by the guard, not by the core's graph
    assert "cannot" in str(illegal.value)
    with pytest.raises(CloudifyClientError) as bogus:
        admin.executions.update(queued.id, "exploded")
    assert bogus.value.status_code == 400 and bogus.value.error_code == "bad_parameters_error"


def test_create_with_force_status_stores_without_running(env: Env) -> None:
    env.deployments("d")
    admin = env.client(Role.ADMIN)
    log = env.log("runs")
    created_at = "2024-08-12T10:00:00.123000+00:00"
    made = {}
    for status in ("terminated", "failed", "cancelled", "pending", "scheduled", "started"):
        made[status] = admin.executions.create(
            "d", "cfy.count", parameters={"log": log}, force_status=status, execution_id=f"restored-{status}",
            created_by="someone", created_at=created_at, started_at="2024-08-12T10:00:01+00:00",
            ended_at="2024-08-12T10:00:02+00:00" if status in END else None,
            error="Marked as failed" if status == "failed" else None,
        )  # fmt: skip
    for status, ex in made.items():
        assert ex.status == status and ex.id == f"restored-{status}"
        assert ex.created_at == "2024-08-12T10:00:00.123Z" and ex.created_by == "someone"
    assert made["terminated"].ended_at == "2024-08-12T10:00:02.000Z"
    assert made["failed"].error == "Marked as failed"
    time.sleep(0.5)  # a worker had every chance to take one
    assert env.lines("runs") == []
    assert {e.id: e.status for e in admin.executions.list(_include=["id", "status"])} == {
        f"restored-{s}": s for s in made
    }
    with pytest.raises(CloudifyClientError) as duplicate:
        admin.executions.create("d", "cfy.count", force_status="terminated", execution_id="restored-failed")
    assert duplicate.value.status_code == 409
    with pytest.raises(ForbiddenError):
        env.client(Role.OPERATOR).executions.create("d", "cfy.count", force_status="terminated")
    with pytest.raises(CloudifyClientError) as bad_status:
        admin.executions.create("d", "cfy.count", force_status="exploded")
    assert bad_status.value.error_code == "bad_parameters_error"
    # A restored queued execution joins the queue and runs when admitted, as the manager's dequeuer does:
    # here once the restored `started` one (which holds the deployment) is force-cancelled.
    queued = admin.executions.create("d", "cfy.count", parameters={"log": log}, force_status="queued")
    assert queued.status == "queued" and admin.executions.should_start(queued.id) is False
    assert admin.executions.cancel("restored-started", force=True).status == "cancelled"
    assert ended(admin, queued.id).status == "terminated"
    assert [w[1] for w in env.lines("runs")] == [queued.id]
    # Requeue after a restore: a restored ended execution runs again.
    admin.executions.requeue("restored-cancelled")
    assert ended(admin, "restored-cancelled").status == "terminated"


def test_dump_and_restore_round_trip_through_the_real_client(env: Env) -> None:
    env.deployments("d")
    admin = env.client(Role.ADMIN)
    ex = admin.executions.start("d", "cfy.count")
    ended(admin, ex.id)
    dumped = list(admin.executions.dump())
    assert [d["id"] for d in dumped] == [ex.id] and dumped[0]["status"] == "terminated"
    admin.executions.delete(keep_last=None)  # neither: every ended execution goes
    assert len(admin.executions.list()) == 0

    class Log:
        def error(self, *args: Any) -> None:
            raise AssertionError(args)

    admin.executions.restore(dumped, Log())
    back = admin.executions.get(ex.id)
    assert back.status == "terminated" and back.created_at == dumped[0]["created_at"]


# --- delete ---------------------------------------------------------------------------------------


def test_delete_keeps_the_last_or_deletes_up_to_a_time(env: Env) -> None:
    env.deployments("d", max_concurrent=20)
    client = env.client()
    ids = [client.executions.start("d", "cfy.count", queue=True).id for _ in range(6)]
    for i in ids:
        ended(client, i)
    running = client.executions.start("d", "cfy.hold", parameters={"seconds": 30})
    status_is(client, running.id, "started")
    assert client.executions.delete(keep_last=4) == 2
    left = [e.id for e in client.executions.list()]
    assert left == [*ids[2:], running.id]  # the running one is never deleted
    assert client.executions.delete(to_datetime=datetime.now(UTC) - timedelta(hours=1)) == 0
    assert (
        client.executions.delete(to_datetime=datetime.now(UTC) + timedelta(seconds=1), deployment_id="x") == 0
    )
    assert client.executions.delete(to_datetime=datetime.now(UTC) + timedelta(seconds=1)) == 4
    assert [e.id for e in client.executions.list()] == [running.id]
    with pytest.raises(CloudifyClientError) as both:
        client.executions.delete(to_datetime=datetime.now(UTC), keep_last=1)
    assert both.value.status_code == 400 and "keep_last" in str(both.value)
    with pytest.raises(CloudifyClientError) as unfinished:
        client.executions.delete(keep_last=1, status="started")
    assert unfinished.value.status_code == 400
    client.executions.cancel(running.id, force=True)


# --- errors -----------------------------------------------------------------------------------


def test_client_errors_surface_as_the_clients_own_exceptions(env: Env) -> None:
    env.deployments("d")
    client = env.client()
    with pytest.raises(CloudifyClientError) as missing:
        client.executions.get("no-such-id")
    assert missing.value.status_code == 404 and missing.value.error_code == "not_found_error"
    assert str(missing.value) == "404: Requested `Execution` with ID `no-such-id` was not found"
    with pytest.raises(IllegalExecutionParametersError) as bad_params:
        client.executions.start("d", "cfy.hold", parameters={"seconds": "soon", "colour": "red"})
    assert bad_params.value.status_code == 400 and "seconds" in str(bad_params.value)
    custom = client.executions.start(
        "d", "cfy.count", parameters={"colour": "red"}, allow_custom_parameters=True
    )
    assert custom.parameters["colour"] == "red"
    with pytest.raises(CloudifyClientError) as no_workflow:
        client.executions.start("d", "no.such.workflow")
    assert (
        no_workflow.value.error_code == "nonexistent_workflow_error" and no_workflow.value.status_code == 400
    )
    with pytest.raises(CloudifyClientError) as no_deployment:
        client.executions.start("nowhere", "cfy.count")
    assert no_deployment.value.status_code == 404 and "Deployment" in str(no_deployment.value)
    calls: list[Callable[[], Any]] = [
        lambda: client.executions.cancel("no-such-id"),
        lambda: client.executions.resume("no-such-id"),
        lambda: client.executions.update("no-such-id", "failed"),
        lambda: client.execution_groups.get("no-such-group"),
    ]
    for call in calls:
        with pytest.raises(CloudifyClientError) as err:
            call()
        assert err.value.status_code == 404 and err.value.error_code == "not_found_error"
    with pytest.raises(CloudifyClientError) as not_served:
        client.deployments.list()
    assert not_served.value.status_code == 404 and not_served.value.error_code == "not_found_error"
    with pytest.raises(CloudifyClientError) as wrong_method:
        client.executions.api.put("/executions")
    assert wrong_method.value.status_code == 405
    with pytest.raises(CloudifyClientError) as not_json:
        client.executions.api.post("/executions", data=b"{nope", expected_status_code=201)
    assert not_json.value.status_code == 400 and not_json.value.error_code == "bad_parameters_error"


# --- execution groups -------------------------------------------------------------------------


def max_overlap(lines: list[list[str]]) -> int:
    """Most executions between their start and end at any moment, from the workflow's own log."""
    points = sorted((float(t), 1 if kind == "start" else -1) for kind, _, t in lines)
    most = now = 0
    for _, step in points:
        now += step
        most = max(most, now)
    return most


def test_execution_group_runs_at_most_concurrency_at_once(env: Env) -> None:
    names = [f"node-{i}" for i in range(6)]
    env.deployments(*names)
    env.targets.create_group("fleet", members=names)
    env.targets.create_group("good")
    client = env.client()
    log = env.log("group")
    group = client.execution_groups.start(
        "fleet", "cfy.hold", default_parameters={"seconds": 0.3, "log": log},
        parameters={"node-5": {"seconds": 0.1, "log": log}}, concurrency=2,
    )  # fmt: skip
    assert group.deployment_group_id == "fleet" and group.workflow_id == "cfy.hold"
    assert group.concurrency == 2 and len(group.execution_ids) == 6
    assert group.status in ("queued", "pending", "started")
    seen_running = []

    def done() -> bool:
        members = client.executions.list(_group_id=group.id, _include=["status"])
        running = sum(1 for m in members if m.status == "started")
        seen_running.append(running)
        return all(m.status in END for m in members)

    wait_until(done, timeout=30, interval=0.02, what="every member to end")
    assert max(seen_running) <= 2
    assert len(env.lines("group")) == 12 and max_overlap(env.lines("group")) == 2
    final = client.execution_groups.get(group.id)
    assert final.status == "terminated"
    by_deployment = {e.deployment_id: e.parameters for e in client.executions.list(_group_id=group.id)}
    assert by_deployment["node-5"]["seconds"] == 0.1 and by_deployment["node-0"]["seconds"] == 0.3
    # set_target_group on an ended group: the deployments that succeeded join the success group.
    client.execution_groups.set_target_group(group.id, success_group="good")
    assert sorted(env.targets.get_group("good").members) == names
    with pytest.raises(CloudifyClientError) as missing:
        client.execution_groups.set_target_group(group.id, failed_group="no-such-group")
    assert missing.value.status_code == 404 and "DeploymentGroup" in str(missing.value)


def test_set_concurrency_widens_a_running_group(env: Env) -> None:
    names = [f"n{i}" for i in range(4)]
    env.deployments(*names)
    env.targets.create_group("all", members=names)
    client = env.client()
    log = env.log("wide")
    group = client.execution_groups.start("all", "cfy.hold", default_parameters={"seconds": 30, "log": log},
                                          concurrency=1)  # fmt: skip
    wait_until(lambda: len(env.lines("wide")) == 1, timeout=20, what="the first member to start")
    time.sleep(0.3)
    assert len(env.lines("wide")) == 1  # the gate holds the other three
    widened = client.execution_groups.set_concurrency(group.id, 4)
    assert widened.concurrency == 4
    wait_until(lambda: len(env.lines("wide")) == 4, timeout=20, what="every member to start")
    assert client.execution_groups.get(group.id).status == "started"
    with pytest.raises(CloudifyClientError) as zero:
        client.execution_groups.set_concurrency(group.id, 0)
    assert zero.value.status_code == 400 and zero.value.error_code == "bad_parameters_error"
    cancelled = client.execution_groups.cancel(group.id)
    assert cancelled.id == group.id
    wait_until(
        lambda: client.execution_groups.get(group.id).status == "terminated",
        timeout=20, what="the cancelled group to end",
    )  # fmt: skip
    statuses = {e.status for e in client.executions.list(_group_id=group.id)}
    assert statuses == {"cancelled"}


def test_group_cancel_then_resume_and_kill(env: Env) -> None:
    names = [f"m{i}" for i in range(3)]
    env.deployments(*names)
    env.targets.create_group("trio", members=names)
    client = env.client()
    group = client.execution_groups.start(
        "trio", "cfy.hold", default_parameters={"seconds": 30}, concurrency=1
    )
    wait_until(
        lambda: "started" in {e.status for e in client.executions.list(_group_id=group.id)},
        timeout=20, what="a member to start",
    )  # fmt: skip
    client.execution_groups.cancel(group.id, force=True)
    assert {e.status for e in client.executions.list(_group_id=group.id)} == {"cancelled"}
    resumed = client.execution_groups.resume(group.id)
    assert resumed.status in ("queued", "pending", "started")
    wait_until(
        lambda: "started" in {e.status for e in client.executions.list(_group_id=group.id)},
        timeout=20, what="a resumed member to start",
    )  # fmt: skip
    client.execution_groups.cancel(group.id, kill=True)
    wait_until(
        lambda: {e.status for e in client.executions.list(_group_id=group.id)} == {"cancelled"},
        timeout=20, what="every member cancelled",
    )  # fmt: skip
    with pytest.raises(CloudifyClientError) as bad:
        client.execution_groups.api.post(f"/execution-groups/{group.id}", data={"action": "explode"})
    assert bad.value.status_code == 400


def test_group_list_get_dump_and_create(env: Env) -> None:
    env.deployments("x1", "x2")
    env.targets.create_group("pair", members=["x1", "x2"])
    admin = env.client(Role.ADMIN)
    first = admin.execution_groups.start("pair", "cfy.count", concurrency=2)
    second = admin.execution_groups.start("pair", "cfy.count", concurrency=1)
    for g in (first, second):
        for ex_id in g.execution_ids:
            ended(admin, ex_id)
    listed = admin.execution_groups.list()
    assert [g.id for g in listed] == [first.id, second.id]
    assert listed.metadata.pagination.total == 2 and "status" not in listed[0]
    with_data = admin.execution_groups.list(_get_data=True, _size=1, _offset=1)
    assert [g.id for g in with_data] == [second.id] and with_data[0].status == "terminated"
    assert len(admin.execution_groups.list(workflow_id="cfy.count", _sort="-created_at")) == 2
    assert admin.execution_groups.get(first.id, _include=["id", "status"]) == {
        "id": first.id, "status": "terminated"
    }  # fmt: skip
    dumped = list(admin.execution_groups.dump())
    assert [d["id"] for d in dumped] == [first.id, second.id]
    assert sorted(dumped[0]["execution_ids"]) == sorted(first.execution_ids)
    assert set(dumped[0]) == {
        "id", "created_at", "workflow_id", "execution_ids", "concurrency", "deployment_group_id",
        "created_by",
    }  # fmt: skip
    assert [d["id"] for d in admin.execution_groups.dump([second.id])] == [second.id]

    # create (restore): a group made of executions that already exist, nothing new runs.
    loose = [admin.executions.create(d, "cfy.count", force_status="terminated").id for d in ("x1", "x2")]
    made = admin.execution_groups.create("pair", "cfy.count", loose, concurrency=3, id="restored-group")
    assert made.id == "restored-group" and sorted(made.execution_ids) == sorted(loose)
    assert made.status == "terminated"
    assert {e.id for e in admin.executions.list(_group_id="restored-group")} == set(loose)
    with pytest.raises(CloudifyClientError) as twice:
        admin.execution_groups.create("pair", "cfy.count", loose, id="again")
    assert twice.value.status_code == 409


def test_group_start_errors(env: Env) -> None:
    env.deployments("y")
    env.targets.create_group("solo", members=["y"])
    client = env.client()
    with pytest.raises(CloudifyClientError) as no_group:
        client.execution_groups.start("no-such-group", "cfy.count")
    assert no_group.value.status_code == 404 and "DeploymentGroup" in str(no_group.value)
    with pytest.raises(IllegalExecutionParametersError):
        client.execution_groups.start("solo", "cfy.hold", default_parameters={"seconds": "never"})
    with pytest.raises(CloudifyClientError) as bad_concurrency:
        client.execution_groups.start("solo", "cfy.count", concurrency=-1)
    assert bad_concurrency.value.error_code == "bad_parameters_error"
    assert client.execution_groups.list().metadata.pagination.total == 0
