"""train() variants on saved answers: does another use of the same binary answers score higher?

Paired: every variant trains on the very answers one loop gave (``learning.py --keep DIR``
saves each unit's answer database and starting model), with the same seed, so the loop's own
noise is out of the comparison. For each seed and each checkpoint N, the first N answers of the
default configuration are taken, and ``train()`` (the learning protocol's settings) runs:

- ``base``: seed gold + the answers (what learning.py reports);
- ``complete_start``: + each partially answered text completed by the starting model: the most
  probable beam analysis that keeps every accepted span and no rejected span (and is not a
  rejected whole analysis), stored as a complete annotation;
- ``complete_pass1``: the same, completed by the ``base`` model (trained on the answers);
- ``complete_pass1_silver``: + silver (``nba.silver`` at 0.9) from the ``base`` model on the
  pool texts the loop never touched (two rounds of self-training);
- ``silver_pass1``: ``base`` + that silver, without the completions;
- ``finetune``: ``base`` data, but train() from the starting model instead of ``blank:en``;
- ``binary_weight_2``, ``binary_weight_3``: ``base`` data, each text known only from binary
  answers (with an accepted span) trained on twice (three times) per epoch (train()'s
  ``binary_weight``; the default, 1, trains on every text once);
- ``beam``: ``base`` data, trained as spaCy's ``beam_ner`` (width 16, every update through the
  beam: a global objective over the analyses that agree with the answers) instead of the greedy
  ``ner``; ``gold_quarter_beam``: the same for the equal-effort gold. train() has no option for
  this (it was measured, not adopted), so the variant patches train()'s config builder. A
  training that spaCy aborts is recorded as missing (``null``), and the means skip it;
- ``cap_empty``: ``base`` without the answers on some texts confirmed to have no entity (a
  whole or completion question accepted with no span), chosen at random until they are at most
  a third of the completely answered texts. The whole question is asked where the model is
  sure, so about 60% of those texts are empty, against 31% of random pool sentences;
- ``no_span_rejects``: ``base`` without the rejected span questions (the negative evidence);
- ``gold_quarter``: the equal-effort baseline, seed gold + gold for N/4 pool sentences (the
  same sentences as learning.py's), and ``gold_quarter_silver_pass1``: that plus silver from
  its own model on the rest of the pool, for the two-round silver on both sides.

Prints a table of mean F and mean paired difference to ``base``; writes
``benchmarks/results/train_variants.json``. Exit status 0. ``--rates-only``: instead, the share
of the loop's span questions accepted per beam-score bin (how well the scores the sorter reads
predict the answers), written to ``train_variants_rates.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import random
import shutil
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
import learning  # noqa: E402

from nbannotate.tasks import is_whole  # noqa: E402

VARIANTS = (
    "base",
    "complete_start",
    "complete_pass1",
    "complete_pass1_silver",
    "silver_pass1",
    "finetune",
    "binary_weight_2",
    "binary_weight_3",
    "beam",
    "gold_quarter",
    "gold_quarter_silver_pass1",
    "gold_quarter_beam",
    "cap_empty",
    "no_span_rejects",
)
DATASET = "teach_" + learning.DEFAULT_CONFIG.replace("/", "_")
BEAM = {"beam_width": 16, "beam_density": 0.0001, "beam_update_prob": 1.0}


@contextlib.contextmanager
def beam_training() -> Iterator[None]:
    """train() builds its NER as spaCy's ``beam_ner`` (``BEAM``) while the block runs."""
    mod = importlib.import_module("nbannotate.training.loop")  # where a run builds its config
    build = mod._build_config

    def beam_config(*a: Any, **k: Any) -> tuple[Any, str]:
        cfg, name = build(*a, **k)
        cfg["components"][name].update(factory="beam_ner", **BEAM)
        return cfg, name

    mod._build_config = beam_config
    try:
        yield
    finally:
        mod._build_config = build


def _rejected_wholes(answers: list[dict[str, Any]]) -> dict[str, list[list[dict[str, Any]]]]:
    """Per text, the span lists of its rejected whole analyses (``merge_answers`` drops them)."""
    out: dict[str, list[list[dict[str, Any]]]] = {}
    for t in answers:
        if is_whole(t) and t["answer"] == "reject":
            out.setdefault(t["text"], []).append(t["spans"])
    return out


