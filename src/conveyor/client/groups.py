"""`client.targets`, `client.target_groups` and `client.execution_groups` (docs/api.md).

    client.targets.create("web01", labels={"role": "web"}, max_concurrent=1)
    client.target_groups.create("web", labels={"role": "web"})
    group = client.execution_groups.start("web", "deploy", default_parameters={"version": "1.2"},
                                          concurrency=3)
    group.wait(timeout=600)
    print(group.status, group.counts)

Here are what both clients share: the request shapes, as pure functions (the
`*_call` functions below), and the documents. The resources that send them are
in _async/targets.py and _async/groups.py (and the generated _sync/).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from conveyor.client.calls import Call, _idem, _seg
from conveyor.client.errors import ConveyorClientError
from conveyor.client.models import JSON, Document, field, maybe, parse_datetime

#: The statuses of a group whose members have all ended.
GROUP_DONE = frozenset({"succeeded", "failed", "cancelled"})
#: The fields a member listing asks for: enough to draw progress without whole documents.
MEMBER_FIELDS = (
    "id", "workflow", "target", "status", "total_operations", "finished_operations", "progress",
    "started_at", "ended_at", "error",
)  # fmt: skip

LabelFilter = Mapping[str, str] | Sequence[str] | str
#: One name, or several.
Names = str | Iterable[str]


def label_values(labels: LabelFilter | None) -> list[str]:
    """A label filter as the `label` query values: {"role": "web"}, ["role:web"] or "role:web"."""
    if labels is None:
        return []
    if isinstance(labels, str):
        return [labels]
    if isinstance(labels, Mapping):
        return [f"{k}:{v}" for k, v in labels.items()]
    return [str(v) for v in labels]


def label_dict(labels: LabelFilter | None) -> dict[str, str]:
    """A label filter as the `labels` object of a body; a bare key (or key:) means any value ('*')."""
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        return {str(k): str(v) for k, v in labels.items()}
    out: dict[str, str] = {}
    for item in label_values(labels):
        key, sep, value = item.partition(":")
        out[key] = value if sep and value else "*"
    return out


def _query(path: str, pairs: Sequence[tuple[str, str]]) -> str:
    """The query goes in the path, since a label filter repeats `label` (values may hold commas)."""
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _names(names: Names) -> list[str]:
    return [names] if isinstance(names, str) else [str(n) for n in names]


def target_create_call(
    name: str, *, max_concurrent: int, labels: Mapping[str, str] | None, idempotency_key: str | None
) -> Call:
    body = {"name": name, "max_concurrent": max_concurrent, "labels": dict(labels or {})}
    return Call("POST", "/targets", json=body, headers=_idem(idempotency_key))


def target_get_call(name: str) -> Call:
    return Call("GET", f"/targets/{_seg(name)}")


def target_list_call(labels: LabelFilter | None, limit: int, cursor: str | None) -> Call:
    pairs = [("label", v) for v in label_values(labels)] + [("limit", str(limit))]
    if cursor:
        pairs.append(("cursor", cursor))
    return Call("GET", _query("/targets", pairs))


def target_update_call(name: str, *, max_concurrent: int | None, labels: Mapping[str, str] | None) -> Call:
    body: JSON = {}
    if max_concurrent is not None:
        body["max_concurrent"] = max_concurrent
    if labels is not None:
        body["labels"] = dict(labels)
    if not body:
        raise ValueError("nothing to change: give max_concurrent and/or labels")
    return Call("PATCH", f"/targets/{_seg(name)}", json=body)


def target_delete_call(name: str, *, force: bool) -> Call:
    return Call("DELETE", _query(f"/targets/{_seg(name)}", [("force", "true")] if force else []))


def target_group_create_call(
    name: str, *, description: str, members: Names, labels: LabelFilter | None, idempotency_key: str | None
) -> Call:
    body = {
        "name": name,
        "description": description,
        "members": _names(members),
        "labels": label_dict(labels),
    }
    return Call("POST", "/target-groups", json=body, headers=_idem(idempotency_key))


def target_group_get_call(name: str) -> Call:
    return Call("GET", f"/target-groups/{_seg(name)}")


def target_group_list_call(limit: int, cursor: str | None) -> Call:
    pairs = [("limit", str(limit))] + ([("cursor", cursor)] if cursor else [])
    return Call("GET", _query("/target-groups", pairs))


def members_call(name: str, add: bool, targets: Names, labels: LabelFilter | None) -> Call:
    body = {"targets": _names(targets), "labels": label_dict(labels)}
    if not body["targets"] and not body["labels"]:
        raise ValueError("name the targets and/or give a label filter")
    return Call("POST" if add else "DELETE", f"/target-groups/{_seg(name)}/members", json=body)


def target_group_delete_call(name: str) -> Call:
    return Call("DELETE", f"/target-groups/{_seg(name)}")


def group_start_call(
    target_group: str,
    workflow: str,
    *,
    default_parameters: JSON | None,
    parameters: Mapping[str, JSON] | None,
    concurrency: int,
    force: bool,
    idempotency_key: str | None,
) -> Call:
    body = {
        "target_group": target_group,
        "workflow": workflow,
        "default_parameters": dict(default_parameters or {}),
        "parameters": {str(t): dict(p) for t, p in (parameters or {}).items()},
        "concurrency": concurrency,
        "force": force,
    }
    return Call("POST", "/execution-groups", json=body, headers=_idem(idempotency_key))


def group_get_call(group_id: str) -> Call:
    return Call("GET", f"/execution-groups/{_seg(group_id)}")


def group_list_call(
    workflow: str | Sequence[str] | None,
    target_group: str | Sequence[str] | None,
    limit: int,
    cursor: str | None,
) -> Call:
    pairs = [("workflow", w) for w in _names(workflow or [])]
    pairs += [("target_group", g) for g in _names(target_group or [])]
    pairs.append(("limit", str(limit)))
    if cursor:
        pairs.append(("cursor", cursor))
    return Call("GET", _query("/execution-groups", pairs))


def group_cancel_call(group_id: str, *, force: bool, kill: bool) -> Call:
    if force and kill:
        raise ValueError("choose either force or kill, not both: kill already implies a forced stop")
    return Call("POST", f"/execution-groups/{_seg(group_id)}/cancel", json={"force": force, "kill": kill})


def group_concurrency_call(group_id: str, concurrency: int) -> Call:
    return Call("POST", f"/execution-groups/{_seg(group_id)}/concurrency", json={"concurrency": concurrency})


def group_sinks_call(group_id: str, success_group: str | None, failed_group: str | None) -> Call:
    if success_group is None and failed_group is None:
        raise ValueError("give success_group and/or failed_group")
    body = {"success_group": success_group, "failed_group": failed_group}
    return Call("POST", f"/execution-groups/{_seg(group_id)}/target-groups", json=body)


def group_dump_call(ids: Iterable[str] | None) -> Call:
    wanted = _names(ids or [])
    return Call("GET", "/execution-groups:dump", params={"ids": ",".join(wanted)} if wanted else {})


def _strs(values: Any) -> list[str]:
    return [str(v) for v in values]


def _counts(counts: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in counts.items()}


class TargetData(Document):
    """A target: what executions act on, with its concurrency limit and labels."""

    name = field("name", str, "")
    max_concurrent = field("max_concurrent", int, 1)
    labels = field("labels", dict[str, str], {})
    created_at = maybe("created_at", parse_datetime)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} max_concurrent={self.max_concurrent}>"


class TargetGroupData(Document):
    """A named set of targets; `members` is filled in answers about one group, not in lists."""

    name = field("name", str, "")
    description = field("description", str, "")
    member_count = field("member_count", int, 0)
    members = maybe(
        "members", _strs, "The member names (sorted), or None in a list answer (`refresh()` fetches them)."
    )
    created_at = maybe("created_at", parse_datetime)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.member_count} member(s)>"


class ExecutionGroupData(Document):
    """An execution group: its settings, its members' ids and counts, and its derived status."""

    status = field(
        "status",
        str,
        "",
        'pending, started, succeeded, failed or cancelled (docs/api.md, "Execution groups").',
    )
    workflow = field("workflow", str, "")
    target_group = field("target_group", str, "")
    concurrency = field("concurrency", int, 0)
    force = field("force", bool, False)
    default_parameters = field("default_parameters", JSON, {})
    parameters = field("parameters", dict[str, JSON], {})
    created_by = maybe("created_by", str)
    success_group = maybe("success_group", str)
    failed_group = maybe("failed_group", str)
    execution_ids = field("execution_ids", _strs, [])
    total = field("total", int, 0)
    ended = field("ended", int, 0, "How many members are succeeded, failed or cancelled.")
    counts = field("counts", _counts, {}, 'Members per execution status, e.g. {"running": 3, "queued": 12}.')
    created_at = maybe("created_at", parse_datetime)

    @property
    def is_done(self) -> bool:
        return self.status in GROUP_DONE

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.workflow!r} {self.status} {self.ended}/{self.total}>"


class GroupWaitTimeout(ConveyorClientError, TimeoutError):
    """`ExecutionGroup.wait()` gave up; the group goes on, since waiting never changes it."""

    def __init__(self, group: ExecutionGroupData, timeout: float) -> None:
        self.group = group
        self.timeout = timeout
        super().__init__(
            f"Execution group {group.id} of workflow {group.workflow!r} is still {group.status} "
            f"({group.ended} of {group.total} members ended) after waiting {timeout:g} seconds; "
            "it keeps going on the server."
        )
