"""Core errors in ONTAP's envelope: string codes, the job PATCH codes, a fitting HTTP status."""

from __future__ import annotations

from conveyor.core.errors import Forbidden, IllegalTransition, InvalidRequest, NotFound, SchemaOutOfDate
from conveyor.core.model import Status
from conveyor.dialects.ontap.errors import OntapError, from_conveyor


def check(err: OntapError, status: int, code: str) -> None:
    assert (err.status, err.code) == (status, code)
    body = err.body()["error"]
    assert isinstance(body["code"], str) and body["message"]


def test_core_errors_in_ontaps_words() -> None:
    missing = from_conveyor(NotFound("execution", "u1"))
    check(missing, 404, "4")
    assert missing.target == "uuid" and "entry doesn't exist" in missing.message
    check(from_conveyor(InvalidRequest("bad", {"field": "limit"})), 400, "2")
    check(from_conveyor(Forbidden("no")), 403, "6")
    check(from_conveyor(SchemaOutOfDate("upgrade the database")), 503, "schema_out_of_date")


def test_refused_actions_get_the_job_patch_codes() -> None:
    done = from_conveyor(IllegalTransition("u1", Status.SUCCEEDED, "RequestPause"))
    check(done, 400, "458762")
    assert "terminal state (success)" in done.message and "pause" in done.message
    check(from_conveyor(IllegalTransition("u1", Status.RUNNING, "Resume")), 400, "458771")
    check(from_conveyor(IllegalTransition("u1", Status.CANCELLING, "RequestPause")), 400, "458776")


def test_the_envelope_leaves_out_an_absent_target() -> None:
    assert OntapError(400, "2", "nope").body() == {"error": {"message": "nope", "code": "2"}}
