"""The row queries both SQL engines run alike, written once.

:class:`SqlQueries` implements the reads and small writes of
:class:`~nbannotate.store.engine.Engine` that differ between DuckDB and PostgreSQL only in the
placeholder (``?`` / ``%s``) and the table names (``answers`` / ``nbannotate.answers``). An
engine subclasses it, sets those three names and provides ``_query``: one statement under the
engine's lock, returning its rows. What each database does its own way stays in its engine:
bulk inserts, streaming, the DataFrame, the list parameter of ``answers_since``, claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal

from .engine import LatestRow
from .rows import KINDS, Key


class SqlQueries:
    _P: ClassVar[str]  # the placeholder
    _ANSWERS: ClassVar[str]
    _DATASETS: ClassVar[str]

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    # -- the datasets table ----------------------------------------------------------------

    def dataset_names(self) -> list[str]:
        return [r[0] for r in self._query(f"SELECT name FROM {self._DATASETS} ORDER BY name")]

    def dataset_info(self, name: str) -> tuple[datetime, str | None] | None:
        rows = self._query(
            f"SELECT created, meta FROM {self._DATASETS} WHERE name = {self._P}", [name]
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def dataset_sizes(self) -> list[tuple[str, int]]:
        return [
            (n, int(c))
            for n, c in self._query(
                f"SELECT d.name, count(a.id) FROM {self._DATASETS} d "
                f"LEFT JOIN {self._ANSWERS} a ON a.dataset = d.name GROUP BY d.name ORDER BY d.name"
            )
        ]

    # -- the answers table -----------------------------------------------------------------

    def latest_answer(
        self, dataset: str, task_hash: int, session_id: str | None
    ) -> LatestRow | None:
        p = self._P
        sql = (
            "SELECT id, task, input_hash, kind, answer, span_start, span_end, view_id "
            f"FROM {self._ANSWERS} WHERE dataset = {p} AND task_hash = {p}"
        )
        params: list[Any] = [dataset, int(task_hash)]
        if session_id is not None:
            sql += f" AND session_id = {p}"
            params.append(session_id)
        rows = self._query(sql + " ORDER BY id DESC LIMIT 1", params)
        return rows[0] if rows else None

    def delete_answer(self, row_id: int) -> None:
        self._query(f"DELETE FROM {self._ANSWERS} WHERE id = {self._P}", [row_id])

    def update_answer(self, row_id: int, answer: str, task_json: str, created: datetime) -> None:
        p = self._P
        self._query(
            f"UPDATE {self._ANSWERS} SET answer = {p}, task = {p}, created = {p} WHERE id = {p}",
            [answer, task_json, created, row_id],
        )

    def index_keys(self, dataset: str, annotator: str | None = None) -> list[Key]:
        p = self._P
        sql = (
            "SELECT task_hash, input_hash, kind, answer, span_start, span_end, view_id "
            f"FROM {self._ANSWERS} WHERE dataset = {p}"
        )
        if annotator is None:
            return self._query(sql, [dataset])
        return self._query(sql + f" AND annotator = {p}", [dataset, annotator])

    def hashes(self, dataset: str, column: Literal["task_hash", "input_hash"]) -> set[int]:
        assert column in ("task_hash", "input_hash")
        sql = f"SELECT DISTINCT {column} FROM {self._ANSWERS} WHERE dataset = {self._P}"
        return {int(r[0]) for r in self._query(sql, [dataset])}

    def _where(self, dataset: str, kind: str | None) -> tuple[str, list[Any]]:
        """The WHERE clause of a dataset's answers, of one kind or all."""
        if kind is None:
            return f"WHERE dataset = {self._P}", [dataset]
        assert kind in KINDS
        return f"WHERE dataset = {self._P} AND kind = {self._P}", [dataset, kind]

    def task_payloads(self, dataset: str, kind: str | None) -> list[str]:
        sql, params = self._where(dataset, kind)
        return [
            r[0] for r in self._query(f"SELECT task FROM {self._ANSWERS} {sql} ORDER BY id", params)
        ]

    def count(self, dataset: str) -> int:
        sql = f"SELECT count(*) FROM {self._ANSWERS} WHERE dataset = {self._P}"
        return int(self._query(sql, [dataset])[0][0])

    def answer_counts(self, dataset: str) -> list[tuple[str, int]]:
        sql = (
            f"SELECT answer, count(*) FROM {self._ANSWERS} WHERE dataset = {self._P} "
            "GROUP BY answer"
        )
        return [(a, int(n)) for a, n in self._query(sql, [dataset])]

    def max_id(self, dataset: str) -> int:
        rows = self._query(
            f"SELECT max(id) FROM {self._ANSWERS} WHERE dataset = {self._P}", [dataset]
        )
        return int(rows[0][0] or 0)

    def annotator_counts(self, dataset: str) -> list[tuple[str | None, str, int]]:
        sql = (
            f"SELECT annotator, answer, count(*) FROM {self._ANSWERS} WHERE dataset = {self._P} "
            "GROUP BY annotator, answer"
        )
        return [(a, ans, int(n)) for a, ans, n in self._query(sql, [dataset])]
