"""Part 2: the teach loop's speed and memory.

Measured on one pipeline, in one run (so machine noise hits every figure alike):

- the pipeline: ``train()`` on 200 BTC gold sentences (Derczynski et al., COLING 2016), blank
  English, spaCy's efficiency NER config, a few epochs;
- texts scored per second by a session's ``CandidateScorer`` at beam 16 (whole analyses on, the
  default; and off), and by ``span_scores`` alone, against plain ``nlp.pipe`` on the same
  pipeline and texts (1,000 BTC sentences, batches of 32), median of 3 interleaved rounds;
- one model update of 10 answers: the ``nlp.update`` call itself (10 answers' texts + up to 10
  replayed examples), and the time from the 10th ``answer()`` until the session's model version
  changes (includes waiting for the scorer to release the model lock);
- ``answer()`` latency p50 / p95 (stores the answer durably in DuckDB before returning);
- peak memory (``ru_maxrss``) of a child process running a session over a generated JSONL
  source of 1,000,000 lines, answering a few thousand tasks, against the same run over a
  10,000-line file: memory does not grow with the file.

Prints the figures, writes ``benchmarks/results/loop_speed.json``. Exit status 0.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402

NAMES = [
    "Sarah Connor",
    "Apple",
    "London",
    "Google",
    "Paris",
    "Barack Obama",
    "Microsoft",
    "Berlin",
    "Taylor Swift",
    "NASA",
    "Tokyo",
    "Manchester United",
]
FILLER = (
    "so i just heard that was at the new thing today and everyone is talking about it "
    "lol cannot believe what happened near"
).split()


def _status(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """Current resident set size of this process, in MB (Linux /proc)."""
    return _status("VmRSS")


def maxrss_mb() -> float:
    """Peak RSS of this process, in MB. VmHWM, not getrusage's ru_maxrss: Linux carries the
    parent's peak across fork+exec into ru_maxrss, which would report the parent's memory."""
    peak = _status("VmHWM")
    return peak if peak == peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_jsonl(path: Path, n: int, seed: int = 0) -> None:
    """``n`` distinct tweet-like lines with a name or two each."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf8") as fh:
        for i in range(n):
            words = [rng.choice(FILLER) for _ in range(rng.randint(8, 18))]
            for _ in range(rng.randint(1, 2)):
                words.insert(rng.randrange(len(words)), rng.choice(NAMES))
            fh.write(json.dumps({"text": " ".join(words) + f" #{i}"}) + "\n")


# -- child process: memory of a session over a big file -----------------------------------


