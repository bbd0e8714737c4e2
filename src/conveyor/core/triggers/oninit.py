"""The ``oninit`` kind: at every service start. The scheduler fires it, so it has no instants here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from conveyor.core.triggers.base import Kind, invalid

if TYPE_CHECKING:
    from conveyor.core.triggers import Trigger


class OnInit(Kind):
    name = "oninit"
    takes_value = False

    def normalize(self, value: str | int | float, zone: str) -> tuple[str, str]:
        raise invalid(
            f"an oninit trigger takes no value (got {value!r}); write it as 'oninit'", self.name, value
        )

    def describe(self, trigger: Trigger) -> str:
        return "at every service start"

    def first(self, trigger: Trigger, created: datetime) -> datetime | None:
        return None

    def after(self, trigger: Trigger, moment: datetime, created: datetime) -> datetime | None:
        return None
