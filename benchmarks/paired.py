"""Paired differences between saved learning.py runs, per seed: the numbers BENCHMARKS.md joins.

Each side names where a seed's F comes from, as a list of ``STEM:WHAT`` sources tried in order
(the first run that has the seed wins). ``WHAT`` is a configuration of that run
(``whole/uncertain``, ``whole/random``, ...) or a baseline: ``gold_quarter`` (gold for N/4
sentences), ``touched_gold`` (gold on the sentences the default stream touched). A stem matches
``learning_units/<stem>_<corpus>_<seed>.json`` and the parts of a run side by side
(``<stem>_a``, ``<stem>_b``, ...).

    python benchmarks/paired.py --seeds 0-31 \\
        --a exp_gate:whole/uncertain,exp_s32:whole/uncertain \\
        --b learning2000c:gold_quarter,exp_s32:gold_quarter

prints, per checkpoint N, each side's mean ± sd and A minus B: mean ± sd, its standard error
and the seeds where A is ahead. Seeds missing on either side are left out (and counted). Exit
status 0.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402

BASELINES = ("gold_quarter", "touched_gold")


@functools.cache  # read once, though every checkpoint asks
def unit(stem: str, corpus: str, seed: int) -> dict[str, Any] | None:
    """The seed's unit of run ``stem``, or of one of its parts run side by side (``stem_a``,
    ``stem_b``, ...: one letter, so ``exp_gate`` does not pick up ``exp_gate_random_a``)."""
    paths = [
        C.UNITS / f"{stem}_{corpus}_{seed}.json",
        *sorted(C.UNITS.glob(f"{stem}_[a-z]_{corpus}_{seed}.json")),
    ]
    path = next((p for p in paths if p.is_file()), None)
    return None if path is None else json.loads(path.read_text())


def score(u: dict[str, Any], what: str, n: int) -> float | None:
    """Test F x100 of ``what`` at ``n`` decisions in one unit (None: not in this unit)."""
    if what == "gold_quarter":
        row = (u.get("gold_quarter") or {}).get(str(n))
    elif what == "touched_gold":
        row = next(
            (
                c.get("touched_gold", {}).get(str(n))
                for c in u["configs"].values()
                if c.get("touched_gold", {}).get(str(n))
            ),
            None,
        )
    else:
        row = (u["configs"].get(what, {}).get("final") or {}).get(str(n))
    return None if not row else 100 * row["ents_f"]


def side(sources: list[tuple[str, str]], corpus: str, seed: int, n: int) -> float | None:
    for stem, what in sources:
        u = unit(stem, corpus, seed)
        if u is not None and (f := score(u, what, n)) is not None:
            return f
    return None


def _mean_sd(values: list[float]) -> str:
    mean, sd = C.mean_sd(values)
    return f"{mean:.1f} ± {sd:.1f}"


def parse_sources(text: str) -> list[tuple[str, str]]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        stem, sep, what = part.partition(":")
        if not sep or not stem or not what:
            raise SystemExit(
                f"--a/--b: {part!r} is not STEM:WHAT (e.g. exp_gate:whole/uncertain "
                f"or learning2000c:gold_quarter)"
            )
        out.append((stem, what))
    return out


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, _, hi = part.partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    return seeds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--a", required=True, help="sources of side A: STEM:WHAT,...")
    p.add_argument("--b", required=True, help="sources of side B: STEM:WHAT,...")
    p.add_argument("--seeds", default="0-15", help="e.g. 0-15 or 0,1,2")
    p.add_argument("--corpus", default="btc")
    p.add_argument("--checkpoints", default="500,1000,2000")
    C.add_results_arg(p)
    args = p.parse_args(argv)
    a, b = parse_sources(args.a), parse_sources(args.b)
    rows = []
    for n in (int(x) for x in args.checkpoints.split(",")):
        pairs = [
            (fa, fb)
            for s in parse_seeds(args.seeds)
            if (fa := side(a, args.corpus, s, n)) is not None
            and (fb := side(b, args.corpus, s, n)) is not None
        ]
        if len(pairs) < 2:
            rows.append([n, len(pairs), "-", "-", "-", "-"])
            continue
        d = [x - y for x, y in pairs]
        sd = statistics.stdev(d)
        rows.append(
            [
                n,
                len(pairs),
                _mean_sd([x for x, _ in pairs]),
                _mean_sd([y for _, y in pairs]),
                f"{statistics.mean(d):+.2f} ± {sd:.1f} (se {sd / len(d) ** 0.5:.2f})",
                f"{sum(x > 0 for x in d)} of {len(d)}",
            ]
        )
    print(f"A: {args.a}\nB: {args.b}")
    print(C.table(["N", "seeds", "A", "B", "A minus B", "A ahead"], rows))
    return 0


if __name__ == "__main__":
    C.run_main(main)
