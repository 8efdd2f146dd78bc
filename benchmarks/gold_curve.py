"""How much does gold data help this pipeline? train() F against the number of gold sentences.

The learning benchmark compares the loop with gold annotation of equal effort; that comparison
only means something where more gold gives a better model. This script measures that ceiling
with the learning protocol's own split and train() settings: for each corpus and seed, train()
from ``blank:en`` on the first n sentences of the seed + pool part (seed first, then the pool
in its shuffled order), for each n in ``--sizes``, scored on the same test sentences.

Prints a table, writes ``benchmarks/results/gold_curve.json`` (``--out``). Exit status 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
import learning  # noqa: E402

SIZES = {"btc": "200,400,800,1600,3200", "wnut17": "1000,1500,2000,all"}


def run(
    corpus_name: str, seed: int, sizes: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    import spacy

    import nbannotate as nba

    corpus = C.load_corpus(corpus_name)
    split = C.protocol_split(corpus, seed, args)
    train_part = split.seed + split.pool
    test = C.gold_examples(spacy.blank("en"), split.test)
    rows = []
    with tempfile.TemporaryDirectory(prefix="nba-curve-") as tmp:
        db = nba.Database(Path(tmp) / "gold.duckdb")
        C.add_gold(db, "dev", split.dev)
        for size in sizes:
            n = len(train_part) if size == "all" else min(int(size), len(train_part))
            name = f"gold_{n}"
            C.add_gold(db, name, train_part[:n])
            # The learning benchmark's own train() + test scoring, so the settings match.
            scores = learning._train_f(db, [name], Path(tmp) / name, split, args, seed, test)
            seconds = scores.pop("train_seconds")
            rows.append(
                {"corpus": corpus_name, "seed": seed, "sentences": n, "seconds": seconds, **scores}
            )
            if not args.silent:
                print(
                    f"{corpus_name} seed {seed}: {n} gold sentences F={scores['ents_f']:.3f} "
                    f"({seconds:.0f} s)",
                    flush=True,
                )
        db.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpora", default="btc,wnut17")
    p.add_argument("--seeds", default="0,1")
    p.add_argument(
        "--sizes",
        default=None,
        help="comma-separated sentence counts ('all': the whole seed + pool part); "
        f"default per corpus: {SIZES}",
    )
    C.add_protocol_args(p)
    p.add_argument("--quick", action="store_true", help="smoke mode: btc, tiny sizes")
    C.add_results_arg(p)
    p.add_argument("--out", default="gold_curve", help="results file stem in benchmarks/results")
    p.add_argument("--silent", action="store_true")
    args = p.parse_args(argv)
    out = args.out
    if args.quick:
        args.corpora, args.seeds, args.sizes = "btc", "0", "50,100"
        args.epochs, args.patience, args.n_dev, args.n_test = 2, 0, 50, 100
        out = "gold_curve_quick"
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    for name in corpora:  # fail fast, with the clear message, before any work
        C.load_corpus(name)
    rows: list[dict[str, Any]] = []
    with C.Timer() as t:
        for name in corpora:
            sizes = (args.sizes or SIZES[name]).split(",")
            for seed in seeds:
                rows.extend(run(name, seed, [s.strip() for s in sizes if s.strip()], args))
    table_rows = []
    for name in corpora:
        for n in sorted({r["sentences"] for r in rows if r["corpus"] == name}):
            fs = [r["ents_f"] for r in rows if r["corpus"] == name and r["sentences"] == n]
            m, sd = C.mean_sd(fs)
            table_rows.append(
                [name, n, f"{100 * m:.1f} ± {100 * sd:.1f}", " ".join(f"{100 * f:.1f}" for f in fs)]
            )
    text = C.table(["corpus", "gold sentences", "test F (mean ± sd)", "per seed"], table_rows)
    print(text)
    path = C.write_results(f"{out}.json", args, seconds=round(t.seconds, 1), rows=rows, report=text)
    print(f"\nWrote {path} in {t.seconds:.0f} s.")
    return 0


if __name__ == "__main__":
    C.run_main(main)
