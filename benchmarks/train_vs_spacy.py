"""train() against `python -m spacy train`, side by side on one fixed split of the BTC corpus.

Data: the Broad Twitter Corpus (Derczynski, Bontcheva and Roberts, COLING 2016; CC-BY 4.0), read
from ``../shared/data/btc/btc.jsonl`` relative to the project root (gold PER/ORG/LOC spans).

Split (fixed, documented in BENCHMARKS.md):
- train: ``--train-size`` sentences (default 3000) sampled with ``random.Random(0)`` from
  sections A, B, E, F, G;
- test:  ``--eval-size`` sentences (default 1000) sampled with ``random.Random(1)`` from section H
  (the BTC paper's held-out section). No text is in both (checked).

Both systems get the same budget: ``--epochs`` passes over the same training sentences (default
5), no early stopping, one process on the same machine, run one after the other. The test set is
each run's dev set (both pick their best checkpoint on it the same way) and both saved pipelines
are then scored by the same code (``nlp.evaluate``) on it.

- spacy train: spaCy's default efficiency NER config (``python -m spacy init config -l en -p ner
  -o efficiency``) with ``--training.max_epochs E --training.max_steps 0``, on .spacy files
  prepared beforehand (not timed, as with ``spacy convert``). Wall time of the subprocess.
- train(): ``nba.train("btc-train", eval_dataset="btc-test", epochs=E, patience=0)`` with
  its defaults, reading the gold answers from a DuckDB file (import not timed). Wall time of
  the call (reading the store, building examples, writing .spacy files, training, saving).

Usage:  .venv/bin/python benchmarks/train_vs_spacy.py [--quick] [--epochs 5]
Results go to benchmarks/out/ (git-ignored); the summary is printed as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / ".." / "shared" / "data" / "btc" / "btc.jsonl"
TRAIN_SECTIONS = {"a.conll", "b.conll", "e.conll", "f.conll", "g.conll"}
TEST_SECTIONS = {"h.conll"}


def load_split(train_size: int, eval_size: int) -> tuple[list[dict], list[dict]]:
    if not DATA.exists():
        sys.exit(f"BTC data not found at {DATA.resolve()} (expected ../shared/data/btc/btc.jsonl "
                 f"relative to the project root {ROOT}). This benchmark needs that corpus.")
    rows = [json.loads(line) for line in DATA.open(encoding="utf8")]
    train_pool = [r for r in rows if r["meta"]["file"] in TRAIN_SECTIONS]
    test_pool = [r for r in rows if r["meta"]["file"] in TEST_SECTIONS]
    train = random.Random(0).sample(train_pool, min(train_size, len(train_pool)))
    test = random.Random(1).sample(test_pool, min(eval_size, len(test_pool)))
    overlap = {r["text"] for r in train} & {r["text"] for r in test}
    test = [r for r in test if r["text"] not in overlap]  # duplicate tweets across sections
    return train, test


def gold_tasks(nlp, rows: list[dict]) -> list[dict]:
    from nbannotate.tasks import VIEW_MANUAL, doc_tokens, make_task

    tasks = []
    for r in rows:
        doc = nlp.make_doc(r["text"])
        spans = [{"start": s["start"], "end": s["end"], "label": s["label"],
                  "token_start": s["token_start"], "token_end": s["token_end"]}
                 for s in r["spans"]]
        tasks.append(make_task(r["text"], doc_tokens(doc), spans, view_id=VIEW_MANUAL))
    return tasks


def gold_docs(nlp, rows: list[dict]):
    """The same gold annotation as spaCy docs (entities complete: other tokens are O)."""
    docs = []
    for r in rows:
        doc = nlp.make_doc(r["text"])
        ents = [doc.char_span(s["start"], s["end"], s["label"], alignment_mode="expand")
                for s in r["spans"]]
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
    examples = [Example(nlp.make_doc(d.text), d) for d in docs]
    s = nlp.evaluate(examples)
    return {"ents_p": s["ents_p"], "ents_r": s["ents_r"], "ents_f": s["ents_f"],
            "per_type": {k: round(v["f"], 3) for k, v in (s["ents_per_type"] or {}).items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke mode: 300/100 sentences, 1 epoch")
    ap.add_argument("--train-size", type=int, default=3000)
    ap.add_argument("--eval-size", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "train_vs_spacy")
    args = ap.parse_args()
    if args.quick:
        args.train_size, args.eval_size, args.epochs = 300, 100, 1

    import spacy
    from spacy.tokens import DocBin

    from nbannotate.store import Database
    from nbannotate.train import train

    train_rows, test_rows = load_split(args.train_size, args.eval_size)
    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    nlp = spacy.blank("en")
    test_docs = gold_docs(nlp, test_rows)

    # --- spacy train (data prepared beforehand, not timed) -----------------------------------
    DocBin(docs=gold_docs(nlp, train_rows)).to_disk(out / "train.spacy")
    DocBin(docs=test_docs).to_disk(out / "test.spacy")
    py = sys.executable
    subprocess.run([py, "-m", "spacy", "init", "config", str(out / "spacy.cfg"), "-l", "en",
                    "-p", "ner", "-o", "efficiency", "--force"], check=True,
                   capture_output=True)
    cmd = [py, "-m", "spacy", "train", str(out / "spacy.cfg"), "--output",
           str(out / "spacy-out"), "--paths.train", str(out / "train.spacy"), "--paths.dev",
           str(out / "test.spacy"), "--training.max_epochs", str(args.epochs),
           "--training.max_steps", "0"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    spacy_seconds = time.perf_counter() - t0
    (out / "spacy-train.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode:
        sys.exit(f"spacy train failed (see {out / 'spacy-train.log'}):\n{proc.stderr[-2000:]}")
    spacy_scores = score(out / "spacy-out" / "model-best", test_docs)

    # --- train() from gold answers in DuckDB ---------------------------------------------------
    db = Database(out / "bench.duckdb")
    db.dataset("btc-train", create=True).add_many(gold_tasks(nlp, train_rows), answer="accept")
    db.dataset("btc-test", create=True).add_many(gold_tasks(nlp, test_rows), answer="accept")
    t0 = time.perf_counter()
    result = train("btc-train", out / "nba-out", "blank:en", eval_dataset="btc-test",
                   epochs=args.epochs, patience=0, db=db, progress=False)
    nba_seconds = time.perf_counter() - t0
    db.close()
    nba_scores = score(out / "nba-out", test_docs)

    summary = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {platform.processor() or '?'}, "
                   f"{__import__('os').cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"spaCy {spacy.__version__}",
        "train_sentences": len(train_rows), "test_sentences": len(test_rows),
        "epochs": args.epochs,
        "spacy_train": {"seconds": round(spacy_seconds, 1), **spacy_scores},
        "nba_train": {"seconds": round(nba_seconds, 1), **nba_scores,
                      "best_epoch": result.best["epoch"]},
        "f_difference": nba_scores["ents_f"] - spacy_scores["ents_f"],
        "time_ratio": nba_seconds / spacy_seconds,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    print()
    print("| system | F | P | R | wall time |")
    print("| --- | --- | --- | --- | --- |")
    for name, key in (("`python -m spacy train` (efficiency config)", "spacy_train"),
                      ("`nba.train()`", "nba_train")):
        s = summary[key]
        print(f"| {name} | {s['ents_f']:.3f} | {s['ents_p']:.3f} | {s['ents_r']:.3f} | "
              f"{s['seconds']:.1f} s |")
    print(f"\nF difference (train() - spacy train): {summary['f_difference']:+.3f}; "
          f"wall time ratio train()/spacy train: {summary['time_ratio']:.2f}")


if __name__ == "__main__":
    main()
