"""Where the service learns which workflows exist and how to check their parameters.

A workflow's code lives in whichever processes import it (the server with
`--app`, the workers). The local registry validates with the workflow's
Pydantic model; a workflow known only from the store (registered by a worker
elsewhere) is validated against the JSON schema that worker stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from conveyor.core.errors import InvalidParameters, UnknownWorkflow
from conveyor.core.model import JSON, WorkflowInfo

if TYPE_CHECKING:
    import jsonschema


class WorkflowCatalog(Protocol):
    def get(self, name: str) -> WorkflowInfo | None: ...
    def all(self) -> list[WorkflowInfo]: ...
    def validate(self, name: str, parameters: JSON, *, allow_custom: bool) -> JSON:
        """Return the parameters as the workflow will see them, or raise InvalidParameters."""
        ...


def _schema_errors(info: WorkflowInfo, parameters: JSON, allow_custom: bool) -> list[dict[str, Any]]:
    schema = dict(info.parameters_schema)
    if allow_custom:
        schema.pop("additionalProperties", None)
    elif "properties" in schema and "additionalProperties" not in schema:
        # A declared parameter model refuses what it does not declare, as the local registry does.
        schema["additionalProperties"] = False
    import jsonschema  # here, not at the top: every worker imports this module, few validate schemas

    validator = jsonschema.Draft202012Validator(schema)
    return [
        {"loc": _loc(err), "msg": err.message, "type": err.validator}
        for err in validator.iter_errors(parameters)
    ]


def _loc(err: jsonschema.ValidationError) -> list[Any]:
    """Where the error is; a missing required field is located at the field, as Pydantic does."""
    loc = list(err.absolute_path)
    if err.validator == "required" and isinstance(err.validator_value, list):
        missing = [p for p in err.validator_value if err.message.startswith(f"{p!r} ")]
        loc += missing[:1]
    return loc


class StoredCatalog:
    """Workflows as the store knows them, refreshed at most every `ttl` seconds."""

    def __init__(self, load: Callable[[], list[WorkflowInfo]], ttl: float = 2.0) -> None:
        self._load = load
        self._ttl = ttl
        self._cache: dict[str, WorkflowInfo] = {}
        self._loaded_at = float("-inf")

    def _fresh(self, force: bool = False) -> dict[str, WorkflowInfo]:
        if force or time.monotonic() - self._loaded_at > self._ttl:
            self._cache = {w.name: w for w in self._load()}
            self._loaded_at = time.monotonic()
        return self._cache

    def get(self, name: str) -> WorkflowInfo | None:
        found = self._fresh().get(name)
        if found is None:  # a worker may have registered it a moment ago
            found = self._fresh(force=True).get(name)
        return found

    def all(self) -> list[WorkflowInfo]:
        return sorted(self._fresh().values(), key=lambda w: w.name)

    def validate(self, name: str, parameters: JSON, *, allow_custom: bool) -> JSON:
        info = self.get(name)
        if info is None:
            raise UnknownWorkflow(name, [w.name for w in self.all()])
        errors = _schema_errors(info, parameters, allow_custom or info.allow_custom_parameters)
        if errors:
            raise InvalidParameters(name, errors)
        return parameters


class ChainedCatalog:
    """Ask each catalog in turn: the first that knows a workflow answers for it."""

    def __init__(self, *catalogs: WorkflowCatalog) -> None:
        self._catalogs = catalogs

    def get(self, name: str) -> WorkflowInfo | None:
        for c in self._catalogs:
            info = c.get(name)
            if info is not None:
                return info
        return None

    def all(self) -> list[WorkflowInfo]:
        seen: dict[str, WorkflowInfo] = {}
        for c in self._catalogs:
            for info in c.all():
                seen.setdefault(info.name, info)
        return sorted(seen.values(), key=lambda w: w.name)

    def validate(self, name: str, parameters: JSON, *, allow_custom: bool) -> JSON:
        for c in self._catalogs:
            if c.get(name) is not None:
                return c.validate(name, parameters, allow_custom=allow_custom)
        raise UnknownWorkflow(name, [w.name for w in self.all()])
