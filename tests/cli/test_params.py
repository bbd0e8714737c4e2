"""`--param k=v` and `--params-json` parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.cli.params import ParamError, parse_params, parse_value, split_csv


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("20", 20),
        ("2.5", 2.5),
        ("true", True),
        ("null", None),
        ('["a", "b"]', ["a", "b"]),
        ('{"x": 1}', {"x": 1}),
        ('"007"', "007"),
        ("nightly", "nightly"),
        ("", ""),
        ("NaN", "NaN"),  # not JSON, even though Python's json would take it
        ("2026-01-01", "2026-01-01"),
    ],
)
def test_values_are_json_when_they_parse(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_pairs_override_the_json_object() -> None:
    got = parse_params(["n=20", "label=a=b"], '{"n": 1, "full": true}')
    assert got == {"n": 20, "full": True, "label": "a=b"}


def test_params_json_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"n": 3}')
    assert parse_params(None, f"@{path}") == {"n": 3}
    with pytest.raises(ParamError, match="cannot read --params-json file"):
        parse_params(None, f"@{tmp_path / 'missing.json'}")


@pytest.mark.parametrize(
    ("pairs", "params_json", "message"),
    [
        (["n"], None, "--param expects KEY=VALUE, got 'n'"),
        (["=5"], None, "--param expects KEY=VALUE"),
        ([], "[1, 2]", "must be a JSON object"),
        ([], "{nope", "is not valid JSON"),
    ],
)
def test_bad_input_is_explained(pairs: list[str], params_json: str | None, message: str) -> None:
    with pytest.raises(ParamError, match=message.replace("[", r"\[")):
        parse_params(pairs, params_json)


def test_split_csv() -> None:
    assert split_csv("running, failed,,") == ["running", "failed"]
    assert split_csv(" ") is None
    assert split_csv(None) is None
