"""train() against `python -m spacy train`, each at its own defaults, as whole processes.

Data (read from ``../shared/data`` or ``$NBANNOTATE_DATA``):
- BTC, the Broad Twitter Corpus (Derczynski, Bontcheva and Roberts, COLING 2016; CC-BY 4.0):
  train sentences sampled with ``random.Random(seed)`` from sections A, B, E, F, G (``--btc``
  sizes; ``all`` = every one of them); test: 1,000 sentences of section H
  (``random.Random(1)``); dev (model selection): 500 other sentences of section H.
- WNUT17 (Derczynski, Nichols, van Erp, Limsopatham, W-NUT 2017; CC-BY 4.0): its train part
  (``--wnut17`` sizes; ``all`` = every sentence not also in dev or test), the first 500 of its
  dev part for model selection, the first 1,000 of its test part for the score.
No text is on two sides.

Each run (corpus, size, seed) trains both systems on the same sentences with the same dev set,
each with its own stopping rule:
- spacy train: the config of ``python -m spacy init config -l en -p ner -o efficiency``
  unchanged (max_steps 20000, eval_frequency 200, patience 1600, batches of 100 rising to 1,000
  words), on .spacy files written beforehand (as ``spacy convert`` would).
- train(): ``nba.train("train", out, eval_dataset="dev", db=...)`` at its defaults, from the
  gold answers in a DuckDB file written beforehand.
Both run as a whole process (``python -m spacy train ...`` and ``python this_script.py --child
...``: imports, reading the data, training, saving), timed from start to exit (wall time, and
CPU time: user + system of the process, the steadier measure on a shared machine); the order
alternates from run to run (the first run starts with spacy train). Both saved pipelines are
then scored on the test sentences by the same code (``nlp.evaluate``).

Usage:  .venv/bin/python benchmarks/train_vs_spacy.py [--btc 200,1000,all] [--wnut17 all]
            [--seeds 0] [--out DIR] [--quick]
The summary (a JSON file and a markdown table) goes to ``--out`` (default
benchmarks/out/train_vs_spacy, git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402

TRAIN_SECTIONS = {"a", "b", "e", "f", "g"}
TEST_SECTION = "h"
QUICK_STEPS = 60  # --quick: both sides stop after this many steps (a smoke run, no result)


def _btc_rows() -> list[dict]:
    path = C.data_dir() / "btc" / "btc.jsonl"
    if not path.is_file():
        raise C.DataMissing(f"Corpus file {path} is missing (see {path.parent.parent}/README.md).")
    return [json.loads(line) for line in path.open(encoding="utf8")]


def _sentence(row: dict) -> C.Sentence:
    spans = [(int(s["start"]), int(s["end"]), str(s["label"])) for s in row["spans"]]
    return C.Sentence(row["text"], list(row["tokens"]), spans)


def load_split(
    corpus: str, size: str, seed: int, n_test: int, n_dev: int
) -> tuple[list[C.Sentence], list[C.Sentence], list[C.Sentence]]:
    """train, dev, test sentences of one run (disjoint by text)."""
    if corpus == "btc":
        rows = _btc_rows()
        pool = [r for r in rows if r["meta"]["file"][0] in TRAIN_SECTIONS]
        held = [r for r in rows if r["meta"]["file"][0] == TEST_SECTION]
        random.Random(1).shuffle(held)
        test, dev = held[:n_test], held[n_test : n_test + n_dev]
        n = len(pool) if size == "all" else min(int(size), len(pool))
        train = random.Random(seed).sample(pool, n)
        train, dev, test = ([_sentence(r) for r in part] for part in (train, dev, test))
    else:
        c = C.load_corpus("wnut17")
        pool, dev, test = c.part("train"), c.part("dev")[:n_dev], c.part("test")[:n_test]
        n = len(pool) if size == "all" else min(int(size), len(pool))
        train = random.Random(seed).sample(pool, n)
    held_texts = {s.text for s in dev} | {s.text for s in test}
    train = [s for s in train if s.text not in held_texts]  # tweets repeated across parts
    dev_texts = {s.text for s in dev}
    test = [s for s in test if s.text not in dev_texts]
    return train, dev, test


def gold_docs(nlp, sentences: list[C.Sentence]):
    """The gold annotation as spaCy docs (entities complete: other tokens are O)."""
    docs = []
    for s in sentences:
        doc = nlp.make_doc(s.text)
        ents = [doc.char_span(a, b, label, alignment_mode="expand") for a, b, label in s.spans]
        ents = [e for e in ents if e is not None and not e[0].is_space and not e[-1].is_space]
        kept, taken = [], set()
        for e in ents:
            if not taken & set(range(e.start, e.end)):
                kept.append(e)
                taken |= set(range(e.start, e.end))
        doc.set_ents(kept, default="outside")
        docs.append(doc)
    return docs


def score(model_dir: Path, docs) -> dict:
    import spacy
    from spacy.training import Example

    nlp = spacy.load(model_dir)
    s = nlp.evaluate([Example(nlp.make_doc(d.text), d) for d in docs])
    return {
        "ents_f": s["ents_f"],
        "ents_p": s["ents_p"],
        "ents_r": s["ents_r"],
        "per_type": {k: round(v["f"], 3) for k, v in (s["ents_per_type"] or {}).items()},
    }


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _timed(cmd: list[str], log: Path) -> dict[str, float]:
    """Wall time and CPU time (user + system, the process and its children) of one process:
    on a shared machine the CPU time is the steadier measure."""
    t0, c0 = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    log.write_text(proc.stdout + proc.stderr, encoding="utf8")
    if proc.returncode:
        raise SystemExit(f"{cmd[2:4]} failed (see {log}):\n{proc.stderr[-2000:]}")
    return {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1)}


def _spacy_steps(log: Path) -> int | None:
    """The last step spacy train logged (its table's '#' column)."""
    last = None
    for line in log.read_text(encoding="utf8").splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[0].isdigit() and parts[1].isdigit():
            last = int(parts[1])
    return last


def run_pair(corpus: str, size: str, seed: int, index: int, args: argparse.Namespace) -> dict:
    import spacy
    from spacy.tokens import DocBin

    from nbannotate.store import Database

    train, dev, test = load_split(corpus, size, seed, args.n_test, args.n_dev)
    work = args.out / f"{corpus}-{size}-{seed}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    nlp = spacy.blank("en")
    test_docs = gold_docs(nlp, test)
    DocBin(docs=gold_docs(nlp, train)).to_disk(work / "train.spacy")
    DocBin(docs=gold_docs(nlp, dev)).to_disk(work / "dev.spacy")
    db = Database(work / "answers.duckdb")
    C.add_gold(db, "train", train)
    C.add_gold(db, "dev", dev)
    db.close()
    py = sys.executable
    subprocess.run(
        [
            py,
            "-m",
            "spacy",
            "init",
            "config",
            str(work / "spacy.cfg"),
            "-l",
            "en",
            "-p",
            "ner",
            "-o",
            "efficiency",
            "--force",
        ],
        check=True,
        capture_output=True,
    )
    quick = (
        ["--training.max_steps", str(QUICK_STEPS), "--training.eval_frequency", "20"]
        if args.quick
        else []
    )
    spacy_cmd = [
        py,
        "-m",
        "spacy",
        "train",
        str(work / "spacy.cfg"),
        "--output",
        str(work / "spacy-out"),
        "--paths.train",
        str(work / "train.spacy"),
        "--paths.dev",
        str(work / "dev.spacy"),
        *quick,
    ]
    nba_cmd = [py, str(Path(__file__).resolve()), "--child", str(work)]
    if args.quick:
        nba_cmd.append("--quick")
    sides = [("spacy_train", spacy_cmd), ("nba_train", nba_cmd)]
    if index % 2:
        sides.reverse()
    out: dict = {
        "corpus": corpus,
        "size": size,
        "seed": seed,
        "train": len(train),
        "dev": len(dev),
        "test": len(test),
        "first": sides[0][0],
    }
    for name, cmd in sides:
        out[name] = _timed(cmd, work / f"{name}.log")
    out["spacy_train"].update(
        score(work / "spacy-out" / "model-best", test_docs),
        steps=_spacy_steps(work / "spacy_train.log"),
    )
    result = json.loads((work / "nba-out" / "nbannotate_train.json").read_text())
    out["nba_train"].update(
        score(work / "nba-out", test_docs),
        steps=result["stats"]["steps"],
        stopped=result["stopped"],
        best_epoch=result["scores"]["best"]["epoch"],
    )
    out["f_difference"] = out["nba_train"]["ents_f"] - out["spacy_train"]["ents_f"]
    out["time_ratio"] = out["nba_train"]["seconds"] / out["spacy_train"]["seconds"]
    out["cpu_ratio"] = out["nba_train"]["cpu_seconds"] / max(out["spacy_train"]["cpu_seconds"], 0.1)
    for side in ("spacy-out", "nba-out"):
        shutil.rmtree(work / side, ignore_errors=True)  # pipelines: tens of MB each
    return out


def child(work: Path, quick: bool) -> None:
    """train() at its defaults, as a process of its own (the timed side)."""
    from nbannotate.train import train

    extra = {"max_steps": QUICK_STEPS} if quick else {}
    train(
        "train",
        work / "nba-out",
        "blank:en",
        eval_dataset="dev",
        db=str(work / "answers.duckdb"),
        progress=False,
        **extra,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--btc", default="200,1000,all", help="BTC train sizes ('' for none)")
    ap.add_argument("--wnut17", default="all", help="WNUT17 train sizes ('' for none)")
    ap.add_argument("--seeds", default="0", help="train-sample seeds, e.g. 0,1")
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--n-dev", type=int, default=500)
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke mode: BTC 300/100/100 sentences, {QUICK_STEPS} steps each",
    )
    ap.add_argument("--out", type=Path, default=C.ROOT / "benchmarks" / "out" / "train_vs_spacy")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.quick)
        return 0
    if args.quick:
        args.btc, args.wnut17, args.n_test, args.n_dev = "300", "", 100, 100
    import spacy

    runs = [
        (corpus, size, int(seed))
        for corpus, sizes in (("btc", args.btc), ("wnut17", args.wnut17))
        for size in sizes.split(",")
        if size
        for seed in args.seeds.split(",")
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {platform.processor() or '?'}, {os.cpu_count()} "
        f"CPUs, load average {os.getloadavg()[0]:.1f} at the start, Python "
        f"{platform.python_version()}, spaCy {spacy.__version__}",
        "runs": [],
    }
    for i, (corpus, size, seed) in enumerate(runs):
        summary["runs"].append(run_pair(corpus, size, seed, i, args))
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
        r = summary["runs"][-1]
        print(
            f"{corpus} {r['train']} seed {seed}: spacy train F {r['spacy_train']['ents_f']:.3f}"
            f" in {r['spacy_train']['seconds']} s, train() F {r['nba_train']['ents_f']:.3f} "
            f"in {r['nba_train']['seconds']} s (ratio {r['time_ratio']:.2f})",
            flush=True,
        )
    print()
    print(
        "| corpus | train sentences | seed | first | spacy train F | train() F | difference "
        "| wall time spaCy / train() | ratio | CPU time spaCy / train() | ratio | steps "
        "spaCy / train() |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in summary["runs"]:
        s, n = r["spacy_train"], r["nba_train"]
        first = "spaCy" if r["first"] == "spacy_train" else "train()"
        print(
            f"| {r['corpus']} | {r['train']:,} | {r['seed']} | {first} | {s['ents_f']:.3f} | "
            f"{n['ents_f']:.3f} | {r['f_difference']:+.3f} | {s['seconds']:.0f} / "
            f"{n['seconds']:.0f} s | {r['time_ratio']:.2f} | {s['cpu_seconds']:.0f} / "
            f"{n['cpu_seconds']:.0f} s | {r['cpu_ratio']:.2f} | {s['steps']} / "
            f"{n['steps']} |"
        )
    print(f"\n{summary['machine']}; {summary['date']}")
    return 0


if __name__ == "__main__":
    C.run_main(main)
