"""The Python client for Conveyor's native REST API (docs/api.md).

    from conveyor.client import Client

    with Client("http://127.0.0.1:8321", token) as client:
        ex = client.executions.start("backup", target="db1", parameters={"full": True})
        ex.wait(timeout=600)
        client.schedules.create("backup", cron="0 3 * * *", timezone="Europe/Berlin")
        client.execution_groups.start("web", "deploy", concurrency=3).wait(timeout=600)

It depends on httpx and the standard library only (plus the Status enum of
conveyor.core.model), so it can talk to a server from any machine without
the server's dependencies being exercised.
"""

from __future__ import annotations

from conveyor.client.aio import AsyncClient, AsyncExecution, AsyncExecutionList, AsyncExecutions
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
from conveyor.client.groups import (
    AsyncExecutionGroup,
    AsyncExecutionGroups,
    AsyncTarget,
    AsyncTargetGroup,
    AsyncTargetGroups,
    AsyncTargets,
    ExecutionGroup,
    ExecutionGroupData,
    ExecutionGroups,
    GroupWaitTimeout,
    Target,
    TargetData,
    TargetGroup,
    TargetGroupData,
    TargetGroups,
    Targets,
)
from conveyor.client.http import DEFAULT_URL
from conveyor.client.models import ExecutionData, StartSpec, TokenInfo, Workflow
from conveyor.client.schedules import (
    AsyncSchedule,
    AsyncScheduleList,
    AsyncSchedules,
    Schedule,
    ScheduleData,
    ScheduleList,
    Schedules,
)
from conveyor.client.sync import Client, Execution, ExecutionList, Executions
from conveyor.core.model import Status

__all__ = [
    "DEFAULT_URL",
    "AsyncClient",
    "AsyncExecution",
    "AsyncExecutionGroup",
    "AsyncExecutionGroups",
    "AsyncExecutionList",
    "AsyncExecutions",
    "AsyncSchedule",
    "AsyncScheduleList",
    "AsyncSchedules",
    "AsyncTarget",
    "AsyncTargetGroup",
    "AsyncTargetGroups",
    "AsyncTargets",
    "AuthError",
    "Client",
    "ConflictError",
    "ConveyorAPIError",
    "ConveyorClientError",
    "ConveyorConnectionError",
    "Execution",
    "ExecutionCancelled",
    "ExecutionData",
    "ExecutionError",
    "ExecutionFailed",
    "ExecutionGroup",
    "ExecutionGroupData",
    "ExecutionGroups",
    "ExecutionList",
    "Executions",
    "GroupWaitTimeout",
    "IllegalTransitionError",
    "InvalidParametersError",
    "InvalidRequestError",
    "InvalidTriggerError",
    "NotFoundError",
    "Schedule",
    "ScheduleData",
    "ScheduleList",
    "Schedules",
    "ServerError",
    "StartSpec",
    "Status",
    "Target",
    "TargetData",
    "TargetGroup",
    "TargetGroupData",
    "TargetGroups",
    "Targets",
    "TokenInfo",
    "WaitTimeout",
    "Workflow",
]
