"""A new label from patterns: how fast a blank model learns the entities no pattern matches.

The synthetic product corpus of the tests (``tests/gadgets.py``: 8 sentence templates, 8
products, patterns for 4 of them) stands in for a user who starts a label with a pattern file.
Per seed: ``nba.teach`` from ``blank:en`` with the patterns over 600 texts, an oracle answering
from the known products, ``--decisions`` decisions; then the in-loop model scores 32 held-out
sentences (every template with each of the 4 products no pattern matches), and the score of
the product span is reported (mean and the weakest). Configurations:

- ``none``: ``complete=None``, no completion questions;
- ``gated``: ``complete=0.5`` (the default): completion questions start once 20 spans the
  model proposed itself were accepted, and are asked while at least 1 in 10 of the latest 100
  such spans is accepted;
- ``ungated``: ``complete=0.5`` with that wait switched off (the opt-in that came before the
  gate);
- ``ungated-nolearn``: the same, but the in-loop model is not updated with the completion
  answers (is the loss in what the completed sentences teach, or in the decisions they take?).

Prints a table, writes ``benchmarks/results/bootstrap.json`` (``--out``). Exit status 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))  # the synthetic corpus the tests use

import common as C  # noqa: E402
from gadgets import (  # noqa: E402
    PATTERN_PRODUCTS,
    PRODUCTS,
    TEMPLATES,
    gadget_texts,
    oracle,
    product_patterns,
)

CONFIGS = ("none", "gated", "ungated", "ungated-nolearn")
UNSEEN = [p for p in PRODUCTS if p not in PATTERN_PRODUCTS]


def held_out() -> list[tuple[str, tuple[int, int, str]]]:
    """Every template with every product no pattern matches, and its product span."""
    out = []
    for product in UNSEEN:
        for template in TEMPLATES:
            text = template.format(p=product)
            start = text.index(product)
            out.append((text, (start, start + len(product), "PRODUCT")))
    return out


def run(config: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    import nbannotate as nba

    held = held_out()
    counts = dict.fromkeys(
        (
            "span_accept",
            "span_reject",
            "whole_accept",
            "whole_reject",
            "completion_accept",
            "completion_reject",
            "unseen_accepted",
        ),
        0,
    )
    with tempfile.TemporaryDirectory(prefix="nba-bootstrap-") as tmp:
        s = nba.teach(
            "bootstrap",
            gadget_texts(args.texts, seed=seed),
            "blank:en",
            ["PRODUCT"],
            product_patterns(),
            db=Path(tmp) / "answers.duckdb",
            split_sentences=False,
            seed=seed,
            complete=None if config == "none" else 0.5,
        )
        if config.startswith("ungated"):
            C.ask_completions_always(s)  # the alternative: completions from the start
        if config == "ungated-nolearn":
            submit = s.updater.submit
            s.updater.submit = lambda t: None if t["meta"].get("completion") else submit(t)
        tic = time.perf_counter()
        try:
            for _ in range(args.decisions):
                task = s.next_task(timeout=120)
                if task is None:
                    break
                answer = oracle(task)
                meta = task["meta"]
                kind = (
                    "completion"
                    if meta.get("completion")
                    else "whole"
                    if meta.get("whole")
                    else "span"
                )
                counts[f"{kind}_{answer}"] = counts.get(f"{kind}_{answer}", 0) + 1
                if kind == "span" and answer == "accept":
                    span = task["spans"][0]
                    counts["unseen_accepted"] += task["text"][span["start"] : span["end"]] in UNSEEN
                s.answer(task, answer)
            s.update_model()
            scores = s.score_spans([text for text, _ in held])
        finally:
            s.stop()
            nba.Database(Path(tmp) / "answers.duckdb").close()
    found = [sc.get(key, 0.0) for sc, (_, key) in zip(scores, held)]
    return {
        "config": config,
        "seed": seed,
        "seconds": round(time.perf_counter() - tic, 1),
        "mean_unseen": sum(found) / len(found),
        "min_unseen": min(found),
        "top_is_product": sum(
            bool(sc) and max(sc, key=sc.get) == key for sc, (_, key) in zip(scores, held)
        ),
        # the best-scored span that is not the product: what the model gets wrong
        "max_other": sum(
            max([v for k, v in sc.items() if k != key], default=0.0)
            for sc, (_, key) in zip(scores, held)
        )
        / len(held),
        **counts,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", default=",".join(CONFIGS[:3]))
    p.add_argument("--seeds", default="0,1,2,3,4,5,6,7")
    p.add_argument("--decisions", type=int, default=300)
    p.add_argument("--texts", type=int, default=600)
    p.add_argument("--out", default="bootstrap")
    p.add_argument("--quick", action="store_true", help="2 seeds, 60 decisions (smoke test)")
    C.add_results_arg(p)
    p.add_argument("--silent", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.decisions, args.texts = "0,1", 60, 120
        args.out = args.out if args.out != "bootstrap" else "bootstrap_quick"
    configs = [c for c in args.configs.split(",") if c]
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        raise SystemExit(f"Unknown config(s) {bad}: use some of {', '.join(CONFIGS)}.")
    seeds = [int(x) for x in args.seeds.split(",")]
    rows = []
    for seed in seeds:  # interleaved, so a slow spell of this noisy machine hits all alike
        for config in configs:
            row = run(config, seed, args)
            rows.append(row)
            if not args.silent:
                print(
                    f"seed {seed} {config}: mean {row['mean_unseen']:.3f} "
                    f"min {row['min_unseen']:.3f} ({row['seconds']} s)",
                    flush=True,
                )
    summary = []
    for config in configs:
        mine = [r for r in rows if r["config"] == config]

        def fmt(key: str, mine: list[dict[str, Any]] = mine) -> str:
            m, sd = C.mean_sd([r[key] for r in mine])
            return f"{m:.2f} ± {sd:.2f}"

        def per_seed(key: str, mine: list[dict[str, Any]] = mine) -> str:
            return f"{sum(r[key] for r in mine) / len(mine):.1f}"

        summary.append(
            [
                config,
                len(mine),
                fmt("mean_unseen"),
                fmt("min_unseen"),
                per_seed("top_is_product"),
                fmt("max_other"),
                per_seed("unseen_accepted"),
                f"{per_seed('completion_accept')} / {per_seed('completion_reject')}",
                per_seed("whole_accept"),
            ]
        )
    head = [
        "config",
        "seeds",
        "score of unseen products (mean)",
        "weakest of the 32",
        "product is the best span (of 32)",
        "best other span (mean score)",
        "unseen accepted",
        "completions accepted / rejected",
        "whole accepted",
    ]
    print(f"After {args.decisions} decisions (per seed means):")
    print(C.table(head, summary))
    path = C.write_results(
        f"{args.out}.json", args, rows=rows, summary=[dict(zip(head, r)) for r in summary]
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    C.run_main(main)
