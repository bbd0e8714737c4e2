"""The Jelastic wire format: reading request parameters, writing answers, numbering errors.

Everything here is a pure function of its arguments (no store, no FastAPI), so the
router, the scheduler methods and Batch.Call read and write exactly the same way.

Parameters arrive as strings (query string or form) or, inside a Batch.Call
request, as JSON values; every reader takes both.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from conveyor.core.errors import ConveyorError, InvalidRequest, InvalidTrigger
from conveyor.core.triggers import TRIGGER_KINDS, Trigger, parse_trigger

#: What every answer names as its `source`.
SOURCE: Final = "conveyor"

# --- result codes ------------------------------------------------------------------------------
# 0, 5 and 8202 are the codes py-jelastic gives a meaning to (success, JelasticResourceNotFound,
# JelasticPermissionError); every other non-zero code becomes a JelasticApiError carrying `error`.
# The others are Conveyor's choice, stable once published.
OK: Final = 0
INTERNAL_ERROR: Final = 1
INVALID_PARAMETER: Final = 2
CONFLICT: Final = 3
UNKNOWN_METHOD: Final = 4
NOT_FOUND: Final = 5
INVALID_SESSION: Final = 702
PERMISSION_DENIED: Final = 8202

#: Conveyor error code -> Jelastic result code (anything not listed is INTERNAL_ERROR).
RESULT_BY_CODE: Final[dict[str, int]] = {
    "invalid_request": INVALID_PARAMETER,
    "malformed_json": INVALID_PARAMETER,
    "invalid_parameters": INVALID_PARAMETER,
    "invalid_trigger": INVALID_PARAMETER,
    "not_found": NOT_FOUND,
    "unknown_workflow": NOT_FOUND,
    "unknown_method": UNKNOWN_METHOD,
    "conflict": CONFLICT,
    "illegal_transition": CONFLICT,
    "existing_running_execution": CONFLICT,
    "unauthorized": INVALID_SESSION,
    "forbidden": PERMISSION_DENIED,
}


def result_code(code: str) -> int:
    return RESULT_BY_CODE.get(code, INTERNAL_ERROR)


def ok(**fields: Any) -> dict[str, Any]:
    """A success answer: `{"result": 0, "error": "", "reason": 0, "source": ...}` plus `fields`."""
    return {"result": OK, "error": "", "reason": 0, "source": SOURCE, **fields}


def failure(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An error answer: the Jelastic `result` number and `error` text, plus Conveyor's own `code`."""
    number = result_code(code)
    out: dict[str, Any] = {"result": number, "error": message, "reason": number, "source": SOURCE}
    out["code"] = code
    if details:
        out["details"] = dict(details)
    return out


def failure_of(exc: ConveyorError) -> dict[str, Any]:
    return failure(exc.code, exc.message, exc.details)


class UnknownMethod(ConveyorError):
    code = "unknown_method"


# --- reading parameters -------------------------------------------------------------------------


def _bad(name: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, {"field": name})