def memory_child(model: str, path: str, n_tasks: int, labels: list[str]) -> dict[str, Any]:
    import spacy  # noqa: F401  (the imports' memory is the baseline)

    import nbannotate as nba

    base = maxrss_mb()
    with tempfile.TemporaryDirectory(prefix="nba-mem-") as tmp:
        session = nba.teach(
            "mem",
            path,
            model=model,
            labels=labels,
            db=Path(tmp) / "m.duckdb",
            split_sentences=False,
        )
        rng = random.Random(0)
        samples = []
        t0 = time.perf_counter()
        try:
            for i in range(1, n_tasks + 1):
                task = session.next_task(timeout=120)
                if task is None:
                    break
                session.answer(task, "accept" if rng.random() < 0.3 else "reject")
                if i % max(1, n_tasks // 6) == 0:
                    samples.append(
                        {
                            "tasks": i,
                            "rss_mb": round(rss_mb(), 1),
                            "source_read": session.progress["source_read"],
                        }
                    )
            progress = session.progress
        finally:
            session.stop()
        seconds = time.perf_counter() - t0
    return {
        "file_lines": sum(1 for _ in open(path, "rb")),
        "tasks": i,
        "seconds": round(seconds, 1),
        "maxrss_mb": round(maxrss_mb(), 1),
        "maxrss_after_imports_mb": round(base, 1),
        "samples": samples,
        "source_total": progress["source_total"],
        "source_read": progress["source_read"],
        "updates": progress["updates"],
    }


def run_memory(
    model: Path, lines: list[int], n_tasks: int, labels: list[str], tmp: Path
) -> list[dict[str, Any]]:
    out = []
    for n in lines:
        path = tmp / f"source_{n}.jsonl"
        with C.Timer() as t:
            write_jsonl(path, n)
        cmd = [
            sys.executable,
            __file__,
            "--memory-child",
            str(model),
            str(path),
            str(n_tasks),
            ",".join(labels),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"memory child failed:\n{proc.stderr[-3000:]}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["file_mb"] = round(path.stat().st_size / 1e6, 1)
        res["write_seconds"] = round(t.seconds, 1)
        out.append(res)
        path.unlink()
    return out


# -- in-process measurements -------------------------------------------------------------------


def throughput(
    session: Any, texts: list[str], rounds: int
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Texts/s: nlp.pipe vs CandidateScorer.score (whole on/off) vs span_scores, interleaved."""
    from nbannotate.candidates import CandidateScorer
    from nbannotate.models import upstream_docs

    nlp = session.nlp
    with_whole = session.scorer
    without = CandidateScorer(nlp, session.labels, beam_width=with_whole.beam_width, whole=None)
    without.untrained = with_whole.untrained = False
    items = [{"text": t, "meta": {}} for t in texts]
    batches = [items[i : i + 32] for i in range(0, len(items), 32)]

    def pipe() -> None:
        for _ in nlp.pipe(texts, batch_size=32):
            pass

    def score(scorer: Any) -> None:
        for b in batches:
            scorer.score(b)

    def beam_only() -> None:
        for b in batches:
            with_whole.span_scores(upstream_docs(nlp, [x["text"] for x in b]))

    kinds = {
        "nlp.pipe (greedy)": pipe,
        "beam 16: span_scores only": beam_only,
        "beam 16: scorer.score, whole=None": lambda: score(without),
        "beam 16: scorer.score, whole=0.5 (default)": lambda: score(with_whole),
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    with session.model_lock:
        for _ in range(rounds):
            for name, fn in kinds.items():
                with C.Timer() as t:
                    fn()
                times[name].append(t.seconds)
    return {name: round(len(texts) / statistics.median(ts), 1) for name, ts in times.items()}, {
        name: [round(len(texts) / max(ts), 1), round(len(texts) / min(ts), 1)]
        for name, ts in times.items()
    }


def update_and_answer(session: Any, oracle: C.Oracle, rounds: int) -> dict[str, Any]:
    """Drive the session like a user; time answer() and the updates of 10 answers."""
    nlp = session.updater.nlp
    update_times: list[float] = []
    real_update = nlp.update

    def timed_update(*args: Any, **kwargs: Any) -> Any:  # the nlp.update call alone
        t = time.perf_counter()
        try:
            return real_update(*args, **kwargs)
        finally:
            update_times.append(time.perf_counter() - t)

    nlp.update = timed_update  # type: ignore[method-assign]
    answer_ms: list[float] = []
    to_version: list[float] = []
    try:
        session.update_model(timeout=120)
        for _ in range(rounds):
            for _k in range(session.batch_size):
                task = session.next_task(timeout=120)
                if task is None:
                    raise RuntimeError("the source ran out during the update benchmark")
                version = session.updater.version
                ans = oracle(task)
                t = time.perf_counter()
                session.answer(task, ans)
                answer_ms.append((time.perf_counter() - t) * 1000)
            # the 10th answer triggers an update: how long until the model has changed?
            deadline = time.perf_counter() + 120
            while session.updater.version == version and time.perf_counter() < deadline:
                time.sleep(0.001)
            to_version.append(time.perf_counter() - t)
            session.updater.wait_idle(timeout=120)
    finally:
        del nlp.update
    reports = session.updater.reports[-rounds:]
    return {
        "rounds": rounds,
        "update_ms_p50": round(1000 * C.percentile(update_times, 50), 1),
        "update_ms_p95": round(1000 * C.percentile(update_times, 95), 1),
        "answer_to_new_model_ms_p50": round(1000 * C.percentile(to_version, 50), 1),
        "answer_to_new_model_ms_p95": round(1000 * C.percentile(to_version, 95), 1),
        "examples_per_update_mean": round(statistics.fmean(r.examples for r in reports), 1),
        "answer_ms_p50": round(C.percentile(answer_ms, 50), 2),
        "answer_ms_p95": round(C.percentile(answer_ms, 95), 2),
        "answers_timed": len(answer_ms),
        "update_errors": len(session.updater.errors),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--texts", type=int, default=1000, help="texts per throughput round")
    p.add_argument("--rounds", type=int, default=5, help="throughput rounds (median)")
    p.add_argument("--updates", type=int, default=40, help="updates of 10 answers to time")
    p.add_argument("--memory-lines", default="10000,1000000")
    p.add_argument("--memory-tasks", type=int, default=3000)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--quick", action="store_true", help="smoke mode: small sizes, < 60 s")
    C.add_results_arg(p)
    p.add_argument(
        "--memory-child",
        nargs=4,
        metavar=("MODEL", "JSONL", "TASKS", "LABELS"),
        help=argparse.SUPPRESS,
    )
    args = p.parse_args(argv)
    if args.memory_child:
        model, path, n, labels = args.memory_child
        print(json.dumps(memory_child(model, path, int(n), labels.split(","))))
        return 0
    if args.quick:
        args.texts, args.rounds, args.updates = 64, 1, 3
        args.memory_lines, args.memory_tasks, args.epochs = "2000,100000", 50, 1

    import nbannotate as nba
    from nbannotate.train import train

    corpus = C.load_corpus("btc")
    split = C.make_split(
        corpus, 0, n_seed=200 if not args.quick else 80, n_pool=3000, n_dev=100, n_test=1000
    )
    res: dict[str, Any] = {"machine": C.machine(), "settings": vars(args)}
    with tempfile.TemporaryDirectory(prefix="nba-speed-") as tmp_name:
        tmp = Path(tmp_name)
        db = nba.Database(tmp / "a.duckdb")
        C.add_gold(db, "seed", split.seed)
        C.add_gold(db, "dev", split.dev)
        with C.Timer() as t:
            train(
                ["seed"],
                tmp / "model",
                eval_dataset="dev",
                db=db,
                epochs=args.epochs,
                patience=0,
                progress=False,
                overwrite=True,
            )
        res["train_seconds"] = round(t.seconds, 1)
        texts = [s.text for s in split.test[: args.texts]]
        source = [{"text": s.text} for s in split.pool]
        session = nba.teach(
            "speed",
            source,
            model=str(tmp / "model"),
            labels=corpus.labels,
            db=db,
            split_sentences=False,
        )
        try:
            res["threads"] = threading.active_count()
            res["texts_per_second"], res["texts_per_second_range"] = throughput(
                session, texts, args.rounds
            )
            res["loop"] = update_and_answer(session, C.Oracle(split.pool), args.updates)
        finally:
            session.stop()
        db.close()
        lines = [int(n) for n in args.memory_lines.split(",")]
        res["memory"] = run_memory(tmp / "model", lines, args.memory_tasks, corpus.labels, tmp)

    tps = res["texts_per_second"]
    greedy = tps["nlp.pipe (greedy)"]
    print(
        f"Pipeline: train() on {len(split.seed)} BTC sentences, {args.epochs} epochs "
        f"({res['train_seconds']} s). Throughput on {len(texts)} BTC sentences, "
        f"median of {args.rounds}:\n"
    )
    spread = res["texts_per_second_range"]
    print(
        C.table(
            ["what", "texts/s (median)", "min-max", "vs nlp.pipe"],
            [
                [k, v, f"{spread[k][0]}-{spread[k][1]}", f"{v / greedy:.2f}x"]
                for k, v in tps.items()
            ],
        )
    )
    lp = res["loop"]
    print(
        f"\nModel update of 10 answers ({lp['rounds']} updates, "
        f"{lp['examples_per_update_mean']} examples each incl. replay): nlp.update "
        f"p50 {lp['update_ms_p50']} ms, p95 {lp['update_ms_p95']} ms; 10th answer -> new "
        f"model version p50 {lp['answer_to_new_model_ms_p50']} ms, "
        f"p95 {lp['answer_to_new_model_ms_p95']} ms."
    )
    print(
        f"answer() latency over {lp['answers_timed']} answers (DuckDB commit included): "
        f"p50 {lp['answer_ms_p50']} ms, p95 {lp['answer_ms_p95']} ms."
    )
    print("\nPeak memory of a session over a generated JSONL source (child process):\n")
    print(
        C.table(
            [
                "file lines",
                "file MB",
                "tasks answered",
                "texts read",
                "seconds",
                "RSS after imports MB",
                "peak RSS MB",
                "RSS samples MB",
            ],
            [
                [
                    f"{m['file_lines']:,}",
                    m["file_mb"],
                    m["tasks"],
                    m["source_read"],
                    m["seconds"],
                    m["maxrss_after_imports_mb"],
                    m["maxrss_mb"],
                    " ".join(str(s["rss_mb"]) for s in m["samples"]),
                ]
                for m in res["memory"]
            ],
        )
    )
    path = C.write_json("loop_speed_quick.json" if args.quick else "loop_speed.json", res)
    print(f"\nWrote {path}")
    return 0


if __name__ == "__main__":
    C.run_main(main)
