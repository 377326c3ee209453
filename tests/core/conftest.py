"""Fixtures of the core tests: a search index in the test's own folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paperbot.core.index import SearchIndex


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    idx = SearchIndex(tmp_path / "index")
    yield idx
    idx.close()
