"""Shared fixtures: small real corpora, real spaCy pipelines, real DuckDB files."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "answers.duckdb"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(
            f"The shared corpora are missing: expected them at {SHARED_DATA} "
            f"(../shared/data relative to the project root)."
        )
    return SHARED_DATA
