"""Issue 19: one DuckDB file shared by several notebooks (processes) on one machine.

Measured on a file that already holds ``--rows`` answers (realistic binary NER tasks, see
``store_speed.py``):

- ``Dataset.add`` (one committed answer a call), back to back, and paced: ``--pause`` seconds
  between answers, as a person answers (the file is then released between answers and each
  answer takes it again);
- ``session.answer`` of a manual session (the keypress -> stored answer path, without the
  widget), back to back and paced;

each side by side, in alternating blocks of 10 calls, with the same calls made while the
process holds the file throughout (the store's lock held around the block, as the file was
held for a session's life before): the ratio of the medians is the cost of releasing;
- sharing: a second process adds answers back to back (the worst case for a reader) while this
  one reads the dataset ``--reads`` times (``Database(path).dataset(name).to_pandas()``, a
  pause between reads): the time of each read, waiting included, and the other process's
  ``add`` latency meanwhile. Code that holds the file for a session's life refuses the reads
  (DatabaseLockedError): reported as refused.

Prints the figures, writes ``duckdb_sharing.json`` in the results directory. Exit status 0.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
from store_speed import make_tasks  # noqa: E402


def set_linger(linger: float | None) -> None:
    """Use ``linger`` seconds as the idle time before the file is released (code that has it)."""
    from nbannotate.store import duckdb_engine

    if linger is not None and hasattr(duckdb_engine, "LINGER"):
        duckdb_engine.LINGER = linger


def ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(C.percentile(values, 50) * 1000, 2),
        "p95_ms": round(C.percentile(values, 95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2) if values else float("nan"),
    }


def alternating(engine: Any, calls: list[Any], pause: float) -> dict[str, list[float]]:
    """Time each call; blocks of 10 alternate between the default ("released") and the store's
    lock held around the block ("held": the file is kept, as for a session's life before)."""
    out: dict[str, list[float]] = {"released": [], "held": []}
    for start in range(0, len(calls), 10):
        held = (start // 10) % 2 == 1
        with engine.locked() if held else contextlib.nullcontext():
            for call in calls[start : start + 10]:
                if pause:
                    time.sleep(pause)
                with C.Timer() as t:
                    call()
                out["held" if held else "released"].append(t.seconds)
    return out


def timed_adds(ds: Any, tasks: list[dict[str, Any]], pause: float) -> dict[str, list[float]]:
    calls = [functools.partial(ds.add, task, answer="accept", once="task") for task in tasks]
    return alternating(ds.db._engine, calls, pause)


def timed_session(path: Path, texts: list[str], pause: float) -> dict[str, list[float]]:
    import nbannotate as nba

    s = nba.manual("manual", texts, labels=["PER", "ORG", "LOC"], db=path)

    def answer() -> None:
        task = s.next_task()
        with C.Timer() as t:
            s.answer(task, "accept")
        times.append(t.seconds)

    times: list[float] = []
    try:
        alternating(s.db_dataset.db._engine, [answer] * len(texts), pause)
    finally:
        s.close()
    # the answer() call alone, not next_task(): in the order alternating() made them
    out: dict[str, list[float]] = {"released": [], "held": []}
    for i, seconds in enumerate(times):
        out["held" if (i // 10) % 2 else "released"].append(seconds)
    return out


def both(times: dict[str, list[float]]) -> dict[str, Any]:
    res = {mode: ms(values) for mode, values in times.items()}
    res["ratio_p50"] = round(res["released"]["p50_ms"] / res["held"]["p50_ms"], 2)
    return res


# The other process: adds answers back to back until the stop file exists; prints its add
# latencies (seconds) as one JSON list.
WRITER = """
    import json, os, sys, time
    sys.path.insert(0, {bench!r})
    from duckdb_sharing import make_tasks, set_linger
    import nbannotate as nba
    set_linger({linger!r})
    ds = nba.Database({path!r}).dataset("other", create=True)
    tasks = make_tasks(20000, seed=7)
    ds.add(tasks[0], answer="accept")
    print("writing", flush=True)
    out = []
    for task in tasks[1:]:
        if os.path.exists({stop!r}):
            break
        start = time.perf_counter()
        ds.add(task, answer="accept", once="task")
        out.append(time.perf_counter() - start)
    print(json.dumps(out), flush=True)
"""


def sharing(path: Path, reads: int, gap: float, linger: float | None) -> dict[str, Any]:
    import nbannotate as nba
    from nbannotate.errors import DatabaseLockedError

    stop = path.with_suffix(".stop")
    code = WRITER.format(
        bench=str(Path(__file__).resolve().parent),
        linger=linger,
        path=str(path),
        stop=str(stop),
    )
    env = dict(os.environ, PYTHONPATH=str(C.ROOT))
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    times: list[float] = []
    refused: str | None = None
    try:
        assert writer.stdout is not None
        if writer.stdout.readline().strip() != "writing":
            raise RuntimeError(f"the writing process failed: {writer.stderr.read()}")
        for _ in range(reads):
            time.sleep(gap)
            try:
                with C.Timer() as t:
                    n = len(nba.Database(path).dataset("other").to_pandas())
            except DatabaseLockedError as err:
                refused = f"{type(err).__name__}: {str(err)[:100]}"
                break
            assert n > 0
            times.append(t.seconds)
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=300)
    adds = json.loads(out.strip().splitlines()[-1]) if writer.returncode == 0 else []
    return {
        "reads": ms(times) if times else None,
        "refused": refused,
        "writer_adds": ms(adds) if adds else None,
        "writer_error": None if writer.returncode == 0 else err[-500:],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=20_000, help="answers in the file beforehand")
    p.add_argument("--adds", type=int, default=300, help="back-to-back add() calls")
    p.add_argument("--paced", type=int, default=40, help="paced add() and answer() calls")
    p.add_argument("--pause", type=float, default=0.3, help="seconds between paced answers")
    p.add_argument("--reads", type=int, default=20, help="reads while another process writes")
    p.add_argument("--gap", type=float, default=0.2, help="seconds between those reads")
    p.add_argument("--linger", type=float, default=None, help="override the idle release time")
    p.add_argument("--quick", action="store_true", help="smoke mode: a few calls of each")
    C.add_results_arg(p)
    args = p.parse_args()
    if args.quick:
        args.rows, args.adds, args.paced, args.pause, args.reads = 1_000, 20, 20, 0.15, 3
    set_linger(args.linger)
    import nbannotate as nba

    res: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shared.duckdb"
        tasks = make_tasks(args.rows + args.adds + args.paced)
        with nba.Database(path) as db:
            db.dataset("base", create=True).add_many(tasks[: args.rows], answer="accept")
        db = nba.Database(path)
        ds = db.dataset("adds", create=True)
        rest = tasks[args.rows :]
        res["add_back_to_back"] = both(timed_adds(ds, rest[: args.adds], 0.0))
        res["add_paced"] = both(timed_adds(ds, rest[args.adds :], args.pause))
        db.close()
        texts = [t["text"] for t in make_tasks(args.adds + args.paced, seed=3)]
        res["answer_back_to_back"] = both(timed_session(path, texts[: args.adds], 0.0))
        res["answer_paced"] = both(timed_session(path, texts[args.adds :], args.pause))
        res["sharing"] = sharing(path, args.reads, args.gap, args.linger)
    from nbannotate.store import duckdb_engine

    res["linger"] = getattr(duckdb_engine, "LINGER", None)
    rows = [
        [f"{name} ({mode})", r[mode]["n"], r[mode]["p50_ms"], r[mode]["p95_ms"], r[mode]["max_ms"]]
        for name, r in res.items()
        if isinstance(r, dict) and "held" in r
        for mode in ("released", "held")
    ]
    share = res["sharing"]
    for name in ("reads", "writer_adds"):
        if share[name]:
            r = share[name]
            rows.append([f"sharing: {name}", r["n"], r["p50_ms"], r["p95_ms"], r["max_ms"]])
    print(C.table(["what", "calls", "p50 ms", "p95 ms", "max ms"], rows))
    for name, r in res.items():
        if isinstance(r, dict) and "ratio_p50" in r:
            print(f"{name}: p50 released / held = {r['ratio_p50']}")
    if share["refused"]:
        print(f"sharing: reads refused: {share['refused']}")
    if share["writer_error"]:
        print(f"sharing: the writing process failed: {share['writer_error']}")
    print(f"written to {C.write_results('duckdb_sharing.json', args, results=res)}")
    return 0


if __name__ == "__main__":
    C.run_main(main)
