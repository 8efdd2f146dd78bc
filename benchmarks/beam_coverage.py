"""Which gold entities can the loop ask about at all? Beam coverage by width and score.

The loop proposes a span only if some parse in the beam contains it. Per corpus and seed, with
the learning protocol's split and starting model (``train()`` on the seed gold, the same
settings as ``learning.py``), this scores the first ``--texts`` pool sentences with the NER's
beam at each width in ``--widths`` and reports, for each score threshold, the share of the gold
entities among the candidates scoring above it (recall), the share of those candidates that
are gold (precision) and candidates per sentence. The greedy parse's recall is the baseline.

Prints a table, writes ``benchmarks/results/beam_coverage.json`` (``--out``). Exit status 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
import learning  # noqa: E402

THRESHOLDS = (0.0, 0.01, 0.05, 0.1, 0.2, 0.5)


def token_gold(doc: Any, sent: C.Sentence) -> set[tuple[int, int, str]]:
    out = set()
    for start, end, label in sent.spans:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is not None:
            out.add((span.start, span.end, label))
    return out


def run(corpus_name: str, seed: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    import spacy

    import nbannotate as nba

    corpus = C.load_corpus(corpus_name)
    split = C.protocol_split(corpus, seed, args)
    pool = split.pool[: args.texts]
    rows = []
    with tempfile.TemporaryDirectory(prefix="nba-coverage-") as tmp:
        db = nba.Database(Path(tmp) / "gold.duckdb")
        C.add_gold(db, "seed", split.seed)
        C.add_gold(db, "dev", split.dev)
        learning._train_f(db, ["seed"], Path(tmp) / "start", split, args, seed, [])
        db.close()
        nlp = spacy.load(Path(tmp) / "start")
    ner = nlp.get_pipe("ner")
    # Upstream pipes (the tok2vec the NER listens to) run first, as in the session's scorer.
    docs = list(nlp.pipe([s.text for s in pool], disable=["ner"]))
    gold = [token_gold(doc, s) for doc, s in zip(docs, pool)]
    n_gold = sum(len(g) for g in gold)
    greedy = [
        {(e.start, e.end, e.label_) for e in doc.ents} for doc in nlp.pipe([s.text for s in pool])
    ]
    greedy_hits = sum(len(g & p) for g, p in zip(gold, greedy))
    for width in args.widths:
        tic = time.perf_counter()
        scores: list[dict[tuple[int, int, str], float]] = []
        for i in range(0, len(docs), 32):
            batch = list(nlp.pipe([s.text for s in pool[i : i + 32]], disable=["ner"]))
            scores.extend(ner.scored_ents(ner.beam_parse(batch, beam_width=width)))
        seconds = time.perf_counter() - tic
        for thr in THRESHOLDS:
            hits = sum(sum(1 for k in g if sc.get(k, 0.0) > thr) for g, sc in zip(gold, scores))
            cands = sum(sum(1 for v in sc.values() if v > thr) for sc in scores)
            rows.append(
                {
                    "corpus": corpus_name,
                    "seed": seed,
                    "width": width,
                    "threshold": thr,
                    "recall": hits / max(1, n_gold),
                    "precision": hits / max(1, cands),
                    "per_text": cands / len(pool),
                    "seconds": round(seconds, 1),
                    "greedy_recall": greedy_hits / max(1, n_gold),
                    "gold": n_gold,
                }
            )
        if not args.silent:
            r0 = rows[-len(THRESHOLDS)]
            print(
                f"{corpus_name} seed {seed} width {width}: any score {r0['recall']:.2f} of "
                f"{n_gold} gold entities ({seconds:.0f} s)",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpora", default="btc")
    p.add_argument("--seeds", default="0,1,2,3")
    p.add_argument("--widths", default="16,32,64")
    p.add_argument("--texts", type=int, default=1500, help="pool sentences scored")
    C.add_protocol_args(p)
    p.add_argument("--quick", action="store_true", help="smoke mode: 1 seed, tiny sizes")
    C.add_results_arg(p)
    p.add_argument("--out", default="beam_coverage", help="results file stem")
    p.add_argument("--silent", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.corpora, args.seeds, args.widths, args.texts = "btc", "0", "4,16", 100
        args.epochs, args.patience, args.n_seed, args.n_dev = 2, 0, 100, 50
        args.out = "beam_coverage_quick"
    args.widths = [int(w) for w in str(args.widths).split(",")]
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    for name in corpora:  # fail fast, with the clear message, before any work
        C.load_corpus(name)
    rows = [
        r
        for name in corpora
        for seed in (int(s) for s in args.seeds.split(","))
        for r in run(name, seed, args)
    ]
    table = []
    for name in corpora:
        for width in args.widths:
            for thr in THRESHOLDS:
                mine = [
                    r
                    for r in rows
                    if (r["corpus"], r["width"], r["threshold"]) == (name, width, thr)
                ]
                rec, _ = C.mean_sd([r["recall"] for r in mine])
                prec, _ = C.mean_sd([r["precision"] for r in mine])
                per, _ = C.mean_sd([r["per_text"] for r in mine])
                table.append(
                    [
                        name,
                        width,
                        f"> {thr}",
                        f"{100 * rec:.0f}%",
                        f"{100 * prec:.0f}%",
                        f"{per:.1f}",
                    ]
                )
    greedy = {
        name: C.mean_sd([r["greedy_recall"] for r in rows if r["corpus"] == name])[0]
        for name in corpora
    }
    print(
        C.table(
            [
                "corpus",
                "beam width",
                "span score",
                "gold entities among the candidates",
                "candidates that are gold",
                "candidates per sentence",
            ],
            table,
        )
    )
    print(
        "Greedy parse, gold entities found: "
        + ", ".join(f"{n} {100 * g:.0f}%" for n, g in greedy.items())
    )
    path = C.write_results(f"{args.out}.json", args, rows=rows, greedy_recall=greedy)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    C.run_main(main)
