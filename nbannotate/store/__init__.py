"""Durable storage of answers, one row per answer with the full task JSON.

::

    db = Database()                       # ./nbannotate.duckdb, or $NBANNOTATE_DB
    ds = db.dataset("gadgets", create=True)
    ds.add(task, answer="accept")         # committed to disk when it returns
    ds.to_pandas()

Modules: :mod:`~nbannotate.store.database` (``Database``, ``Dataset``: the dataset API),
:mod:`~nbannotate.store.engine` (what a storage engine implements),
:mod:`~nbannotate.store.duckdb_engine` (the DuckDB engine: connections, schema, errors),
:mod:`~nbannotate.store.postgres_engine` (the PostgreSQL engine, for teams),
:mod:`~nbannotate.store.claims` (which session may ask which text; one answer per question),
:mod:`~nbannotate.store.watch` (other processes' answers, and holds kept alive),
:mod:`~nbannotate.store.index` (the answered-question index sessions ask),
:mod:`~nbannotate.store.rows` (task -> row), :mod:`~nbannotate.store.jsonl` (import/export).
"""

from .database import AlreadyAnsweredError, Database, Dataset, check_dataset_name, store_exists
from .duckdb_engine import close_all
from .engine import DEFAULT_PATH, ENV_VAR, MEMORY, Engine, database_path, is_url
from .index import AnswerIndex
from .rows import KINDS

__all__ = [
    "DEFAULT_PATH",
    "ENV_VAR",
    "KINDS",
    "MEMORY",
    "AlreadyAnsweredError",
    "AnswerIndex",
    "Database",
    "Dataset",
    "Engine",
    "check_dataset_name",
    "close_all",
    "database_path",
    "is_url",
    "store_exists",
]
