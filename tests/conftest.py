"""Suite-wide fixtures."""

from __future__ import annotations

import pytest

from tests import databases


@pytest.fixture(scope="session", autouse=True)
def _database_templates(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The session's migrated SQLite template lives in the session's temp dir (made on first use)."""
    databases.use_template_dir(tmp_path_factory.mktemp("db-template"))
