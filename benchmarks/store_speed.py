"""Part 4: the DuckDB store. Write 201,000 answers, read them back as a DataFrame: rows/s.

Tasks are realistic binary NER tasks (a ~20-token text, its token list, one span, meta, both
hashes) built once before timing. Measured, each in a fresh database file:

- ``add_many`` in batches (one transaction per batch), the way an import writes;
- ``add`` one answer per call, committed each time: what ``session.answer`` does (on fewer rows,
  since each call is a durable commit);
- ``Dataset.to_pandas()`` over all rows, side by side with DuckDB's own ``.df()`` of the same
  rows (``SELECT * ... ORDER BY id``, every column as stored), alternating, ``--reps`` times
  each: the ratio of the medians is the figure (target: at most 1.3);
- ``Dataset.answers()`` (the task dicts).

Prints the figures, writes ``benchmarks/results/store_speed.json``. Exit status 0.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402

WORDS = (
    "the new phone from Apple is out in London today and Sarah Connor said it was "
    "great but Google and Microsoft will answer soon at the Berlin show on Monday"
).split()
LABELS = ["PER", "ORG", "LOC"]


def make_tasks(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` distinct binary tasks with Prodigy-style tokens and one span each."""
    from nbannotate.tasks import make_task

    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(12, 28))] + [f"#{i}"]
        text = " ".join(words)
        tokens, pos = [], 0
        for k, w in enumerate(words):
            tokens.append(
                {"text": w, "start": pos, "end": pos + len(w), "id": k, "ws": k < len(words) - 1}
            )
            pos += len(w) + 1
        k = rng.randrange(len(words) - 1)
        tok = tokens[k]
        span = {
            "start": tok["start"],
            "end": tok["end"],
            "token_start": k,
            "token_end": k,
            "label": rng.choice(LABELS),
            "score": round(rng.random(), 6),
            "source": "model",
        }
        meta = {"score": span["score"], "source": "model", "model_version": i // 10}
        out.append(make_task(text, tokens, [span], meta))
    return out


def run(n_rows: int, batch: int, n_single: int, reps: int = 5) -> dict[str, Any]:
    import nbannotate as nba

    with C.Timer() as t:
        tasks = make_tasks(max(n_rows, n_single))
    answers = ["accept", "reject", "ignore"]
    res: dict[str, Any] = {
        "rows": n_rows,
        "batch": batch,
        "single_rows": n_single,
        "make_tasks_seconds": round(t.seconds, 2),
    }
    with tempfile.TemporaryDirectory(prefix="nba-store-") as tmp:
        db = nba.Database(Path(tmp) / "bulk.duckdb")
        ds = db.dataset("bench", create=True)
        with C.Timer() as t:
            for i in range(0, n_rows, batch):
                chunk = tasks[i : i + batch]
                ds.add_many(chunk, answer=answers[(i // batch) % 3], session_id="bench")
        res["add_many_seconds"] = round(t.seconds, 2)
        res["add_many_rows_per_s"] = round(n_rows / t.seconds)
        assert len(ds) == n_rows, (len(ds), n_rows)
        own, ours = [], []
        for _ in range(reps):  # alternating, so both see the same machine load
            with C.Timer() as t, db._engine.connection() as conn:  # type: ignore[attr-defined]
                raw = conn.execute(
                    "SELECT * FROM answers WHERE dataset = ? ORDER BY id", ["bench"]
                ).df()
            own.append(t.seconds)
            assert len(raw) == n_rows
            del raw
            with C.Timer() as t:
                df = ds.to_pandas()
            ours.append(t.seconds)
            assert len(df) == n_rows and df["text"].iloc[-1] == tasks[n_rows - 1]["text"]
            del df
        res["duckdb_df_seconds"] = [round(x, 2) for x in own]
        res["to_pandas_seconds_each"] = [round(x, 2) for x in ours]
        res["to_pandas_seconds"] = round(statistics.median(ours), 2)
        res["to_pandas_rows_per_s"] = round(n_rows / statistics.median(ours))
        res["to_pandas_vs_duckdb_df"] = round(statistics.median(ours) / statistics.median(own), 2)
        with C.Timer() as t:
            got = ds.answers()
        assert len(got) == n_rows
        res["answers_seconds"] = round(t.seconds, 2)
        res["answers_rows_per_s"] = round(n_rows / t.seconds)
        file_mb = (Path(tmp) / "bulk.duckdb").stat().st_size / 1e6
        res["file_mb"] = round(file_mb, 1)
        db.close()

        db = nba.Database(Path(tmp) / "single.duckdb")
        ds = db.dataset("bench", create=True)
        lat = []
        with C.Timer() as t:
            for i, task in enumerate(tasks[:n_single]):
                with C.Timer() as one:
                    ds.add(task, answer=answers[i % 3], session_id="bench")
                lat.append(one.seconds * 1000)
        res["add_rows_per_s"] = round(n_single / t.seconds)
        res["add_ms_p50"] = round(C.percentile(lat, 50), 2)
        res["add_ms_p95"] = round(C.percentile(lat, 95), 2)
        assert len(ds) == n_single
        db.close()
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=201_000)
    p.add_argument("--reps", type=int, default=5, help="to_pandas and .df() runs, alternating")
    p.add_argument("--batch", type=int, default=1_000, help="rows per add_many call")
    p.add_argument("--single", type=int, default=2_000, help="rows written one add() at a time")
    p.add_argument("--quick", action="store_true", help="smoke mode: 10,000 rows, < 60 s")
    C.add_results_arg(p)
    args = p.parse_args(argv)
    if args.quick:
        args.rows, args.single, args.reps = 10_000, 300, 2
    res = run(args.rows, args.batch, args.single, args.reps)
    rows = [
        [
            f"add_many ({args.batch:,} rows/call)",
            f"{args.rows:,}",
            res["add_many_seconds"],
            f"{res['add_many_rows_per_s']:,}",
        ],
        [
            "add (1 row/call, committed)",
            f"{args.single:,}",
            round(args.single / res["add_rows_per_s"], 2),
            f"{res['add_rows_per_s']:,}",
        ],
        [
            "to_pandas() (median)",
            f"{args.rows:,}",
            res["to_pandas_seconds"],
            f"{res['to_pandas_rows_per_s']:,}",
        ],
        [
            "DuckDB .df() of the rows (median)",
            f"{args.rows:,}",
            round(statistics.median(res["duckdb_df_seconds"]), 2),
            "",
        ],
        [
            "answers() (task dicts)",
            f"{args.rows:,}",
            res["answers_seconds"],
            f"{res['answers_rows_per_s']:,}",
        ],
    ]
    print(C.table(["operation", "rows", "seconds", "rows/s"], rows))
    print(f"\nto_pandas() / DuckDB .df(): {res['to_pandas_vs_duckdb_df']} (target <= 1.3)")
    print(
        f"\nadd() latency p50 {res['add_ms_p50']} ms, p95 {res['add_ms_p95']} ms; "
        f"database file {res['file_mb']} MB for {args.rows:,} answers."
    )
    payload = {"machine": C.machine(), "settings": vars(args), "results": res}
    path = C.write_json("store_speed_quick.json" if args.quick else "store_speed.json", payload)
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    C.run_main(main)
