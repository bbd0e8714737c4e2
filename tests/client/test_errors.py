"""Error envelopes become the right exception classes, with the server's message as str()."""

from __future__ import annotations

import json

import pytest

from conveyor.client import (
    AuthError,
    ConflictError,
    ConveyorAPIError,
    ExecutionCancelled,
    ExecutionData,
    ExecutionFailed,
    IllegalTransitionError,
    InvalidParametersError,
    InvalidRequestError,
    NotFoundError,
    ServerError,
    WaitTimeout,
)
from conveyor.client.errors import error_from_response


def envelope(code: str, message: str = "it went wrong", **details: object) -> str:
    return json.dumps({"error": {"code": code, "message": message, "details": details}})


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        ("invalid_request", 400, InvalidRequestError),
        ("malformed_json", 400, InvalidRequestError),
        ("invalid_parameters", 400, InvalidParametersError),
        ("unauthorized", 401, AuthError),
        ("forbidden", 403, AuthError),
        ("not_found", 404, NotFoundError),
        ("unknown_workflow", 404, NotFoundError),
        ("illegal_transition", 409, IllegalTransitionError),
        ("existing_running_execution", 409, ConflictError),
        ("conflict", 409, ConflictError),
        ("internal_error", 500, ServerError),
        ("some_future_code", 404, NotFoundError),
        ("schema_out_of_date", 503, ServerError),
        ("some_future_code", 418, ConveyorAPIError),
    ],
)
def test_codes_map_to_classes(code: str, status: int, cls: type[ConveyorAPIError]) -> None:
    err = error_from_response(status, envelope(code, "the server's sentence", field="x"))
    assert type(err) is cls
    assert (err.status_code, err.code, err.details) == (status, code, {"field": "x"})
    assert str(err) == "the server's sentence"


def test_invalid_parameters_exposes_field_errors() -> None:
    errors = [{"loc": ["n"], "msg": "Input should be a valid integer", "type": "int_parsing"}]
    err = error_from_response(400, envelope("invalid_parameters", errors=errors))
    assert isinstance(err, InvalidParametersError) and isinstance(err, InvalidRequestError)
    assert err.errors == errors


def test_an_answer_without_the_envelope_still_explains_itself() -> None:
    err = error_from_response(502, b"<html><body>Bad gateway</body></html>", "Bad Gateway")
    assert isinstance(err, ServerError)
    assert err.code == "http_502"
    assert str(err).startswith("the server answered 502 Bad Gateway without an error description")
    assert "Bad gateway" in str(err)


def test_a_framework_detail_answer_names_the_fields() -> None:
    body = json.dumps({"detail": [{"loc": ["query", "limit"], "msg": "too big"}]})
    err = error_from_response(422, body)
    assert isinstance(err, InvalidRequestError)
    assert "query.limit: too big" in str(err)


def failed_doc(**extra: object) -> ExecutionData:
    doc: dict[str, object] = {"id": "e1", "workflow": "demo.count", "status": "failed", "attempt": 2}
    doc.update(extra)
    return ExecutionData(doc)


def test_outcome_errors_are_sentences_naming_the_execution() -> None:
    failed = ExecutionFailed(failed_doc(error={"type": "ValueError", "message": "boom", "traceback": "tb"}))
    assert str(failed) == "Execution e1 of workflow 'demo.count' failed after 2 attempts: ValueError: boom"
    assert (failed.error_type, failed.error_message, failed.traceback) == ("ValueError", "boom", "tb")

    cancelled = ExecutionCancelled(failed_doc(status="cancelled"))
    assert str(cancelled) == "Execution e1 of workflow 'demo.count' was cancelled before it finished."

    timeout = WaitTimeout(failed_doc(status="running"), 1.5)
    assert isinstance(timeout, TimeoutError)
    assert str(timeout) == (
        "Execution e1 of workflow 'demo.count' is still running after waiting 1.5 seconds; "
        "it keeps going on the server."
    )