def text_param(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """A string parameter; None when absent (or empty, for an optional one)."""
    value = params.get(name)
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise _bad(name, f"the parameter {name!r} is required")
        return None
    if isinstance(value, bool | dict | list):
        raise _bad(name, f"the parameter {name!r} must be a string, not {json.dumps(value)}")
    text = str(value).strip()
    if required and not text:
        raise _bad(name, f"the parameter {name!r} is required and may not be empty")
    return text


def bool_param(params: Mapping[str, Any], name: str, default: bool) -> bool:
    """`True`/`False` in any case (py-jelastic sends Python's spelling), also 1/0 and yes/no."""
    value = params.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise _bad(name, f"the parameter {name!r} must be true or false (any case), not {value!r}")


def json_object_param(params: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """A JSON object parameter (`params`): None when absent; `null` and `""` read as `{}`."""
    if name not in params or params[name] is None:
        return None
    value = params[name]
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _bad(name, f"the parameter {name!r} is not valid JSON ({exc.msg} at {exc.pos})") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(name, f'the parameter {name!r} must be a JSON object, e.g. {{"key": "value"}}')
    return value


_QUOTES = "'\" "


def list_param(params: Mapping[str, Any], name: str) -> list[str]:
    """A list parameter as py-jelastic sends it: CSV (`1,2`), a Python/JSON list (`[1, 2]`,
    `['a', 'b']`) or, inside a batch, a JSON array. Empty when absent."""
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    elif isinstance(value, bool | dict):
        raise _bad(name, f"the parameter {name!r} must be a list of ids such as 1,2 or [1, 2]")
    else:
        text = str(value).strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items = text.split(",")
    return [item.strip().strip(_QUOTES) for item in items if item.strip().strip(_QUOTES)]


# --- task ids -----------------------------------------------------------------------------------
# A Jelastic task id is an integer (`EditTask(id: int)`); a Conveyor schedule id is a UUIDv7 string.
# The task id is that UUID read as a 128-bit integer, so the mapping needs no storage and cannot
# collide: `uuid.UUID(int=task_id)` gives the schedule id back. Ids are taken in either form.


def task_id(schedule_id: str) -> int:
    return uuid.UUID(schedule_id).int


def schedule_id(raw: Any, name: str = "id") -> str:
    """The schedule id a task id names: the integer form, or the UUID itself (with or without dashes)."""
    if isinstance(raw, bool):
        raise _bad(name, f"{name} {raw!r} is not a task id")
    if isinstance(raw, int):
        number = raw
    else:
        text = str(raw).strip()
        if text.isdigit():
            number = int(text)
        else:
            try:
                return str(uuid.UUID(text))
            except ValueError:
                raise _bad(
                    name, f"{name} {text!r} is not a task id (the integer id GetTasks answers, or its uuid)"
                ) from None
    if not 0 <= number < 1 << 128:
        raise _bad(name, f"{name} {number} is not a task id (out of range)")
    return str(uuid.UUID(int=number))


# --- triggers -----------------------------------------------------------------------------------
# `trigger` is "type:value" (py-jelastic: f"{key}:{value}"). On the Jelastic wire once_delay and
# rate count MILLISECONDS (`once_delay:1000` is one second); a value with a unit ("10s", "PT5M") is
# read as written. date takes ISO-8601 or epoch milliseconds. cron is Quartz with seconds, in UTC.

_PLAIN_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_HOWTO = (
    "write it as 'type:value', e.g. 'cron:0 0/5 * * * ?' (Quartz, with seconds, UTC), 'rate:60000' "
    "(milliseconds), 'once_delay:1000' (milliseconds), 'date:2026-12-01T10:00:00Z' or 'oninit'"
)


def _split_trigger(raw: Any) -> tuple[str, str | None]:
    if isinstance(raw, dict):  # a batch may pass py-jelastic's own {"cron": "..."} form
        if len(raw) != 1:
            raise InvalidTrigger(f"trigger {json.dumps(raw)} must have exactly one type; {_HOWTO}")
        kind, value = next(iter(raw.items()))
        return str(kind), None if value is None else str(value)
    text = str(raw).strip()
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            return _split_trigger(decoded)
    kind, sep, value = text.partition(":")
    if not sep:
        if kind.strip().lower() == "oninit":
            return "oninit", None
        raise InvalidTrigger(f"trigger {text!r} has no type; {_HOWTO}", {"value": text})
    return kind.strip(), value.strip()


def parse_jelastic_trigger(raw: Any) -> Trigger:
    """Read a Jelastic trigger; InvalidTrigger says what is wrong in Jelastic's terms (milliseconds)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidTrigger(f"the parameter 'trigger' is required; {_HOWTO}", {"field": "trigger"})
    kind, value = _split_trigger(raw)
    k = kind.lower()
    if k not in TRIGGER_KINDS:
        raise InvalidTrigger(
            f"unknown trigger type {kind!r}; use one of {', '.join(TRIGGER_KINDS)}: {_HOWTO}",
            {"field": "trigger", "kind": kind},
        )
    if k == "oninit":
        return parse_trigger("oninit", value or None)
    if not value:
        raise InvalidTrigger(f"the {k} trigger needs a value; {_HOWTO}", {"field": "trigger", "kind": k})
    if k in ("rate", "once_delay") and _PLAIN_NUMBER.match(value):
        try:
            return parse_trigger(k, f"{value}ms")
        except InvalidTrigger as exc:
            raise InvalidTrigger(
                f"{k}:{value} (milliseconds): {exc.message}", {**exc.details, "field": "trigger"}
            ) from None
    if k == "date" and value.isdigit():
        try:
            at = datetime.fromtimestamp(int(value) / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidTrigger(f"date:{value} is not a valid epoch in milliseconds; {_HOWTO}") from None
        return parse_trigger("date", at.isoformat())
    return parse_trigger(k, value, timezone="UTC")


def _ms(seconds: str) -> str:
    try:
        number = Decimal(seconds) * 1000
    except InvalidOperation:  # pragma: no cover - a stored trigger is always well formed
        return seconds
    return format(number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize(), "f")


def trigger_text(trigger: Trigger) -> str:
    """The Jelastic "type:value" text of a trigger: durations back in milliseconds."""
    if trigger.kind == "oninit":
        return "oninit"
    if trigger.kind in ("rate", "once_delay"):
        return f"{trigger.kind}:{_ms(trigger.value)}"
    return f"{trigger.kind}:{trigger.value}"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
