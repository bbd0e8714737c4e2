"""`/workflows`: what can be started, with each workflow's parameter schema and flags.

Answers come from the service's catalog, which merges workflows imported by
this process with those registered by workers elsewhere or declared by hand,
so a client sees every workflow it may start wherever the code lives, and
which live workers serve each one.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from conveyor.api.auth import Admin, Viewer
from conveyor.api.deps import Service, json_answer
from conveyor.api.schemas import COMMON_ERRORS, ErrorEnvelope, WorkflowList, WorkflowOut
from conveyor.api.schemas_workers import WorkflowDeclaration
from conveyor.api.serialize import workflow_doc
from conveyor.api.workers import Workers
from conveyor.core.model import WorkflowInfo

router = APIRouter(tags=["workflows"], responses=COMMON_ERRORS)


@router.get("/workflows", response_model=WorkflowList, summary="List workflows")
def list_workflows(service: Service, workers: Workers, _: Viewer) -> Response:
    serving = workers.serving()
    return json_answer({"items": [_doc(w, serving) for w in service.workflows()]})


@router.get(
    "/workflows/{name}",
    response_model=WorkflowOut,
    responses={404: {"model": ErrorEnvelope, "description": "unknown_workflow"}},
    summary="Get one workflow",
)
def get_workflow(name: str, service: Service, workers: Workers, _: Viewer) -> Response:
    return json_answer(_doc(service.workflow(name), workers.serving()))


@router.put(
    "/workflows/{name}",
    response_model=WorkflowOut,
    summary="Declare a workflow by hand (its code runs elsewhere): schema, queue, flags",
)
def declare_workflow(
    name: str, body: WorkflowDeclaration, service: Service, workers: Workers, _: Admin
) -> Response:
    info = service.declare_workflow(WorkflowInfo(name=name, **body.model_dump()))
    return json_answer(_doc(info, workers.serving()))


def _doc(info: WorkflowInfo, serving: dict[str, list[str]]) -> dict[str, Any]:
    live = serving.get(info.name, [])
    return {**workflow_doc(info), "workers": live, "served": bool(live)}
