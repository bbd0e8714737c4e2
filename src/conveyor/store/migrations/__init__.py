"""Alembic's scripts for the store's schema, in versions/.

Each script's file name starts with its revision ("0002_idempotency_request.py" is revision
"0002", whose down_revision is "0001"), so the newest revision can be read from the file names
without loading Alembic: a process that opens an up-to-date database (every worker and server
start) checks it in one query instead of paying for Alembic's import.
tests/store/test_migrations.py holds the scripts to this naming.
"""

from __future__ import annotations

from pathlib import Path

VERSIONS = Path(__file__).parent / "versions"


def head() -> str:
    """The newest revision: the largest number among the scripts' file names."""
    return max(p.name.split("_", 1)[0] for p in VERSIONS.glob("[0-9]*_*.py"))