def completions(
    nlp: Any, answers: list[dict[str, Any]], beam_width: int = 32
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Complete annotations for the partially answered texts: the most probable beam analysis
    consistent with every answer on the text."""
    from nbannotate.candidates import CandidateScorer, consistent_analysis
    from nbannotate.examples import merge_answers
    from nbannotate.models import find_ner, upstream_docs
    from nbannotate.tasks import VIEW_MANUAL, doc_tokens, make_task, span_dict

    def keys(doc: Any, spans: Any) -> frozenset[tuple[int, int, str]]:
        """Character spans (start, end, label) -> token spans of ``doc``."""
        out = set()
        for start, end, label in spans:
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is not None:
                out.add((span.start, span.end, label))
        return frozenset(out)

    def chars(spans: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
        return [(int(s["start"]), int(s["end"]), str(s["label"])) for s in spans]

    partial = {m.text: m for m in merge_answers(answers) if m.gold is None}
    wholes = _rejected_wholes(answers)
    texts = list(partial)
    ner = find_ner(nlp)
    scorer = CandidateScorer(nlp, list(ner.labels), beam_width=beam_width)
    tasks: list[dict[str, Any]] = []
    stats = {"partial_texts": len(texts), "completed": 0}
    for i in range(0, len(texts), 64):
        batch = texts[i : i + 64]
        docs = upstream_docs(nlp, batch)
        # Every analysis the beam found (its sets of entities, summed probability).
        for text, doc, found in zip(batch, docs, scorer.analyses(docs, k=beam_width)):
            item = partial[text]
            accepted, rejected = keys(doc, item.accept), keys(doc, item.reject)
            wrong = {keys(doc, chars(w)) for w in wholes.get(text, [])}
            fit = consistent_analysis(found, accepted, rejected, wrong)
            if fit is None:
                continue
            best = fit[2]
            spans = [span_dict(doc[a:b], label) for a, b, label in sorted(best)]
            tasks.append(
                make_task(text, doc_tokens(doc), spans, {"completed": True}, view_id=VIEW_MANUAL)
            )
            stats["completed"] += 1
    return tasks, stats


def cap_empty(
    answers: list[dict[str, Any]], seed: int, share: float = 1 / 3
) -> list[dict[str, Any]]:
    """``answers`` without every answer on randomly chosen texts confirmed empty (an accepted
    whole question without spans), until those are at most ``share`` of the complete texts."""
    complete = {a["text"] for a in answers if is_whole(a) and a["answer"] == "accept"}
    empty = sorted(
        {
            a["text"]
            for a in answers
            if is_whole(a) and a["answer"] == "accept" and not a.get("spans")
        }
    )
    keep = int(share / (1 - share) * (len(complete) - len(empty)))
    random.Random(seed).shuffle(empty)
    drop = set(empty[keep:])
    return [a for a in answers if a["text"] not in drop]


def _pct(f: float | None, sign: bool = False) -> str:
    return "-" if f is None else f"{100 * f:{'+' if sign else ''}.1f}"


def run_seed(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    import spacy

    import nbannotate as nba

    src = Path(args.keep) / f"{args.stem}_btc_{seed}"
    if not (src / "answers.duckdb").is_file():
        raise SystemExit(
            f"No saved unit in {src}: run learning.py --keep {args.keep} --out "
            f"{args.stem} --seeds {seed} first."
        )
    split = C.protocol_split(C.load_corpus("btc"), seed, args)
    test = C.gold_examples(spacy.blank("en"), split.test)
    out: dict[str, Any] = {"seed": seed}
    with tempfile.TemporaryDirectory(prefix="nba-variants-") as tmp:
        root = Path(tmp)
        shutil.copy2(src / "answers.duckdb", root / "answers.duckdb")
        db = nba.Database(root / "answers.duckdb")
        answers = db.dataset(DATASET).answers()
        start = spacy.load(src / "start")

        def f(
            datasets: list[str],
            name: str,
            base: str = "blank:en",
            beam: bool = False,
            **train_args: Any,
        ) -> float | None:
            with beam_training() if beam else contextlib.nullcontext():
                try:
                    C.protocol_train(db, datasets, root / name, base, args, seed, **train_args)
                except nba.TrainingError as err:
                    if not beam:
                        raise
                    out.setdefault("aborted", []).append(f"{name}: {err!r}"[:300])
                    return None
            return C.ents_prf(spacy.load(root / name), test)["ents_f"]

        for n in args.checkpoints:
            row: dict[str, Any] = {}
            ans = f"answers_{n}"
            db.dataset(ans, create=True).add_many(answers[:n])
            row["base"] = f(["seed", ans], f"base_{n}")
            for v in args.variants:
                if v.startswith("binary_weight_"):  # train(binary_weight=<the number>)
                    w = int(v.rsplit("_", 1)[1])
                    row[v] = f(["seed", ans], f"bw{w}_{n}", binary_weight=w)
            if "beam" in args.variants:
                row["beam"] = f(["seed", ans], f"beam_{n}", beam=True)
            if "cap_empty" in args.variants:
                db.dataset(f"ce_{n}", create=True).add_many(cap_empty(answers[:n], seed))
                row["cap_empty"] = f(["seed", f"ce_{n}"], f"ce_{n}")
            if "no_span_rejects" in args.variants:
                db.dataset(f"nr_{n}", create=True).add_many(
                    [a for a in answers[:n] if is_whole(a) or a["answer"] != "reject"]
                )
                row["no_span_rejects"] = f(["seed", f"nr_{n}"], f"nr_{n}")
            if "finetune" in args.variants:
                row["finetune"] = f(["seed", ans], f"ft_{n}", base=str(src / "start"))
            if "complete_start" in args.variants:
                tasks, row["complete_start_stats"] = completions(start, answers[:n])
                db.dataset(f"cs_{n}", create=True).add_many(tasks, answer="accept")
                row["complete_start"] = f(["seed", ans, f"cs_{n}"], f"cs_{n}")
            if {"complete_pass1", "complete_pass1_silver", "silver_pass1"} & set(args.variants):
                pass1 = spacy.load(root / f"base_{n}")  # the base model, for its guesses
            if {"complete_pass1", "complete_pass1_silver"} & set(args.variants):
                tasks, row["complete_pass1_stats"] = completions(pass1, answers[:n])
                db.dataset(f"cp_{n}", create=True).add_many(tasks, answer="accept")
                row["complete_pass1"] = f(["seed", ans, f"cp_{n}"], f"cp_{n}")
            silver: list[str] = []
            if {"complete_pass1_silver", "silver_pass1"} & set(args.variants):
                touched = {t["text"] for t in answers[:n]}
                untouched = [s.text for s in split.pool if s.text not in touched]
                row["silver_pass1_stats"] = nba.silver(
                    f"sp_{n}", untouched, pass1, threshold=0.9, db=db, split_sentences=False
                )
                silver = [f"sp_{n}"] if row["silver_pass1_stats"]["kept"] else []
            if "complete_pass1_silver" in args.variants:
                row["complete_pass1_silver"] = f(["seed", ans, f"cp_{n}", *silver], f"cps_{n}")
            if "silver_pass1" in args.variants:
                row["silver_pass1"] = f(["seed", ans, *silver], f"sp_{n}")
            if {"gold_quarter", "gold_quarter_silver_pass1", "gold_quarter_beam"} & set(
                args.variants
            ):
                order = list(split.pool)  # learning.py's equal-effort sentences
                random.Random(seed + 1000).shuffle(order)
                C.add_gold(db, f"gq_{n}", order[: n // 4])
                row["gold_quarter"] = f(["seed", f"gq_{n}"], f"gq_{n}")
                if "gold_quarter_beam" in args.variants:
                    row["gold_quarter_beam"] = f(["seed", f"gq_{n}"], f"gqb_{n}", beam=True)
                if "gold_quarter_silver_pass1" in args.variants:
                    chosen = {s.text for s in order[: n // 4]}
                    row["gold_quarter_silver_stats"] = nba.silver(
                        f"gqs_{n}",
                        [s.text for s in split.pool if s.text not in chosen],
                        spacy.load(root / f"gq_{n}"),
                        threshold=0.9,
                        db=db,
                        split_sentences=False,
                    )
                    gsilver = [f"gqs_{n}"] if row["gold_quarter_silver_stats"]["kept"] else []
                    row["gold_quarter_silver_pass1"] = f(["seed", f"gq_{n}", *gsilver], f"gqs_{n}")
            out[str(n)] = row
            if not args.silent:
                print(
                    f"seed {seed} N={n}: "
                    + " ".join(f"{v}={_pct(row[v])}" for v in args.variants if v in row),
                    flush=True,
                )
        db.close()
    return out


def accept_rates(args: argparse.Namespace) -> int:
    """Accepted share of the model's span questions per score bin, over the saved answers."""
    import nbannotate as nba

    counts = [[0, 0] for _ in range(10)]  # per bin: accepted, answered
    for seed in args.seeds:
        src = Path(args.keep) / f"{args.stem}_btc_{seed}" / "answers.duckdb"
        with tempfile.TemporaryDirectory(prefix="nba-rates-") as tmp:
            shutil.copy2(src, Path(tmp) / "a.duckdb")
            db = nba.Database(Path(tmp) / "a.duckdb")
            for t in db.dataset(DATASET).answers()[: max(args.checkpoints)]:
                meta = t.get("meta") or {}
                spans = t.get("spans") or [{}]
                if (
                    meta.get("whole")
                    or spans[0].get("source") != "model"
                    or t["answer"] not in ("accept", "reject")
                    or meta.get("score") is None
                ):
                    continue  # no score: from a model never updated
                b = min(9, int(float(meta["score"]) * 10))
                counts[b][0] += t["answer"] == "accept"
                counts[b][1] += 1
            db.close()
    rows = [
        [f"{b / 10:.1f}-{(b + 1) / 10:.1f}", n, acc, f"{100 * acc / n:.0f}%" if n else "-"]
        for b, (acc, n) in enumerate(counts)
    ]
    text = C.table(["beam score", "span questions", "accepted", "accepted share"], rows)
    print(text)
    path = C.write_results(f"{args.out}_rates.json", args, counts=counts, report=text)
    print(f"\nWrote {path}.")
    return 0


def _job(job: tuple[int, argparse.Namespace]) -> dict[str, Any]:
    return run_seed(*job)


def _quick(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="nba-variants-quick-") as keep:
        learning.main(["--quick", "--silent", "--keep", keep])
        return main(
            [
                "--keep",
                keep,
                "--stem",
                "learning_quick",
                "--seeds",
                "0",
                "--checkpoints",
                "80",
                "--epochs",
                "2",
                "--patience",
                "0",
                "--n-seed",
                "100",
                "--n-pool",
                "200",
                "--n-dev",
                "50",
                "--n-test",
                "100",
                "--out",
                "train_variants_quick",
                *(["--silent"] if args.silent else []),
            ]
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--keep", help="the directory learning.py --keep wrote")
    p.add_argument("--stem", default="learning", help="learning.py's --out of that run")
    p.add_argument("--seeds", default="0,1,2,3")
    p.add_argument("--checkpoints", default="500,1000,2000")
    p.add_argument("--variants", default=",".join(VARIANTS))
    C.add_protocol_args(p, wnut17=False)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", default="train_variants", help="results file stem")
    p.add_argument(
        "--rates-only",
        action="store_true",
        help="only the accepted share of span questions per beam-score bin",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke mode: learning.py --quick saves its answers, then every variant "
        "trains briefly on them",
    )
    p.add_argument("--silent", action="store_true")
    C.add_results_arg(p)
    args = p.parse_args(argv)
    if args.quick:
        return _quick(args)
    if not args.keep:
        p.error("--keep DIR is required (the directory learning.py --keep DIR wrote)")
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    args.checkpoints = [int(n) for n in args.checkpoints.split(",") if n.strip()]
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in args.variants:
        if v not in VARIANTS:
            p.error(f"unknown variant {v!r}: use {', '.join(VARIANTS)}")
    if "base" not in args.variants:
        args.variants.insert(0, "base")
    if args.rates_only:
        return accept_rates(args)
    with C.Timer() as t:
        jobs = [(s, args) for s in args.seeds]
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
                units = list(pool.map(_job, jobs))
        else:
            units = [_job(j) for j in jobs]
    rows = []
    for n in args.checkpoints:
        for v in args.variants:
            # A beam training spaCy aborted is missing (None): means over the seeds that ran.
            diffs = [
                None if u[str(n)][v] is None else u[str(n)][v] - u[str(n)]["base"] for u in units
            ]
            m, sd = C.mean_sd([u[str(n)][v] for u in units])  # mean_sd skips None
            dm, dsd = C.mean_sd(diffs)
            aborted = diffs.count(None)
            missing = f" ({aborted} aborted)" if aborted else ""
            rows.append(
                [
                    n,
                    v,
                    f"{100 * m:.1f} ± {100 * sd:.1f}{missing}",
                    "" if v == "base" else f"{100 * dm:+.1f} ± {100 * dsd:.1f}",
                    "" if v == "base" else " ".join(_pct(d, sign=True) for d in diffs),
                ]
            )
    text = C.table(["N", "variant", "test F (mean ± sd)", "minus base (paired)", "per seed"], rows)
    print(text)
    path = C.write_results(
        f"{args.out}.json", args, seconds=round(t.seconds, 1), units=units, report=text
    )
    print(f"\nWrote {path} in {t.seconds:.0f} s.")
    return 0


if __name__ == "__main__":
    C.run_main(main)
