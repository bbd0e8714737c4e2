"""The public surface: every name in `__all__` exists, and the lists change only on purpose."""

from __future__ import annotations

import conveyor
import conveyor.client

CLIENT = {
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
}  # fmt: skip


def test_client_exports_exactly_these_names() -> None:
    assert set(conveyor.client.__all__) == CLIENT
    assert len(conveyor.client.__all__) == len(CLIENT)
    for name in conveyor.client.__all__:
        assert getattr(conveyor.client, name) is not None, name


def test_package_exports_exactly_these_names() -> None:
    assert sorted(conveyor.__all__) == ["App", "AsyncClient", "Client", "__version__"]
    for name in conveyor.__all__:
        assert getattr(conveyor, name) is not None, name


def test_sync_and_async_classes_pair_up() -> None:
    for name in CLIENT:
        if name.startswith("Async"):
            assert name[len("Async") :] in CLIENT, name
