"""Time-ordered ids (UUIDv7): lists page by id without offsets, and ids sort by creation."""

from __future__ import annotations

import uuid_utils


def new_id() -> str:
    return str(uuid_utils.uuid7())
