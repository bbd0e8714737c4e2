"""Workflow catalogs: which workflows exist and whether a start's parameters fit them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field

from conveyor.core.catalog import ChainedCatalog, StoredCatalog
from conveyor.core.errors import InvalidParameters, UnknownWorkflow
from conveyor.core.model import WorkflowInfo
from conveyor.worker.registry import App

STRICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 1},
        "db": {
            "type": "object",
            "properties": {"host": {"type": "string"}, "port": {"type": "integer"}},
            "required": ["host"],
        },
    },
    "required": ["count"],
    "additionalProperties": False,
}


class Loader:
    """A stand-in for `store.workflow_list` that counts how often it is asked."""

    def __init__(self, *infos: WorkflowInfo) -> None:
        self.infos = list(infos)
        self.calls = 0

    def __call__(self) -> list[WorkflowInfo]:
        self.calls += 1
        return list(self.infos)


def stored(*infos: WorkflowInfo, ttl: float = 3600.0) -> tuple[StoredCatalog, Loader]:
    loader = Loader(*infos)
    return StoredCatalog(loader, ttl=ttl), loader


def locs(err: InvalidParameters) -> list[list[Any]]:
    return [e["loc"] for e in err.details["errors"]]


# --- StoredCatalog -------------------------------------------------------------------


def test_stored_catalog_accepts_parameters_that_fit_the_schema_unchanged() -> None:
    cat, _ = stored(WorkflowInfo("backup", STRICT_SCHEMA))
    params = {"count": 2, "db": {"host": "h", "port": 5432}}
    assert cat.validate("backup", params, allow_custom=False) == params


def test_stored_catalog_reports_every_bad_field_with_its_location() -> None:
    cat, _ = stored(WorkflowInfo("backup", STRICT_SCHEMA))
    with pytest.raises(InvalidParameters) as info:
        cat.validate("backup", {"count": "two", "db": {"port": "x"}}, allow_custom=False)
    err = info.value
    assert err.code == "invalid_parameters"
    # the missing db.host is located at the field, as the Pydantic registry locates it
    assert sorted(locs(err), key=str) == sorted([["count"], ["db", "host"], ["db", "port"]], key=str)
    assert "parameters for 'backup' are invalid" in err.message
    assert "db.port:" in err.message
    for e in err.details["errors"]:
        assert e["msg"]
        assert e["type"] in {"type", "required"}


def test_stored_catalog_locates_a_missing_required_field_at_the_field() -> None:
    cat, _ = stored(WorkflowInfo("backup", STRICT_SCHEMA))
    with pytest.raises(InvalidParameters) as info:
        cat.validate("backup", {}, allow_custom=False)
    assert locs(info.value) == [["count"]]
    assert "count: 'count' is a required property" in info.value.message


def test_stored_catalog_locates_odd_field_names_and_wrong_root_types() -> None:
    schema = {"type": "object", "required": ["it's", "b"]}
    cat, _ = stored(WorkflowInfo("w", schema))
    with pytest.raises(InvalidParameters) as info:
        cat.validate("w", {"b": 1}, allow_custom=False)
    assert locs(info.value) == [["it's"]]
    with pytest.raises(InvalidParameters) as info:
        cat.validate("w", [], allow_custom=False)  # type: ignore[arg-type]
    assert locs(info.value) == [[]]


def test_stored_catalog_refuses_undeclared_parameters_unless_custom_ones_are_allowed() -> None:
    cat, _ = stored(WorkflowInfo("backup", STRICT_SCHEMA))
    with pytest.raises(InvalidParameters):
        cat.validate("backup", {"count": 1, "extra": True}, allow_custom=False)
    assert cat.validate("backup", {"count": 1, "extra": True}, allow_custom=True) == {
        "count": 1,
        "extra": True,
    }
    # custom parameters still have to leave the declared ones valid
    with pytest.raises(InvalidParameters):
        cat.validate("backup", {"count": 0, "extra": True}, allow_custom=True)


def test_a_workflow_may_allow_custom_parameters_itself() -> None:
    cat, _ = stored(WorkflowInfo("backup", STRICT_SCHEMA, allow_custom_parameters=True))
    assert cat.validate("backup", {"count": 1, "extra": 1}, allow_custom=False) == {"count": 1, "extra": 1}


def test_allowing_custom_parameters_does_not_change_the_stored_schema() -> None:
    info = WorkflowInfo("backup", STRICT_SCHEMA)
    cat, _ = stored(info)
    cat.validate("backup", {"count": 1, "x": 1}, allow_custom=True)
    assert info.parameters_schema["additionalProperties"] is False
    with pytest.raises(InvalidParameters):
        cat.validate("backup", {"count": 1, "x": 1}, allow_custom=False)


def test_stored_catalog_unknown_workflow_names_the_known_ones() -> None:
    cat, _ = stored(WorkflowInfo("b"), WorkflowInfo("a"))
    assert cat.get("nope") is None
    with pytest.raises(UnknownWorkflow) as info:
        cat.validate("nope", {}, allow_custom=False)
    assert info.value.code == "unknown_workflow"
    assert "known workflows: a, b" in info.value.message
    assert [w.name for w in cat.all()] == ["a", "b"]


def test_stored_catalog_caches_and_reloads_when_asked_for_a_workflow_it_does_not_know() -> None:
    cat, loader = stored(WorkflowInfo("a"))
    assert cat.get("a") is not None
    assert cat.get("a") is not None
    assert loader.calls == 1  # cached within the ttl
    loader.infos.append(WorkflowInfo("new"))  # a worker registered it a moment ago
    assert cat.get("new") is not None
    assert loader.calls == 2


def test_stored_catalog_with_zero_ttl_always_reloads() -> None:
    cat, loader = stored(WorkflowInfo("a"), ttl=-1)
    cat.all()
    cat.all()
    assert loader.calls == 2


def test_stored_catalog_validates_against_a_pydantic_generated_schema_with_refs() -> None:
    class Db(BaseModel):
        host: str
        port: int = 5432

    class Params(BaseModel):
        db: Db
        tags: list[str] = Field(default_factory=list)

    cat, _ = stored(WorkflowInfo("w", Params.model_json_schema()))
    assert cat.validate("w", {"db": {"host": "h"}}, allow_custom=False) == {"db": {"host": "h"}}
    with pytest.raises(InvalidParameters) as info:
        cat.validate("w", {"db": {"port": 1}, "tags": [1]}, allow_custom=False)
    assert sorted(locs(info.value), key=str) == sorted([["db", "host"], ["tags", 0]], key=str)


# --- ChainedCatalog ---------------------------------------------------------------------


def test_chained_catalog_asks_each_in_turn_and_the_first_that_knows_answers() -> None:
    first, _ = stored(WorkflowInfo("shared", {"type": "object", "required": ["x"]}), WorkflowInfo("one"))
    second, _ = stored(WorkflowInfo("shared", {"type": "object"}), WorkflowInfo("two"))
    chain = ChainedCatalog(first, second)
    assert chain.get("two") == WorkflowInfo("two")
    assert chain.get("shared") == first.get("shared")
    assert chain.get("nope") is None
    assert [w.name for w in chain.all()] == ["one", "shared", "two"]
    assert [w for w in chain.all() if w.name == "shared"] == [first.get("shared")]
    # the first catalog's rules apply to the workflow it knows
    with pytest.raises(InvalidParameters):
        chain.validate("shared", {}, allow_custom=False)
    assert chain.validate("two", {"any": 1}, allow_custom=False) == {"any": 1}


def test_chained_catalog_unknown_workflow_lists_every_known_one() -> None:
    chain = ChainedCatalog(stored(WorkflowInfo("a"))[0], stored(WorkflowInfo("b"))[0])
    with pytest.raises(UnknownWorkflow) as info:
        chain.validate("c", {}, allow_custom=False)
    assert "a, b" in info.value.message


# --- App (the local registry, with Pydantic models) ----------------------------------------


class BackupParams(BaseModel):
    path: str
    retries: int = 3
    compress: bool = False


def make_app() -> App:
    app = App("test")

    @app.workflow("backup", params=BackupParams, max_attempts=3, retry_backoff=2.0, timeout=60, queue="io")
    def backup(ctx: Any, params: BackupParams) -> None:
        """Back a path up."""

    @app.workflow("loose", params=BackupParams, allow_custom_parameters=True)
    def loose(ctx: Any, params: BackupParams) -> None: ...

    @app.workflow("plain", system=True, retention=30)
    def plain(ctx: Any, params: dict[str, Any]) -> None: ...

    return app


def test_app_describes_each_workflow() -> None:
    app = make_app()
    info = app.get("backup")
    assert info is not None
    assert (info.max_attempts, info.retry_backoff, info.timeout, info.queue) == (3, 2.0, 60, "io")
    assert info.description == "Back a path up."
    assert info.parameters_schema["required"] == ["path"]
    plain = app.get("plain")
    assert plain is not None
    assert (plain.system, plain.retention, plain.parameters_schema) == (True, 30, {"type": "object"})
    assert [w.name for w in app.all()] == ["backup", "loose", "plain"]
    assert app.get("nope") is None


def test_app_coerces_parameters_through_the_model_and_fills_defaults() -> None:
    out = make_app().validate("backup", {"path": "/d", "retries": "5", "compress": "yes"}, allow_custom=False)
    assert out == {"path": "/d", "retries": 5, "compress": True}
    assert make_app().validate("backup", {"path": "/d"}, allow_custom=False) == {
        "path": "/d",
        "retries": 3,
        "compress": False,
    }


def test_app_invalid_parameters_name_each_field() -> None:
    with pytest.raises(InvalidParameters) as info:
        make_app().validate("backup", {"retries": "many"}, allow_custom=False)
    err = info.value
    assert err.code == "invalid_parameters"
    assert sorted(locs(err), key=str) == [["path"], ["retries"]]
    assert "path: Field required" in err.message


def test_app_refuses_undeclared_parameters_unless_custom_ones_are_allowed() -> None:
    app = make_app()
    with pytest.raises(InvalidParameters) as refused:
        app.validate("backup", {"path": "/d", "extra": 1}, allow_custom=False)
    assert refused.value.details["errors"][0]["loc"] == ["extra"]
    assert app.validate("backup", {"path": "/d", "extra": 1}, allow_custom=True)["extra"] == 1
    assert app.validate("loose", {"path": "/d", "extra": 1}, allow_custom=False)["extra"] == 1
    # declared fields are still checked and coerced
    assert app.validate("loose", {"path": "/d", "retries": "2", "x": 1}, allow_custom=True)["retries"] == 2
    with pytest.raises(InvalidParameters):
        app.validate("loose", {"extra": 1}, allow_custom=True)


def test_app_without_a_model_passes_parameters_through() -> None:
    assert make_app().validate("plain", {"anything": [1, 2]}, allow_custom=False) == {"anything": [1, 2]}


def test_app_unknown_workflow() -> None:
    with pytest.raises(UnknownWorkflow) as info:
        make_app().validate("nope", {}, allow_custom=False)
    assert "backup, loose, plain" in info.value.message


def test_app_refuses_bad_declarations() -> None:
    app = make_app()
    with pytest.raises(ValueError, match="twice"):
        app.workflow("backup")(lambda ctx, params: None)
    with pytest.raises(ValueError, match="isolation"):
        app.workflow("x", isolation="thread")
    with pytest.raises(ValueError, match="max_attempts"):
        app.workflow("y", max_attempts=0)


def test_an_app_and_the_store_agree_through_the_stored_schema() -> None:
    """A server without the code validates with the schema a worker stored, as the app would."""
    app = make_app()
    cat, _ = stored(*app.all())
    with pytest.raises(InvalidParameters) as app_err:
        app.validate("backup", {"retries": "many"}, allow_custom=False)
    with pytest.raises(InvalidParameters) as stored_err:
        cat.validate("backup", {"retries": "many"}, allow_custom=False)
    assert (
        sorted(locs(stored_err.value), key=str)
        == sorted(locs(app_err.value), key=str)
        == [["path"], ["retries"]]
    )
    assert cat.validate("backup", {"path": "/d"}, allow_custom=False) == {"path": "/d"}
