"""The worker protocol is language-neutral: the Node worker of examples/workers/node (standard library
only) serves a workflow a live server knows only from its registration, reports progress, and
honours a cancel."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conveyor.client import Client
from conveyor.client.errors import ExecutionCancelled, InvalidParametersError
from tests.acceptance.conftest import ROOT, System
from tests.helpers import wait_until

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed: `apt-get install nodejs`")


def test_a_node_worker_runs_reports_progress_and_honours_cancel(system: System) -> None:
    _, url = system.server()
    log = open(system.tmp / "node-worker.log", "wb")  # noqa: SIM115 - lives as long as the process
    node = subprocess.Popen(
        [str(NODE), str(ROOT / "examples/workers/node/worker.mjs")], env={**system.env, "CONVEYOR_URL": url},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    system.procs.append(node)
    with Client(url) as client:
        wait_until(lambda: any(w["state"] == "alive" for w in client.workers.list()), timeout=30,
                   what="the Node worker registered")  # fmt: skip
        (me,) = client.workers.list()
        assert (me["transport"], me["workflows"]) == ("http", ["node.count"])
        with pytest.raises(InvalidParametersError):  # checked against the schema the worker declared
            client.executions.start("node.count", parameters={"n": "three"})

        done = [client.executions.start("node.count", parameters={"n": 3}) for _ in range(10)]
        for ex in done:
            final = ex.wait(timeout=30)
            assert (final.status, final.result) == ("succeeded", {"counted": 3, "by": "node"})
            assert (final.finished_operations, final.total_operations) == (3, 3)
        messages = [e["message"] for e in client.executions.get(done[0].id).events()]
        assert "counted to 3" in messages

        long = client.executions.start("node.count", parameters={"n": 100000, "delay": 0.01})
        wait_until(lambda: (client.executions.get(long.id).finished_operations or 0) > 0, timeout=30,
                   what="progress from the Node worker")  # fmt: skip
        client.executions.get(long.id).cancel()
        with pytest.raises(ExecutionCancelled):
            client.executions.get(long.id).wait(timeout=30)
        assert client.executions.get(long.id).status == "cancelled"
