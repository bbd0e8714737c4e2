"""`App` and `@app.workflow`: where workflows are declared, and the catalog that checks their parameters."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from conveyor.core.errors import InvalidParameters, UnknownWorkflow
from conveyor.core.model import JSON, WorkflowInfo

F = TypeVar("F", bound=Callable[..., Any])
ISOLATIONS = ("inline", "process")


@dataclass(frozen=True, slots=True)
class WorkflowDef:
    info: WorkflowInfo
    func: Callable[..., Any]
    params_model: type[BaseModel] | None
    is_async: bool

    def parse(self, parameters: JSON) -> Any:
        """What the handler receives as `params`: the model instance, or the plain dict."""
        if self.params_model is None:
            return dict(parameters)
        # Checked at start already; lenient here so custom parameters reach the handler.
        return _lenient(self.params_model).model_validate(parameters)


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


class App:
    """A set of workflows. Both `conveyor serve --app` and `conveyor worker --app` load it."""

    def __init__(self, name: str = "conveyor") -> None:
        self.name = name
        self.workflows: dict[str, WorkflowDef] = {}

    def workflow(
        self,
        name: str | None = None,
        *,
        params: type[BaseModel] | None = None,
        description: str | None = None,
        system: bool = False,
        timeout: float | None = None,
        max_attempts: int = 1,
        retry_backoff: float = 1.0,
        queue: str = "default",
        isolation: str = "inline",
        retention: float | None = None,
        allow_custom_parameters: bool = False,
    ) -> Callable[[F], F]:
        if isolation not in ISOLATIONS:
            raise ValueError(f"isolation must be one of {ISOLATIONS}, not {isolation!r}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

        def register(func: F) -> F:
            wf_name = name or func.__name__
            if wf_name in self.workflows:
                raise ValueError(f"workflow {wf_name!r} is registered twice")
            schema: JSON = params.model_json_schema() if params is not None else {"type": "object"}
            info = WorkflowInfo(
                name=wf_name,
                parameters_schema=schema,
                description=description or inspect.getdoc(func) or "",
                system=system,
                timeout=timeout,
                max_attempts=max_attempts,
                retry_backoff=retry_backoff,
                queue=queue,
                isolation=isolation,
                retention=retention,
                allow_custom_parameters=allow_custom_parameters,
            )
            self.workflows[wf_name] = WorkflowDef(info, func, params, inspect.iscoroutinefunction(func))
            return func

        return register

    def merge(self, other: App) -> None:
        for name, wf in other.workflows.items():
            if name in self.workflows and self.workflows[name] is not wf:
                raise ValueError(f"workflow {name!r} is defined by two apps")
            self.workflows[name] = wf

    # --- the WorkflowCatalog protocol ------------------------------------------

    def get(self, name: str) -> WorkflowInfo | None:
        wf = self.workflows.get(name)
        return wf.info if wf else None

    def all(self) -> list[WorkflowInfo]:
        return [self.workflows[n].info for n in sorted(self.workflows)]

    def validate(self, name: str, parameters: JSON, *, allow_custom: bool) -> JSON:
        wf = self.workflows.get(name)
        if wf is None:
            raise UnknownWorkflow(name, list(self.workflows))
        if wf.params_model is None:
            return dict(parameters)
        custom = allow_custom or wf.info.allow_custom_parameters
        model = _lenient(wf.params_model) if custom else _strict(wf.params_model)
        try:
            return model.model_validate(parameters).model_dump(mode="json")
        except ValidationError as exc:
            raise InvalidParameters(name, _errors(exc)) from None


_VARIANTS: dict[tuple[type[BaseModel], str], type[BaseModel]] = {}


def _variant(model: type[BaseModel], extra: str) -> type[BaseModel]:
    """The same model with another policy for parameters it does not declare."""
    key = (model, extra)
    if key not in _VARIANTS:
        name = f"{model.__name__}{extra.capitalize()}Extra"
        _VARIANTS[key] = type(name, (model,), {"model_config": ConfigDict(extra=extra)})  # type: ignore[typeddict-item]
    return _VARIANTS[key]


def _lenient(model: type[BaseModel]) -> type[BaseModel]:
    """Keeps undeclared parameters (allow_custom_parameters); the handler finds them in `model_extra`."""
    return model if model.model_config.get("extra") == "allow" else _variant(model, "allow")


def _strict(model: type[BaseModel]) -> type[BaseModel]:
    """Refuses undeclared parameters, unless the model itself says what to do with them."""
    return model if model.model_config.get("extra") is not None else _variant(model, "forbid")


def load_apps(specs: tuple[str, ...] | list[str]) -> App:
    """Import 'pkg.module' or 'pkg.module:attr' and merge every App found into one."""
    if os.getcwd() not in sys.path:  # like uvicorn: modules next to where you run the command load
        sys.path.insert(0, os.getcwd())
    merged = App()
    for spec in specs:
        module_name, _, attr = spec.partition(":")
        module = importlib.import_module(module_name)
        if attr:
            found = getattr(module, attr)
            if not isinstance(found, App):
                raise TypeError(f"{spec} is a {type(found).__name__}, not a conveyor.App")
            merged.merge(found)
            continue
        apps = [v for v in vars(module).values() if isinstance(v, App)]
        if not apps:
            raise LookupError(f"module {module_name!r} defines no conveyor.App")
        for app in apps:
            merged.merge(app)
    return merged
