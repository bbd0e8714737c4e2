"""The Python client for Conveyor's native REST API (docs/api.md).

    from conveyor.client import Client

    with Client("http://127.0.0.1:8321", token) as client:
        ex = client.executions.start("backup", target="db1", parameters={"full": True})
        ex.wait(timeout=600)
        client.schedules.create("backup", cron="0 3 * * *", timezone="Europe/Berlin")
        client.execution_groups.start("web", "deploy", concurrency=3).wait(timeout=600)

It depends on httpx, httpx-sse and the standard library only (plus the Status
enum of conveyor.core.model), so it can talk to a server from any machine
without the server's dependencies being exercised.

The resources are written once, async, in _async/; _sync/ is generated from
them by scripts/unasync.py (why: _async/__init__.py). What both share is plain
code without I/O: request shapes (calls.py, schedules.py, groups.py), the
documents (models.py), paging (paging.py) and waiting (waiting.py).
"""

from __future__ import annotations

from conveyor.client._async.client import AsyncClient
from conveyor.client._async.executions import AsyncExecution, AsyncExecutionList, AsyncExecutions
from conveyor.client._async.groups import AsyncExecutionGroup, AsyncExecutionGroups
from conveyor.client._async.schedules import AsyncSchedule, AsyncScheduleList, AsyncSchedules
from conveyor.client._async.targets import AsyncTarget, AsyncTargetGroup, AsyncTargetGroups, AsyncTargets
from conveyor.client._sync.client import Client
from conveyor.client._sync.executions import Execution, ExecutionList, Executions
from conveyor.client._sync.groups import ExecutionGroup, ExecutionGroups
from conveyor.client._sync.schedules import Schedule, ScheduleList, Schedules
from conveyor.client._sync.targets import Target, TargetGroup, TargetGroups, Targets
from conveyor.client.errors import (
    AuthError,
    ConflictError,
    ConveyorAPIError,
    ConveyorClientError,
    ConveyorConnectionError,
    ExecutionCancelled,
    ExecutionError,
    ExecutionFailed,
    IllegalTransitionError,
    InvalidParametersError,
    InvalidRequestError,
    InvalidTriggerError,
    NotFoundError,
    ServerError,
    WaitTimeout,
)
from conveyor.client.groups import ExecutionGroupData, GroupWaitTimeout, TargetData, TargetGroupData
from conveyor.client.http import DEFAULT_URL
from conveyor.client.models import ExecutionData, StartSpec, TokenInfo, Workflow
from conveyor.client.schedules import ScheduleData
from conveyor.core.model import Status

__all__ = [
    "DEFAULT_URL", "AsyncClient", "AsyncExecution", "AsyncExecutionGroup", "AsyncExecutionGroups",
    "AsyncExecutionList", "AsyncExecutions", "AsyncSchedule", "AsyncScheduleList", "AsyncSchedules",
    "AsyncTarget", "AsyncTargetGroup", "AsyncTargetGroups", "AsyncTargets", "AuthError", "Client",
    "ConflictError", "ConveyorAPIError", "ConveyorClientError", "ConveyorConnectionError", "Execution",
    "ExecutionCancelled", "ExecutionData", "ExecutionError", "ExecutionFailed", "ExecutionGroup",
    "ExecutionGroupData", "ExecutionGroups", "ExecutionList", "Executions", "GroupWaitTimeout",
    "IllegalTransitionError", "InvalidParametersError", "InvalidRequestError", "InvalidTriggerError",
    "NotFoundError", "Schedule", "ScheduleData", "ScheduleList", "Schedules", "ServerError", "StartSpec",
    "Status", "Target", "TargetData", "TargetGroup", "TargetGroupData", "TargetGroups", "Targets",
    "TokenInfo", "WaitTimeout", "Workflow",
]  # fmt: skip
