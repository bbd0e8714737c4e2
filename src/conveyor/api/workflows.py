"""`/workflows`: what can be started, with each workflow's parameter schema and flags.

Answers come from the service's catalog, which merges workflows imported by
this process with those registered by workers elsewhere, so a client sees
every workflow it may start wherever the code lives.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from conveyor.api.auth import Viewer
from conveyor.api.deps import Service, json_answer
from conveyor.api.schemas import COMMON_ERRORS, ErrorEnvelope, WorkflowList, WorkflowOut
from conveyor.api.serialize import workflow_doc

router = APIRouter(tags=["workflows"], responses=COMMON_ERRORS)


@router.get("/workflows", response_model=WorkflowList, summary="List workflows")
def list_workflows(service: Service, _: Viewer) -> Response:
    return json_answer({"items": [workflow_doc(w) for w in service.workflows()]})


@router.get(
    "/workflows/{name}",
    response_model=WorkflowOut,
    responses={404: {"model": ErrorEnvelope, "description": "unknown_workflow"}},
    summary="Get one workflow",
)
def get_workflow(name: str, service: Service, _: Viewer) -> Response:
    return json_answer(workflow_doc(service.workflow(name)))
