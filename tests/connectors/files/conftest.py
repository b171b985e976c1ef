"""Files connector test fixtures (helpers: kit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder
