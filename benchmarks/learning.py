"""Part 1: does the teach loop learn? A simulated annotator against gold baselines.

Protocol (also in benchmarks/README.md and BENCHMARKS.md). For each corpus and seed:

1. Split (seeded): ``seed`` gold sentences (200), a ``pool`` the stream reads (3,000), ``dev``
   (300, only for train()'s choice of the best epoch) and ``test`` (1,000, every reported F).
   WNUT17 keeps its official parts (seed+pool from train, dev from dev, test from test).
2. ``train()`` a starting model on the seed gold, from ``blank:en`` (``--base``: another
   base, e.g. the word vectors of ``vectors.py``; every train() below uses it too).
3. For each configuration, ``nba.teach`` over the shuffled pool starting from that model; an
   oracle answers every task from the gold spans (per-span task: accept iff (start, end, label)
   is gold; whole-analysis task: accept iff its span set equals the gold set). At every
   checkpoint N (decisions) the loop pauses and ``train()`` runs on seed gold + the N answers,
   with the same settings as the starting model; the result is scored on test.
   Every ``--loop-eval-every`` decisions the in-loop model (``session.nlp``, under
   ``session.model_lock``) is scored on the first 500 test sentences.
4. Baselines at every N, same train() settings: seed + gold for N/4 random pool sentences
   (equal effort: a full sentence costs about 4 binary decisions), and seed + gold for the very
   sentences the default configuration's stream touched.

Configurations: ``span/uncertain`` (per-span questions only, ``whole=None``: Prodigy's
ner.teach), ``whole/uncertain`` (the product default: also the model's best whole analysis,
``whole=0.5``) and ``whole/random`` (same candidates, a random 50% of span candidates kept
instead of the uncertainty sorter) and ``whole/uncertain+gold`` (the default plus the seed gold
mixed into every in-loop update, ``replay_gold="seed"``).

Prints a table, writes ``benchmarks/results/learning.json`` and PNG plots. Exit status 0.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402

CONFIGS = {
    "span/uncertain": {"whole": None, "sorter": "prefer_uncertain"},
    "whole/uncertain": {"whole": 0.5, "sorter": "prefer_uncertain"},
    "whole/random": {"whole": 0.5, "sorter": "random"},
    # Variant: the questions the model is surest of first (more accepted entities per decision).
    "whole/high": {"whole": 0.5, "sorter": "prefer_high_scores"},
    # The default plus the seed gold mixed into every in-loop update (teach(replay_gold=...)).
    "whole/uncertain+gold": {"whole": 0.5, "sorter": "prefer_uncertain", "replay_gold": "seed"},
}
DEFAULT_CONFIG = "whole/uncertain"
RAW = " (raw weights)"  # in-loop row: the last weights instead of their average
SILVER = " +silver"  # row suffix: the same train() with the starting model's silver added


class RandomSorter:
    """Keep each model candidate with probability ``p``, whatever its score (seeded)."""

    def __init__(self, p: float, seed: int) -> None:
        self.p = p
        self.rng = random.Random(seed)

    def __call__(self, score: float) -> bool:
        return self.rng.random() < self.p


def _train_f(
    db: Any,
    datasets: list[str],
    out: Path,
    split: C.Split,
    args: argparse.Namespace,
    seed: int,
    test_examples: list[Any] | None = None,
) -> dict[str, float]:
    """train() with the fixed settings, then P/R/F of the saved pipeline on test."""
    import spacy

    with C.Timer() as t:
        C.protocol_train(db, datasets, out, args.base, args, seed)
    nlp = spacy.load(out)
    examples = test_examples if test_examples is not None else C.gold_examples(nlp, split.test)
    scores = C.ents_prf(nlp, examples)
    scores["train_seconds"] = round(t.seconds, 1)
    return scores


def _in_loop_f(session: Any, examples: list[Any], raw: bool = False) -> float:
    """The in-loop model's F as the loop uses it (``session.model()``: averaged weights), or
    with its raw last weights."""
    session.update_model(timeout=120)
    if raw:
        with session.model_lock:  # the updater and the scorer share the model
            return C.ents_prf(session.nlp, examples)["ents_f"]
    with session.model() as nlp:
        return C.ents_prf(nlp, examples)["ents_f"]


def _log(args: argparse.Namespace, msg: str) -> None:
    if not args.silent:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_unit(corpus_name: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """One corpus and one seed: the starting model, every configuration, the baselines."""
    import spacy

    import nbannotate as nba

    corpus = C.load_corpus(corpus_name)
    split = C.protocol_split(corpus, seed, args)
    checkpoints = [n for n in args.checkpoints if n <= args.max_decisions]
    tmp = tempfile.TemporaryDirectory(prefix=f"nba-learn-{corpus_name}-{seed}-")
    root = Path(tmp.name)
    db = nba.Database(root / "answers.duckdb")
    C.add_gold(db, "seed", split.seed)
    C.add_gold(db, "dev", split.dev)
    out: dict[str, Any] = {
        "corpus": corpus_name,
        "seed": seed,
        "sizes": split.sizes,
        "labels": corpus.labels,
        "checkpoints": checkpoints,
        "configs": {},
    }
    probe = spacy.blank("en")
    test_examples = C.gold_examples(probe, split.test)
    loop_examples = C.gold_examples(probe, split.test[: args.loop_test])

    t0 = time.perf_counter()
    start = _train_f(db, ["seed"], root / "start", split, args, seed, test_examples)
    out["start"] = start
    _log(
        args,
        f"{corpus_name} seed {seed}: starting model F={start['ents_f']:.3f} "
        f"({start['train_seconds']} s)",
    )
    silver: list[str] = []
    if args.silver:  # the starting model's confident analyses of the pool (no human effort)
        out["silver"] = nba.silver(
            "silver",
            [s.text for s in split.pool],
            str(root / "start"),
            threshold=args.silver,
            db=db,
            split_sentences=False,
            beam_width=args.beam_width,
        )
        gold_of = {s.text: s.gold for s in split.pool}
        out["silver"]["exact"] = sum(
            frozenset((x["start"], x["end"], x["label"]) for x in t["spans"]) == gold_of[t["text"]]
            for t in db.dataset("silver").answers()
        )
        silver = ["silver"]
        _log(args, f"{corpus_name} seed {seed}: silver {out['silver']}")

    # Equal effort: gold for N/4 pool sentences (nested: the first N/4 of one shuffled order).
    order = list(split.pool)
    random.Random(seed + 1000).shuffle(order)
    out["gold_quarter"], out["gold_quarter_silver"] = {}, {}
    for n in [] if args.in_loop_only or args.no_baselines else checkpoints:
        name = f"gold_{n}"
        C.add_gold(db, name, order[: n // 4])
        out["gold_quarter"][n] = _train_f(
            db, ["seed", name], root / name, split, args, seed, test_examples
        )
        _log(
            args,
            f"{corpus_name} seed {seed}: gold N/4={n // 4} sentences "
            f"F={out['gold_quarter'][n]['ents_f']:.3f}",
        )
        if silver:
            out["gold_quarter_silver"][n] = _train_f(
                db, ["seed", name, *silver], root / name, split, args, seed, test_examples
            )

    source = [{"text": s.text, "meta": {"i": i}} for i, s in enumerate(split.pool)]
    for cfg_name in args.configs:
        cfg = CONFIGS[cfg_name]
        oracle = C.Oracle(split.pool)
        sorter = RandomSorter(0.5, seed) if cfg["sorter"] == "random" else cfg["sorter"]
        dataset = "teach_" + cfg_name.replace("/", "_")
        extra = {k: v for k in ("average", "complete") if (v := getattr(args, k)) != "default"}
        whole = cfg["whole"] if cfg["whole"] is None or args.whole is None else args.whole
        session = nba.teach(
            dataset,
            source,
            model=str(root / "start"),
            labels=corpus.labels,
            db=db,
            sorter=sorter,
            bias=args.bias,
            whole=whole,
            split_sentences=False,
            whole_alternatives=args.whole_alternatives,
            seed=seed,
            beam_width=args.beam_width,
            replay=args.replay,
            replay_gold=cfg.get("replay_gold"),
            **extra,
        )
        if args.no_completion_gate:  # variant: completion questions whatever the model's record
            C.ask_completions_always(session)
        if args.learn_rate is not None:  # variant: the in-loop optimizer's step size
            session.updater.optimizer.learn_rate = args.learn_rate
        res: dict[str, Any] = {
            "final": {},
            "final_silver": {},
            "in_loop": [],
            "in_loop_raw": [],
            "touched_gold": {},
            "stats": {},
        }
        touched: dict[str, None] = {}
        accepted_gold: set[tuple[str, int, int, str]] = set()
        decisions = duplicates = 0
        answered: set[int] = set()
        completions: list[tuple[float, float, bool]] = []
        loop_seconds = 0.0
        try:
            res["in_loop"].append((0, _in_loop_f(session, loop_examples)))
            res["in_loop_raw"].append((0, _in_loop_f(session, loop_examples, raw=True)))
            tic = time.perf_counter()
            while decisions < checkpoints[-1]:
                task = session.next_task(timeout=300)
                if task is None:
                    _log(args, f"{cfg_name}: stream ended after {decisions} decisions")
                    break
                if task["_task_hash"] in answered:
                    # Session bug (reported): after a model update an item can be requeued
                    # twice and the same task offered again; answering it raises AnswerError.
                    duplicates += 1
                    continue
                answer = oracle(task)
                if task["meta"].get("completion"):  # (share, beam probability, accepted?)
                    completions.append(
                        (
                            task["meta"]["score"],
                            task["meta"]["beam_probability"],
                            answer == "accept",
                        )
                    )
                session.answer(task, answer)
                answered.add(task["_task_hash"])
                decisions += 1
                touched.setdefault(task["text"])
                if answer == "accept":
                    for s in task["spans"]:
                        accepted_gold.add((task["text"], s["start"], s["end"], s["label"]))
                at_eval = decisions % args.loop_eval_every == 0
                if at_eval or decisions in checkpoints:
                    loop_seconds += time.perf_counter() - tic
                    if at_eval:
                        res["in_loop"].append((decisions, _in_loop_f(session, loop_examples)))
                        res["in_loop_raw"].append(
                            (decisions, _in_loop_f(session, loop_examples, raw=True))
                        )
                    if decisions in checkpoints and not args.in_loop_only:
                        res["final"][decisions] = _train_f(
                            db,
                            ["seed", dataset],
                            root / f"m_{dataset}",
                            split,
                            args,
                            seed,
                            test_examples,
                        )
                        if silver and cfg_name == DEFAULT_CONFIG:  # time: the default only
                            res["final_silver"][decisions] = _train_f(
                                db,
                                ["seed", dataset, *silver],
                                root / f"m_{dataset}",
                                split,
                                args,
                                seed,
                                test_examples,
                            )
                        if cfg_name == DEFAULT_CONFIG and not args.no_baselines:
                            name = f"touched_{decisions}"
                            sents = [s for s in split.pool if s.text in touched]
                            C.add_gold(db, name, sents)
                            res["touched_gold"][decisions] = dict(
                                _train_f(
                                    db,
                                    ["seed", name],
                                    root / name,
                                    split,
                                    args,
                                    seed,
                                    test_examples,
                                ),
                                sentences=len(sents),
                            )
                        _log(
                            args,
                            f"{corpus_name} seed {seed} {cfg_name} N={decisions}: "
                            f"final F={res['final'][decisions]['ents_f']:.3f} in-loop "
                            f"F={res['in_loop'][-1][1]:.3f} texts={len(touched)}",
                        )
                    tic = time.perf_counter()
            loop_seconds += time.perf_counter() - tic
            progress = session.progress
        finally:
            session.stop()
        gold_in_touched = sum(len(s.spans) for s in split.pool if s.text in touched)
        res["stats"] = {
            "decisions": decisions,
            "texts_touched": len(touched),
            "accept": oracle.counts["accept"],
            "reject": oracle.counts["reject"],
            "whole_accept": oracle.counts["whole_accept"],
            "whole_reject": oracle.counts["whole_reject"],
            "gold_entities_accepted": len(accepted_gold),
            "gold_entities_in_touched_texts": gold_in_touched,
            "completion_accept": sum(c[2] for c in completions),
            "completion_reject": sum(not c[2] for c in completions),
            "duplicate_offers": duplicates,
            "updates": progress["updates"],
            "update_errors": progress["update_errors"],
            "loop_seconds": round(loop_seconds, 1),
            "decisions_per_second": round(decisions / loop_seconds, 1) if loop_seconds else None,
        }
        if completions:
            res["completions"] = completions
        if session.updater.errors:
            res["stats"]["first_update_errors"] = session.updater.errors[:3]
        out["configs"][cfg_name] = res
    out["seconds"] = round(time.perf_counter() - t0, 1)
    db.close()
    if args.keep:  # the answers and the starting model, for offline train() experiments
        keep = Path(args.keep) / f"{args.out}_{corpus_name}_{seed}"
        shutil.rmtree(keep, ignore_errors=True)
        keep.mkdir(parents=True)
        shutil.copy2(root / "answers.duckdb", keep / "answers.duckdb")
        shutil.copytree(root / "start", keep / "start")
    tmp.cleanup()
    return out


def _unit(job: tuple[str, int, argparse.Namespace]) -> dict[str, Any]:
    corpus_name, seed, args = job
    try:
        return run_unit(corpus_name, seed, args)
    except BaseException as err:
        if isinstance(err, C.DataMissing):
            raise
        return {
            "corpus": corpus_name,
            "seed": seed,
            "error": repr(err),
            "traceback": traceback.format_exc(),
        }


# -- report ------------------------------------------------------------------------------------


def _fmt(values: list[float]) -> str:
    m, sd = C.mean_sd(values)
    if m != m:  # nan
        return "-"
    return f"{100 * m:.1f} ± {100 * sd:.1f}" if len(values) > 1 else f"{100 * m:.1f}"


def summarize(units: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """Mean and spread over seeds, per corpus; the three targets checked."""
    summary: dict[str, Any] = {}
    for corpus_name in args.corpora:
        runs = [u for u in units if u["corpus"] == corpus_name and "error" not in u]
        if not runs:
            continue
        cps = runs[0]["checkpoints"]
        rows: dict[str, dict[int, list[float]]] = {}

        def add(
            row: str, n: int, value: float | None, rows: dict[str, dict[int, list[float]]] = rows
        ) -> None:
            if value is not None:
                rows.setdefault(row, {}).setdefault(n, []).append(value)

        loop_curves: dict[str, dict[int, list[float]]] = {}
        for u in runs:
            for n in cps:
                gq = _get(u["gold_quarter"], n)
                add("gold N/4 sentences", n, gq["ents_f"] if gq else None)
                gq = _get(u.get("gold_quarter_silver", {}), n)
                add("gold N/4 sentences" + SILVER, n, gq["ents_f"] if gq else None)
                for cfg, res in u["configs"].items():
                    if n in res["final"] or str(n) in res["final"]:
                        add(cfg, n, _get(res["final"], n)["ents_f"])
                    fs = _get(res.get("final_silver", {}), n)
                    add(cfg + SILVER, n, fs["ents_f"] if fs else None)
                    tg = _get(res["touched_gold"], n)
                    if tg is not None:
                        add("gold on touched sentences", n, tg["ents_f"])
            for cfg, res in u["configs"].items():
                for n, f in res["in_loop"]:
                    loop_curves.setdefault(cfg, {}).setdefault(int(n), []).append(f)
                for n, f in res.get("in_loop_raw", []):
                    loop_curves.setdefault(cfg + RAW, {}).setdefault(int(n), []).append(f)
        start = [u["start"]["ents_f"] for u in runs]
        mean = {row: {n: C.mean_sd(v)[0] for n, v in by_n.items()} for row, by_n in rows.items()}
        loop_mean = {
            cfg: {n: C.mean_sd(v)[0] for n, v in c.items()} for cfg, c in loop_curves.items()
        }
        targets = _targets(mean, loop_mean, C.mean_sd(start)[0], cps)
        summary[corpus_name] = {
            "seeds": [u["seed"] for u in runs],
            "checkpoints": cps,
            "start": start,
            "final": rows,
            "final_mean": mean,
            "in_loop": loop_curves,
            "in_loop_mean": loop_mean,
            "targets": targets,
        }
    return summary


def _get(d: dict, n: int) -> Any:
    return d.get(n, d.get(str(n)))


def _targets(
    mean: dict[str, dict[int, float]],
    loop: dict[str, dict[int, float]],
    start: float,
    cps: list[int],
) -> dict[str, Any]:
    big = [n for n in cps if n >= 500]
    out: dict[str, Any] = {}
    for cfg in [c for c in loop if not c.endswith(RAW)]:
        # Compared with the same model on the same 500 sentences at decision 0 (the starting
        # model inside the session), not with ``start``, which is on the full test set.
        curve = [loop[cfg][n] for n in sorted(loop[cfg])]
        out[f"in-loop F never below start ({cfg})"] = bool(curve) and min(curve) >= curve[0]
        out[f"in-loop F rises ({cfg})"] = len(curve) > 1 and curve[-1] > curve[0]
    for unc, rnd in (("whole/uncertain", "whole/random"),):
        if unc in mean and rnd in mean and big:
            out[f"{unc} > {rnd} at every N>=500"] = all(
                mean[unc].get(n, -1) > mean[rnd].get(n, 2) for n in big
            )
    for cfg in mean:  # (no gold rows with --no-baselines)
        if cfg.removesuffix(SILVER) in CONFIGS and big and "gold N/4 sentences" in mean:
            out[f"{cfg} >= gold N/4 at every N>=500"] = all(
                mean[cfg].get(n, -1) >= mean["gold N/4 sentences"].get(n, 2) for n in big
            )
    return out


def report(summary: dict[str, Any], units: list[dict[str, Any]]) -> str:
    lines = []
    for corpus_name, s in summary.items():
        cps = s["checkpoints"]
        lines.append(f"\n### {corpus_name} (seeds {s['seeds']}; test ents_f x100, mean ± sd)\n")
        lines.append(f"Starting model (seed gold only): {_fmt(s['start'])}\n")
        order = [
            *[c + x for c in CONFIGS for x in ("", SILVER) if c + x in s["final"]],
            "gold N/4 sentences",
            "gold N/4 sentences" + SILVER,
            "gold on touched sentences",
        ]
        body = [
            [row, *[_fmt(s["final"].get(row, {}).get(n, [])) for n in cps]]
            for row in order
            if row in s["final"]
        ]
        lines.append(C.table(["after train() on seed +", *[f"N={n}" for n in cps]], body))
        ns = sorted({n for c in s["in_loop"].values() for n in c})
        body = [[cfg, *[_fmt(s["in_loop"][cfg].get(n, [])) for n in ns]] for cfg in s["in_loop"]]
        lines.append("\nIn-loop model (session.nlp) on 500 test sentences:\n")
        lines.append(C.table(["config", *[f"{n}" for n in ns]], body))
        stats_rows = []
        for u in units:
            if u.get("corpus") != corpus_name or "error" in u:
                continue
            for cfg, res in u["configs"].items():
                st = res["stats"]
                stats_rows.append(
                    [
                        cfg,
                        u["seed"],
                        st["decisions"],
                        st["texts_touched"],
                        st["accept"],
                        st["whole_accept"],
                        st["whole_reject"],
                        f"{st['gold_entities_accepted']}/{st['gold_entities_in_touched_texts']}",
                        st["update_errors"],
                        st.get("duplicate_offers", 0),
                        st["decisions_per_second"],
                    ]
                )
        lines.append("\nLoop statistics:\n")
        lines.append(
            C.table(
                [
                    "config",
                    "seed",
                    "decisions",
                    "texts",
                    "accepts",
                    "whole acc",
                    "whole rej",
                    "gold ents accepted/in texts",
                    "update errors",
                    "repeated offers",
                    "decisions/s",
                ],
                stats_rows,
            )
        )
        lines.append("\nTargets:\n")
        lines.extend(f"- {k}: {'MET' if v else 'not met'}" for k, v in s["targets"].items())
    for u in units:
        if "error" in u:
            lines.append(
                f"\nERROR in {u['corpus']} seed {u['seed']}: {u['error']}\n{u['traceback']}"
            )
    return "\n".join(lines)


def plot(summary: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib).")
        return None
    colors = {
        "span/uncertain": "tab:orange",
        "whole/uncertain": "tab:green",
        "whole/random": "tab:purple",
        "whole/uncertain+gold": "tab:brown",
        "whole/high": "tab:olive",
        "gold N/4 sentences": "tab:blue",
        "gold on touched sentences": "tab:red",
    }

    def style(row: str) -> tuple[str | None, str]:
        """A row's colour is its base configuration's; silver and raw-weight rows are dotted."""
        base = row.removesuffix(SILVER).removesuffix(RAW)
        dotted = row != base
        return colors.get(base), ":" if dotted else "--" if base.startswith("gold") else "-"

    n = len(summary)
    fig, axes = plt.subplots(2, n, figsize=(6.5 * n, 8), squeeze=False)
    for col, (corpus_name, s) in enumerate(summary.items()):
        ax = axes[0][col]
        for row, by_n in s["final"].items():
            ns = sorted(by_n)
            means = [100 * C.mean_sd(by_n[k])[0] for k in ns]
            sds = [100 * C.mean_sd(by_n[k])[1] for k in ns]
            color, line = style(row)
            ax.errorbar(
                ns, means, yerr=sds, label=row, linestyle=line, marker="o", capsize=3, color=color
            )
        ax.axhline(
            100 * C.mean_sd(s["start"])[0], color="grey", linestyle=":", label="starting model"
        )
        ax.set_xticks(s["checkpoints"])
        ax.set_title(f"{corpus_name}: train() on seed + answers, test F")
        ax.set_xlabel("decisions N")
        ax.set_ylabel("ents_f x100")
        ax.legend(fontsize=8)
        ax = axes[1][col]
        for cfg, curve in s["in_loop"].items():
            ns = sorted(curve)
            color, line = style(cfg)
            ax.plot(
                ns,
                [100 * C.mean_sd(curve[k])[0] for k in ns],
                marker=".",
                label=cfg,
                color=color,
                linestyle=line,
            )
        ax.set_xticks(sorted({k for c in s["in_loop"].values() for k in c}))
        ax.set_title(f"{corpus_name}: in-loop model F (500 test sentences; 0 = start)")
        ax.set_xlabel("decisions")
        ax.set_ylabel("ents_f x100")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpora", default="btc,wnut17", help="comma-separated: btc,wnut17")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    p.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configurations")
    p.add_argument("--checkpoints", default="250,500,1000,2000")
    p.add_argument(
        "--max-decisions",
        type=int,
        default=1000,
        help="drop checkpoints above this (default 1000: fits the time budget)",
    )
    C.add_protocol_args(p)
    p.add_argument("--beam-width", type=int, default=16)
    p.add_argument("--loop-test", type=int, default=500)
    p.add_argument("--loop-eval-every", type=int, default=250)
    p.add_argument(
        "--learn-rate",
        type=float,
        default=None,
        help="variant: set the session updater's Adam learn rate (default: spaCy's)",
    )
    p.add_argument(
        "--silver",
        type=float,
        default=None,
        metavar="THRESHOLD",
        help="also train() with nba.silver() analyses of the pool by the starting "
        "model at this threshold (rows '+silver')",
    )
    p.add_argument(
        "--average",
        default="default",
        help="variant: teach(average=...), the decay of the weight average the loop "
        "predicts with, or 'none'",
    )
    p.add_argument(
        "--whole",
        type=float,
        default=None,
        help="variant: teach(whole=...) for the configurations that ask whole analyses",
    )
    p.add_argument(
        "--whole-alternatives", type=int, default=1, help="teach(whole_alternatives=...)"
    )
    p.add_argument(
        "--bias",
        type=float,
        default=0.0,
        help="variant: teach(bias=...), the uncertainty sorter's centre 0.5 + bias",
    )
    p.add_argument(
        "--complete",
        default="default",
        metavar="SHARE",
        help="variant: teach(complete=...), completion questions after span answers ('none': off)",
    )
    p.add_argument(
        "--no-completion-gate",
        action="store_true",
        help="variant: ask completion questions from the start, whatever share of "
        "the model's own span proposals is accepted",
    )
    p.add_argument("--replay", type=int, default=10, help="teach(replay=...)")
    p.add_argument(
        "--in-loop-only",
        action="store_true",
        help="skip train() at checkpoints and the gold baselines: in-loop F only",
    )
    p.add_argument(
        "--keep",
        default=None,
        metavar="DIR",
        help="copy each unit's answer database and starting model into DIR",
    )
    p.add_argument(
        "--no-baselines",
        action="store_true",
        help="skip the gold baselines (gold N/4, gold on touched texts): variants "
        "compared with an earlier run of the same seeds",
    )
    p.add_argument("--jobs", type=int, default=1, help="(corpus, seed) units run in parallel")
    p.add_argument("--quick", action="store_true", help="smoke mode: tiny sizes, < 60 s")
    C.add_results_arg(p)
    p.add_argument("--out", default="learning", help="results file stem in benchmarks/results")
    p.add_argument("--silent", action="store_true")
    p.add_argument(
        "--summarize",
        action="store_true",
        help="only rebuild table/JSON/plot from saved unit results",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.corpora, args.seeds, args.configs = "btc", "0", "whole/uncertain"
        args.checkpoints, args.max_decisions = "40,80", 80
        args.epochs, args.patience = 2, 0
        args.n_seed, args.n_pool, args.n_dev, args.n_test = 100, 200, 50, 100
        args.loop_test, args.loop_eval_every = 100, 40
        args.out = "learning_quick"
    for name in ("average", "complete"):
        if (value := getattr(args, name)) != "default":
            setattr(args, name, None if value == "none" else float(value))
    args.corpora = [c.strip() for c in args.corpora.split(",") if c.strip()]
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    args.checkpoints = sorted(int(n) for n in args.checkpoints.split(",") if n.strip())
    for cfg in args.configs:
        if cfg not in CONFIGS:
            p.error(f"unknown configuration {cfg!r}: use {', '.join(CONFIGS)}")
    if not [n for n in args.checkpoints if n <= args.max_decisions]:
        p.error("no checkpoint <= --max-decisions")
    return args


def _unit_path(args: argparse.Namespace, corpus_name: str, seed: int) -> Path:
    return C.UNITS / f"{args.out}_{corpus_name}_{seed}.json"


def finish(
    units: list[dict[str, Any]], args: argparse.Namespace, seconds: float, quiet: bool = False
) -> int:
    """Summary, table, JSON and plot from the units done so far."""
    summary = summarize(units, args)
    text = report(summary, units)
    if not quiet:
        print(text)
    path = C.write_results(
        f"{args.out}.json",
        args,
        seconds=round(seconds, 1),
        cite={c: C.CORPORA[c]["cite"] for c in args.corpora},
        summary=summary,
        units=units,
        report=text,
    )
    png = plot(summary, C.RESULTS / f"{args.out}.png") if summary else None
    if not quiet:
        print(
            f"\nWrote {path}"
            + (f" and {png}" if png else "")
            + (" from saved units." if args.summarize else f" in {seconds:.0f} s.")
        )
    return 1 if any("error" in u for u in units) else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name in args.corpora:  # fail fast, with the clear message, before any work
        C.load_corpus(name)
    t0 = time.perf_counter()
    jobs = [(c, s, args) for s in args.seeds for c in args.corpora]
    if args.summarize:  # rebuild the report from the unit files of earlier runs
        units = [
            json.loads(_unit_path(args, c, s).read_text())
            for c, s, _ in jobs
            if _unit_path(args, c, s).exists()
        ]
        if not units:
            raise SystemExit(
                f"No unit results in {C.UNITS} for {args.out}: run without --summarize first."
            )
        # "seconds" is then the sum of the units' own times (they may have run in parallel).
        return finish(units, args, sum(u.get("seconds", 0) for u in units))
    C.UNITS.mkdir(parents=True, exist_ok=True)
    units: list[dict[str, Any]] = []

    def done(unit: dict[str, Any]) -> None:  # saved as it completes: a killed run keeps it
        units.append(unit)
        if "error" not in unit:
            C.write_json(
                str(_unit_path(args, unit["corpus"], unit["seed"]).relative_to(C.RESULTS)), unit
            )
        finish(units, args, time.perf_counter() - t0, quiet=True)

    C.run_units(_unit, jobs, args.jobs, done)
    units.sort(key=lambda u: (args.corpora.index(u["corpus"]), u["seed"]))
    return finish(units, args, time.perf_counter() - t0)


if __name__ == "__main__":
    C.run_main(main)
