"""Every API call as a plain `Call` value: method, path, query, body, headers.

The sync and async clients differ only in how they send a request, so the
knowledge of the contract (docs/api.md: paths, field names, how filters are
spelled) lives here once, as pure functions both of them use and tests can
check without a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from conveyor.client.models import JSON, StartSpec, format_datetime

#: Filters `GET /executions`, `/executions/count` and `DELETE /executions` accept.
FILTERS = (
    "status", "workflow", "target", "queue", "created_by", "group_id", "is_system", "dry_run",
    "created_after", "created_before",
)  # fmt: skip
#: The largest page the server hands out (docs/api.md: limit 1-1000).
MAX_PAGE = 1000

FilterValue = str | Sequence[str] | bool | datetime | None


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def _seg(value: str) -> str:
    """One path segment: ids and names come from users, so they are escaped rather than trusted."""
    if not value:
        raise ValueError("an id or name must be a non-empty string")
    return quote(str(value), safe="")


def _idem(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


def _join(value: str | Iterable[str]) -> str:
    if isinstance(value, str):
        return value
    return ",".join(str(v) for v in value)


def filter_params(filters: Mapping[str, FilterValue]) -> dict[str, str]:
    """Query parameters for the list filters.

    Lists become comma-separated (the server's spelling for "any of"),
    booleans `true`/`false`, datetimes ISO in UTC. Unknown names raise
    TypeError here, since the server would otherwise reject them only after
    a round trip, or worse, ignore them and return everything.
    """
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}; known: {', '.join(FILTERS)}")
    out: dict[str, str] = {}
    for name, value in filters.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            out[name] = format_datetime(value)
        else:
            joined = _join(value)
            if joined:
                out[name] = joined
    return out


# --- executions ------------------------------------------------------------------


def start(spec: StartSpec, idempotency_key: str | None = None) -> Call:
    return Call("POST", "/executions", json=spec.to_body(), headers=_idem(idempotency_key))


def start_many(
    specs: Iterable[StartSpec | JSON], *, queue: bool = True, idempotency_key: str | None = None
) -> Call:
    body = {"executions": [StartSpec.coerce(s).to_body() for s in specs], "queue": queue}
    return Call("POST", "/executions:bulk", json=body, headers=_idem(idempotency_key))


def get(execution_id: str, include: str | Sequence[str] | None = None) -> Call:
    params = {"include": _join(include)} if include else {}
    return Call("GET", f"/executions/{_seg(execution_id)}", params=params)


def list_page(
    filters: Mapping[str, FilterValue],
    *,
    sort: str | Sequence[str] | None,
    include: str | Sequence[str] | None,
    limit: int,
    cursor: str | None,
) -> Call:
    params = filter_params(filters)
    if sort:
        params["sort"] = _join(sort)
    if include:
        params["include"] = _join(include)
    params["limit"] = str(limit)
    if cursor:
        params["cursor"] = cursor
    return Call("GET", "/executions", params=params)


def count(filters: Mapping[str, FilterValue]) -> Call:
    return Call("GET", "/executions/count", params=filter_params(filters))


def cancel(execution_id: str, *, force: bool = False, kill: bool = False) -> Call:
    if force and kill:
        raise ValueError("choose either force or kill, not both: kill already implies a forced stop")
    mode = "kill" if kill else "force" if force else "cancel"
    return Call("POST", f"/executions/{_seg(execution_id)}/cancel", json={"mode": mode})


def action(execution_id: str, name: str, body: JSON | None = None) -> Call:
    """pause / requeue / resume: actions whose only input is the execution (and resume's force)."""
    return Call("POST", f"/executions/{_seg(execution_id)}/{name}", json=body if body is not None else {})


def update_status(execution_id: str, status: str, error: JSON | str | None, result: Any) -> Call:
    body: JSON = {"status": str(status)}
    if error is not None:
        body["error"] = error
    if result is not None:
        body["result"] = result
    return Call("PATCH", f"/executions/{_seg(execution_id)}", json=body)


def message(execution_id: str, text: str, level: str) -> Call:
    return Call("POST", f"/executions/{_seg(execution_id)}/messages", json={"message": text, "level": level})


def delete(execution_id: str) -> Call:
    return Call("DELETE", f"/executions/{_seg(execution_id)}")


def delete_finished(
    to_datetime: datetime | str | None, keep_last: int | None, filters: Mapping[str, FilterValue]
) -> Call:
    if to_datetime is not None and keep_last is not None:
        raise ValueError("pass either to_datetime or keep_last, not both")
    params = filter_params(filters)
    if to_datetime is not None:
        params["to_datetime"] = format_datetime(to_datetime)
    if keep_last is not None:
        params["keep_last"] = str(keep_last)
    return Call("DELETE", "/executions", params=params)


def events(execution_id: str, after: int, limit: int) -> Call:
    return Call(
        "GET", f"/executions/{_seg(execution_id)}/events", params={"after": str(after), "limit": str(limit)}
    )


def event_stream(execution_id: str, after: int) -> Call:
    # Sent both ways: `after` for the first connection, Last-Event-ID as SSE clients do on reconnects.
    headers = {"Accept": "text/event-stream"}
    if after:
        headers["Last-Event-ID"] = str(after)
    return Call(
        "GET",
        f"/executions/{_seg(execution_id)}/events/stream",
        params={"after": str(after)},
        headers=headers,
    )


# --- batch -----------------------------------------------------------------------

BatchCallSpec = Mapping[str, Any] | Sequence[Any]


def batch_item(spec: BatchCallSpec) -> JSON:
    """One call of a batch: a mapping `{"method", "path", "body"?, "query"?}` or a tuple
    `(method, path)` / `(method, path, body)`. Paths may be relative to /api/v1 (`/executions`)."""
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"method", "path", "body", "query"}
        if unknown:
            raise TypeError(f"unknown batch call field(s): {', '.join(sorted(unknown))}")
        if "method" not in spec or "path" not in spec:
            raise TypeError("a batch call needs a method and a path")
        out: JSON = {"method": str(spec["method"]), "path": str(spec["path"]), "body": spec.get("body")}
        if spec.get("query") is not None:
            out["query"] = dict(spec["query"])
        return out
    if isinstance(spec, str) or not 2 <= len(spec) <= 3:
        raise TypeError("a batch call is a mapping or a (method, path[, body]) tuple")
    return {"method": str(spec[0]), "path": str(spec[1]), "body": spec[2] if len(spec) == 3 else None}


def batch(
    specs: Iterable[BatchCallSpec],
    *,
    sync: bool = True,
    stop_on_error: bool = False,
    idempotency_key: str | None = None,
) -> Call:
    body = {"calls": [batch_item(s) for s in specs], "sync": sync, "stop_on_error": stop_on_error}
    return Call("POST", "/batch", json=body, headers=_idem(idempotency_key))


# --- workflows, tokens, health ---------------------------------------------------


def workflows() -> Call:
    return Call("GET", "/workflows")


def workflow(name: str) -> Call:
    return Call("GET", f"/workflows/{_seg(name)}")


def workflow_declare(name: str, declaration: JSON) -> Call:
    return Call("PUT", f"/workflows/{_seg(name)}", json=declaration)


def token_create(name: str, role: str) -> Call:
    return Call("POST", "/tokens", json={"name": name, "role": role})


def token_list() -> Call:
    return Call("GET", "/tokens")


def token_delete(token_id: str) -> Call:
    return Call("DELETE", f"/tokens/{_seg(token_id)}")


# --- the worker protocol (docs/workers.md) ---------------------------------------------------


def worker_register(
    name: str, host: str, queues: Sequence[str], workflows: Sequence[JSON], concurrency: int, version: str
) -> Call:
    body = {"name": name, "host": host, "queues": list(queues), "workflows": list(workflows),
            "concurrency": concurrency, "version": version}  # fmt: skip
    return Call("POST", "/workers", json=body)


def worker_claim(worker_id: str, limit: int, wait: float) -> Call:
    return Call("POST", f"/workers/{_seg(worker_id)}/claim", json={"limit": limit, "wait": wait})


def worker_heartbeat(worker_id: str, execution_ids: Sequence[str]) -> Call:
    return Call("POST", f"/workers/{_seg(worker_id)}/heartbeat", json={"executions": list(execution_ids)})


def worker_reports(worker_id: str, reports: Sequence[JSON], idempotency_key: str | None) -> Call:
    return Call("POST", f"/workers/{_seg(worker_id)}/reports", json={"reports": list(reports)},
                headers=_idem(idempotency_key))  # fmt: skip


def worker_deregister(worker_id: str) -> Call:
    return Call("DELETE", f"/workers/{_seg(worker_id)}")


def worker_list() -> Call:
    return Call("GET", "/workers")


def queue_list() -> Call:
    return Call("GET", "/queues")


def health() -> Call:
    return Call("GET", "/health")
