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


# -- PostgreSQL: one throwaway cluster per test run, one database per test ----------------------


@pytest.fixture(scope="session")
def pg_server():
    """A running PostgreSQL server (tests/pg_cluster.py), made on first use, removed at the
    end. PostgreSQL must be installed (scripts/setup.sh does it): a missing server fails the
    tests that need it, never skips them."""
    from pg_cluster import cluster

    with cluster() as server:
        yield server


@pytest.fixture
def pg_url(pg_server) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return pg_server.create_database()


@pytest.fixture(params=["duckdb", "postgres"])
def store_address(request, tmp_path) -> str:
    """A new store on each engine: a DuckDB file, then a PostgreSQL database."""
    if request.param == "duckdb":
        return str(tmp_path / "test.duckdb")
    return request.getfixturevalue("pg_url")
